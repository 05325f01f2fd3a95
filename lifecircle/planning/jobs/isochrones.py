"""The isochrone job (``lifecircle isochrones``, the ``isochrones`` step of ``lifecircle run``): read a network and
service points, draw walking isochrones from the streets really reached, write them atomically."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import networkx as nx

from lifecircle import folder
from lifecircle.geo.cores import machine_cores
from lifecircle.geo.inputs.chinese_crs import from_wgs84, normalize_coord_system
from lifecircle.geo.reach.isochrones import IsochroneResult, isochrones, write_isochrones
from lifecircle.geo.reach.shapes import ShapeOptions
from lifecircle.maps import pick_lang, save_map
from lifecircle.maps.isochrone_map import isochrone_map
from lifecircle.planning.jobs._shared import read_study_layers, study_network, study_walk
from lifecircle.planning.outputs import staged_directory
from lifecircle.planning.progress import Steps
from lifecircle.planning.study import Study

log = logging.getLogger(__name__)

__all__ = ["run_isochrones"]


def in_coord_system(result: IsochroneResult, system: str) -> IsochroneResult:
    """The isochrones in an output coordinate system other than WGS84 (``gcj02`` to overlay on Amap...); the
    GeoPackage then holds lon/lat in that system instead of the network's metres."""
    system = normalize_coord_system(system)
    if system == "wgs84":
        return result
    layers = {"per_service": result.per_service, "served_area": result.served_area, "rings": result.rings}
    moved = {name: None if gdf is None else from_wgs84(gdf, system) for name, gdf in layers.items()}
    return replace(result, **moved)


def run_isochrones(
    study: Study, *, progress: bool = False, graph: nx.MultiDiGraph | None = None
) -> tuple[IsochroneResult, list[Path]]:
    """Walking isochrones of the study's services (``study.isochrones``), written into ``study.isochrones_dir``.

    Files are first written to a temporary folder beside the output folder and then moved in, so it never holds
    half-written output. The study's category groups and walk (speed, steps, hills) apply.

    Returns
    -------
    (IsochroneResult, list of pathlib.Path)
        The isochrones and the files written.
    """
    options = study.isochrones
    walk = study_walk(study)
    steps = Steps(["read layers", "load network", "isochrones", "write outputs"], enabled=progress)
    with steps:
        layers = read_study_layers(study, job="isochrones", compounds=False)
        steps.next()
        loaded = study_network(study, layers, graph=graph)
        shape = ShapeOptions(catchment_m=options.catchment_m)
        slot = loaded.cells_slot(walk, barrier_layer=study.barriers)  # the network cache's street cells
        cells = None if slot is None else slot.load(shape)
        steps.next()
        result = isochrones(
            loaded.prepared(walk) if loaded.cached else loaded.graph,
            layers.services,
            minutes=options.minutes,
            walk=walk,
            options=shape,
            category_column="category",
            max_snap_m=study.max_snap_m,
            rings=options.rings,
            workers=options.workers or machine_cores(),
            barriers=None if cells is not None else loaded.barriers(study.barriers),
            street_cells=cells,
        )
        if slot is not None and cells is None and result.street_cells is not None:
            slot.save(shape, result.street_cells)
        steps.next()
        out = Path(study.isochrones_dir)
        inputs = [None if graph is not None else study.network, study.services.path]
        with staged_directory(out, job="isochrones", inputs=inputs) as stage:
            staged = write_isochrones(in_coord_system(result, study.output_coord_system), stage)
            lang = study.lang or pick_lang(layers.services.get("name", []))
            fmap = isochrone_map(result.served_area, layers.services, lang=lang)
            staged.append(save_map(fmap, stage / folder.ISOCHRONE_MAP.name, offline=study.offline_map))
        steps.next()
    log.info("isochrones written to %s", out)
    return result, [out / p.name for p in staged]
