"""The ``lifecircle`` command line: a thin layer over the Python API.

Every user mistake surfaces as one line ``lifecircle: error: ...`` and exit code 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from lifecircle import __version__
from lifecircle.errors import InputError, LifecircleError

log = logging.getLogger("lifecircle")

EXIT_USER_ERROR = 2
INPUT_ROLES = ("compounds", "services", "branches", "gates", "candidates")


def _add_layer_options(parser: argparse.ArgumentParser, *, compounds: bool = True) -> argparse._ArgumentGroup:
    group = parser.add_argument_group("input columns and coordinates")
    group.add_argument("--id-column", help="id column of the input layers (default: id)")
    group.add_argument("--name-column", help="name column (default: name / 名称)")
    group.add_argument("--category-column", help="service category column (default: category / 类别)")
    if compounds:
        group.add_argument("--branch-column", help="compound attribute: it has a branch (default: has_branch / 支部)")
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


def _per_role(values: list[str], option: str) -> dict[str, str]:
    """``ROLE=NAME`` options as a dict, roles checked."""
    out = {}
    for value in values:
        role, sep, name = value.partition("=")
        role = role.strip()
        if not sep or not name or role not in INPUT_ROLES:
            raise InputError(f"{option} takes ROLE=NAME with ROLE one of {', '.join(INPUT_ROLES)}, got {value!r}.")
        out[role] = name
    return out


def _add_walk_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("walking")
    group.add_argument(
        "--minutes",
        type=_positive,
        default=None,
        help="walking-time threshold in minutes (default 10, or a standard's distance)",
    )
    group.add_argument("--speed-kmh", type=_positive, default=4.5, help="walking speed in km/h (default 4.5)")
    group.add_argument(
        "--max-snap-m",
        type=float,
        default=300.0,
        help="points farther than this from any walkable street are unreachable (default 300)",
    )


def _add_map_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("map")
    group.add_argument("--online", action="store_true", help="load Leaflet from its CDN (default: inlined)")
    group.add_argument("--offline", action="store_true", help=argparse.SUPPRESS)  # the default now (old scripts)
    group.add_argument("--lang", choices=["zh", "en"], help="map language (default: zh when names are Chinese)")
    group.add_argument(
        "--basemap",
        choices=["osm", "light", "amap", "tianditu", "none"],
        default="osm",
        help="background tiles (amap shifts every overlay into GCJ-02; tianditu needs --tianditu-key)",
    )
    group.add_argument("--tianditu-key", help="your Tianditu (天地图) key for --basemap tianditu")


def _add_walking_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("how residents walk")
    group.add_argument(
        "--compound-roads",
        action="store_true",
        help="residents use their own compound's internal roads (access=private too), never others'",
    )
    group.add_argument(
        "--open-blocks", action="store_true", help="also compare with internal roads open to all (开放街区)"
    )
    group.add_argument("--gates-from-osm", action="store_true", help="gates from the OSM file's gate/entrance nodes")
    group.add_argument("--dem", type=Path, help="elevation GeoTIFF: uphill and downhill walking by Tobler's function")
    group.add_argument("--steps-factor", type=_positive, default=1.5, help="effort multiplier of steps with --dem")
    group.add_argument(
        "--profiles",
        type=lambda text: tuple(p.strip() for p in text.split(",") if p.strip()),
        default=(),
        help="walker profiles run together, e.g. adult,elderly,child,wheelchair",
    )
    group.add_argument("--merge-lines", type=Path, help="local road-centreline layer merged into the OSM network")
    group.add_argument("--level-column", help="level column of road lines (bridges and tunnels do not meet)")
    group.add_argument(
        "--no-served-area", action="store_true", help="skip the served areas (map layers, area_share column)"
    )
    group.add_argument("--catchment-m", type=_positive, default=45.0, help="street catchment width of served areas")


def _walking_options(args: argparse.Namespace):
    from lifecircle.planning.walking import WalkingOptions

    return WalkingOptions(
        compound_roads=args.compound_roads,
        open_blocks=args.open_blocks,
        gates_from_osm=args.gates_from_osm,
        dem=args.dem,
        steps_factor=args.steps_factor,
        profiles=args.profiles,
        merge_lines=args.merge_lines,
        level_column=args.level_column,
    )


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(prog="lifecircle", description="Walking service coverage for ten-minute life service circles.")
    parser.add_argument("--version", action="version", version=f"lifecircle {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    analyze = sub.add_parser("analyze", help="coverage of compounds by service categories within N minutes on foot")
    analyze.add_argument(
        "--network",
        required=True,
        help="OSM extract (.osm/.osm.bz2/.osm.pbf), GraphML, or online with osmnx: place:NAME, bbox:W,S,E,N, "
        "or 'auto' (the bounding box of the layers plus 1 km)",
    )
    analyze.add_argument("--compounds", required=True, type=Path, help="compound polygons")
    analyze.add_argument("--services", required=True, type=Path, help="service points")
    analyze.add_argument("--branches", type=Path, help="party-branch points (optional)")
    analyze.add_argument("--gates", type=Path, help="compound gate points (optional)")
    analyze.add_argument("--study-area", type=Path, help="study-area outline drawn on the map (optional)")
    analyze.add_argument("--out", type=Path, default=Path("lifecircle-out"), help="output folder")
    _add_walk_options(analyze)
    _add_layer_options(analyze)
    _add_map_options(analyze)
    _add_walking_options(analyze)
    analyze.set_defaults(handler=_cmd_analyze)

    _add_study_parsers(sub, analyze)

    demo = sub.add_parser(
        "demo", help="run the analysis on the embedded demo (a Beijing district's office files, from real OSM data)"
    )
    demo.add_argument("--out", type=Path, default=Path("lifecircle-demo"), help="output folder")
    demo.add_argument(
        "--city",
        choices=["xueyuan", "helsinki"],
        default="xueyuan",
        help="xueyuan: Beijing Haidian Xueyuan Road, in Chinese (default); helsinki: central Helsinki, in English",
    )
    _add_walk_options(demo)
    _add_map_options(demo)
    demo.set_defaults(handler=_cmd_demo)

    publish = sub.add_parser("publish", help="a static site (index, one map per category, downloads) from analyses")
    publish.add_argument("analyses", nargs="+", type=Path, help="output folders of `lifecircle analyze`")
    publish.add_argument("--out", type=Path, default=Path("lifecircle-site"), help="site folder")
    publish.add_argument("--online", action="store_true", help="load Leaflet from its CDN instead of inlining it")
    publish.add_argument("--lang", choices=["zh", "en"], help="site language (default: zh when names are Chinese)")
    publish.set_defaults(handler=_cmd_publish)

    site = sub.add_parser("site", help="where to put new service points: a ranked plan on the walking network")
    site.add_argument("--network", required=True, help="OSM extract (.osm/.osm.bz2/.osm.pbf), GraphML, place:NAME")
    site.add_argument("--compounds", required=True, type=Path, help="compound polygons")
    site.add_argument("--services", required=True, type=Path, help="existing service points (kept; they count)")
    site.add_argument("--gates", type=Path, help="compound gate points (optional)")
    site.add_argument("--add", type=int, metavar="K", help="plan the best K new sites")
    site.add_argument("--cover-all", action="store_true", help="plan the fewest sites that cover every compound")
    site.add_argument("--candidates", type=Path, help="candidate sites (points or polygons: premises, rooms)")
    site.add_argument("--candidate-spacing-m", type=_positive, help="else street points this far apart (default 100)")
    site.add_argument("--candidates-from", choices=["streets", "compounds"], help="generate candidates from these")
    site.add_argument("--category", help="plan this service category (default: any service)")
    site.add_argument("--weight-column", help="compound households/population column (default: auto)")
    site.add_argument(
        "--model", choices=["mclp", "lscp", "pmedian"], help="default mclp with --add, lscp with --cover-all"
    )
    site.add_argument("--budget", type=_positive, help="total cost limit for --add (costs from --cost-column, else 1)")
    site.add_argument("--cost-column", help="per-candidate cost column of the candidate layer")
    site.add_argument("--capacity", type=_positive, help="households (weight) one new site can serve")
    site.add_argument("--solver", choices=["highs", "cbc", "scipy", "greedy"], default="highs", help="default highs")
    site.add_argument("--time-limit-s", type=_positive, default=60.0, help="solver time limit in seconds (default 60)")
    site.add_argument("--out", type=Path, default=Path("lifecircle-site-plan"), help="output folder")
    _add_walk_options(site)
    _add_layer_options(site)
    _add_map_options(site)
    site.set_defaults(handler=_cmd_site)

    iso = sub.add_parser("isochrones", help="walking isochrones of service points from the streets really reached")
    iso.add_argument("--network", required=True, help="OSM extract (.osm/.osm.bz2/.osm.pbf), GraphML, place:NAME")
    iso.add_argument("--services", required=True, type=Path, help="service points")
    iso.add_argument("--minutes", type=_minutes_list, default=(5.0, 10.0, 15.0), help="breaks, e.g. 5,10,15")
    iso.add_argument("--speed-kmh", type=_positive, default=4.5, help="walking speed in km/h (default 4.5)")
    iso.add_argument("--catchment-m", type=_positive, default=45.0, help="width of street catchments (default 45)")
    iso.add_argument("--rings", action="store_true", help="also write non-overlapping rings (0-5, 5-10...)")
    iso.add_argument("--workers", type=_positive_int, default=1, help="processes across service points (default 1)")
    iso.add_argument("--out", type=Path, default=Path("lifecircle-isochrones"), help="output folder")
    group = _add_layer_options(iso, compounds=False)
    group.add_argument("--coord-system", help="coordinate system of the services: wgs84 (default), gcj02, bd09...")
    group.add_argument("--fix-swapped", action="store_true", help="swap back longitude/latitude columns given wrongly")
    iso.set_defaults(handler=_cmd_isochrones)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _positive(text: str) -> float:
    from lifecircle.geo.validate import require_positive  # geopandas only when a number is parsed

    try:
        return require_positive(text, "", "")
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number") from None


def _minutes_list(text: str) -> tuple[float, ...]:
    from lifecircle.geo.validate import require_positive

    try:
        return tuple(require_positive(part, "", "") for part in text.split(","))
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of positive minutes such as 5,10,15") from None


def _cmd_isochrones(args: argparse.Namespace) -> int:
    from lifecircle.planning.isochrone_job import run_isochrones

    result, paths = run_isochrones(
        args.network,
        args.services,
        args.out,
        read_kw=_layer(args.services, args, role="services").read_kw(),
        minutes=args.minutes,
        speed_kmh=args.speed_kmh,
        category_column=args.category_column,
        catchment_m=args.catchment_m,
        rings=args.rings,
        workers=args.workers,
    )
    if not args.quiet:
        served = result.served_area
        for row in served.itertuples():
            print(f"{row.category:<24}{row.break_min:>6g} min {row.area_m2 / 1e6:>9.2f} km²")
        print(f"written: {', '.join(str(p) for p in paths)}")
    return 0


def _add_study_parsers(sub, analyze: argparse.ArgumentParser) -> None:
    """Sub-commands and options of studies, Chinese coordinates, standards and reports (issue 4)."""
    group = analyze.add_argument_group("coordinate systems, standard, report")
    group.add_argument(
        "--coord-system",
        help="coordinate system of the input layers: wgs84 (default), gcj02 (Amap/Tencent), bd09 (Baidu), cgcs2000",
    )
    for role in ("compounds", "services", "branches", "gates"):
        group.add_argument(
            f"--{role}-coord-system",
            metavar="SYSTEM",
            help=f"coordinate system of the {role} alone (overrides --coord-system)",
        )
    group.add_argument("--output-coord-system", default="wgs84", help="coordinate system of written layers (gcj02...)")
    group.add_argument("--standard", help="planning standard level (gb50180-15/-10/-5 or my.toml#level): distances")
    group.add_argument("--fix-swapped", action="store_true", help="swap back longitude/latitude columns given wrongly")

    run = sub.add_parser("run", help="run a whole study described in a TOML file (see `lifecircle init`)")
    run.add_argument("study", type=Path, help="the study file")
    run.add_argument("--out", type=Path, help="output folder (overrides output.dir)")
    run.add_argument("--minutes", type=_positive, help="walking threshold in minutes (overrides walk.minutes)")
    run.add_argument("--distance-m", type=_positive, help="walking threshold in metres (overrides walk.distance_m)")
    run.add_argument("--speed-kmh", type=_positive, help="walking speed (overrides walk.speed_kmh)")
    run.add_argument("--max-snap-m", type=float, help="largest distance to a street (overrides walk.max_snap_m)")
    run.add_argument("--standard", help="planning standard level (overrides standard.level)")
    run.add_argument("--output-coord-system", help="coordinate system of written layers (overrides output)")
    run.add_argument("--lang", choices=["zh", "en"], help="map and report language (overrides output.lang)")
    run.add_argument("--online", action="store_true", help="load Leaflet from its CDN (default: inlined)")
    run.add_argument("--offline", action="store_true", default=None, help=argparse.SUPPRESS)  # the default now
    run.add_argument("--no-report", dest="report", action="store_false", default=None, help="skip report.html/xlsx")
    run.set_defaults(handler=_cmd_run)

    init = sub.add_parser("init", help="write a commented study template (never over an existing file)")
    init.add_argument("path", nargs="?", type=Path, default=Path("study.toml"), help="where (default study.toml)")
    init.set_defaults(handler=_cmd_init)

    report = sub.add_parser("report", help="(re)write report.html and report.xlsx of an output folder")
    report.add_argument("out_dir", type=Path, help="output folder of `analyze` or `run`")
    report.add_argument("--lang", choices=["zh", "en"], help="report language (default: that of the analysis)")
    report.set_defaults(handler=_cmd_report)


def _cmd_run(args: argparse.Namespace) -> int:
    from lifecircle.planning.console import print_summary
    from lifecircle.planning.study import load_study, run_study

    study = load_study(args.study).with_overrides(
        out_dir=args.out,
        max_walk_min=args.minutes,
        max_walk_m=args.distance_m,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        standard=args.standard,
        output_coord_system=args.output_coord_system,
        lang=args.lang,
        offline_map=False if args.online else None,
        report=args.report,
    )
    result = run_study(study, progress=not args.quiet)
    if not args.quiet:
        print_summary(result.summary, out_dir=result.out_dir)
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from lifecircle.planning.study import write_template

    path = write_template(args.path)
    if not args.quiet:
        print(f"study template written to {path}; edit it, then run: lifecircle run {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from lifecircle.planning.report import regenerate_report

    html_path, xlsx_path = regenerate_report(args.out_dir, lang=args.lang)
    if not args.quiet:
        print(f"report written to {html_path} and {xlsx_path}")
    return 0


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("lifecircle").setLevel(level)
    for noisy in ("pyogrio", "fiona", "urllib3", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _layer(path: Path | None, args: argparse.Namespace, *, ids: bool = True, role: str | None = None):
    from lifecircle.planning.analyze_job import LayerSpec

    if path is None:
        return None
    sheet = _per_role(getattr(args, "sheet", []), "--sheet").get(role)
    return LayerSpec(
        layer=_per_role(getattr(args, "layer", []), "--layer").get(role),
        sheet=int(sheet) if sheet is not None and sheet.isdigit() else sheet,
        path=path,
        id_column=args.id_column if ids else None,
        name_column=args.name_column,
        crs=args.crs,
        lon_column=args.lon_column,
        lat_column=args.lat_column,
        encoding=args.encoding,
        coord_system=getattr(args, f"{role}_coord_system", None) or getattr(args, "coord_system", None),
        on_swap="fix" if getattr(args, "fix_swapped", False) else "raise",
    )


def _cmd_analyze(args: argparse.Namespace) -> int:
    from lifecircle.planning.analyze_job import run_analyze
    from lifecircle.planning.console import print_summary

    analysis = run_analyze(
        network=args.network,
        compounds=_layer(args.compounds, args, role="compounds"),
        services=_layer(args.services, args, role="services"),
        branches=_layer(args.branches, args, ids=False, role="branches"),
        gates=_layer(args.gates, args, ids=False, role="gates"),
        out_dir=args.out,
        category_column=args.category_column,
        branch_column=args.branch_column,
        max_walk_min=args.minutes,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        map_options=_map_options(args),
        standard=args.standard,
        output_coord_system=args.output_coord_system,
        progress=not args.quiet,
        walking=_walking_options(args),
        served_area=not args.no_served_area,
        study_area=args.study_area,
        catchment_m=args.catchment_m,
    )
    if not args.quiet:
        print_summary(analysis.summary, out_dir=args.out)
    return 0


def _map_options(args: argparse.Namespace):
    from lifecircle.planning.analyze_job import MapOptions

    return MapOptions(offline=not args.online, lang=args.lang, basemap=args.basemap, tianditu_key=args.tianditu_key)


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.city != "helsinki":
        return _cmd_demo_office(args)
    from lifecircle.data.demo import load_demo
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.planning.analysis import analyze
    from lifecircle.planning.analyze_job import write_analysis
    from lifecircle.planning.console import print_summary

    demo = load_demo()
    analysis = analyze(
        network_from_osm(demo.osm_path),
        demo.compounds,
        demo.services,
        branches=demo.branches,
        max_walk_min=args.minutes,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        served_area=True,
    )
    write_analysis(analysis, args.out, inputs={"network": demo.osm_path}, map_options=_map_options(args))
    if not args.quiet:
        print_summary(analysis.summary, out_dir=args.out)
    return 0


def _cmd_demo_office(args: argparse.Namespace) -> int:
    """The Chinese demo: the office files shipped in the package, read as ``lifecircle analyze`` reads a user's."""
    from dataclasses import replace

    from lifecircle.data.demo import xueyuan_inputs
    from lifecircle.planning.analyze_job import LayerSpec, run_analyze
    from lifecircle.planning.console import print_summary

    files = xueyuan_inputs()
    lang = args.lang or "zh"
    analysis = run_analyze(
        network=files.network,
        compounds=LayerSpec(files.compounds),
        services=LayerSpec(files.services),
        out_dir=args.out,
        max_walk_min=args.minutes,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        map_options=replace(_map_options(args), lang=lang),
        progress=not args.quiet,
    )
    if not args.quiet:
        print_summary(analysis.summary, out_dir=args.out, lang=lang)
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from lifecircle.maps import publish_site

    index = publish_site(args.analyses, args.out, offline=not args.online, lang=args.lang)
    if not args.quiet:
        print(f"site written: {index}")
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from lifecircle.planning.site_job import run_site

    plan = run_site(
        network=args.network,
        compounds=_layer(args.compounds, args, role="compounds"),
        services=_layer(args.services, args, role="services"),
        candidates=_layer(args.candidates, args, ids=False, role="candidates"),
        gates=_layer(args.gates, args, ids=False, role="gates"),
        out_dir=args.out,
        category_column=args.category_column,
        map_options=_map_options(args),
        add=args.add,
        cover_all=args.cover_all,
        model=args.model,
        candidate_spacing_m=args.candidate_spacing_m,
        candidates_from=args.candidates_from,
        minutes=10.0 if args.minutes is None else args.minutes,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        category=args.category,
        weight_column=args.weight_column,
        budget=args.budget,
        cost_column=args.cost_column,
        capacity=args.capacity,
        solver=args.solver,
        time_limit_s=args.time_limit_s,
    )
    if not args.quiet:
        s = plan.summary
        c = s["compounds"]
        gap = "unknown" if s["gap"] is None else f"{s['gap']:.2%}"
        print(
            f"{s['model']} ({s['status']}, gap {gap}): {len(s['sites'])} new sites; "
            f"covered compounds {c['covered_before']} -> {c['covered_after']} of {c['total']}, "
            f"{c['unreachable']} unreachable; results in {args.out}"
        )
        for note in s.get("notes", []):
            print(f"  {note}")
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings of a command-line run as one line each, in the user's terms."""
    print(f"lifecircle: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    out = getattr(args, "out", None)
    try:
        if isinstance(out, Path):
            from lifecircle.planning.outputs import check_output_folder

            check_output_folder(out)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if args.quiet else "default", UserWarning)
            warnings.showwarning = _show_warning
            return args.handler(args)
    except LifecircleError as exc:
        print(f"lifecircle: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("lifecircle: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
