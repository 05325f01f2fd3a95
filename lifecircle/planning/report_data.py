"""What a report is made from: the result files of one output folder, read back with ids kept as text.

The report reads only files (``summary.json``, ``coverage.csv``, ``compounds.gpkg``, ``services.gpkg``,
``rollup_<level>.csv``, ``compliance.csv``, ``sites.csv``/``siting.json``, ``map.html``), so it can be written
again at any time. CSVs come back through :func:`lifecircle.cells.restore_frame` (the quote that made a
formula-like cell inert is taken off) and with every id column as text (``00007`` keeps its zeros).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lifecircle import folder
from lifecircle.cells import restore_frame
from lifecircle.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "GOVERNANCE_LEVELS",
    "ReportData",
    "coverage_with_names",
    "find_file",
    "load_coverage",
    "load_report_data",
    "load_summary",
    "read_result_csv",
]

GOVERNANCE_LEVELS = ("street", "community", "grid")
COVERAGE_COLUMNS = ("compound_id", "category", "walk_min", "covered")
_TEXT_COLUMNS = ("category", "name", "reach", "status", "missing", "missing_names")


@dataclass(frozen=True, eq=False)
class ReportData:
    """The result files of a folder, read.

    Attributes
    ----------
    summary
        ``summary.json``.
    coverage
        ``coverage.csv`` (None when absent).
    compounds
        The attributes of ``compounds.gpkg`` without geometry, indexed by ``compound_id`` (None when absent).
    service_names
        ``service_id`` -> name, from ``services.gpkg`` (empty when absent).
    rollups
        Level (``street``...) -> ``rollup_<level>.csv``.
    compliance
        ``compliance.csv`` (None when absent).
    sites, siting
        A siting plan: ``sites.csv`` and ``siting.json`` (None when absent).
    map_path
        ``map.html`` (None when absent).
    """

    summary: dict
    coverage: pd.DataFrame | None = None
    compounds: pd.DataFrame | None = None
    service_names: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    rollups: dict[str, pd.DataFrame] = field(default_factory=dict)
    compliance: pd.DataFrame | None = None
    sites: pd.DataFrame | None = None
    siting: dict | None = None
    map_path: Path | None = None


def coverage_with_names(table: pd.DataFrame, compounds: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """The coverage table with ``compound_name`` and ``nearest_service_name`` added as its last columns (so
    ``coverage.csv`` reads alone, and scripts reading its columns by position keep working); layers without a
    ``name`` column add nothing.
    """
    out = table.copy()
    for id_col, name_col, layer in (
        ("compound_id", "compound_name", compounds),
        ("nearest_service_id", "nearest_service_name", services),
    ):
        if id_col not in out.columns or "name" not in layer.columns or name_col in out.columns:
            continue
        names = pd.Series(layer["name"].to_numpy(), index=layer.index.astype(str))
        names = names[~names.index.duplicated()]
        ids = out[id_col].astype(object)
        values = ids.where(ids.isna(), ids.astype(str)).map(names)
        out[name_col] = values
    return out


def find_file(name: str, dirs: Sequence[Path]) -> Path | None:
    """The first regular file ``name`` in ``dirs`` (a symbolic link is never followed)."""
    return next((d / name for d in dirs if (d / name).is_file() and not (d / name).is_symlink()), None)


def _text_dtypes(path: Path, extra: Sequence[str]) -> dict[str, type]:
    """Columns of a result CSV read as text: ids, names, categories, the unit column of a roll-up."""
    try:
        header = pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return {}
    text = {
        c
        for c in header
        if c in (*_TEXT_COLUMNS, *extra) or str(c).endswith(("_id", "_name")) or str(c).lower() in ("id", "name")
    }
    return {c: str for c in text}


def read_result_csv(path: Path, *, required: Sequence[str] = (), text: Sequence[str] = ()) -> pd.DataFrame:
    """A result table written by lifecircle; a damaged or foreign one is an InputError naming the file.

    Parameters
    ----------
    path
        The CSV.
    required
        Columns it must have.
    text
        Further columns to read as text (ids and names always are).
    """
    try:
        table = pd.read_csv(  # only empty cells are missing: a compound named "NA" or "None" keeps its name
            path, encoding="utf-8-sig", dtype=_text_dtypes(path, text), keep_default_na=False, na_values=[""]
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is damaged ({exc}); run the analysis again to rewrite it.") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(f"{path} has no column {missing[0]!r}: it is not a lifecircle result; run the analysis again.")
    return restore_frame(table)


def load_summary(dirs: Sequence[Path]) -> dict:
    """``summary.json`` of the first folder holding one; an InputError when none does or it is damaged."""
    path = find_file(folder.SUMMARY.name, dirs)
    if path is None:
        raise InputError(f"{dirs[0]} holds no summary.json: run `lifecircle analyze` or `lifecircle run` first.")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}).") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a summary lifecircle wrote.") from None
    if not isinstance(summary, dict):
        raise InputError(f"{path} must hold a JSON object, as lifecircle writes it; run the analysis again.")
    return summary


def _read_attributes(path: Path, id_column: str) -> pd.DataFrame | None:
    """The attribute table of a GeoPackage without its geometry, indexed by ``id_column`` as text."""
    import pyogrio

    try:
        table = pyogrio.read_dataframe(path, read_geometry=False)
    except Exception as exc:  # pyogrio raises its own errors for damaged files
        raise InputError(f"Cannot read the GeoPackage {path}: {exc}") from None
    if id_column not in table.columns and "index" in table.columns:  # a layer written without its index's name
        id_column = "index"
    if id_column not in table.columns:
        log.warning("%s has no %s column; it is left out of the report", path, id_column)
        return None
    table[id_column] = table[id_column].astype(str)
    return pd.DataFrame(table).set_index(id_column)


def _read_sites(dirs: Sequence[Path]) -> tuple[pd.DataFrame | None, dict | None]:
    sites_path = find_file(folder.SITES_CSV.name, dirs)
    siting_path = find_file(folder.SITING.name, dirs)
    sites = read_result_csv(sites_path) if sites_path else None
    siting = None
    if siting_path:
        try:
            siting = json.loads(siting_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            log.warning("%s is not valid JSON; the siting plan is left out of the report", siting_path)
    if sites is None and isinstance(siting, dict) and isinstance(siting.get("sites"), list):
        sites = pd.DataFrame(siting["sites"])
    return sites, siting if isinstance(siting, dict) else None


def load_coverage(dirs: Sequence[Path]) -> pd.DataFrame | None:
    """``coverage.csv`` of the first folder holding one (None when none does); an InputError when it is damaged."""
    path = find_file(folder.COVERAGE.name, dirs)
    return read_result_csv(path, required=COVERAGE_COLUMNS) if path else None


def load_report_data(dirs: Sequence[Path]) -> ReportData:
    """Read every result file a report uses from the first of ``dirs`` that holds it.

    Raises
    ------
    InputError
        No ``summary.json``, or a damaged or foreign result table.
    """
    dirs = [Path(d) for d in dirs]
    summary = load_summary(dirs)
    coverage = load_coverage(dirs)
    compounds_path = find_file(folder.COMPOUNDS.name, dirs)
    compounds = _read_attributes(compounds_path, "compound_id") if compounds_path else None
    services_path = find_file(folder.SERVICES.name, dirs)
    names = pd.Series(dtype=object)
    if services_path is not None and (coverage is None or "nearest_service_name" not in coverage.columns):
        services = _read_attributes(services_path, "service_id")
        if services is not None and "name" in services.columns:
            names = services["name"]
    units = summary.get("governance_columns") or {}
    rollups = {}
    for level in GOVERNANCE_LEVELS:
        path = find_file(folder.rollup_name(level), dirs)
        if path is not None:
            rollups[level] = read_result_csv(path, text=[units.get(level, "")] if isinstance(units, dict) else [])
            first = rollups[level].columns[0]
            rollups[level][first] = rollups[level][first].astype(object)
    compliance = None
    if summary.get("standard") and find_file(folder.COMPLIANCE.name, dirs) is not None:
        compliance = read_result_csv(find_file(folder.COMPLIANCE.name, dirs))
    sites, siting = _read_sites(dirs)
    return ReportData(
        summary=summary,
        coverage=coverage,
        compounds=compounds,
        service_names=names,
        rollups=rollups,
        compliance=compliance,
        sites=sites,
        siting=siting,
        map_path=find_file(folder.MAP.name, dirs),
    )
