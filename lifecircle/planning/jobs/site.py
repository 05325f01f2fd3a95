"""The siting job (``lifecircle site``, the ``siting`` step of ``lifecircle run``): read the inputs, plan new
service sites with :func:`lifecircle.planning.siting.plan_sites`, and write the plan's folder together."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd

from lifecircle import folder
from lifecircle.geo.inputs.chinese_crs import from_wgs84, normalize_coord_system
from lifecircle.geo.reach.coverage import ALL
from lifecircle.geo.walk import Walk
from lifecircle.maps import coverage_map, save_map
from lifecircle.planning.candidates import read_candidates
from lifecircle.planning.jobs._shared import read_study_layers, study_network, study_standard, study_walk
from lifecircle.planning.options import MapOptions
from lifecircle.planning.outputs import input_hashes, staged_directory, write_csv, write_gpkg
from lifecircle.planning.progress import Steps
from lifecircle.planning.siting.planner import SitePlan, plan_sites
from lifecircle.planning.study import Study

log = logging.getLogger(__name__)

__all__ = ["OUTPUT_FILES", "run_site", "write_site_plan"]

OUTPUT_FILES = tuple(f.name for f in folder.files_of("site"))


def run_site(study: Study, *, progress: bool = False, graph: nx.MultiDiGraph | None = None) -> SitePlan:
    """Read every input of the study, plan the sites (``study.siting``) and write them into ``study.site_dir``.

    The walk is the study's (speed, steps, hills; the planned category's own threshold when it has one) and
    its category groups apply.

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before anything is written.
    """
    study.siting.resolve_model(candidate_layer=study.candidates is not None)  # before reading anything
    map_options = study.map_options()
    walk = study_walk(study, study_standard(study))
    steps = Steps(["read layers", "load network", "plan sites", "write outputs"], enabled=progress)
    with steps:
        layers = read_study_layers(study, job="siting")
        candidates = None
        if study.candidates is not None:
            spec = study.candidates
            candidates = read_candidates(spec.path, cost_column=study.siting.cost_column, **spec.read_kw())
        steps.next()
        loaded = study_network(study, layers, graph=graph)
        network = loaded.prepared(walk) if loaded.cached else loaded.graph  # read here: the stage times say so
        street_lines = loaded.streets if loaded.cached else None
        steps.next()
        plan = plan_sites(
            network,
            layers.compounds,
            layers.services,
            options=study.siting,
            walk=walk,
            candidates=candidates,
            gates=layers.gates,
            max_snap_m=study.max_snap_m,
            street_lines=street_lines,
        )
        steps.next()
        inputs = {
            "network": None if graph is not None else study.network,
            "compounds": study.compounds.path,
            "services": study.services.path,
            "candidates": study.candidates.path if study.candidates else None,
            "gates": study.gates.path if study.gates else None,
        }
        write_site_plan(
            plan,
            study.site_dir,
            inputs=inputs,
            map_options=map_options,
            output_coord_system=study.output_coord_system,
            streets=(  # the map's street layer, from the network cache when it keeps one
                loaded.street_layer if loaded.cached else plan.streets if plan.streets is not None else loaded.graph
            ),
        )
        steps.next()
    return plan


def write_site_plan(
    plan: SitePlan,
    out_dir: str | Path,
    *,
    inputs: dict[str, str | Path | None] | None = None,
    map_options: MapOptions | None = None,
    output_coord_system: str = "wgs84",
    streets: nx.MultiDiGraph | gpd.GeoDataFrame | None = None,
) -> Path:
    """Write ``sites.csv``, ``sites.gpkg``, ``siting.json``, ``before_after.csv``, ``critical_services.csv``
    and ``map.html``: all of them appear in ``out_dir`` together, or none does.

    ``output_coord_system`` (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``) is the system of ``sites.gpkg`` and of the
    ``lon``/``lat`` columns of ``sites.csv`` (to overlay on Amap, Baidu...); the map stays in WGS84. ``streets``, the
    walking network planned on (or its street lines), is drawn on the map as its street layer."""
    map_options = map_options or MapOptions()
    system = normalize_coord_system(output_coord_system)
    summary = {**plan.summary, "inputs": input_hashes(inputs or {}), "output_coord_system": system}
    params = plan.summary["parameters"]
    sites, catchments = (g if system == "wgs84" else from_wgs84(g, system) for g in (plan.sites, plan.catchments))
    if system != "wgs84" and len(sites):
        sites["lon"], sites["lat"] = sites.geometry.x.round(7), sites.geometry.y.round(7)
    with staged_directory(out_dir, job="site", inputs=(inputs or {}).values()) as stage:
        write_csv(pd.DataFrame(sites.drop(columns=sites.geometry.name)).reset_index(), stage / folder.SITES_CSV.name)
        write_gpkg(sites, stage / folder.SITES_GPKG.name, layer=folder.SITES_GPKG.layers[0])
        if not catchments.empty:
            write_gpkg(catchments, stage / folder.SITES_GPKG.name, layer=folder.SITES_GPKG.layers[1])
        folder.write_summary(summary, stage, spec=folder.SITING)
        write_csv(plan.before_after, stage / folder.BEFORE_AFTER.name)
        write_csv(plan.critical, stage / folder.CRITICAL.name)
        category = params["category"]
        fmap = coverage_map(
            plan.compounds,
            plan.services,
            plan.coverage.table,
            walk=Walk(speed_kmh=params["speed_kmh"], limit_min=params["minutes"]),
            sites=plan.sites[
                [
                    "name",
                    "rank",
                    *[c for c in plan.sites.columns if c.startswith("new_")],
                    "cum_share",
                    "covers",
                    "geometry",
                ]
            ],
            site_areas=plan.catchments,
            streets=streets,
            category=None if category == ALL else category,
            lang=map_options.lang,
            basemap=map_options.basemap,
            tianditu_key=map_options.tianditu_key,
            data_date=map_options.data_date,
        )
        save_map(fmap, stage / folder.SITE_MAP.name, offline=map_options.offline)
    return Path(out_dir)
