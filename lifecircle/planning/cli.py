"""The ``lifecircle`` command line: argument parsing -> a study and job options -> a job.

Every user mistake surfaces as one line ``lifecircle: error: ...`` and exit code 2; nothing is written then.
The jobs live in :mod:`lifecircle.planning.jobs`; what is printed on the terminal in
:mod:`lifecircle.planning.console`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import NoReturn

from lifecircle import __version__
from lifecircle.errors import LifecircleError
from lifecircle.planning.cli_args import (
    add_adequacy_options,
    add_coord_options,
    add_dask_options,
    add_inputs,
    add_layer_options,
    add_map_options,
    add_output_switches,
    add_walk_options,
    add_walking_options,
    adequacy_overrides,
    build_study,
    dask_overrides,
    hours_overrides,
    minutes_list,
    option_fields,
    positive,
    positive_int,
)

log = logging.getLogger("lifecircle")

EXIT_USER_ERROR = 2
FORCE_HELP = "write into a non-empty folder lifecircle did not make (its files are kept, never overwritten)"
ANALYZE_ROLES = ("compounds", "services", "branches", "gates")
SITE_ROLES = ("compounds", "services", "candidates", "gates")


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
    _add_analyze(sub)
    _add_demo(sub)
    _add_publish(sub)
    _add_site(sub)
    _add_isochrones(sub)
    _add_run(sub)
    _add_init_and_report(sub)
    return parser


def _add_analyze(sub) -> None:
    analyze = sub.add_parser("analyze", help="coverage of compounds by service categories within N minutes on foot")
    add_inputs(analyze, *ANALYZE_ROLES)
    analyze.add_argument("--study-area", type=Path, help="study-area outline drawn on the map (optional)")
    analyze.add_argument(
        "--barriers",
        type=Path,
        help="a layer of water, railways or walls nobody walks across (polygons, lines; any CRS), besides the "
        "water, railways and motorways read from an OSM network file",
    )
    analyze.add_argument(
        "--buildings", type=Path, help="building layer (楼栋; polygons or points): walks also start from each building"
    )
    analyze.add_argument(
        "--building-group-column",
        help="building layer column of each building's party group (楼栋党小组; default: auto)",
    )
    analyze.add_argument(
        "--buildings-from-osm",
        action="store_true",
        default=None,
        help="without a building layer: the OSM network file's building=* polygons inside compounds",
    )
    analyze.add_argument("--out", type=Path, help="output folder (default lifecircle-out, or the study's)")
    analyze.add_argument("--force", action="store_true", help=FORCE_HELP)
    add_walk_options(analyze)
    add_layer_options(analyze)
    add_map_options(analyze)
    add_walking_options(analyze)
    add_coord_options(analyze, *ANALYZE_ROLES)
    add_adequacy_options(analyze)
    add_output_switches(analyze)
    add_dask_options(analyze)
    analyze.add_argument(
        "--what-if", action="store_true", help="also write whatif.html: add, move or remove services in the browser"
    )
    analyze.set_defaults(handler=_cmd_analyze)


def _add_demo(sub) -> None:
    demo = sub.add_parser(
        "demo", help="run the analysis on the embedded demo (a Beijing district's office files, from real OSM data)"
    )
    demo.add_argument("--out", type=Path, default=Path("lifecircle-demo"), help="output folder")
    demo.add_argument("--force", action="store_true", help=FORCE_HELP)
    demo.add_argument(
        "--city",
        choices=["xueyuan", "helsinki"],
        default="xueyuan",
        help="xueyuan: Beijing Haidian Xueyuan Road, in Chinese (default); helsinki: central Helsinki, in English",
    )
    add_walk_options(demo, costs=False)
    add_map_options(demo)
    demo.set_defaults(handler=_cmd_demo)


def _add_publish(sub) -> None:
    publish = sub.add_parser("publish", help="a static site (index, one map per category, downloads) from analyses")
    publish.add_argument("analyses", nargs="+", type=Path, help="output folders of `lifecircle analyze`")
    publish.add_argument("--out", type=Path, help="site folder (default lifecircle-site)")
    publish.add_argument("--online", action="store_true", help="load Leaflet from its CDN instead of inlining it")
    publish.add_argument("--lang", choices=["zh", "en"], help="site language (default: zh when names are Chinese)")
    publish.set_defaults(handler=_cmd_publish)


def _add_site(sub) -> None:
    site = sub.add_parser("site", help="where to put new service points: a ranked plan on the walking network")
    add_inputs(site, *SITE_ROLES)
    site.add_argument("--add", type=int, metavar="K", help="plan the best K new sites")
    site.add_argument(
        "--cover-all", action="store_true", default=None, help="plan the fewest sites that cover every compound"
    )
    site.add_argument("--candidate-spacing-m", type=positive, help="else street points this far apart (default 100)")
    site.add_argument("--candidates-from", choices=["streets", "compounds"], help="generate candidates from these")
    site.add_argument("--category", help="plan this service category (default: any service)")
    site.add_argument("--weight-column", help="compound households/population column (default: auto)")
    site.add_argument(
        "--model", choices=["mclp", "lscp", "pmedian"], help="default mclp with --add, lscp with --cover-all"
    )
    site.add_argument("--budget", type=positive, help="total cost limit for --add (costs from --cost-column, else 1)")
    site.add_argument("--cost-column", help="per-candidate cost column of the candidate layer")
    site.add_argument("--capacity", type=positive, help="households (weight) one new site can serve")
    site.add_argument("--solver", choices=["highs", "cbc", "scipy", "greedy"], help="default highs")
    site.add_argument("--time-limit-s", type=positive, help="solver time limit in seconds (default 60)")
    site.add_argument(
        "--include-unreachable",
        action="store_true",
        default=None,
        help="also plan for compounds nobody can walk to (off the network, or on an island of streets without "
        "any service); by default they are left out of the demand and listed",
    )
    site.add_argument("--out", type=Path, help="output folder (default lifecircle-site-plan, or the study's)")
    site.add_argument("--force", action="store_true", help=FORCE_HELP)
    site.add_argument("--output-coord-system", help="coordinate system of sites.gpkg and sites.csv (default wgs84)")
    add_walk_options(site)
    add_layer_options(site)
    add_map_options(site)
    site.set_defaults(handler=_cmd_site)


def _add_isochrones(sub) -> None:
    iso = sub.add_parser("isochrones", help="walking isochrones of service points from the streets really reached")
    add_inputs(iso, "services")
    iso.add_argument("--minutes", type=minutes_list, help="breaks, e.g. 5,10,15 (default 5,10,15)")
    iso.add_argument("--catchment-m", type=positive, help="width of street catchments (default 45)")
    iso.add_argument(
        "--rings", action="store_true", default=None, help="also write non-overlapping rings (0-5, 5-10...)"
    )
    iso.add_argument("--workers", type=positive_int, help="processes across service points (default: one per core)")
    iso.add_argument(
        "--barriers",
        type=Path,
        help="a layer of water, railways or walls nobody walks across (polygons, lines; any CRS), besides the "
        "water, railways and motorways read from an OSM network file",
    )
    iso.add_argument("--out", type=Path, help="output folder (default lifecircle-isochrones, or the study's)")
    iso.add_argument("--force", action="store_true", help=FORCE_HELP)
    iso.add_argument("--output-coord-system", help="coordinate system of the isochrone files (default wgs84)")
    add_walk_options(iso, limit=False)
    group = add_layer_options(iso, compounds=False)
    group.add_argument("--coord-system", help="coordinate system of the services: wgs84 (default), gcj02, bd09...")
    group.add_argument(
        "--fix-swapped", action="store_true", default=None, help="swap back longitude/latitude columns given wrongly"
    )
    iso.set_defaults(handler=_cmd_isochrones)


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="run a whole study described in a TOML file (see `lifecircle init`)")
    run.add_argument("study", type=Path, help="the study file")
    run.add_argument("--out", type=Path, help="output folder (overrides output.dir)")
    run.add_argument("--force", action="store_true", help=FORCE_HELP)
    run.add_argument("--minutes", type=positive, help="walking threshold in minutes (overrides walk.minutes)")
    run.add_argument("--distance-m", type=positive, help="walking threshold in metres (overrides walk.distance_m)")
    run.add_argument("--speed-kmh", type=positive, help="walking speed (overrides walk.speed_kmh)")
    run.add_argument("--max-snap-m", type=float, help="largest distance to a street (overrides walk.max_snap_m)")
    run.add_argument("--steps-factor", type=positive, metavar="F", help="steps take F× level time (overrides file)")
    run.add_argument("--standard", help="planning standard level (overrides standard.level)")
    run.add_argument("--output-coord-system", help="coordinate system of written layers (overrides output)")
    run.add_argument("--lang", choices=["zh", "en"], help="map and report language (overrides output.lang)")
    run.add_argument("--online", action="store_true", help="load Leaflet from its CDN (default: inlined)")
    run.add_argument("--offline", action="store_true", default=None, help=argparse.SUPPRESS)  # the default now
    run.add_argument("--no-report", dest="report", action="store_false", default=None, help="skip report.html/xlsx")
    run.add_argument("--no-map", dest="map", action="store_false", default=None, help="skip map.html")
    run.set_defaults(handler=_cmd_run)


def _add_init_and_report(sub) -> None:
    init = sub.add_parser("init", help="write a commented study template (never over an existing file)")
    init.add_argument("path", nargs="?", type=Path, default=Path("study.toml"), help="where (default study.toml)")
    init.set_defaults(handler=_cmd_init)

    report = sub.add_parser("report", help="(re)write report.html and report.xlsx of an output folder")
    report.add_argument("out_dir", type=Path, help="output folder of `analyze` or `run`")
    report.add_argument("--lang", choices=["zh", "en"], help="report language (default: that of the analysis)")
    report.add_argument("--force", action="store_true", help=FORCE_HELP)
    report.set_defaults(handler=_cmd_report)

    whatif = sub.add_parser("what-if", help="write whatif.html of an analysis folder: try new services in the browser")
    whatif.add_argument("out_dir", type=Path, help="output folder of `analyze`")
    whatif.add_argument(
        "--network", type=Path, help="the network file the analysis ran on (default: found beside the folder by name)"
    )
    whatif.add_argument("--lang", choices=["zh", "en"], help="page language (default: that of the analysis)")
    whatif.set_defaults(handler=_cmd_whatif)

    cache = sub.add_parser("cache", help="where the network cache is and its size; --clear empties it")
    cache.add_argument("--clear", action="store_true", help="delete every network stored in the cache")
    cache.set_defaults(handler=_cmd_cache)


# ---------------------------------------------------------------------------------------------- commands
def _checked_out(folder: Path, *, force: bool | None = None) -> Path:
    """Check an output folder before any work; with ``force`` given, also claim it for lifecircle's files."""
    from lifecircle.planning.outputs import check_output_folder, claim_output_folder

    check_output_folder(folder)
    if force is not None:
        claim_output_folder(folder, force=force)
    return folder


def _cmd_analyze(args: argparse.Namespace) -> int:
    from lifecircle.planning.console import print_summary
    from lifecircle.planning.jobs.analyze import run_analysis

    study = build_study(args, job="analyze", roles=ANALYZE_ROLES).with_overrides(
        out_dir=args.out,
        max_walk_min=args.minutes,
        catchment_m=args.catchment_m,
        adequacy=adequacy_overrides(args),
        hours=hours_overrides(args),
        dask=dask_overrides(args),
        buildings=args.buildings,
        building_group_column=args.building_group_column,
        buildings_from_osm=args.buildings_from_osm,
    )
    _checked_out(study.out_dir, force=args.force)
    if args.what_if:  # refused before any work, not after the analysis
        from lifecircle.planning.whatif_job import require_whatif_inputs

        require_whatif_inputs(
            network=study.network,
            gates=study.gates.path if study.gates else None,
            output_coord_system=study.output_coord_system,
            walking=SimpleNamespace(**asdict(study.walking), dem=study.dem, steps_factor=study.steps_factor != 1),
        )
    run = run_analysis(study, progress=not args.quiet)
    if args.what_if:
        from lifecircle.planning.whatif_job import run_whatif

        run_whatif(study.out_dir, network=study.network, lang=study.lang)
    if not args.quiet:
        print_summary(run.analysis.summary, out_dir=study.out_dir)
    return 0


def _cmd_whatif(args: argparse.Namespace) -> int:
    from lifecircle.planning.whatif_job import run_whatif

    result = run_whatif(args.out_dir, network=args.network, lang=args.lang)
    if not args.quiet:
        print(f"what-if page written: {result.path} ({result.compounds} compounds, {result.categories} categories)")
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from lifecircle.maps.labels import pick_lang
    from lifecircle.planning.console import print_site_plan
    from lifecircle.planning.jobs.site import run_site
    from lifecircle.planning.options import SitingOptions

    study = build_study(args, job="site", roles=SITE_ROLES).with_overrides(
        site_dir=args.out, max_walk_min=args.minutes, siting=option_fields(SitingOptions, args)
    )
    _checked_out(study.site_dir, force=args.force)
    plan = run_site(study, progress=not args.quiet)
    if not args.quiet:
        lang = study.lang or pick_lang(plan.compounds["name"] if "name" in plan.compounds else [])
        print_site_plan(plan.summary, out_dir=study.site_dir, sites=plan.sites, lang=lang)
    return 0


def _cmd_isochrones(args: argparse.Namespace) -> int:
    from lifecircle.maps.labels import pick_lang
    from lifecircle.planning.console import print_isochrones
    from lifecircle.planning.jobs.isochrones import run_isochrones
    from lifecircle.planning.options import IsochroneOptions

    study = build_study(args, job="isochrones", roles=("services",)).with_overrides(
        isochrones_dir=args.out, isochrones=option_fields(IsochroneOptions, args)
    )
    _checked_out(study.isochrones_dir, force=args.force)
    result, paths = run_isochrones(study, progress=not args.quiet)
    if not args.quiet:
        categories = result.served_area["category"].astype(str)
        lang = study.lang or pick_lang(categories[categories != "all"])
        print_isochrones(result.served_area, paths, lang=lang)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from lifecircle.planning.console import print_summary
    from lifecircle.planning.jobs import run_study
    from lifecircle.planning.study import load_study

    study = load_study(args.study).with_overrides(
        out_dir=args.out,
        max_walk_min=args.minutes,
        max_walk_m=args.distance_m,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        steps_factor=args.steps_factor,
        standard=args.standard,
        output_coord_system=args.output_coord_system,
        lang=args.lang,
        offline_map=False if args.online else None,
        report=args.report,
        map=args.map,
    )
    _checked_out(study.out_dir, force=args.force)
    result = run_study(study, progress=not args.quiet)
    if not args.quiet and result.analysis is not None:
        print_summary(result.summary, out_dir=result.out_dir)
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from lifecircle.planning.study_template import write_template

    path = write_template(args.path)
    if not args.quiet:
        print(f"study template written to {path}; edit it, then run: lifecircle run {path}")
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from lifecircle.geo.network.cache import NetworkCache, clear_cache

    cache = NetworkCache()
    if args.clear:
        files, size = clear_cache(cache.folder)
        print(f"{cache.folder}: {files} files removed ({size / 2**20:.1f} MB)")
        return 0
    size = sum(p.stat().st_size for p in cache.entries())
    print(f"{cache.folder}: {len(cache.entries())} entries, {size / 2**20:.1f} MB of {cache.max_bytes / 2**20:.0f} MB")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from lifecircle.planning.jobs.report import run_report

    if args.out_dir.is_dir():  # a folder of an old lifecircle, or made by hand, takes the report with --force
        _checked_out(args.out_dir, force=args.force)
    html_path, xlsx_path = run_report(args.out_dir, lang=args.lang)
    if not args.quiet:
        print(f"report written to {html_path} and {xlsx_path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from lifecircle.planning.console import print_summary

    if args.city != "helsinki":
        return _cmd_demo_office(args)
    from lifecircle.data.demo import load_demo
    from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
    from lifecircle.geo.walk import DEFAULT_LIMIT_MIN, DEFAULT_SPEED_KMH, Walk
    from lifecircle.planning.jobs.analyze import run_demo
    from lifecircle.planning.options import MapOptions

    walk = Walk(speed_kmh=args.speed_kmh or DEFAULT_SPEED_KMH, limit_min=args.minutes or DEFAULT_LIMIT_MIN)
    map_options = MapOptions(
        offline=not args.online, lang=args.lang, basemap=args.basemap or "osm", tianditu_key=args.tianditu_key
    )
    analysis = run_demo(
        load_demo(),
        _checked_out(args.out, force=args.force),
        walk=walk,
        max_snap_m=args.max_snap_m or DEFAULT_MAX_SNAP_M,
        map_options=map_options,
    )
    if not args.quiet:
        print_summary(analysis.summary, out_dir=args.out)
    return 0


def _cmd_demo_office(args: argparse.Namespace) -> int:
    """The Chinese demo: the office files shipped in the package, read as ``lifecircle analyze`` reads a user's."""
    from lifecircle.data.demo import XUEYUAN_CAPACITY_COLUMN, XUEYUAN_NORMS, xueyuan_inputs
    from lifecircle.planning.adequacy import AdequacyOptions
    from lifecircle.planning.console import print_summary
    from lifecircle.planning.inputs import LayerSpec
    from lifecircle.planning.jobs.analyze import run_analysis
    from lifecircle.planning.study import Study

    files = xueyuan_inputs()
    lang = args.lang or "zh"
    study = Study(
        network=str(files.network),
        compounds=LayerSpec(files.compounds),
        services=LayerSpec(files.services),
        branches=LayerSpec(files.branches),
        adequacy=AdequacyOptions(method="2sfca", capacity_column=XUEYUAN_CAPACITY_COLUMN, category_norms=XUEYUAN_NORMS),
        buildings_from_osm=True,
    ).with_overrides(
        out_dir=_checked_out(args.out, force=args.force),
        max_walk_min=args.minutes,
        speed_kmh=args.speed_kmh,
        max_snap_m=args.max_snap_m,
        lang=lang,
        offline_map=False if args.online else None,
        basemap=args.basemap,
        tianditu_key=args.tianditu_key,
    )
    run = run_analysis(study, progress=not args.quiet)
    if not args.quiet:
        print_summary(run.analysis.summary, out_dir=args.out, lang=lang)
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from lifecircle.planning.jobs.publish import run_publish
    from lifecircle.planning.options import PUBLISH_DIR, PublishOptions

    out = _checked_out(args.out or Path(PUBLISH_DIR))
    index = run_publish(args.analyses, out, options=PublishOptions(args.online, args.lang))
    if not args.quiet:
        print(f"site written: {index}")
    return 0


# ---------------------------------------------------------------------------------------------- main
def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("lifecircle").setLevel(level)
    for noisy in ("pyogrio", "fiona", "urllib3", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings of a command-line run as one line each, in the user's terms."""
    print(f"lifecircle: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    from lifecircle.planning.outputs import terminate_as_interrupt

    try:
        with terminate_as_interrupt(), warnings.catch_warnings():  # SIGTERM cleans up as Ctrl-C does
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
