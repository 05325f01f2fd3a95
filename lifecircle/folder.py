"""The analysis folder: every file lifecircle writes into ``--out``, named and described in one place.

A folder holds the files of one or more jobs (``analyze``, ``site``, ``isochrones``, ``report``), each listed
in :data:`FILES` with the job that writes it, its layers or required columns, and what it holds. The folder's
manifest (:data:`MANIFEST`, a hidden JSON file) records, per job, the files written and their SHA-256 hashes;
``"complete": true`` is the mark that the folder was committed whole (see :mod:`lifecircle.planning.outputs`).
``summary.json`` and ``siting.json`` carry :data:`SCHEMA_VERSION`.

This module sits beside :mod:`lifecircle.errors` (it imports neither planning, maps nor geo), so the jobs that
write a folder and the maps that publish it read the same names.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle.cells import inert_frame, restore_frame
from lifecircle.errors import InputError
from lifecircle.manifest import MANIFEST, MANIFEST_FORMAT, SCHEMA_VERSION, Manifest, read_manifest, safe_name

log = logging.getLogger(__name__)

__all__ = [
    "FILES",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "SCHEMA_VERSION",
    "AnalysisFolder",
    "FolderFile",
    "Manifest",
    "read_analysis",
    "read_json",
    "read_manifest",
    "require_complete",
    "rollup_name",
    "safe_name",
    "write_csv",
    "write_gpkg",
    "write_json",
    "write_summary",
]

STAGE_PREFIX = ".lifecircle-stage-"
"""Hidden folders beside (or inside) an output folder while a run writes it; removed on the next run if left."""
OLD_PREFIX = ".lifecircle-old-"
"""The previous result while a new one is swapped in (only without an atomic exchange of folders)."""


@dataclass(frozen=True)
class FolderFile:
    """One file of an analysis folder.

    Attributes
    ----------
    name
        File name (``rollup_{level}.csv`` style names are patterns, see :func:`rollup_name`).
    job
        The command that writes it.
    what
        What it holds, in a sentence.
    layers
        GeoPackage layers, in order.
    columns
        Columns every reader may rely on (a table missing one is not a lifecircle result).
    required
        Every complete folder of ``job`` has it.
    """

    name: str
    job: str
    what: str
    layers: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    required: bool = False


COVERAGE = FolderFile(
    "coverage.csv",
    "analyze",
    "one row per compound and category: the walk to the nearest service and whether it is within the limit",
    columns=("compound_id", "category", "walk_m", "walk_min", "nearest_service_id", "covered", "reach"),
    required=True,
)
COMPOUNDS = FolderFile(
    "compounds.gpkg",
    "analyze",
    "compounds with status and minutes per category",
    layers=("compounds",),
    columns=("compound_id",),
    required=True,
)
SERVICES = FolderFile(
    "services.gpkg",
    "analyze",
    "services with compounds served",
    layers=("services",),
    columns=("service_id", "category"),
    required=True,
)
SUMMARY = FolderFile("summary.json", "analyze", "counts, shares, parameters, input hashes, notes", required=True)
MAP = FolderFile("map.html", "analyze", "the interactive map (site: with the recommended sites)")
REPORT_HTML = FolderFile("report.html", "report", "the self-contained report")
REPORT_XLSX = FolderFile("report.xlsx", "report", "the report's tables, one sheet each")
SERVED_AREA = FolderFile(
    "served_area.gpkg", "analyze", "the street area each category serves at its limit", ("served_area",)
)
ROLLUP = FolderFile("rollup_{level}.csv", "analyze", "summaries per street, community or grid")
STREETS = FolderFile(
    "streets.gpkg",
    "analyze",
    "the walking network as the maps draw it: one line per road class and street name, simplified, WGS84",
    ("streets",),
)
COMPLIANCE = FolderFile("compliance.csv", "analyze", "per compound: the standard's facilities missing")
OPEN_BLOCKS = FolderFile("open_blocks.csv", "analyze", "what opening the compounds' roads changes per compound")
SLOPE_EFFECT = FolderFile("slope_effect.csv", "analyze", "what slope changes per compound")
COVERAGE_BY_PROFILE = FolderFile("coverage_by_profile.csv", "analyze", "coverage per walker profile")
PROFILES_SUMMARY = FolderFile("profiles_summary.csv", "analyze", "coverage shares per walker profile")
NETWORK_SOURCES = FolderFile("network_sources.csv", "analyze", "what each network source added")
SITES_CSV = FolderFile("sites.csv", "site", "recommended sites in build order", columns=("site_id",), required=True)
SITES_GPKG = FolderFile("sites.gpkg", "site", "recommended sites and the compounds each newly covers",
                        ("sites", "catchments"), required=True)  # fmt: skip
SITING = FolderFile("siting.json", "site", "model, solver, parameters, before/after counts, notes", required=True)
BEFORE_AFTER = FolderFile("before_after.csv", "site", "per compound: covered before and after", required=True)
CRITICAL = FolderFile("critical_services.csv", "site", "services that are the only one within reach", required=True)
SITE_MAP = FolderFile("map.html", "site", "the coverage map with the recommended sites", required=True)
ISOCHRONES = FolderFile("isochrones.gpkg", "isochrones", "isochrones per service, served areas, rings",
                        ("per_service", "served_area", "rings"), required=True)  # fmt: skip
ISOCHRONE_GEOJSON = FolderFile("isochrones_{layer}.geojson", "isochrones", "one isochrone layer in WGS84")
ISOCHRONE_MAP = FolderFile("map.html", "isochrones", "the map of the served areas per break and the services")
WHATIF = FolderFile("whatif.html", "analyze", "the what-if page (analyze --what-if, or lifecircle what-if later)")
ADEQUACY = FolderFile(
    "adequacy.csv",
    "analyze",
    "per compound and category: the 2SFCA / E2SFCA access ratio (capacity per unit of demand within the limit)",
    columns=("compound_id", "category", "access_ratio"),
)
COVERAGE_HOURS = FolderFile(
    "coverage_hours.csv",
    "analyze",
    "per compound and category: hours of the week a service is open within the limit (services with hours)",
    columns=("compound_id", "category", "hours_covered", "hours_covered_known", "weekday_day_h", "weekday_evening_h",
             "weekend_h", "weekday_day_h_known", "weekday_evening_h_known", "weekend_h_known"),
)  # fmt: skip
BUILDINGS = FolderFile(
    "buildings.csv",
    "analyze",
    "per building and category: its compound, the walk from the building to the nearest service, covered",
    columns=("building_id", "compound_id", "category", "walk_m", "covered"),
)
BUILDINGS_GPKG = FolderFile(
    "buildings.gpkg",
    "analyze",
    "the buildings with their compound, households, group and minutes / covered per category",
    layers=("buildings",),
    columns=("building_id",),
)

ANALYSIS_TABLES: tuple[FolderFile, ...] = (OPEN_BLOCKS, SLOPE_EFFECT, COVERAGE_BY_PROFILE, PROFILES_SUMMARY,
                                           NETWORK_SOURCES, ADEQUACY, COVERAGE_HOURS, BUILDINGS)  # fmt: skip
"""The extra tables an analysis may write (walking comparisons, network sources)."""

FILES: tuple[FolderFile, ...] = (
    COVERAGE, COMPOUNDS, SERVICES, SUMMARY, MAP, REPORT_HTML, REPORT_XLSX, SERVED_AREA, ROLLUP, COMPLIANCE,
    *ANALYSIS_TABLES, SITES_CSV, SITES_GPKG, SITING, BEFORE_AFTER, CRITICAL, SITE_MAP, ISOCHRONES, ISOCHRONE_GEOJSON,
    ISOCHRONE_MAP, WHATIF, BUILDINGS_GPKG, STREETS,
)  # fmt: skip
"""Every file lifecircle writes into an output folder."""

GOVERNANCE_LEVELS = ("street", "community", "grid")


def rollup_name(level: str) -> str:
    """File name of the roll-up per governance ``level`` (``street``, ``community``, ``grid``)."""
    return ROLLUP.name.format(level=level)


def isochrone_geojson_name(layer: str, *, stem: str = "isochrones") -> str:
    """File name of one isochrone layer as WGS84 GeoJSON."""
    return f"{stem}_{layer}.geojson"


def files_of(job: str) -> tuple[FolderFile, ...]:
    """The files ``job`` writes."""
    return tuple(f for f in FILES if f.job == job)


KINDS = ("analyze", "site", "isochrones")
"""The jobs whose folders can be published, in the order a folder is recognised."""


def folder_kind(folder: str | Path) -> str | None:
    """Which job's result ``folder`` holds (``analyze``, ``site`` or ``isochrones``), by the files its jobs
    require; None when it holds none of them whole."""
    folder = Path(folder)
    for kind in KINDS:
        required = [f.name for f in files_of(kind) if f.required and "{" not in f.name]
        if required and all((folder / name).is_file() for name in required):
            return kind
    return None


# ---------------------------------------------------------------------------------------------- writing


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese text; a text cell that a spreadsheet would run
    as a formula (``=``, ``+``, ``-``, ``@``...) is made inert (:func:`lifecircle.cells.inert_frame`); CRLF line
    ends (RFC 4180), so a carriage return inside a cell is quoted."""
    inert_frame(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def write_json(data: Mapping, path: Path) -> None:
    """JSON in UTF-8, Chinese kept readable; NaN and infinities are written as ``null`` (JSON has neither)."""
    text = json.dumps(finite(data), ensure_ascii=False, indent=2, allow_nan=False)
    path.write_text(text, encoding="utf-8")


def write_summary(data: Mapping, folder: Path, *, spec: FolderFile = SUMMARY) -> Path:
    """Write ``summary.json`` (or ``siting.json``) into ``folder`` with :data:`SCHEMA_VERSION` first."""
    path = Path(folder) / spec.name
    write_json({"schema_version": SCHEMA_VERSION, **data}, path)
    return path


def finite(value):
    """``value`` made JSON-safe: NaN and ±inf become None, NumPy scalars plain numbers, sets/tuples lists."""
    if isinstance(value, Mapping):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, os.PathLike):
        return Path(value).name  # file names only, never folders
    return str(value)


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, *, layer: str, index: str | None = None) -> None:
    """One GeoPackage layer; the index (the id, named ``index`` when given) becomes a column, nullable columns
    become plain types."""
    out = (gdf.rename_axis(index) if index else gdf).reset_index()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        if out[column].dtype == object or str(out[column].dtype) in {"boolean", "string"}:
            if out[column].isna().all():
                out[column] = out[column].astype(object).where(out[column].notna(), None)
            elif pd.api.types.is_bool_dtype(out[column].dropna()):
                out[column] = out[column].astype(object)
    out.to_file(path, layer=layer, driver="GPKG")


# ---------------------------------------------------------------------------------------------- reading


def read_json(path: Path) -> object:
    """A JSON file lifecircle wrote; damaged, non-UTF-8 or absurdly nested JSON is an InputError naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}).") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a file lifecircle wrote.") from None


def require_complete(folder: str | Path) -> Manifest | None:
    """Raise :class:`~lifecircle.errors.InputError` when ``folder`` holds an unfinished or mixed result.

    A folder with a manifest must be marked complete and hold every file it lists. A folder without one (made
    by hand, or by an older lifecircle) is accepted as it is.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if (folder / MANIFEST).exists() and manifest is None:
        raise InputError(f"The manifest of {folder} ({MANIFEST}) is damaged: run the analysis again.")
    if manifest is None:
        return None
    if not manifest.complete:
        raise InputError(f"{folder} holds an unfinished run (it was interrupted): run it again.")
    missing = [name for name in manifest.owned() if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder} lacks {', '.join(sorted(missing))} of its last run: run it again.")
    return manifest


@dataclass(frozen=True, eq=False)
class AnalysisFolder:
    """The contents of an ``analyze`` folder, read back.

    Attributes
    ----------
    path
        The folder.
    summary
        ``summary.json``.
    coverage
        ``coverage.csv`` (ids and categories as text).
    compounds, services
        The layers, indexed by ``compound_id`` / ``service_id`` (text).
    served_area
        ``served_area.gpkg`` when written.
    tables
        Every other table present: ``rollup_<level>``, ``compliance`` and the walking comparisons, by stem.
    """

    path: Path
    summary: dict
    coverage: pd.DataFrame
    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    served_area: gpd.GeoDataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def read_summary(folder: Path) -> dict:
    """``summary.json`` of a folder: an InputError when missing, damaged or not an object."""
    path = Path(folder) / SUMMARY.name
    if not path.is_file():
        raise InputError(f"{folder} holds no {SUMMARY.name}: run `lifecircle analyze` or `lifecircle run` first.")
    summary = read_json(path)
    if not isinstance(summary, dict):
        raise InputError(f"{path} must hold a JSON object, as lifecircle writes it; run the analysis again.")
    return summary


def read_table(path: Path, spec: FolderFile | None = None, *, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A result table; a damaged or foreign one is an InputError naming the file."""
    dtype = {c: str for c in text_columns}
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", dtype=dtype or None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is damaged ({exc}); run the analysis again to rewrite it.") from None
    missing = [c for c in (spec.columns if spec else ()) if c and c not in table.columns]
    if missing:
        raise InputError(f"{path} has no column {missing[0]!r}: it is not a lifecircle result; run the analysis again.")
    return restore_frame(table)


def read_layer(path: Path, *, layer: str | None = None, index: str | None = None) -> gpd.GeoDataFrame:
    """One GeoPackage layer of a result (``index`` becomes the text index)."""
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises its own errors for damaged files
        raise InputError(f"Cannot read the GeoPackage {path}: {exc}") from None
    if index is not None:
        if index not in gdf.columns:
            raise InputError(f"{path} has no column {index!r}: it is not a lifecircle result; run the analysis again.")
        gdf[index] = gdf[index].astype(str)
        gdf = gdf.set_index(index)
    return gdf


def read_analysis(folder: str | Path) -> AnalysisFolder:
    """Read an ``analyze`` folder back (checked complete first).

    Parameters
    ----------
    folder
        A folder written by ``lifecircle analyze`` (or :func:`lifecircle.write_analysis`).

    Returns
    -------
    AnalysisFolder
        Its summary, coverage table, compound and service layers, served areas and other tables.

    Raises
    ------
    InputError
        The folder is unfinished, lacks a required file, or holds a damaged one.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The analysis folder {folder} does not exist.")
    require_complete(folder)
    missing = [f.name for f in files_of("analyze") if f.required and not (folder / f.name).is_file()]
    if missing:
        raise InputError(f"The analysis folder {folder} lacks {', '.join(missing)}.")
    tables = {}
    for level in GOVERNANCE_LEVELS:
        if (folder / rollup_name(level)).is_file():
            tables[Path(rollup_name(level)).stem] = read_table(folder / rollup_name(level))
    for spec in (COMPLIANCE, *ANALYSIS_TABLES):
        if (folder / spec.name).is_file():
            tables[Path(spec.name).stem] = read_table(folder / spec.name, spec, text_columns=("compound_id",))
    served = folder / SERVED_AREA.name
    return AnalysisFolder(
        path=folder,
        summary=read_summary(folder),
        coverage=read_table(
            folder / COVERAGE.name, COVERAGE, text_columns=("compound_id", "category", "nearest_service_id")
        ),
        compounds=read_layer(folder / COMPOUNDS.name, layer=COMPOUNDS.layers[0], index="compound_id"),
        services=read_layer(folder / SERVICES.name, layer=SERVICES.layers[0], index="service_id"),
        served_area=read_layer(served, layer=SERVED_AREA.layers[0]) if served.is_file() else None,
        tables=tables,
    )
