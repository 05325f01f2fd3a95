"""Study files: a whole coverage study described in one TOML file, validated on load, run with one call.

``lifecircle run study.toml`` and notebooks share this API::

    study = load_study("study.toml")                  # InputError naming the key and the expected form
    result = run_study(study.with_overrides(max_walk_min=15))
    result.compounds                                    # GeoDataFrame per compound (status, walks, compliance)

A study names the network, the layers with their columns, encodings and coordinate systems (``gcj02`` ledgers
from Amap are converted to WGS84 on reading), categories grouping ledger values (便民服务点, 超市 -> one category),
thresholds per category, walking speed, branches, gates, a planning standard (``gb50180-10``: a distance) and the
outputs. ``lifecircle init`` writes :data:`TEMPLATE`, a commented example.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import normalize_coord_system
from lifecircle.geo.reach.coverage import ALL
from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M
from lifecircle.geo.walkers.profiles import get_profiles
from lifecircle.planning.analysis import Analysis
from lifecircle.planning.analyze_job import LayerSpec, MapOptions, read_layers, run_job
from lifecircle.planning.progress import Steps
from lifecircle.planning.standards import load_standard
from lifecircle.planning.walking import WalkingOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

__all__ = ["TEMPLATE", "Study", "StudyResult", "load_study", "run_study", "write_template"]

_LAYER_KEYS = {
    "path", "id_column", "name_column", "crs", "lon_column", "lat_column", "encoding", "layer", "sheet",
    "coord_system", "fix_swapped",
}  # fmt: skip
_COMPOUND_KEYS = _LAYER_KEYS | {
    "households_column", "population_column", "branch_column", "street_column", "community_column", "grid_column",
}  # fmt: skip
_SERVICE_KEYS = _LAYER_KEYS | {"category_column"}
_SECTIONS = {
    "study": {"name", "network", "study_area"},
    "compounds": _COMPOUND_KEYS,
    "services": _SERVICE_KEYS,
    "branches": _LAYER_KEYS,
    "gates": _LAYER_KEYS,
    "walk": {"minutes", "distance_m", "speed_kmh", "max_snap_m"},
    "walking": {
        "compound_roads",
        "open_blocks",
        "gates_from_osm",
        "dem",
        "steps_factor",
        "profiles",
        "merge_lines",
        "level_column",
    },
    "categories": None,
    "thresholds": None,
    "thresholds_m": None,
    "standard": {"level", "include_recommended", "facilities"},
    "output": {"dir", "coord_system", "lang", "offline_map", "online_map", "report", "served_area", "catchment_m"},
}


@dataclass(frozen=True)
class Study:
    """A validated study (see :data:`TEMPLATE` for the file form). Paths are absolute.

    Attributes
    ----------
    name, source
        Study name and the file it was read from (None when built in Python).
    network
        OSM extract path (or ``place:NAME``, GraphML).
    compounds, services, branches, gates
        How to read each layer.
    category_column, branch_column, households_column, population_column
        Column overrides (None: auto-detected).
    governance
        Level (``street``, ``community``, ``grid``) -> compound column.
    categories
        Category -> the ledger values grouped into it.
    max_walk_min, max_walk_m
        General threshold (minutes, or metres which win); None: the standard's distance, else 10 minutes.
    speed_kmh, max_snap_m
        Walking speed and the largest distance from a street.
    category_max_walk_min, category_max_walk_m
        Thresholds of single categories.
    standard, standard_facilities, include_recommended
        Planning standard level (``gb50180-10`` or a TOML path), facility key -> categories, and whether
        recommended facilities are checked too.
    walking
        How residents walk (gated compounds, local roads, hills, walker profiles), as ``lifecircle analyze``'s
        options.
    study_area
        Outline drawn on the map (optional).
    out_dir, output_coord_system, lang, offline_map, report, served_area, catchment_m
        Outputs (served areas: the street area each category serves, on the map and as ``area_share``).
    """

    network: str
    compounds: LayerSpec
    services: LayerSpec
    name: str = "lifecircle study"
    source: Path | None = None
    branches: LayerSpec | None = None
    gates: LayerSpec | None = None
    category_column: str | None = None
    branch_column: str | None = None
    households_column: str | None = None
    population_column: str | None = None
    governance: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)
    max_walk_min: float | None = None
    max_walk_m: float | None = None
    speed_kmh: float = 4.5
    max_snap_m: float = 300.0
    category_max_walk_min: dict = field(default_factory=dict)
    category_max_walk_m: dict = field(default_factory=dict)
    standard: str | None = None
    standard_facilities: dict | None = None
    include_recommended: bool = False
    out_dir: Path = Path("lifecircle-out")
    output_coord_system: str = "wgs84"
    lang: str | None = None
    offline_map: bool = True
    report: bool = True
    walking: WalkingOptions = field(default_factory=WalkingOptions)
    study_area: Path | None = None
    served_area: bool = True
    catchment_m: float = DEFAULT_CATCHMENT_M

    def with_overrides(self, **changes) -> Study:
        """A copy with the given fields changed; None values are ignored (unset command-line flags).

        A new ``max_walk_min`` drops a distance threshold from the file and vice versa.
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InputError(f"Unknown study setting {unknown[0]!r}.")
        changes = {k: v for k, v in changes.items() if v is not None}
        if "max_walk_min" in changes and "max_walk_m" not in changes:
            changes["max_walk_m"] = None
        elif "max_walk_m" in changes and "max_walk_min" not in changes:
            changes["max_walk_min"] = None
        if "out_dir" in changes:
            changes["out_dir"] = Path(changes["out_dir"])
        if "output_coord_system" in changes:
            changes["output_coord_system"] = normalize_coord_system(changes["output_coord_system"])
        return replace(self, **changes)

    def parameters(self) -> dict:
        """The study's settings as JSON-ready values (recorded in ``summary.json``; files by name only)."""
        return {
            "name": self.name,
            "file": None if self.source is None else Path(self.source).name,
            "categories": {k: list(v) for k, v in self.categories.items()},
            "standard": self.standard,
            "walking": {
                key: (value.name if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value)
                for key, value in asdict(self.walking).items()
            },
        }


@dataclass(frozen=True, eq=False)
class StudyResult:
    """What a study run produced.

    Attributes
    ----------
    study
        The study as run (with overrides).
    analysis
        The full :class:`~lifecircle.planning.analysis.Analysis`.
    out_dir
        Where outputs were written (None when not written).
    """

    study: Study
    analysis: Analysis
    out_dir: Path | None

    @property
    def compounds(self) -> gpd.GeoDataFrame:
        """Per compound: status, branch, walks and coverage per category, standard compliance (WGS84)."""
        return self.analysis.compounds

    @property
    def services(self) -> gpd.GeoDataFrame:
        """Services with their grouped ``category``, ``ledger_category`` and compounds served."""
        return self.analysis.services

    @property
    def coverage(self) -> pd.DataFrame:
        """The long coverage table (one row per compound and category)."""
        return self.analysis.coverage.table

    @property
    def rollups(self) -> dict[str, pd.DataFrame]:
        """Per street / community / grid tables."""
        return self.analysis.rollups

    @property
    def summary(self) -> dict:
        """The JSON-ready summary."""
        return self.analysis.summary


# ---- validation ----------------------------------------------------------------------------------------------


class _Check:
    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, expected: str, got: object) -> None:
        raise InputError(f"{self.source}: {key} must be {expected}; got {got!r}.")

    @contextmanager
    def about(self, key: str) -> Iterator[None]:
        """Name the study file and key in an InputError raised while checking that key's value."""
        try:
            yield
        except InputError as exc:
            raise InputError(f"{self.source}: {key}: {exc}") from None

    def table(self, doc: Mapping, key: str, *, required: bool = False) -> Mapping | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise InputError(f"{self.source}: the [{key}] table is missing (see `lifecircle init` for the form).")
            return None
        if not isinstance(value, Mapping):
            self.fail(f"[{key}]", f"a table ([{key}] with key = value lines)", value)
        return value

    def keys(self, table: Mapping, allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise InputError(
                f"{self.source}: unknown key {where}.{unknown[0]}; allowed keys are {', '.join(sorted(allowed))}."
            )

    def string(self, table: Mapping, key: str, where: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}", f'a non-empty string (e.g. {key} = "...")', value)
        return value.strip()

    def number(self, table: Mapping, key: str, where: str, example: str) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            self.fail(f"{where}.{key}", f"a positive number (e.g. {key} = {example})", value)
        return float(value)

    def boolean(self, table: Mapping, key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"true or false (e.g. {key} = {str(default).lower()})", value)
        return value

    def coord_system(self, table: Mapping, key: str, where: str) -> str | None:
        value = self.string(table, key, where)
        if value is None:
            return None
        try:
            return normalize_coord_system(value)
        except InputError:
            self.fail(f"{where}.{key}", '"wgs84", "gcj02" (Amap, Tencent), "bd09" (Baidu) or "cgcs2000"', value)

    def path(self, value: str, where: str, base: Path, *, check_files: bool) -> Path:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else (base / path)
        if check_files and not path.exists():
            raise InputError(f"{self.source}: {where} names {value!r}, which does not exist ({path}).")
        return path


def _layer(chk: _Check, table: Mapping, where: str, base: Path, *, allowed: set[str], check_files: bool) -> LayerSpec:
    chk.keys(table, allowed, where)
    path = chk.string(table, "path", where, required=True)
    sheet = table.get("sheet")
    if sheet is not None and not (isinstance(sheet, str) and sheet) and not (isinstance(sheet, int) and sheet >= 0):
        chk.fail(f"{where}.sheet", 'a sheet name or 0-based number (e.g. sheet = "台账")', sheet)
    return LayerSpec(
        path=chk.path(path, f"{where}.path", base, check_files=check_files),
        id_column=chk.string(table, "id_column", where),
        name_column=chk.string(table, "name_column", where),
        crs=chk.string(table, "crs", where),
        lon_column=chk.string(table, "lon_column", where),
        lat_column=chk.string(table, "lat_column", where),
        encoding=chk.string(table, "encoding", where),
        layer=chk.string(table, "layer", where),
        coord_system=chk.coord_system(table, "coord_system", where),
        sheet=sheet,
        on_swap="fix" if chk.boolean(table, "fix_swapped", where, False) else "raise",
    )


def _per_category(chk: _Check, table: Mapping | None, where: str, example: str) -> dict[str, float]:
    out = {}
    for key in table or {}:
        out[str(key)] = chk.number(table, key, where, example)
    return out


def _categories(chk: _Check, table: Mapping | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for category, values in (table or {}).items():
        where = f"categories.{category}"
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            chk.fail(where, 'a list of ledger values (e.g. 便民服务 = ["便民服务点", "超市"])', values)
        if category == ALL:
            raise InputError(f"{chk.source}: categories.{ALL} is reserved (every service); choose another name.")
        for v in values:
            if v.strip() in seen and seen[v.strip()] != category:
                raise InputError(
                    f"{chk.source}: ledger value {v!r} is in both categories.{seen[v.strip()]} and {where}."
                )
            seen[v.strip()] = category
        out[str(category)] = tuple(v.strip() for v in values)
    return out


def _walking(chk: _Check, table: Mapping, base: Path, *, check_files: bool) -> WalkingOptions:
    chk.keys(table, _SECTIONS["walking"], "walking")
    profiles = table.get("profiles", [])
    if isinstance(profiles, str):
        profiles = [p.strip() for p in profiles.split(",") if p.strip()]
    if not isinstance(profiles, list) or not all(isinstance(p, str) and p.strip() for p in profiles):
        chk.fail("walking.profiles", 'a list of profile names (e.g. profiles = ["adult", "elderly"])', profiles)
    if profiles:
        with chk.about("walking.profiles"):
            get_profiles(profiles)  # unknown names are reported now, not after the network is loaded
    dem, merge_lines = chk.string(table, "dem", "walking"), chk.string(table, "merge_lines", "walking")
    return WalkingOptions(
        compound_roads=chk.boolean(table, "compound_roads", "walking", False),
        open_blocks=chk.boolean(table, "open_blocks", "walking", False),
        gates_from_osm=chk.boolean(table, "gates_from_osm", "walking", False),
        dem=None if dem is None else chk.path(dem, "walking.dem", base, check_files=check_files),
        steps_factor=chk.number(table, "steps_factor", "walking", "1.5") or 1.5,
        profiles=tuple(p.strip() for p in profiles),
        merge_lines=None
        if merge_lines is None
        else chk.path(merge_lines, "walking.merge_lines", base, check_files=check_files),
        level_column=chk.string(table, "level_column", "walking"),
    )


def parse_study(doc: Mapping, *, base: Path, source: str = "study", check_files: bool = True) -> Study:
    """Validate a study document (the parsed TOML) and return a :class:`Study`.

    Raises
    ------
    InputError
        A missing or unknown key, or a value of the wrong form; the message names the key and the form.
    """
    chk = _Check(source)
    chk.keys(doc, set(_SECTIONS), "(top level)")
    study = chk.table(doc, "study", required=True)
    chk.keys(study, _SECTIONS["study"], "study")
    network = chk.string(study, "network", "study", required=True)
    is_file = not network.lower().startswith("place:")
    network = str(chk.path(network, "study.network", base, check_files=check_files)) if is_file else network
    compounds_t = chk.table(doc, "compounds", required=True)
    services_t = chk.table(doc, "services", required=True)
    compounds = _layer(chk, compounds_t, "compounds", base, allowed=_COMPOUND_KEYS, check_files=check_files)
    services = _layer(chk, services_t, "services", base, allowed=_SERVICE_KEYS, check_files=check_files)
    branches_t, gates_t = chk.table(doc, "branches"), chk.table(doc, "gates")
    branches = (
        _layer(chk, branches_t, "branches", base, allowed=_LAYER_KEYS, check_files=check_files)
        if branches_t is not None
        else None
    )
    gates = (
        _layer(chk, gates_t, "gates", base, allowed=_LAYER_KEYS, check_files=check_files)
        if gates_t is not None
        else None
    )

    walk = chk.table(doc, "walk") or {}
    chk.keys(walk, _SECTIONS["walk"], "walk")
    minutes = chk.number(walk, "minutes", "walk", "10")
    distance = chk.number(walk, "distance_m", "walk", "500")
    if minutes is not None and distance is not None:
        raise InputError(f"{source}: give walk.minutes or walk.distance_m, not both.")

    walking = _walking(chk, chk.table(doc, "walking") or {}, base, check_files=check_files)
    study_area = chk.string(study, "study_area", "study")

    categories = _categories(chk, chk.table(doc, "categories"))
    thresholds = _per_category(chk, chk.table(doc, "thresholds"), "thresholds", "15")
    thresholds_m = _per_category(chk, chk.table(doc, "thresholds_m"), "thresholds_m", "800")
    both = sorted(set(thresholds) & set(thresholds_m))
    if both:
        raise InputError(f"{source}: category {both[0]!r} has both thresholds and thresholds_m; keep one.")

    std = chk.table(doc, "standard") or {}
    chk.keys(std, _SECTIONS["standard"], "standard")
    level = chk.string(std, "level", "standard")
    if level is not None:
        if level.lower().endswith(".toml") or ".toml#" in level.lower():
            file_part, _, lev = level.partition("#")
            resolved = chk.path(file_part, "standard.level", base, check_files=check_files)
            level = f"{resolved}#{lev}" if lev else str(resolved)
        with chk.about("standard.level"):
            standard = load_standard(level)  # the level must exist and be valid now, not after the network loads
    facilities = std.get("facilities")
    if facilities is not None:
        if not isinstance(facilities, Mapping) or not all(
            isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v))
            for v in facilities.values()
        ):
            chk.fail(
                "standard.facilities",
                'a table of facility = category or [categories] (e.g. kindergarten = "幼儿园")',
                facilities,
            )
        facilities = {str(k): ([v] if isinstance(v, str) else list(v)) for k, v in facilities.items()}
        if level is None:
            raise InputError(f'{source}: standard.facilities needs standard.level (e.g. level = "gb50180-10").')
        known = [f.key for f in standard.facilities]
        unknown = sorted(set(facilities) - set(known))
        if unknown:
            raise InputError(
                f"{source}: standard.facilities names {unknown[0]!r}, which is not a facility of {standard.key}; "
                f"its facilities are {', '.join(known)}."
            )

    out = chk.table(doc, "output") or {}
    chk.keys(out, _SECTIONS["output"], "output")
    lang = chk.string(out, "lang", "output")
    if lang is not None and lang not in ("zh", "en"):
        chk.fail("output.lang", '"zh" or "en"', lang)
    out_dir = chk.string(out, "dir", "output") or "lifecircle-out"
    governance = {
        level_name: compounds_t[f"{level_name}_column"]
        for level_name in ("street", "community", "grid")
        if f"{level_name}_column" in compounds_t
    }
    for key in governance:
        chk.string(compounds_t, f"{key}_column", "compounds", required=True)
    return Study(
        name=chk.string(study, "name", "study") or "lifecircle study",
        source=None,
        network=network,
        compounds=compounds,
        services=services,
        branches=branches,
        gates=gates,
        category_column=chk.string(services_t, "category_column", "services"),
        branch_column=chk.string(compounds_t, "branch_column", "compounds"),
        households_column=chk.string(compounds_t, "households_column", "compounds"),
        population_column=chk.string(compounds_t, "population_column", "compounds"),
        governance=governance,
        categories=categories,
        max_walk_min=minutes,
        max_walk_m=distance,
        speed_kmh=chk.number(walk, "speed_kmh", "walk", "4.5") or 4.5,
        max_snap_m=chk.number(walk, "max_snap_m", "walk", "300") or 300.0,
        category_max_walk_min=thresholds,
        category_max_walk_m=thresholds_m,
        standard=level,
        standard_facilities=facilities,
        include_recommended=chk.boolean(std, "include_recommended", "standard", False),
        out_dir=chk.path(out_dir, "output.dir", base, check_files=False),
        output_coord_system=chk.coord_system(out, "coord_system", "output") or "wgs84",
        lang=lang,
        offline_map=not chk.boolean(out, "online_map", "output", False),  # offline_map (old files): the default
        report=chk.boolean(out, "report", "output", True),
        walking=walking,
        study_area=None
        if study_area is None
        else chk.path(study_area, "study.study_area", base, check_files=check_files),
        served_area=chk.boolean(out, "served_area", "output", True),
        catchment_m=chk.number(out, "catchment_m", "output", "45") or DEFAULT_CATCHMENT_M,
    )


def load_study(path: str | Path, *, check_files: bool = True) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path
        The TOML file; relative paths inside it are relative to its folder.
    check_files
        Check that the input files named exist.

    Returns
    -------
    Study

    Raises
    ------
    InputError
        Missing file, invalid TOML, or a key of the wrong form (the message names the key and the form).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"Study file {path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a study file (`lifecircle init` writes one).") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Study file {path} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise InputError(f"Study file {path} is not UTF-8 text; save it as UTF-8.") from None
    study = parse_study(doc, base=path.resolve().parent, source=path.name, check_files=check_files)
    return replace(study, source=path.resolve())


# ---- running -------------------------------------------------------------------------------------------------


def group_categories(services: gpd.GeoDataFrame, categories: Mapping[str, tuple[str, ...]]) -> gpd.GeoDataFrame:
    """Group ledger category values into study categories (``便民服务点``, ``超市`` -> ``便民服务``).

    The ledger value is kept in ``ledger_category``; values in no group stay their own category (logged).
    """
    out = services.copy()
    out.attrs = dict(services.attrs)
    if not categories:
        return out
    lookup = {value: category for category, values in categories.items() for value in values}
    raw = out["category"].astype(str).str.strip()
    out["ledger_category"] = raw
    out["category"] = raw.map(lookup).fillna(raw)
    ungrouped = sorted(set(raw) - set(lookup))
    if ungrouped:
        log.info("ledger categories in no group keep their own name: %s", ", ".join(ungrouped[:20]))
    unused = [f"{category}: {value!r}" for value, category in lookup.items() if value not in set(raw)]
    if unused:
        log.warning("[categories] name ledger values no service has (a typo?): %s", ", ".join(unused[:10]))
    return out


def _prepare_compounds(compounds: gpd.GeoDataFrame, study: Study) -> gpd.GeoDataFrame:
    out = compounds.copy()
    out.attrs = dict(compounds.attrs)
    for column, target in ((study.households_column, "households"), (study.population_column, "population")):
        if column is None or column == target:
            continue
        if column not in out.columns:
            raise InputError(f"The compound layer has no column {column!r} (compounds.{target}_column).")
        out[target] = out[column]  # checked as numbers by the analysis
    return out


def _check_threshold_categories(study: Study, services: gpd.GeoDataFrame) -> None:
    present = set(services["category"].astype(str))
    for key, table in (("thresholds", study.category_max_walk_min), ("thresholds_m", study.category_max_walk_m)):
        unknown = sorted(set(table) - present)
        if unknown:
            where = f"{Path(study.source).name}: " if study.source else ""
            raise InputError(
                f"{where}[{key}] names category {unknown[0]!r}, which no service has; the categories are "
                f"{', '.join(sorted(present))}."
            )


def run_study(study: Study, *, write: bool = True, progress: bool = False) -> StudyResult:
    """Run a study: read every layer, analyse, and (by default) write all outputs with the report.

    Parameters
    ----------
    study
        From :func:`load_study` (optionally :meth:`Study.with_overrides`).
    write
        Write the outputs into ``study.out_dir`` (all together or none).
    progress
        Show a progress bar on stderr for runs longer than a second.

    Returns
    -------
    StudyResult

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before anything is written.
    """
    level = load_standard(study.standard) if study.standard else None
    max_walk_m = study.max_walk_m
    if max_walk_m is None and study.max_walk_min is None and level is not None:
        max_walk_m = level.walk_m
    steps = Steps(["read layers", "load network", "analyse", "write outputs"], enabled=progress)
    with steps:
        layers = read_layers(
            study.compounds,
            study.services,
            category_column=study.category_column,
            branches=study.branches,
            gates=study.gates,
            study_area=study.study_area,
        )
        services = group_categories(layers.services, study.categories)
        _check_threshold_categories(study, services)
        layers = replace(layers, compounds=_prepare_compounds(layers.compounds, study), services=services)
        steps.next()
        network_path = Path(study.network)
        analysis, out_dir = run_job(
            layers,
            network=study.network,
            steps=steps,
            out_dir=study.out_dir if write else None,
            inputs={
                "network": network_path if network_path.is_file() else None,
                "compounds": study.compounds.path,
                "services": study.services.path,
                "branches": study.branches.path if study.branches else None,
                "gates": study.gates.path if study.gates else None,
                "study": study.source,
            },
            walking=study.walking,
            speed_kmh=study.speed_kmh,
            max_snap_m=study.max_snap_m,
            map_options=MapOptions(offline=study.offline_map, lang=study.lang),
            output_coord_system=study.output_coord_system,
            report=study.report,
            extra_summary={"study": {"name": study.name}, "study_parameters": study.parameters()},
            branch_column=study.branch_column,
            max_walk_min=10.0 if study.max_walk_min is None else study.max_walk_min,
            max_walk_m=max_walk_m,
            category_max_walk_min=study.category_max_walk_min,
            category_max_walk_m=study.category_max_walk_m,
            standard=level,
            standard_categories=study.standard_facilities,
            governance={k: study.governance.get(k) for k in study.governance} or None,
            served_area=study.served_area,
            catchment_m=study.catchment_m,
        )
    return StudyResult(study=study, analysis=analysis, out_dir=out_dir)


# ---- template ------------------------------------------------------------------------------------------------

TEMPLATE = """\
# lifecircle study file (TOML, UTF-8). Run it with:  lifecircle run study.toml
# Paths are relative to this file. Lines starting with # are comments; uncomment what you need.
# Flags override the file: lifecircle run study.toml --out other-folder --minutes 15 --speed-kmh 4

[study]
name = "学院路街道十分钟生活圈评估"
network = "data/haidian.osm.pbf"        # OSM extract (.osm, .osm.bz2, .osm.pbf), GraphML, or "place:海淀区, 北京"
# study_area = "data/街道范围.geojson"    # outline drawn on the map

[compounds]                              # residential compounds (小区), polygons
path = "data/compounds.shp"              # Shapefile (GBK or UTF-8, detected), GeoPackage, GeoJSON...
# id_column = "编号"                     # default: id / 编号
# name_column = "小区名称"               # default: name / 名称 / 小区名称
coord_system = "wgs84"                   # wgs84 | gcj02 (Amap/Gaode, Tencent) | bd09 (Baidu) | cgcs2000
# encoding = "gbk"                       # only when detection fails
# households_column = "户数"             # default: households / 户数
# branch_column = "有支部"               # yes/是/有 marks a compound with its own party branch
street_column = "街道"                   # governance roll-ups; leave out the ones you do not have
community_column = "社区"
# grid_column = "网格"

[services]                               # service points, e.g. an Excel ledger
path = "data/便民服务台账.xlsx"           # CSV (UTF-8, BOM or GBK) or XLSX with longitude/latitude columns
# sheet = "台账"                         # default: the first sheet
category_column = "类别"                 # default: category / 类别 / 类型
# lon_column = "经度"                    # default: detected (lon, lng, 经度, 高德经度, ...)
# lat_column = "纬度"
coord_system = "gcj02"                   # coordinates copied from Amap are GCJ-02
# fix_swapped = true                     # swap longitude/latitude back when a ledger has them the wrong way round

# [branches]                             # party-branch points (optional)
# path = "data/branches.csv"
# coord_system = "gcj02"

# [gates]                                # compound gates (optional): walks start at the gates
# path = "data/gates.geojson"

[walk]
minutes = 10                             # or: distance_m = 500 (a standard below gives a distance by itself)
speed_kmh = 4.5
max_snap_m = 300                         # farther than this from any walkable street: unreachable

# [walking]                              # how residents walk (the options of `lifecircle analyze`)
# compound_roads = true                  # residents use their own compound's internal roads, never others'
# open_blocks = true                     # also compare with internal roads open to all (开放街区)
# gates_from_osm = true                  # gates from the OSM file's gate/entrance nodes
# dem = "data/dem.tif"                   # hills: uphill and downhill walking by Tobler's function
# steps_factor = 1.5                     # effort multiplier of steps with a DEM
# profiles = ["adult", "elderly", "child", "wheelchair"]   # walkers at their own speeds, run together
# merge_lines = "data/道路中心线.shp"      # local road centrelines merged into the OSM network
# level_column = "层级"                   # level of road lines: bridges and tunnels do not meet

[categories]                             # group ledger values into categories (others keep their own name)
"便民服务" = ["便民服务点", "超市", "便利店"]
"医疗卫生" = ["社区卫生服务站", "社区卫生服务中心", "诊所"]

[thresholds]                             # minutes for single categories (others use walk.minutes)
"医疗卫生" = 15
# [thresholds_m]                         # or metres
# "幼儿园" = 300

# [standard]                             # check each compound against a planning standard level
# level = "gb50180-5"                    # gb50180-15 (1000 m) | gb50180-10 (500 m) | gb50180-5 (300 m) | my.toml#level
# include_recommended = false
# [standard.facilities]                  # facility key of the standard -> your categories
# community_health_station = "医疗卫生"
# neighbourhood_shops = ["便民服务"]

[output]
dir = "lifecircle-out"
coord_system = "wgs84"                   # gcj02 to overlay the GeoPackages on Amap
lang = "zh"                              # zh | en (map and report)
online_map = false                       # true: the map loads Leaflet from the internet (default: opens offline)
report = true                            # report.html and report.xlsx
served_area = true                       # the street area each category serves (map layers, area_share)
# catchment_m = 45                       # street catchment width of served areas
"""


def write_template(path: str | Path) -> Path:
    """Write the commented study template :data:`TEMPLATE` to ``path`` (never over an existing file).

    Raises
    ------
    InputError
        ``path`` exists.
    """
    path = Path(path)
    if path.exists():
        raise InputError(f"{path} already exists; choose another name or remove it first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:
        fh.write(TEMPLATE)
    return path
