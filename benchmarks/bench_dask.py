"""Partitioned coverage on Dask: a synthetic city (the Phoenix extract replicated on a grid) on 1 and 2 workers.

Writes ``city_<n>.osm.pbf`` (the Phoenix walkable ways copied ``n`` times side by side, ids renumbered), places
compounds and services at random on its streets, and times :func:`lifecircle.planning.distributed.dask_coverage`
on a LocalCluster of 1 and of 2 worker processes; reports each worker's peak resident memory. Run for the city
and the doubled city: memory per worker follows the tile, time the city::

    .venv/bin/python benchmarks/bench_dask.py --copies 1 2 4 --tile-km 3
    .venv/bin/python benchmarks/bench_dask.py --copies 16 --compounds-per-copy 6250 --work /tmp/bench  # ~1M nodes

Each line gives the tiles run, the seconds per tile (wall time x workers / tiles) and the workers' CPU seconds per
tile (the cost a national estimate multiplies; robust on a loaded machine), and the client's own peak (it reads the
extract into cells once and holds the layers and the merged answer, never a tile's network).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from _data import PHOENIX, require
from distributed import Client, LocalCluster

from lifecircle.geo.network.osm import osm_segments
from lifecircle.geo.walk import Walk
from lifecircle.planning.distributed import dask_coverage

ID_STEP = 10**10


def synthetic_city(source: Path, copies: int, out: Path) -> np.ndarray:
    """The source's walkable ways copied ``copies`` times on a row of offsets; returns the node lon/lat used."""
    seg = osm_segments(source)
    width = float(np.ptp(seg.node_xy[:, 0])) * 1.02
    lonlat = []
    with osmium.SimpleWriter(str(out)) as writer:
        for c in range(copies):
            shift, base = c * width, c * ID_STEP
            for i, (node_id, (lon, lat)) in enumerate(zip(seg.node_ids.tolist(), seg.node_xy.tolist(), strict=True)):
                writer.add_node(osmium.osm.mutable.Node(id=int(node_id) + base, location=(lon + shift, lat)))
                if i % 5 == 0:
                    lonlat.append((lon + shift, lat))
            for k in range(len(seg.u)):
                tags = {"highway": str(seg.way_attrs[seg.way[k]].get("highway", "footway"))}
                nodes = [int(seg.u[k]) + base, int(seg.v[k]) + base]
                writer.add_way(osmium.osm.mutable.Way(id=k + 1 + base, nodes=nodes, tags=tags))
    return np.array(lonlat)


def layers(lonlat: np.ndarray, n_compounds: int, n_services: int, seed: int = 21):
    """Compounds (40 m squares) and services (three categories) near random street nodes."""
    rng = np.random.default_rng(seed)
    pick = lonlat[rng.choice(len(lonlat), n_compounds + n_services, replace=False)]
    squares = shapely.box(
        pick[:n_compounds, 0] - 2e-4,
        pick[:n_compounds, 1] - 2e-4,
        pick[:n_compounds, 0] + 2e-4,
        pick[:n_compounds, 1] + 2e-4,
    )
    compounds = gpd.GeoDataFrame(geometry=squares, crs=4326, index=pd.Index(np.arange(n_compounds), name="compound_id"))
    services = gpd.GeoDataFrame(
        {"category": rng.choice(["clinic", "shop", "school"], n_services)},
        geometry=shapely.points(pick[n_compounds:]),
        crs=4326,
        index=pd.Index(np.arange(n_services), name="service_id"),
    )
    return compounds, services


def _peak_rss_mb() -> float:
    """This process's own peak: VmHWM on Linux (ru_maxrss of a spawned worker starts at its parent's RSS)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(
    path: Path, compounds, services, *, workers: int, tile_km: float, work: Path
) -> tuple[float, list[float], int, float]:
    """Seconds of one run, each worker's peak RSS in MB, the tiles run and the workers' CPU seconds on them."""
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, local_directory=work / "dask"
    )
    with Client(cluster) as c:
        cpu_before = sum(c.run(_cpu_s).values())
        start = time.perf_counter()
        result = dask_coverage(
            path,
            compounds,
            services,
            walk=Walk(limit_min=10),
            max_snap_m=100,
            tile_km=tile_km,
            scheduler=c,
            work_dir=work,
        )
        seconds = time.perf_counter() - start
        peaks = sorted(c.run(_peak_rss_mb).values())
        cpu = sum(c.run(_cpu_s).values()) - cpu_before
        c.cluster.close()
    return seconds, peaks, int(result.params["tiles"]), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--tile-km", type=float, default=3.0)
    parser.add_argument("--compounds-per-copy", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--work", type=Path, help="keep the synthetic cities here (default: a temporary folder)")
    args = parser.parse_args()
    source = require(PHOENIX)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        for copies in args.copies:
            city = Path(args.work or tmp) / f"city_{copies}.osm.pbf"
            cached = city.parent / f"city_{copies}.lonlat.npy"
            if not (city.exists() and cached.exists()):
                city.unlink(missing_ok=True)
                np.save(cached, synthetic_city(source, copies, city))
            lonlat = np.load(cached)
            compounds, services = layers(lonlat, args.compounds_per_copy * copies, 300 * copies)
            for workers in args.workers:
                seconds, peaks, tiles, cpu = run(
                    city,
                    compounds,
                    services,
                    workers=workers,
                    tile_km=args.tile_km,
                    work=Path(tmp) / f"w{copies}_{workers}",
                )
                print(
                    f"copies={copies} nodes~{len(lonlat) * 5} compounds={len(compounds)} workers={workers}: "
                    f"{seconds:.1f} s, {tiles} tiles, {seconds * workers / tiles:.2f} s per tile "
                    f"({cpu / tiles:.2f} CPU s per tile on the workers), "
                    f"peak RSS per worker {', '.join(f'{p:.0f}' for p in peaks)} MB, client {_peak_rss_mb():.0f} MB",
                    flush=True,
                )


if __name__ == "__main__":
    main()
