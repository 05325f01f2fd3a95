"""The ``lifecircle analyze`` job: read the inputs, run the analysis, write every output together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from lifecircle import folder
from lifecircle.folder import write_csv, write_gpkg
from lifecircle.geo import validate
from lifecircle.geo.inputs.chinese_crs import from_wgs84, normalize_coord_system
from lifecircle.geo.inputs.layers import (
    COORD_SYSTEM_KEY,
    read_branches,
    read_compounds,
    read_gates,
    read_services,
    read_study_area,
)
from lifecircle.geo.network.osm import network_from_bbox
from lifecircle.geo.network.osm_meta import osm_data_date
from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M
from lifecircle.maps import check_basemap, coverage_map, save_map
from lifecircle.planning.analysis import Analysis, analyze
from lifecircle.planning.outputs import input_hashes, staged_directory
from lifecircle.planning.progress import Steps
from lifecircle.planning.report import write_report
from lifecircle.planning.standards import load_standard
from lifecircle.planning.walking import WalkingOptions, build_walking, load_walking_graph, walking_extras

log = logging.getLogger(__name__)

AUTO_NETWORK = "auto"
STUDY_MARGIN_M = 1000.0


@dataclass(frozen=True)
class LayerSpec:
    """How to read one input file: path plus the optional column, CRS, coordinate-system and encoding overrides."""

    path: Path
    id_column: str | None = None
    name_column: str | None = None
    crs: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    encoding: str | None = None
    layer: str | None = None
    coord_system: str | None = None
    sheet: str | int | None = None
    on_swap: str = "raise"
    extra: dict = field(default_factory=dict)

    def read_kw(self) -> dict:
        """Keyword arguments for the layer readers."""
        kw = {
            "id_column": self.id_column,
            "name_column": self.name_column,
            "crs": self.crs,
            "lon_column": self.lon_column,
            "lat_column": self.lat_column,
            "encoding": self.encoding,
            "layer": self.layer,
            "coord_system": self.coord_system,
            "sheet": self.sheet,
            "on_swap": self.on_swap,
        }
        return {**kw, **self.extra}


@dataclass(frozen=True)
class MapOptions:
    """How to draw and save the map: offline inlining, language (also the report's), basemap."""

    offline: bool = True
    lang: str | None = None
    basemap: str = "osm"
    tianditu_key: str | None = None
    data_date: str | None = None

    def __post_init__(self) -> None:
        check_basemap(self.basemap, self.tianditu_key)  # before any work, not after the analysis


def write_analysis(
    analysis: Analysis,
    out_dir: str | Path,
    *,
    inputs: dict[str, str | Path | None],
    map_options: MapOptions | None = None,
    output_coord_system: str = "wgs84",
    report: bool = True,
    extra_summary: dict | None = None,
    extra_tables: dict[str, pd.DataFrame] | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    streets: nx.MultiDiGraph | gpd.GeoDataFrame | None = None,
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
    extra_summary
        More entries for ``summary.json`` (study name, parameters of a study file).
    extra_tables
        More tables, each written as ``<name>.csv`` (walking comparisons, network sources).
    study_area
        The study area's outline, drawn on the map.
    streets
        The walking network the analysis used, drawn on the map as its street layer (no tiles needed).
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
        table = analysis.coverage.table.copy()
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
        folder.write_summary(summary, stage)
        fmap = coverage_map(
            analysis.compounds,
            analysis.services,
            analysis.coverage.table,
            minutes=params["max_walk_min"],
            speed_kmh=params["speed_kmh"],
            branches=analysis.branches,
            served_areas=analysis.served_area,
            study_area=study_area,
            streets=streets,
            category_minutes=params.get("category_max_walk_min"),
            lang=lang,
            basemap=map_options.basemap,
            tianditu_key=map_options.tianditu_key,
            data_date=data_date,
        )
        save_map(fmap, stage / folder.MAP.name, offline=map_options.offline)
        if report:
            write_report(stage, lang=lang)
    return Path(out_dir)


def _out_geometries(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """The layer in the output coordinate system (GCJ-02 and BD-09 are labelled EPSG:4326 though shifted)."""
    if system == "wgs84":
        return gdf
    out = from_wgs84(gdf, system)
    out.attrs = {}
    return out


def coord_systems(**layers: gpd.GeoDataFrame | None) -> dict[str, str]:
    """The declared coordinate system of each layer read (``wgs84`` when not recorded)."""
    return {name: g.attrs.get(COORD_SYSTEM_KEY, "wgs84") for name, g in layers.items() if g is not None}


@dataclass(frozen=True, eq=False)
class JobLayers:
    """The layers of one analysis, read and checked."""

    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame | None = None
    gates: gpd.GeoDataFrame | None = None
    study_area: gpd.GeoDataFrame | None = None


def read_layers(
    compounds: LayerSpec,
    services: LayerSpec,
    *,
    category_column: str | None = None,
    branches: LayerSpec | None = None,
    gates: LayerSpec | None = None,
    study_area: Path | None = None,
) -> JobLayers:
    """Read every input layer of an analysis (each reader says in one sentence what is wrong with its file)."""
    return JobLayers(
        compounds=read_compounds(compounds.path, **compounds.read_kw()),
        services=read_services(services.path, category_column=category_column, **services.read_kw()),
        branches=read_branches(branches.path, **branches.read_kw()) if branches else None,
        gates=read_gates(gates.path, **gates.read_kw()) if gates else None,
        study_area=read_study_area(study_area) if study_area is not None else None,
    )


def run_job(
    layers: JobLayers,
    *,
    network: str | Path | nx.MultiDiGraph,
    steps: Steps,
    out_dir: str | Path | None,
    inputs: dict[str, str | Path | None],
    walking: WalkingOptions | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 300.0,
    map_options: MapOptions | None = None,
    output_coord_system: str = "wgs84",
    report: bool = True,
    extra_summary: dict | None = None,
    **analyze_options,
) -> tuple[Analysis, Path | None]:
    """Everything after reading the layers, shared by ``lifecircle analyze`` and study files.

    Loads the network (a graph, a file, an online query or ``auto``: the layers' bounding box), builds how
    residents walk (:class:`~lifecircle.planning.walking.WalkingOptions`), analyses, adds the walking comparisons,
    and writes every output into ``out_dir`` together (nothing when ``out_dir`` is None). ``steps`` is advanced past
    "load network", "analyse" and "write outputs". ``analyze_options`` go to
    :func:`~lifecircle.planning.analysis.analyze`.

    Returns
    -------
    analysis, out_dir
        The analysis and the folder written (None when not written).
    """
    walking = walking or WalkingOptions()
    network_tables: dict[str, pd.DataFrame] = {}
    given_graph = isinstance(network, nx.MultiDiGraph)
    if given_graph:
        graph = network
    elif str(network) == AUTO_NETWORK:
        bbox = study_bbox(layers.compounds, layers.services)
        graph = network_from_bbox(bbox, include_private=walking.needs_private_roads)
    else:
        graph, network_tables = load_walking_graph(network, walking)
    setup = build_walking(
        graph,
        layers.compounds,
        options=walking,
        gates=layers.gates,
        speed_kmh=speed_kmh,
        max_snap_m=max_snap_m,
        network_path=None if given_graph else network,
    )
    if layers.study_area is not None:
        net = setup.network
        source = layers.study_area.attrs.get("source", "(study area)")
        validate.require_area_on_network(layers.study_area, net.bounds, net.crs, source)
    steps.next()
    analysis = analyze(
        setup.network,
        layers.compounds,
        layers.services,
        branches=layers.branches,
        gates=None if setup.origins is not None else setup.gates,
        origins=setup.origins,
        category_column="category",
        speed_kmh=speed_kmh,
        max_snap_m=max_snap_m,
        **analyze_options,
    )
    walking_tables, walking_summary = walking_extras(
        setup,
        layers.compounds,
        layers.services,
        options=walking,
        max_walk_min=analysis.coverage.params["max_walk_min"],
        speed_kmh=speed_kmh,
        max_snap_m=max_snap_m,
    )
    steps.next()
    written = None
    if out_dir is not None:
        summary = {
            **(extra_summary or {}),
            "coord_systems": coord_systems(
                compounds=layers.compounds, services=layers.services, branches=layers.branches, gates=layers.gates
            ),
            "walking": {**setup.summary, **walking_summary},
        }
        written = write_analysis(
            analysis,
            out_dir,
            inputs={**inputs, "network": None if given_graph else inputs.get("network", network)},
            map_options=map_options,
            output_coord_system=output_coord_system,
            report=report,
            extra_summary=summary,
            extra_tables={**network_tables, **setup.tables, **walking_tables},
            study_area=layers.study_area,
            streets=setup.graph,
        )
    steps.next()
    return analysis, written


def run_analyze(
    *,
    network: str | Path | nx.MultiDiGraph,
    compounds: LayerSpec,
    services: LayerSpec,
    out_dir: str | Path,
    branches: LayerSpec | None = None,
    gates: LayerSpec | None = None,
    category_column: str | None = None,
    branch_column: str | None = None,
    max_walk_min: float | None = None,
    speed_kmh: float = 4.5,
    max_snap_m: float = 300.0,
    map_options: MapOptions | None = None,
    standard: str | Path | None = None,
    max_walk_m: float | None = None,
    output_coord_system: str = "wgs84",
    progress: bool = False,
    walking: WalkingOptions | None = None,
    served_area: bool = True,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    study_area: Path | None = None,
) -> Analysis:
    """Read every input, analyse, and write the outputs of ``lifecircle analyze``.

    With a ``standard`` (``gb50180-10``, or a TOML path) the threshold is the standard's walking distance unless
    ``max_walk_m`` is given, and per-compound compliance is added to the outputs.

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before anything is written.
    """
    level = load_standard(standard) if standard is not None else None
    if level is not None and max_walk_m is None and max_walk_min is None:
        max_walk_m = level.walk_m
    steps = Steps(["read layers", "load network", "analyse", "write outputs"], enabled=progress)
    with steps:
        layers = read_layers(
            compounds, services, category_column=category_column, branches=branches, gates=gates, study_area=study_area
        )
        steps.next()
        analysis, _ = run_job(
            layers,
            network=network,
            steps=steps,
            out_dir=out_dir,
            inputs={
                "network": network,
                "compounds": compounds.path,
                "services": services.path,
                "branches": branches.path if branches else None,
                "gates": gates.path if gates else None,
                "study_area": study_area,
            },
            walking=walking,
            speed_kmh=speed_kmh,
            max_snap_m=max_snap_m,
            map_options=map_options,
            output_coord_system=output_coord_system,
            branch_column=branch_column,
            max_walk_min=10.0 if max_walk_min is None else max_walk_min,
            max_walk_m=max_walk_m,
            standard=level,
            served_area=served_area,
            catchment_m=catchment_m,
        )
    return analysis


def study_bbox(*layers: gpd.GeoDataFrame, margin_m: float = STUDY_MARGIN_M) -> tuple[float, float, float, float]:
    """WGS84 ``(west, south, east, north)`` around all layers, with a margin so edge compounds keep their streets."""
    bounds = np.array([layer.to_crs(4326).total_bounds for layer in layers])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    dlat = margin_m / 111_320.0
    dlon = margin_m / (111_320.0 * max(np.cos(np.radians((south + north) / 2)), 0.1))
    return (west - dlon, south - dlat, east + dlon, north + dlat)

