"""The analysis job (``lifecircle analyze``, the ``analysis`` step of ``lifecircle run``, ``lifecircle demo``):
read the inputs, walk, analyse, and write every output of the analysis folder together."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd

from lifecircle import folder
from lifecircle.folder import write_csv, write_gpkg
from lifecircle.geo import validate
from lifecircle.geo.inputs.chinese_crs import from_wgs84, normalize_coord_system
from lifecircle.geo.network.osm_meta import osm_data_date
from lifecircle.geo.walk import Walk
from lifecircle.maps import coverage_map, save_map
from lifecircle.maps.streets import street_layer
from lifecircle.planning.adequacy import with_adequacy
from lifecircle.planning.analysis import Analysis, analyze
from lifecircle.planning.beyond import beyond_layers
from lifecircle.planning.building_inputs import study_buildings
from lifecircle.planning.buildings import with_buildings
from lifecircle.planning.forked import start_in_child
from lifecircle.planning.hours import service_hours, services_at, with_hours
from lifecircle.planning.inputs import JobLayers, coord_systems
from lifecircle.planning.jobs._shared import read_study_layers, study_network, study_standard, study_walk
from lifecircle.planning.options import MapOptions
from lifecircle.planning.outputs import input_hashes, staged_directory
from lifecircle.planning.progress import Steps
from lifecircle.planning.report import folder_pictures, write_report
from lifecircle.planning.report_data import coverage_with_names
from lifecircle.planning.study import Study
from lifecircle.planning.walking import WalkingSetup, build_walking, walking_extras

log = logging.getLogger(__name__)

__all__ = ["AnalysisRun", "run_analysis", "run_demo", "write_analysis"]


@dataclass(frozen=True, eq=False)
class AnalysisRun:
    """What the analysis job produced: the analysis, and the folder written (None when not written)."""

    analysis: Analysis
    out_dir: Path | None


def run_analysis(
    study: Study, *, write: bool = True, progress: bool = False, graph: nx.MultiDiGraph | None = None
) -> AnalysisRun:
    """Read every input of the study, analyse, and (by default) write the analysis folder with the report.

    Parameters
    ----------
    study
        From :func:`~lifecircle.planning.study.load_study`, or built from command-line flags.
    write
        Write the outputs into ``study.out_dir`` (all together or none).
    progress
        Show a progress bar on stderr for runs longer than a second.
    graph
        A walking graph given in Python (instead of ``study.network``).

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before anything is written.
    """
    if study.dask.scheduler is not None:  # coverage in tiles on Dask
        from lifecircle.planning.jobs.tiled import run_tiled_analysis

        return run_tiled_analysis(study, write=write, progress=progress, graph=graph)
    map_options = study.map_options()  # a basemap without its key is refused before any work
    level = study_standard(study)
    walk = study_walk(study, level)
    writing = ["write tables", *(["write map"] if study.map else []), *(["write report"] if study.report else [])]
    analysing = ["coverage", "served areas"] if study.served_area else ["analyse"]
    steps = Steps(["read layers", "load network", *analysing, *(writing if write else [])], enabled=progress)
    with steps:
        layers = read_study_layers(study, job="the analysis")
        buildings = study_buildings(study, layers.compounds)
        steps.next()
        loaded = study_network(study, layers, graph=graph)
        setup = build_walking(
            loaded,
            layers.compounds,
            options=study.walking,
            walk=walk,
            gates=layers.gates,
            max_snap_m=study.max_snap_m,
            network_path=None if graph is not None else study.network,
        )
        if layers.study_area is not None:
            net = setup.network
            source = layers.study_area.attrs.get("source", "(study area)")
            validate.require_area_on_network(layers.study_area, net.bounds, net.crs, source)
        steps.next()
        hours = service_hours(layers.services, study.hours)
        moment = services_at(layers.services, hours, study.hours.at) if hours is not None and study.hours.at else None
        services = layers.services if moment is None else moment.counted
        # the map's street layer (merged and simplified by GEOS, without Python's lock) is made on another core
        # while the coverage and the served areas are worked out on this one
        streets = _street_layer_meanwhile(setup) if write else None
        analysis = analyze(
            setup.network,
            layers.compounds,
            services,
            branches=layers.branches,
            gates=None if setup.origins is not None else setup.gates,
            origins=setup.origins,
            category_column="category",
            walk=walk,
            max_snap_m=study.max_snap_m,
            branch_column=study.branch_column,
            standard=level,
            standard_categories=study.standard_facilities,
            governance=dict(study.governance) or None,
            served_area=study.served_area,
            catchment_m=study.catchment_m,
            barriers=loaded.barriers(study.barriers) if study.served_area else None,
            street_cells=loaded.cells_slot(
                walk, public=study.walking.needs_private_roads, barrier_layer=study.barriers
            ),
            coverage_done=steps.next,
        )
        tables, walking_summary = walking_extras(
            setup, layers.compounds, services, options=study.walking, walk=walk, max_snap_m=study.max_snap_m
        )
        analysis, hour_tables = with_hours(analysis, layers.services, hours, moment)
        tables = {**tables, **hour_tables}
        layers_out: dict[folder.FolderFile, gpd.GeoDataFrame] = {}
        if buildings is not None:
            analysis, building_table, building_layer = with_buildings(
                analysis, setup.network, buildings, services, walk=walk, max_snap_m=study.max_snap_m
            )
            tables[Path(folder.BUILDINGS.name).stem] = building_table
            layers_out[folder.BUILDINGS_GPKG] = building_layer
        if study.adequacy.method is not None:
            analysis, ratios = with_adequacy(analysis, study.adequacy)
            tables = {**tables, Path(folder.ADEQUACY.name).stem: ratios}
        steps.next()
        written = None
        if write:
            extra = _extra_summary(study, layers, {**setup.summary, **walking_summary})
            written = write_analysis(
                analysis,
                study.out_dir,
                inputs=_inputs(study, graph),
                map_options=map_options,
                output_coord_system=study.output_coord_system,
                report=study.report,
                write_map=study.map,
                extra_summary=extra,
                extra_tables={**loaded.tables, **setup.tables, **tables},
                study_area=layers.study_area,
                streets=streets.result() if streets is not None else None,
                extra_layers=layers_out,
                steps=steps,
            )
    return AnalysisRun(analysis=analysis, out_dir=written)


def _street_layer_meanwhile(setup: WalkingSetup) -> Future[gpd.GeoDataFrame]:
    """``setup.streets`` made on a thread of its own (from the cache, or merged from the streets)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="street-layer")
    try:
        return pool.submit(lambda: setup.streets)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def _inputs(study: Study, graph: nx.MultiDiGraph | None) -> dict[str, str | Path | None]:
    """The input files recorded (with hashes) in ``summary.json``."""
    inputs: dict[str, str | Path | None] = {
        "network": None if graph is not None else study.network,
        "compounds": study.compounds.path if study.compounds else None,
        "services": study.services.path,
        "branches": study.branches.path if study.branches else None,
        "gates": study.gates.path if study.gates else None,
    }
    if study.source is not None:
        inputs["study"] = study.source
    else:
        inputs["study_area"] = study.study_area
    return inputs


def _extra_summary(study: Study, layers: JobLayers, walking: dict) -> dict:
    """Study name and parameters (from a study file), coordinate systems read and the walking summary."""
    extra: dict = {}
    if study.source is not None:
        extra = {"study": {"name": study.name}, "study_parameters": study.parameters()}
    extra["coord_systems"] = coord_systems(
        compounds=layers.compounds, services=layers.services, branches=layers.branches, gates=layers.gates
    )
    extra["walking"] = walking
    return extra


def run_demo(
    demo, out_dir: str | Path, *, walk: Walk, max_snap_m: float, map_options: MapOptions | None = None
) -> Analysis:
    """Analyse the embedded demo (:func:`lifecircle.data.demo.load_demo`) and write its folder."""
    from lifecircle.geo.network.osm import network_from_osm

    analysis = analyze(
        network_from_osm(demo.osm_path),
        demo.compounds,
        demo.services,
        branches=demo.branches,
        walk=walk,
        max_snap_m=max_snap_m,
        served_area=True,
    )
    write_analysis(analysis, out_dir, inputs={"network": demo.osm_path}, map_options=map_options)
    return analysis


def write_analysis(
    analysis: Analysis,
    out_dir: str | Path,
    *,
    inputs: dict[str, str | Path | None],
    map_options: MapOptions | None = None,
    output_coord_system: str = "wgs84",
    report: bool = True,
    write_map: bool = True,
    extra_summary: dict | None = None,
    extra_tables: dict[str, pd.DataFrame] | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    streets: nx.MultiDiGraph | gpd.GeoDataFrame | None = None,
    extra_layers: dict[folder.FolderFile, gpd.GeoDataFrame] | None = None,
    steps: Steps | None = None,
) -> Path:
    """Write every output of an analysis into ``out_dir``, all together or none.

    ``coverage.csv``, ``compounds.gpkg``, ``services.gpkg``, ``summary.json``, ``map.html``, per governance level
    ``rollup_<level>.csv``, ``compliance.csv`` with a standard, and ``report.html`` / ``report.xlsx``.

    Parameters
    ----------
    analysis
        The result of :func:`~lifecircle.planning.analysis.analyze`.
    out_dir
        Output folder.
    inputs
        Role -> input file, recorded with SHA-256 hashes (and the OSM data date of the network).
    map_options
        Map options; ``map_options.lang`` is also the report language.
    output_coord_system
        ``wgs84`` (default), ``gcj02`` (to overlay on Amap/Tencent), ``bd09`` or ``cgcs2000``: the coordinate system of
        the geometries written to the GeoPackages. The map stays in WGS84 (it shifts for Amap tiles itself).
    report
        Also write ``report.html`` and ``report.xlsx``.
    write_map
        Also write ``map.html`` (without it, the report has no map either).
    extra_summary
        More entries for ``summary.json`` (study name, parameters of a study file).
    extra_tables
        More tables, each written as ``<name>.csv`` (walking comparisons, network sources).
    study_area
        The study area's outline, drawn on the map.
    streets
        The walking network the analysis used, drawn on the map as its street layer (no tiles needed).
    extra_layers
        More layers (WGS84), each written as the GeoPackage its folder entry names (``buildings.gpkg``).
    steps
        The run's progress: moved on after the tables and layers, the map and the report (each one written).
    """
    map_options = map_options or MapOptions()
    lang, data_date = map_options.lang, map_options.data_date
    out_system = normalize_coord_system(output_coord_system)
    hashes = input_hashes(inputs)
    network_path = inputs.get("network")
    if network_path is not None and "network" in hashes:
        found = osm_data_date(network_path)
        hashes["network"]["osm_date"] = None if found is None else {"date": found.date, "source": found.source}
        data_date = data_date or (found.date[:10] if found else None)
    summary = {
        **analysis.summary,
        **(extra_summary or {}),
        "inputs": hashes,
        "output_coord_system": out_system,
    }
    if lang:
        summary["lang"] = lang
    params = analysis.coverage.params
    with staged_directory(out_dir, job="analyze", inputs=inputs.values()) as stage:
        table = coverage_with_names(analysis.coverage.table, analysis.compounds, analysis.services)
        table["walk_m"] = table["walk_m"].round(1)
        table["walk_min"] = table["walk_min"].round(2)
        write_csv(table, stage / folder.COVERAGE.name)
        compounds, services = (_out_geometries(g, out_system) for g in (analysis.compounds, analysis.services))
        for frame, spec in ((compounds, folder.COMPOUNDS), (services, folder.SERVICES)):
            write_gpkg(frame, stage / spec.name, layer=spec.layers[0], index=spec.columns[0])
        for level, frame in analysis.rollups.items():
            write_csv(frame.reset_index(), stage / folder.rollup_name(level))
        if analysis.compliance is not None:
            comp = analysis.compliance.copy()
            comp.insert(0, "name", analysis.compounds["name"].reindex(comp.index))
            write_csv(comp.reset_index(), stage / folder.COMPLIANCE.name)
        if analysis.served_area is not None:
            served = _out_geometries(analysis.served_area.to_crs(4326), out_system)
            served.to_file(stage / folder.SERVED_AREA.name, layer=folder.SERVED_AREA.layers[0], driver="GPKG")
        for name, frame in (extra_tables or {}).items():
            write_csv(frame, stage / f"{name}.csv")
        for spec, layer in (extra_layers or {}).items():  # one WGS84 layer per file (buildings.gpkg)
            out_layer = _out_geometries(layer, out_system)
            write_gpkg(out_layer, stage / spec.name, layer=spec.layers[0], index=spec.columns[0])
        folder.write_summary(summary, stage)
        if streets is not None:  # kept, so maps made later from the folder (publish) draw the streets too
            streets = street_layer(streets)
            write_gpkg(streets, stage / folder.STREETS.name, layer=folder.STREETS.layers[0])
        _step(steps)
        # the report's charts and print map are drawn from the files above, in a child process while the map is written
        pictures = start_in_child(partial(folder_pictures, stage, lang=lang, with_map=write_map)) if report else None
        if write_map:
            fmap = coverage_map(
                analysis.compounds,
                analysis.services,
                analysis.coverage.table,
                walk=Walk.from_params(params),
                branches=analysis.branches,
                served_areas=analysis.served_area,
                study_area=study_area,
                streets=streets,
                lang=lang,
                basemap=map_options.basemap,
                tianditu_key=map_options.tianditu_key,
                data_date=data_date,
                beyond=beyond_layers(analysis, extra_tables or {}),
            )
            save_map(fmap, stage / folder.MAP.name, offline=map_options.offline)
            _step(steps)
        if pictures is not None:
            write_report(stage, lang=lang, pictures=pictures)
            _step(steps)
    return Path(out_dir)


def _step(steps: Steps | None) -> None:
    if steps is not None:
        steps.next()


def _out_geometries(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """The layer in the output coordinate system (GCJ-02 and BD-09 are labelled EPSG:4326 though shifted)."""
    if system == "wgs84":
        return gdf
    out = from_wgs84(gdf, system)
    out.attrs = {}
    return out
