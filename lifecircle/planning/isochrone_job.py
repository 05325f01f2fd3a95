"""The ``lifecircle isochrones`` job: read a network and service points, write isochrone files atomically."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from lifecircle.geo.inputs.layers import read_services
from lifecircle.geo.network.osm import load_network
from lifecircle.geo.reach.coverage import DEFAULT_SPEED_KMH
from lifecircle.geo.reach.isochrones import (
    DEFAULT_CATCHMENT_M,
    DEFAULT_MINUTES,
    IsochroneResult,
    ShapeOptions,
    isochrones,
    write_isochrones,
)
from lifecircle.planning.outputs import staged_directory

log = logging.getLogger(__name__)


def run_isochrones(
    network_path: str | os.PathLike,
    services_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    read_kw: Mapping | None = None,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    category_column: str | None = None,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    rings: bool = False,
    workers: int = 1,
) -> tuple[IsochroneResult, list[Path]]:
    """Compute walking isochrones of service points and write ``isochrones.gpkg`` plus WGS84 GeoJSON.

    Files are first written to a temporary folder beside ``out_dir`` and then moved in, so ``out_dir`` never
    holds half-written output (when ``out_dir`` does not exist yet, the whole folder appears at once).

    Parameters
    ----------
    network_path
        OSM extract, GraphML, ``place:<name>`` or ``bbox:w,s,e,n`` (see ``load_network``).
    services_path
        Service points file (see :func:`lifecircle.geo.inputs.layers.read_services`).
    out_dir
        Output folder.
    read_kw
        How to read the services file: id/name/coordinate columns, CRS, coordinate system, encoding, layer
        or sheet (keyword arguments of :func:`lifecircle.geo.inputs.layers.read_services`).
    minutes, speed_kmh, catchment_m, rings, workers
        See :func:`lifecircle.geo.reach.isochrones.isochrones`.
    category_column
        Column of the services file naming the category (auto-detected when None).

    Returns
    -------
    (IsochroneResult, list of pathlib.Path)
        The isochrones and the files written.
    """
    services = read_services(services_path, category_column=category_column, **(read_kw or {}))
    graph = load_network(network_path)
    result = isochrones(
        graph,
        services,
        minutes=minutes,
        speed_kmh=speed_kmh,
        options=ShapeOptions(catchment_m=catchment_m),
        category_column="category",
        rings=rings,
        workers=workers,
    )
    out = Path(out_dir)
    with staged_directory(out, job="isochrones", inputs=[network_path, services_path]) as stage:
        staged = write_isochrones(result, stage)
    written = [out / p.name for p in staged]
    log.info("isochrones written to %s", out)
    return result, written
