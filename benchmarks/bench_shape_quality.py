"""Benchmark: how much street inside a 10-minute isochrone is not reached, for the default shape and for plain
45 m buffers of the reached streets (the "buffer shortcut"), on real extracts (issue 16.5).

For each seeded service point (uniform over street segments, up to ±20 m off them, as in
``bench_isochrones.py``), the unreached share is ``(street length inside the polygon − street length reached) /
street length inside the polygon``, with the reached length from :func:`lifecircle.geo.reach.streetreach.street_reach`
cut at the exact metre. Prints the median, mean and 90th percentile per extract and shape.

Run: ``PYTHONPATH=. python benchmarks/bench_shape_quality.py [--services 40]``
"""

from __future__ import annotations

import argparse

import numpy as np
import shapely
from _data import SHARED_DATA
from bench_isochrones import service_points

EXTRACTS = (
    "beijing_haidian_cau_xueyuanlu.osm.bz2",
    "beijing_haidian_wudaokou_tsinghua.osm.bz2",
    "beijing_chaoyang_wangjing.osm.bz2",
    "nanjing_xinjiekou.osm.bz2",
    "shanghai_center_roads_only.osm.bz2",
)


def unreached_shares(net, services, polys: np.ndarray, reached_m: np.ndarray) -> np.ndarray:
    """Per polygon: the share of the street length inside it that is not reached."""
    tree = shapely.STRtree(net.segment_lines)
    poly, seg = tree.query(polys, predicate="intersects")
    inside = np.bincount(
        poly, weights=shapely.length(shapely.intersection(net.segment_lines[seg], polys[poly])), minlength=len(polys)
    )
    return np.divide(inside - reached_m, inside, out=np.full(len(polys), np.nan), where=inside > 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.isochrones import ShapeOptions, isochrones, street_reach
    from lifecircle.geo.reach.linecut import SegmentVertices
    from lifecircle.geo.routing.snapping import snap_points
    from lifecircle.geo.walk import metres_per_minute

    print(f"{'extract':44s} {'shape':8s} {'median':>7s} {'mean':>7s} {'p90':>7s}  ({args.services} services, 10 min)")
    for name in EXTRACTS:
        path = SHARED_DATA / "osm" / name
        if not path.exists():
            print(f"{name}: absent, skipped")
            continue
        net = prepare_network(network_from_osm(path))
        services = service_points(net, args.services, args.seed)
        att = snap_points(net, services.geometry.to_numpy())
        reach = street_reach(net, att, limits_m=[10 * metres_per_minute(4.5)])
        pieces = SegmentVertices.from_lines(net.segment_lines).cut(reach.segment, reach.start, reach.end)
        reached_m = np.bincount(reach.source, weights=shapely.length(pieces), minlength=len(services))
        for shape in ("voronoi", "buffer"):
            result = isochrones(net, services, minutes=[10], category_column=None, options=ShapeOptions(shape))
            share = unreached_shares(net, services, result.per_service.geometry.to_numpy(), reached_m)
            share = share[np.isfinite(share)]
            print(
                f"{name:44s} {shape:8s} {np.median(share):7.1%} {np.mean(share):7.1%} {np.percentile(share, 90):7.1%}"
            )


if __name__ == "__main__":
    main()
