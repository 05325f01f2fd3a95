"""The command line's option groups, and how parsed flags become one :class:`~lifecircle.planning.study.Study`.

Every command that runs a job (``analyze``, ``site``, ``isochrones``) builds a study: from ``--study FILE`` when
given, its values overridden by the flags set, else from the flags alone. Flags default to None so that only the
ones given override the file; the defaults themselves live in the study and option classes.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import replace
from pathlib import Path

from lifecircle.errors import InputError

INPUT_ROLES = ("compounds", "services", "branches", "gates", "candidates")
_LAYER_FLAGS = ("id_column", "name_column", "crs", "lon_column", "lat_column", "encoding")
NETWORK_HELP = (
    "OSM extract (.osm/.osm.bz2/.osm.pbf), GraphML, road-centreline layer (.shp/.gpkg/.geojson), or online with "
    "osmnx: place:NAME, bbox:W,S,E,N, or 'auto' (the bounding box of the layers plus 1 km)"
)


# ---------------------------------------------------------------------------------------------- value types
def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def positive(text: str) -> float:
    """An argparse type: a finite number above zero."""
    from lifecircle.geo.validate import require_positive  # geopandas only when a number is parsed

    try:
        return require_positive(text, "", "")
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number") from None


def minutes_list(text: str) -> tuple[float, ...]:
    """An argparse type: positive minutes separated by commas (``5,10,15``)."""
    from lifecircle.geo.validate import require_positive

    try:
        return tuple(require_positive(part, "", "") for part in text.split(","))
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of positive minutes such as 5,10,15") from None


def steps_factor(text: str) -> float:
    """An argparse type: the time multiplier of steps, at least 1."""
    value = positive(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is below 1 (steps cannot be quicker than level ground)")
    return value


# ---------------------------------------------------------------------------------------------- option groups
def add_inputs(parser: argparse.ArgumentParser, *roles: str, study: bool = True) -> None:
    """``--study``, ``--network`` and the layer files of a job."""
    helps = {
        "compounds": "compound polygons",
        "services": "service points",
        "branches": "party-branch points (optional)",
        "gates": "compound gate points (optional)",
        "candidates": "candidate sites (points or polygons: premises, rooms)",
    }
    if study:
        parser.add_argument("--study", type=Path, help="study file: inputs and options (the flags given override it)")
    parser.add_argument("--network", help=NETWORK_HELP)
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read the prepared network from the network cache nor store it there (lifecircle cache)",
    )
    for role in roles:
        parser.add_argument(f"--{role}", type=Path, help=helps[role])


def add_layer_options(parser: argparse.ArgumentParser, *, compounds: bool = True) -> argparse._ArgumentGroup:
    """How to read the layers: columns, CRS, encodings, layers and sheets."""
    group = parser.add_argument_group("input columns and coordinates")
    group.add_argument("--id-column", help="id column of the input layers (default: id)")
    group.add_argument("--name-column", help="name column (default: name / 名称)")
    group.add_argument("--category-column", help="service category column (default: category / 类别)")
    if compounds:
        group.add_argument("--branch-column", help="compound attribute: it has a branch (default: has_branch / 支部)")
        group.add_argument(
            "--branch-compound-column",
            help="column of a branch list naming each branch's compound (default: 所在小区 / 小区名称 / compound_name)",
        )
    group.add_argument("--lon-column", help="longitude column of CSV/XLSX layers (default: auto-detected)")
    group.add_argument("--lat-column", help="latitude column of CSV/XLSX layers (default: auto-detected)")
    group.add_argument("--crs", help="CRS of input layers that do not declare one (e.g. EPSG:4547)")
    group.add_argument("--encoding", help="text encoding of Shapefile/CSV inputs (default: auto, UTF-8 or GBK)")
    group.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="ROLE=NAME",
        help="layer of a multi-layer file (GeoPackage) for one input, e.g. --layer compounds=小区 (repeatable)",
    )
    group.add_argument(
        "--sheet",
        action="append",
        default=[],
        metavar="ROLE=NAME",
        help="sheet of an Excel ledger for one input, by name or 0-based number, e.g. --sheet services=网点",
    )
    return group


def add_walk_options(parser: argparse.ArgumentParser, *, limit: bool = True, costs: bool = True) -> None:
    """Speed, limit, snapping and the edge costs of the walk (steps, hills)."""
    group = parser.add_argument_group("walking")
    if limit:
        group.add_argument(
            "--minutes",
            type=positive,
            help="walking-time threshold in minutes (default 10, or a standard's distance)",
        )
    group.add_argument("--speed-kmh", type=positive, help="walking speed in km/h (default 4.5)")
    group.add_argument(
        "--max-snap-m",
        type=float,
        help="points farther than this from any walkable street are unreachable (default 300)",
    )
    if costs:
        group.add_argument(
            "--steps-factor",
            type=steps_factor,
            metavar="F",
            help="steps (highway=steps) take F times as long as level ground of their length, with or without "
            "--dem (default 1)",
        )
        group.add_argument(
            "--dem", type=Path, help="elevation GeoTIFF: uphill and downhill walking by Tobler's function"
        )


def add_map_options(parser: argparse.ArgumentParser) -> None:
    """Offline inlining, language and basemap of the map."""
    group = parser.add_argument_group("map")
    group.add_argument("--online", action="store_true", help="load Leaflet from its CDN (default: inlined)")
    group.add_argument("--offline", action="store_true", help=argparse.SUPPRESS)  # the default now (old scripts)
    group.add_argument("--lang", choices=["zh", "en"], help="map language (default: zh when names are Chinese)")
    group.add_argument(
        "--basemap",
        choices=["osm", "light", "amap", "tianditu", "none"],
        help="background tiles (default osm; amap shifts every overlay into GCJ-02; tianditu needs --tianditu-key)",
    )
    group.add_argument("--tianditu-key", help="your Tianditu (天地图) key for --basemap tianditu")


def add_output_switches(parser: argparse.ArgumentParser) -> None:
    """Outputs a scripted run may skip (the tables, layers and summary are always written)."""
    group = parser.add_argument_group("outputs")
    group.add_argument("--no-report", action="store_true", default=None, help="skip report.html and report.xlsx")
    group.add_argument("--no-map", action="store_true", default=None, help="skip map.html (and the report's map)")


def add_walking_options(parser: argparse.ArgumentParser) -> None:
    """Walking scenarios of an analysis (gated compounds, open blocks, profiles, local road lines)."""
    group = parser.add_argument_group("how residents walk")
    group.add_argument(
        "--compound-roads",
        action="store_true",
        default=None,
        help="residents use their own compound's internal roads (access=private too), never others'",
    )
    group.add_argument(
        "--open-blocks",
        action="store_true",
        default=None,
        help="also compare with internal roads open to all (开放街区)",
    )
    group.add_argument(
        "--gates-from-osm",
        action="store_true",
        default=None,
        help="gates from the OSM file's gate/entrance nodes",
    )
    group.add_argument(
        "--profiles",
        type=lambda text: tuple(p.strip() for p in text.split(",") if p.strip()),
        help="walker profiles run together, e.g. adult,elderly,child,wheelchair",
    )
    group.add_argument("--merge-lines", type=Path, help="local road-centreline layer merged into the OSM network")
    group.add_argument("--level-column", help="level column of road lines (bridges and tunnels do not meet)")
    group.add_argument(
        "--no-served-area",
        action="store_true",
        default=None,
        help="skip the served areas (map layers, area_share column)",
    )
    group.add_argument("--catchment-m", type=positive, help="street catchment width of served areas (default 45)")


def add_adequacy_options(parser: argparse.ArgumentParser) -> None:
    """Capacity against demand (供需): 2SFCA / E2SFCA access ratios."""
    group = parser.add_argument_group("adequacy (capacity against demand) and opening hours")
    group.add_argument(
        "--adequacy",
        choices=["2sfca", "e2sfca"],
        help="write adequacy.csv: capacity per household within the limit (2sfca) or with distance decay (e2sfca)",
    )
    group.add_argument("--capacity-column", help="service capacity column (doctors, beds, m2, seats; default 1 each)")
    group.add_argument("--demand-column", help="compound demand column (default: households)")
    group.add_argument(
        "--at",
        metavar="MOMENT",
        help='coverage at a moment, only services open then ("Sa 20:00", "周六 20:00", "2026-12-05 20:00")',
    )
    group.add_argument("--hours-column", help="services' opening hours column (default: opening_hours, 营业时间...)")


def add_dask_options(parser: argparse.ArgumentParser) -> None:
    """Coverage in tiles on Dask (the optional extra ``lifecircle[dask]``)."""
    group = parser.add_argument_group("a whole city or province in tiles (pip install 'lifecircle[dask]')")
    group.add_argument(
        "--scheduler",
        metavar="local|tcp://HOST:PORT",
        help="compute coverage tile by tile on Dask: 'local' (a cluster on this machine) or a running scheduler",
    )
    group.add_argument("--tile-km", type=positive, metavar="K", help="tile side in km with --scheduler (default 4)")


def dask_overrides(args: argparse.Namespace) -> dict | None:
    """The study's ``[dask]`` fields the flags set (None when neither --scheduler nor --tile-km is given)."""
    values = {"scheduler": getattr(args, "scheduler", None), "tile_km": getattr(args, "tile_km", None)}
    return values if any(v is not None for v in values.values()) else None


def adequacy_overrides(args: argparse.Namespace) -> dict | None:
    """The study's adequacy fields the flags set (None when no adequacy flag is given)."""
    values = {name: getattr(args, name, None) for name in ("capacity_column", "demand_column")}
    values["method"] = getattr(args, "adequacy", None)
    return values if any(v is not None for v in values.values()) else None


def hours_overrides(args: argparse.Namespace) -> dict | None:
    """The study's opening-hours fields the flags set (None when neither --at nor --hours-column is given)."""
    values = {"at": getattr(args, "at", None), "column": getattr(args, "hours_column", None)}
    return values if any(v is not None for v in values.values()) else None


def add_coord_options(parser: argparse.ArgumentParser, *roles: str) -> None:
    """Coordinate systems of the inputs and outputs, the planning standard, swapped columns."""
    group = parser.add_argument_group("coordinate systems, standard, report")
    group.add_argument(
        "--coord-system",
        help="coordinate system of the input layers: wgs84 (default), gcj02 (Amap/Tencent), bd09 (Baidu), cgcs2000",
    )
    for role in roles:
        group.add_argument(
            f"--{role}-coord-system",
            metavar="SYSTEM",
            help=f"coordinate system of the {role} alone (overrides --coord-system)",
        )
    group.add_argument("--output-coord-system", help="coordinate system of written layers (default wgs84; gcj02...)")
    group.add_argument("--standard", help="planning standard level (gb50180-15/-10/-5 or my.toml#level): distances")
    group.add_argument(
        "--fix-swapped",
        action="store_true",
        default=None,
        help="swap back longitude/latitude columns given wrongly",
    )


# ---------------------------------------------------------------------------------------------- flags -> study
def per_role(values: list[str], option: str) -> dict[str, str]:
    """``ROLE=NAME`` options as a dict, roles checked."""
    out = {}
    for value in values:
        role, sep, name = value.partition("=")
        role = role.strip()
        if not sep or not name or role not in INPUT_ROLES:
            raise InputError(f"{option} takes ROLE=NAME with ROLE one of {', '.join(INPUT_ROLES)}, got {value!r}.")
        out[role] = name
    return out


def _layer_flags(args: argparse.Namespace, role: str, *, ids: bool) -> dict:
    """The LayerSpec fields the flags set for one role (None: not given)."""
    sheet = per_role(getattr(args, "sheet", []), "--sheet").get(role)
    values = {name: getattr(args, name, None) for name in _LAYER_FLAGS}
    if not ids:
        values["id_column"] = None
    values["layer"] = per_role(getattr(args, "layer", []), "--layer").get(role)
    values["sheet"] = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    values["coord_system"] = getattr(args, f"{role}_coord_system", None) or getattr(args, "coord_system", None)
    values["on_swap"] = "fix" if getattr(args, "fix_swapped", None) else None
    if role == "branches" and getattr(args, "branch_compound_column", None):
        values["extra"] = {"compound_column": args.branch_compound_column}
    return values


def layer_spec(args: argparse.Namespace, role: str, current, *, ids: bool = True):
    """A role's LayerSpec: from its file flag (a new layer), else the study's with the column flags applied."""
    from lifecircle.planning.inputs import LayerSpec

    path = getattr(args, role, None)
    flags = {k: v for k, v in _layer_flags(args, role, ids=ids).items() if v is not None}
    if path is not None:
        return LayerSpec(path=Path(path), **flags)
    if current is None or not flags:
        return current
    return replace(current, **flags)


def build_study(args: argparse.Namespace, *, job: str, roles: tuple[str, ...]):
    """The study a command runs: ``--study`` overridden by the flags given, or the flags alone."""
    from lifecircle.planning.study import Study, load_study

    if getattr(args, "study", None) is not None:
        study = load_study(args.study, compounds_required=job != "isochrones")
    else:
        missing = [f"--{r}" for r in ("network", *roles[:2]) if getattr(args, r, None) is None]
        if missing:
            raise InputError(f"{job} needs {' and '.join(missing)} (or --study FILE with them).")
        study = Study(network=str(args.network), compounds=None, services=None)
    ids_roles = ("compounds", "services")
    layers = {r: layer_spec(args, r, getattr(study, r), ids=r in ids_roles) for r in roles}
    if layers.get("services") is None:
        raise InputError(f"{job} needs --services (or a [services] table in the study file).")
    return study.with_overrides(
        network=None if args.network is None else str(args.network),
        **{r: spec for r, spec in layers.items() if spec is not None},
        **common_overrides(args),
    )


def common_overrides(args: argparse.Namespace) -> dict:
    """Study fields that the flags of every job set alike (None where a flag is absent)."""
    get = lambda name: getattr(args, name, None)  # noqa: E731
    walking = {
        name: get(name)
        for name in ("compound_roads", "open_blocks", "gates_from_osm", "profiles", "merge_lines", "level_column")
    }
    return {
        "category_column": get("category_column"),
        "branch_column": get("branch_column"),
        "speed_kmh": get("speed_kmh"),
        "max_snap_m": get("max_snap_m"),
        "steps_factor": get("steps_factor"),
        "dem": get("dem"),
        "standard": get("standard"),
        "output_coord_system": get("output_coord_system"),
        "offline_map": False if get("online") else None,
        "lang": get("lang"),
        "basemap": get("basemap"),
        "tianditu_key": get("tianditu_key"),
        "study_area": get("study_area"),
        "barriers": get("barriers"),
        "served_area": False if get("no_served_area") else None,
        "network_cache": False if get("no_cache") else None,
        "report": False if get("no_report") else None,
        "map": False if get("no_map") else None,
        "walking": walking if any(v is not None for v in walking.values()) else None,
    }


def option_fields(options_class, args: argparse.Namespace) -> dict:
    """The fields of an option dataclass that the flags set (same names)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(options_class) if hasattr(args, f.name)}
