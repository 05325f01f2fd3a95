"""Coverage of a whole city on Dask: the extract partitioned once, each tile a task, the answers merged.

Needs the optional extra ``pip install lifecircle[dask]`` (``dask[distributed]``)::

    result = dask_coverage("city.osm.pbf", compounds, services, walk=walk, max_snap_m=100,
                           tile_km=4, scheduler="local", work_dir="work/")

``scheduler`` is ``local`` (a LocalCluster sized to the machine), ``tcp://HOST:PORT`` (a running scheduler) or a
``distributed.Client`` already made. Within the limit the answers equal a single-process run
(:mod:`lifecircle.geo.reach.tiled`); per-category limits are cut from the longest as in one process.
A worker lost mid-run has its tiles rerun by the scheduler; each finished tile is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyproj

from lifecircle.errors import InputError
from lifecircle.geo.network.partition import partition_extract
from lifecircle.geo.reach.coverage import CoverageResult
from lifecircle.geo.reach.tiled import TileResult, merge_tiles, plan_tiles, tile_coverage
from lifecircle.geo.walk import Walk
from lifecircle.planning.thresholds import apply_thresholds

log = logging.getLogger(__name__)

__all__ = ["CONNECT_TIMEOUT_S", "DASK_EXTRA", "close", "connect", "dask_coverage", "require_dask"]

CONNECT_TIMEOUT_S = 5
DASK_EXTRA = "pip install 'lifecircle[dask]'"


def require_dask() -> None:
    """Refuse a partitioned run before any work when Dask is not installed.

    Raises
    ------
    InputError
        ``distributed`` cannot be imported; the message names the extra to install.
    """
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError(f"--scheduler needs Dask, an optional extra: {DASK_EXTRA}") from exc


def connect(scheduler: str, *, n_workers: int | None = None, processes: bool = True):
    """A ``distributed.Client``: a LocalCluster for ``local``, else the scheduler at ``tcp://HOST:PORT``.

    Raises
    ------
    InputError
        Dask is not installed, or the scheduler does not answer within a few seconds.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler == "local":
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes, dashboard_address=None)
        return Client(cluster)
    if not scheduler.startswith(("tcp://", "tls://")):
        raise InputError(f"--scheduler is 'local' or tcp://HOST:PORT, not {scheduler!r}.")
    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"The Dask scheduler at {scheduler} did not answer within {CONNECT_TIMEOUT_S} s: is it running?"
        ) from exc


def close(client) -> None:
    """Close a client made by :func:`connect`, and the LocalCluster it started."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def dask_coverage(
    network: str | Path,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
    tile_km: float,
    scheduler,
    work_dir: str | Path,
    category_column: str | None = "category",
    on_tile: Callable[[TileResult, int, int], None] | None = None,
) -> CoverageResult:
    """Coverage with the walk's limits, computed tile by tile on a Dask cluster.

    Parameters
    ----------
    network
        The OSM extract; read once into ``work_dir/<name>.cells`` (cells of ``tile_km``).
    compounds, services
        As for :func:`~lifecircle.geo.reach.coverage.coverage` (representative-point origins).
    walk, max_snap_m
        The walk (per-category limits too) and the snap limit.
    tile_km
        Tile side in km.
    scheduler
        ``local``, ``tcp://HOST:PORT`` or a ``distributed.Client``.
    work_dir
        Where the partitioned extract is written.
    on_tile
        Called with each finished tile, the tiles done and the tiles in all (progress).

    Returns
    -------
    CoverageResult
        As a single-process run; rows with no service within the limit have ``reach = beyond_search_radius``.
    """
    from distributed import as_completed

    mpm = walk.metres_per_minute
    limits_m = {c: walk.limit_m_of(c) for c in (*walk.category_limit_min, *walk.category_limit_m)}
    longest = walk.with_limit(metres=max([walk.limit_m, *limits_m.values()]))
    name = Path(network).name.split(".")[0]
    part = partition_extract(network, Path(work_dir) / f"{name}.cells", cell_km=tile_km)
    tasks = plan_tiles(
        part, compounds, services, walk=longest, max_snap_m=max_snap_m, tile_km=tile_km, category_column=category_column
    )
    client = scheduler if not isinstance(scheduler, str) else connect(scheduler)
    try:
        from lifecircle.planning._dask_plugin import SystemArrowPool

        client.register_plugin(SystemArrowPool())
        results = []
        # no list of futures kept: each tile's answer leaves its worker's memory once gathered
        for done, future in enumerate(as_completed(client.map(tile_coverage, tasks, pure=False)), start=1):
            result = future.result()
            results.append(result)
            future.release()
            log.info("tile %s done (%d of %d, %.1f s)", result.key, done, len(tasks), result.seconds)
            if on_tile is not None:
                on_tile(result, done, len(tasks))
    finally:
        if isinstance(scheduler, str):
            close(client)
    crs = pyproj.CRS.from_wkt(part.crs)
    categories = tasks[0].categories if tasks else ["all"]
    merged = merge_tiles(
        results, compounds, services, categories=categories, walk=longest, max_snap_m=max_snap_m, crs=crs
    )
    if limits_m or longest.limit_m != walk.limit_m:
        merged = apply_thresholds(
            merged, services, default_m=walk.limit_m, limits_m=limits_m, category_column=category_column
        )
    log.info("coverage of %d compounds from %d tiles (%.0f m per minute)", len(compounds), len(tasks), mpm)
    return merged
