"""Benchmark: walking isochrones of service points × 3 breaks on the ~60k-node Phoenix network, against the scripts
a competent analyst would write with scipy and shapely, all on the same worker count and every point (no
extrapolation).

Who is who (every one starts from the same prepared network in memory; reading and preparing it is timed once and
left out of every figure):

- ``lifecircle``: :func:`lifecircle.geo.reach.isochrones.isochrones` with its default shape (street cells: the land
  nearest to the streets really reached, cut to the metre), the served area per category and the rings, on
  ``--workers`` processes. Timed twice: building the street cells inside the call (a first run on a network), and
  given the cells of that run (as a cached network brings them).
- ``scipy+convex``: nearest node of each point (``cKDTree``), ``scipy.sparse.csgraph.dijkstra`` with ``limit`` from
  chunks of 50 points, and per point and break the convex hull of the nodes reached.
- ``scipy+concave``: the same, with ``shapely.concave_hull(ratio=0.1)`` of the nodes reached.
- ``scipy+edge-buffer``: the same search; every segment with both ends reached is buffered by the catchment (45 m,
  3 segments per quarter circle) and the buffers of each point and break are unioned (``shapely.union_all`` per
  group, what ``GeoDataFrame.dissolve`` does).

The peers run in a ``multiprocessing`` pool of the same size (forked, the network shared once). Quality on the first
``--quality-points`` points at 10 minutes: the share of the street length inside each polygon that is not reached
(the reach computed to the metre by :func:`lifecircle.geo.reach.streetreach.street_reach`), and the share of the
reached street length left outside it.

The machine's cores may be shared with other work: timings are wall-clock and noisy; the load average is printed
before and after, and the order is lifecircle, the peers, then lifecircle again with its cells.

Run: ``PYTHONPATH=. python benchmarks/bench_isochrones.py [--points 2000] [--workers N]``
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from multiprocessing import get_context

import geopandas as gpd
import numpy as np
import shapely
from _data import PHOENIX as DATA
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

MINUTES = (5.0, 10.0, 15.0)
SPEED_KMH = 4.5
CATCHMENT_M = 45.0
CONCAVE_RATIO = 0.1
PEER_CHUNK = 50
PEERS = ("scipy+convex", "scipy+concave", "scipy+edge-buffer")

_PEER: dict = {}  # set in each forked worker


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def service_points(net, n: int, seed: int) -> gpd.GeoDataFrame:
    """Seeded points near streets (uniform over segments, up to ±20 m off them) in four categories."""
    rng = np.random.default_rng(seed)
    seg = rng.integers(0, len(net.segment_u), n)
    on_street = shapely.line_interpolate_point(net.segment_lines[seg], rng.random(n), normalized=True)
    xy = shapely.get_coordinates(on_street) + rng.uniform(-20, 20, (n, 2))
    return gpd.GeoDataFrame(
        {"name": [f"service {i}" for i in range(n)], "category": rng.choice(["clinic", "shop", "school", "park"], n)},
        geometry=shapely.points(xy),
        crs=net.crs,
        index=[f"S{i}" for i in range(n)],
    ).rename_axis("service_id")


# ------------------------------------------------------------------------------------------------ the peers


def _peer_init(shared: dict) -> None:
    _PEER.update(shared)


def _peer_chunk(sources: np.ndarray) -> np.ndarray:
    """Polygons ``(len(sources), n_breaks)`` of one chunk of points, in the peer's method."""
    p = _PEER
    cost = dijkstra(p["graph"], indices=sources, limit=float(p["limits"].max()))
    out = np.empty((len(sources), len(p["limits"])), dtype=object)
    for b, limit in enumerate(p["limits"]):
        reached = cost <= limit
        if p["kind"] == "scipy+edge-buffer":
            rows, segs = np.nonzero(reached[:, p["seg_u"]] & reached[:, p["seg_v"]])
            buffers = shapely.buffer(p["lines"][segs], CATCHMENT_M, quad_segs=3)
            for r in range(len(sources)):
                out[r, b] = shapely.union_all(buffers[rows == r])
            continue
        rows, nodes = np.nonzero(reached)
        clouds = np.empty(len(sources), dtype=object)
        shapely.multipoints(p["node_xy"][nodes], indices=rows, out=clouds)
        if p["kind"] == "scipy+convex":
            out[:, b] = shapely.convex_hull(clouds)
        else:
            out[:, b] = shapely.concave_hull(clouds, ratio=CONCAVE_RATIO)
    return out


def peer_isochrones(kind: str, net, services: gpd.GeoDataFrame, *, workers: int) -> np.ndarray:
    """The peer script ``kind`` on every service point: polygons ``(n_points, n_breaks)``."""
    xy = shapely.get_coordinates(services.geometry.to_numpy())
    _, source = cKDTree(net.node_xy).query(xy)
    shared = {
        "graph": net.cost_reverse,  # walking to the service, as lifecircle measures it
        "limits": np.asarray(MINUTES) * SPEED_KMH * 1000.0 / 60.0,
        "kind": kind,
        "node_xy": net.node_xy,
        "seg_u": net.segment_u,
        "seg_v": net.segment_v,
        "lines": net.segment_lines,
    }
    chunks = [source[i : i + PEER_CHUNK] for i in range(0, len(source), PEER_CHUNK)]
    if workers > 1:
        with get_context("fork").Pool(workers, initializer=_peer_init, initargs=(shared,)) as pool:
            return np.concatenate(pool.map(_peer_chunk, chunks))
    _peer_init(shared)
    return np.concatenate([_peer_chunk(c) for c in chunks])


# ------------------------------------------------------------------------------------------------ quality


def street_shares(net, services: gpd.GeoDataFrame, polys: np.ndarray, *, minutes: float) -> tuple[float, float]:
    """Mean share of the street length inside each polygon that is not reached, and of the reached street length
    outside it (reach to the metre, lifecircle's own street reach)."""
    from lifecircle.geo.reach.isochrones import street_reach
    from lifecircle.geo.reach.linecut import SegmentVertices
    from lifecircle.geo.routing.snapping import snap_points

    att = snap_points(net, services.geometry.to_numpy())
    reach = street_reach(net, att, limits_m=[minutes * SPEED_KMH * 1000.0 / 60.0])
    lines = SegmentVertices.from_lines(net.segment_lines).cut(reach.segment, reach.start, reach.end)
    reached_m = np.bincount(reach.source, weights=shapely.length(lines), minlength=len(polys))
    inside_reached = np.bincount(
        reach.source, weights=shapely.length(shapely.intersection(lines, polys[reach.source])), minlength=len(polys)
    )
    poly, seg = net.tree.query(polys, predicate="intersects")
    inside = np.bincount(
        poly, weights=shapely.length(shapely.intersection(net.segment_lines[seg], polys[poly])), minlength=len(polys)
    )
    unreached = np.divide(inside - inside_reached, inside, out=np.zeros(len(polys)), where=inside > 0)
    missed = np.divide(reached_m - inside_reached, reached_m, out=np.zeros(len(polys)), where=reached_m > 0)
    return float(unreached.mean()), float(missed.mean())


# ------------------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--quality-points", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ", ".join(PEERS))
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"benchmark network {DATA} is absent")

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.isochrones import isochrones, write_isochrones

    print(f"load average before: {os.getloadavg()}  ({os.cpu_count()} cores, shared with other work)")
    t = time.perf_counter()
    net = prepare_network(network_from_osm(DATA))
    print(f"network: {net.n_nodes:,} nodes, {len(net.segment_lines):,} segments; read and prepared in "
          f"{time.perf_counter() - t:.1f} s (left out of every figure below)")  # fmt: skip
    services = service_points(net, args.points, args.seed)
    n_poly = args.points * len(MINUTES)
    print(f"{args.points} points x {len(MINUTES)} breaks = {n_poly} polygons each, workers={args.workers}")

    def ours(cells=None):
        t = time.perf_counter()
        result = isochrones(net, services, minutes=MINUTES, speed_kmh=SPEED_KMH, rings=True, workers=args.workers,
                            street_cells=cells)  # fmt: skip
        return result, time.perf_counter() - t

    result, t_cold = ours()
    times = {"lifecircle (cells built)": t_cold}
    polys = {"lifecircle": result.per_service.geometry.to_numpy().reshape(args.points, -1)}
    for kind in [k for k in args.peers.split(",") if k]:
        t = time.perf_counter()
        polys[kind] = peer_isochrones(kind, net, services, workers=args.workers)
        times[kind] = time.perf_counter() - t
    _, times["lifecircle (cells given)"] = ours(result.street_cells)
    out = f"/tmp/bench_isochrones_{os.getpid()}"
    t = time.perf_counter()
    written = write_isochrones(result, out)
    t_write = time.perf_counter() - t
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in written)
    for p in written:
        p.unlink()
    os.rmdir(out)

    q = slice(0, min(args.quality_points, args.points))
    b10 = MINUTES.index(10.0)
    print(f"\n{'who':<26} {'wall s':>7} {'ms/point':>9} {'lifecircle/peer':>16} "
          f"{'mean area m2 (5/10/15 min)':>30} {'unreached in':>13} {'reached out':>12}")  # fmt: skip
    base = times["lifecircle (cells built)"], times["lifecircle (cells given)"]
    for who, secs in times.items():
        name = "lifecircle" if who.startswith("lifecircle") else who
        area = "/".join(f"{a:,.0f}" for a in shapely.area(polys[name]).mean(axis=0))
        unreached, missed = street_shares(net, services.iloc[q], polys[name][q, b10], minutes=10.0)
        ratio = "" if name == "lifecircle" else f"{base[0] / secs:.2f} / {base[1] / secs:.2f}"
        print(f"{who:<26} {secs:>7.1f} {secs / args.points * 1000:>9.2f} {ratio:>16} {area:>30} "
              f"{unreached:>13.1%} {missed:>12.1%}")  # fmt: skip
    print(
        "\nlifecircle/peer: lifecircle's wall time over the peer's (cells built / cells given); <= 1 means lifecircle "
        "is as fast or faster. lifecircle also draws the served area of every category and the rings; the peers "
        "draw the per-point polygons only. Street shares: first "
        f"{q.stop} points at 10 minutes."
    )
    print(f"lifecircle writing its files: {t_write:.1f} s ({sizes})")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB (this process), {peak_rss_mb(resource.RUSAGE_CHILDREN):,.0f} MB "
          "(largest worker)")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
