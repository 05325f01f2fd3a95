"""The tables of a study file, each checked on its own: ``[study]``, the layers, ``[walk]``/``[walking]``,
categories and thresholds, ``[standard]``, ``[output]``, and the other jobs' ``[run]``, ``[site]``,
``[isochrones]`` and ``[publish]``.

:func:`parse_parts` returns the keyword arguments of :class:`lifecircle.planning.study.Study`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from lifecircle.errors import InputError
from lifecircle.geo.reach.adequacy import METHODS
from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.walk import DEFAULT_SPEED_KMH, DEFAULT_STEPS_FACTOR
from lifecircle.geo.walkers.profiles import get_profiles
from lifecircle.planning.adequacy import AdequacyOptions
from lifecircle.planning.hours import HoursOptions
from lifecircle.planning.inputs import AUTO_NETWORK
from lifecircle.planning.options import (
    ANALYSIS_DIR,
    CANDIDATE_SOURCES,
    ISOCHRONES_DIR,
    MODELS,
    PUBLISH_DIR,
    SITE_DIR,
    DaskOptions,
    IsochroneOptions,
    PublishOptions,
    SitingOptions,
)
from lifecircle.planning.siting.solvers import SOLVERS
from lifecircle.planning.standards import load_standard
from lifecircle.planning.study_checks import StudyCheck, categories, layer_spec, per_category
from lifecircle.planning.walking import WalkingOptions

__all__ = ["SECTIONS", "STEPS", "parse_parts"]

STEPS = ("analysis", "siting", "isochrones", "publishing")
_LAYER_KEYS = {
    "path", "id_column", "name_column", "crs", "lon_column", "lat_column", "encoding", "layer", "sheet",
    "coord_system", "fix_swapped",
}  # fmt: skip
_COMPOUND_KEYS = _LAYER_KEYS | {
    "households_column", "population_column", "branch_column", "street_column", "community_column", "grid_column",
}  # fmt: skip
_SERVICE_KEYS = _LAYER_KEYS | {"category_column"}
SECTIONS = {
    "study": {"name", "network", "study_area", "barriers", "buildings", "building_group_column", "buildings_from_osm"},
    "compounds": _COMPOUND_KEYS,
    "services": _SERVICE_KEYS,
    "branches": _LAYER_KEYS | {"compound_column"},
    "gates": _LAYER_KEYS,
    "candidates": _LAYER_KEYS,
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
    "output": {
        "dir",
        "coord_system",
        "lang",
        "offline_map",
        "online_map",
        "report",
        "map",
        "served_area",
        "catchment_m",
        "basemap",
        "tianditu_key",
    },
    "run": {"steps"},
    "site": {
        "dir",
        "add",
        "cover_all",
        "model",
        "candidate_spacing_m",
        "candidates_from",
        "category",
        "weight_column",
        "budget",
        "cost_column",
        "capacity",
        "solver",
        "time_limit_s",
        "include_unreachable",
    },
    "isochrones": {"dir", "minutes", "catchment_m", "rings", "workers"},
    "publish": {"dir", "online", "lang"},
    "adequacy": {"method", "capacity_column", "demand_column", "norm", "norms"},
    "hours": {"column", "at"},
    "dask": {"scheduler", "tile_km"},
}


def _table(chk: StudyCheck, doc: Mapping, key: str) -> Mapping:
    table = chk.table(doc, key) or {}
    chk.keys(table, SECTIONS[key], key)
    return table


def parse_parts(doc: Mapping, *, base: Path, source: str, check_files: bool, compounds_required: bool = True) -> dict:
    """Check every table of a study document; the keyword arguments of a ``Study``."""
    chk = StudyCheck(source)
    chk.keys(doc, set(SECTIONS), "(top level)")
    steps = _steps(chk, _table(chk, doc, "run"))
    needs_compounds = steps is None or any(step in ("analysis", "siting") for step in steps)
    parts = _head(chk, doc, base, check_files=check_files)
    parts.update(
        _layers(chk, doc, base, check_files=check_files, compounds_required=compounds_required and needs_compounds)
    )
    parts.update(_walk(chk, doc, base, check_files=check_files))
    parts.update(_categories_and_thresholds(chk, doc))
    parts.update(_standard(chk, doc, base, check_files=check_files))
    parts.update(_output(chk, doc, base))
    parts.update(_jobs(chk, doc, base))
    parts["adequacy"] = _adequacy(chk, doc)
    head = chk.table(doc, "study") or {}
    buildings = chk.string(head, "buildings", "study")
    if buildings is not None:
        parts["buildings"] = chk.path(buildings, "study.buildings", base, check_files=check_files)
    parts["building_group_column"] = chk.string(head, "building_group_column", "study")
    parts["buildings_from_osm"] = chk.boolean(head, "buildings_from_osm", "study", False)
    hours = _table(chk, doc, "hours")
    parts["hours"] = HoursOptions(column=chk.string(hours, "column", "hours"), at=chk.string(hours, "at", "hours"))
    parts["steps"] = steps or ("analysis",)
    parts["dask"] = _dask(chk, doc)
    return parts


def _dask(chk: StudyCheck, doc: Mapping) -> DaskOptions:
    """``[dask]``: coverage in tiles on a Dask scheduler (``local`` or ``tcp://HOST:PORT``) of ``tile_km``."""
    table = _table(chk, doc, "dask")
    scheduler = chk.string(table, "scheduler", "dask")
    if scheduler is not None and scheduler != "local" and not scheduler.startswith(("tcp://", "tls://")):
        chk.fail("dask.scheduler", '"local" or "tcp://HOST:PORT"', scheduler)
    tile_km = chk.number(table, "tile_km", "dask", "4")
    return DaskOptions(scheduler=scheduler, tile_km=tile_km or DaskOptions().tile_km)


def _steps(chk: StudyCheck, run: Mapping) -> tuple[str, ...] | None:
    """The steps of ``[run]`` in running order (None when not given)."""
    steps = chk.strings(run, "steps", "run", '["analysis", "siting"]')
    if steps is None:
        return None
    if not steps or any(s not in STEPS for s in steps):
        chk.fail("run.steps", f"a list of steps among {', '.join(STEPS)}", list(steps))
    return tuple(s for s in STEPS if s in steps)


def _head(chk: StudyCheck, doc: Mapping, base: Path, *, check_files: bool) -> dict:
    study = chk.table(doc, "study", required=True)
    chk.keys(study, SECTIONS["study"], "study")
    network = chk.string(study, "network", "study", required=True)
    lower = network.lower()
    if not (lower.startswith(("place:", "bbox:")) or lower == AUTO_NETWORK):
        network = str(chk.path(network, "study.network", base, check_files=check_files))
    study_area = chk.string(study, "study_area", "study")
    barriers = chk.string(study, "barriers", "study")
    return {
        "name": chk.string(study, "name", "study") or "lifecircle study",
        "source": None,
        "network": network,
        "study_area": None
        if study_area is None
        else chk.path(study_area, "study.study_area", base, check_files=check_files),
        "barriers": None if barriers is None else chk.path(barriers, "study.barriers", base, check_files=check_files),
    }


def _layers(chk: StudyCheck, doc: Mapping, base: Path, *, check_files: bool, compounds_required: bool) -> dict:
    compounds_t = chk.table(doc, "compounds", required=compounds_required)
    services_t = chk.table(doc, "services", required=True)
    out = {
        "compounds": None,
        "services": layer_spec(chk, services_t, "services", base, allowed=_SERVICE_KEYS, check_files=check_files),
        "category_column": chk.string(services_t, "category_column", "services"),
        "governance": {},
    }
    for key in ("branches", "gates", "candidates"):
        table = chk.table(doc, key)
        out[key] = (
            None if table is None else layer_spec(chk, table, key, base, allowed=SECTIONS[key], check_files=check_files)
        )
    compound_column = chk.string(chk.table(doc, "branches") or {}, "compound_column", "branches")
    if compound_column:  # a branch list naming the compound of each branch (所在小区)
        out["branches"] = replace(out["branches"], extra={"compound_column": compound_column})
    if compounds_t is None:
        return out
    out["compounds"] = layer_spec(chk, compounds_t, "compounds", base, allowed=_COMPOUND_KEYS, check_files=check_files)
    for key in ("branch_column", "households_column", "population_column"):
        out[key] = chk.string(compounds_t, key, "compounds")
    out["governance"] = {
        level: chk.string(compounds_t, f"{level}_column", "compounds", required=True)
        for level in ("street", "community", "grid")
        if f"{level}_column" in compounds_t
    }
    return out


def _walk(chk: StudyCheck, doc: Mapping, base: Path, *, check_files: bool) -> dict:
    walk = _table(chk, doc, "walk")
    minutes = chk.number(walk, "minutes", "walk", "10")
    distance = chk.number(walk, "distance_m", "walk", "500")
    if minutes is not None and distance is not None:
        raise InputError(f"{chk.source}: give walk.minutes or walk.distance_m, not both.")
    table = _table(chk, doc, "walking")
    profiles = table.get("profiles", [])
    if isinstance(profiles, str):
        profiles = [p.strip() for p in profiles.split(",") if p.strip()]
    if not isinstance(profiles, list) or not all(isinstance(p, str) and p.strip() for p in profiles):
        chk.fail("walking.profiles", 'a list of profile names (e.g. profiles = ["adult", "elderly"])', profiles)
    if profiles:
        with chk.about("walking.profiles"):
            get_profiles(profiles)  # unknown names are reported now, not after the network is loaded
    dem, merge_lines = chk.string(table, "dem", "walking"), chk.string(table, "merge_lines", "walking")
    steps_factor = chk.number(table, "steps_factor", "walking", "2")
    if steps_factor is not None and steps_factor < 1:
        chk.fail(
            "walking.steps_factor", "at least 1 (steps take that many times as long as level ground)", steps_factor
        )
    walking = WalkingOptions(
        compound_roads=chk.boolean(table, "compound_roads", "walking", False),
        open_blocks=chk.boolean(table, "open_blocks", "walking", False),
        gates_from_osm=chk.boolean(table, "gates_from_osm", "walking", False),
        profiles=tuple(p.strip() for p in profiles),
        merge_lines=None
        if merge_lines is None
        else chk.path(merge_lines, "walking.merge_lines", base, check_files=check_files),
        level_column=chk.string(table, "level_column", "walking"),
    )
    return {
        "max_walk_min": minutes,
        "max_walk_m": distance,
        "speed_kmh": chk.number(walk, "speed_kmh", "walk", f"{DEFAULT_SPEED_KMH:g}") or DEFAULT_SPEED_KMH,
        "max_snap_m": chk.number(walk, "max_snap_m", "walk", "300") or DEFAULT_MAX_SNAP_M,
        "steps_factor": steps_factor or DEFAULT_STEPS_FACTOR,
        "dem": None if dem is None else chk.path(dem, "walking.dem", base, check_files=check_files),
        "walking": walking,
    }


def _categories_and_thresholds(chk: StudyCheck, doc: Mapping) -> dict:
    thresholds = per_category(chk, chk.table(doc, "thresholds"), "thresholds", "15")
    thresholds_m = per_category(chk, chk.table(doc, "thresholds_m"), "thresholds_m", "800")
    both = sorted(set(thresholds) & set(thresholds_m))
    if both:
        raise InputError(f"{chk.source}: category {both[0]!r} has both thresholds and thresholds_m; keep one.")
    return {
        "categories": categories(chk, chk.table(doc, "categories")),
        "category_max_walk_min": thresholds,
        "category_max_walk_m": thresholds_m,
    }


def _standard(chk: StudyCheck, doc: Mapping, base: Path, *, check_files: bool) -> dict:
    std = _table(chk, doc, "standard")
    level = chk.string(std, "level", "standard")
    standard = None
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
        if standard is None:
            raise InputError(f'{chk.source}: standard.facilities needs standard.level (e.g. level = "gb50180-10").')
        known = [f.key for f in standard.facilities]
        unknown = sorted(set(facilities) - set(known))
        if unknown:
            raise InputError(
                f"{chk.source}: standard.facilities names {unknown[0]!r}, which is not a facility of "
                f"{standard.key}; its facilities are {', '.join(known)}."
            )
    return {
        "standard": level,
        "standard_facilities": facilities,
        "include_recommended": chk.boolean(std, "include_recommended", "standard", False),
    }


def _lang(chk: StudyCheck, table: Mapping, where: str) -> str | None:
    lang = chk.string(table, "lang", where)
    if lang is not None and lang not in ("zh", "en"):
        chk.fail(f"{where}.lang", '"zh" or "en"', lang)
    return lang


def _output(chk: StudyCheck, doc: Mapping, base: Path) -> dict:
    out = _table(chk, doc, "output")
    return {
        "out_dir": chk.path(chk.string(out, "dir", "output") or ANALYSIS_DIR, "output.dir", base, check_files=False),
        "output_coord_system": chk.coord_system(out, "coord_system", "output") or "wgs84",
        "lang": _lang(chk, out, "output"),
        # maps open offline unless online_map = true (offline_map, from older study files, is the default now)
        "offline_map": not chk.boolean(out, "online_map", "output", False),
        "report": chk.boolean(out, "report", "output", True),
        "map": chk.boolean(out, "map", "output", True),
        "served_area": chk.boolean(out, "served_area", "output", True),
        "catchment_m": chk.number(out, "catchment_m", "output", "45") or DEFAULT_CATCHMENT_M,
        "basemap": chk.choice(out, "basemap", "output", ("osm", "light", "amap", "tianditu", "none")) or "osm",
        "tianditu_key": chk.string(out, "tianditu_key", "output"),
    }


def _adequacy(chk: StudyCheck, doc: Mapping) -> AdequacyOptions:
    """``[adequacy]``: method, capacity and demand columns, the per-capita norm and norms per category."""
    table = _table(chk, doc, "adequacy")
    return AdequacyOptions(
        method=chk.choice(table, "method", "adequacy", METHODS),
        capacity_column=chk.string(table, "capacity_column", "adequacy"),
        demand_column=chk.string(table, "demand_column", "adequacy"),
        norm=chk.number(table, "norm", "adequacy", "0.002"),
        category_norms=per_category(chk, chk.table(table, "norms"), "adequacy.norms", "0.002"),
    )


def _jobs(chk: StudyCheck, doc: Mapping, base: Path) -> dict:
    site, iso, pub = _table(chk, doc, "site"), _table(chk, doc, "isochrones"), _table(chk, doc, "publish")
    siting = SitingOptions(
        add=chk.integer(site, "add", "site", "3"),
        cover_all=chk.boolean(site, "cover_all", "site", False),
        model=chk.choice(site, "model", "site", MODELS),
        candidate_spacing_m=chk.number(site, "candidate_spacing_m", "site", "100"),
        candidates_from=chk.choice(site, "candidates_from", "site", CANDIDATE_SOURCES),
        category=chk.string(site, "category", "site"),
        weight_column=chk.string(site, "weight_column", "site"),
        budget=chk.number(site, "budget", "site", "5"),
        cost_column=chk.string(site, "cost_column", "site"),
        capacity=chk.number(site, "capacity", "site", "800"),
        solver=chk.choice(site, "solver", "site", SOLVERS) or "highs",
        time_limit_s=chk.number(site, "time_limit_s", "site", "60") or 60.0,
        include_unreachable=chk.boolean(site, "include_unreachable", "site", False),
    )
    isochrones = IsochroneOptions(
        minutes=chk.numbers(iso, "minutes", "isochrones", "[5, 10, 15]") or IsochroneOptions().minutes,
        catchment_m=chk.number(iso, "catchment_m", "isochrones", "45") or DEFAULT_CATCHMENT_M,
        rings=chk.boolean(iso, "rings", "isochrones", False),
        workers=chk.integer(iso, "workers", "isochrones", "2") or None,
    )
    publish = PublishOptions(online=chk.boolean(pub, "online", "publish", False), lang=_lang(chk, pub, "publish"))

    def folder(table: Mapping, where: str, default: str) -> Path:
        return chk.path(chk.string(table, "dir", where) or default, f"{where}.dir", base, check_files=False)

    return {
        "siting": siting,
        "site_dir": folder(site, "site", SITE_DIR),
        "isochrones": isochrones,
        "isochrones_dir": folder(iso, "isochrones", ISOCHRONES_DIR),
        "publish": publish,
        "publish_dir": folder(pub, "publish", PUBLISH_DIR),
    }
