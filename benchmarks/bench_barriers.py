"""Benchmark: strips of land across water, railways and motorways claimed by street catchments, before and after
barriers (issue 16.4), on the Yuma and Nanjing Xinjiekou extracts.

Two counts, each made by plain shapely on the outputs (not by the code that cuts the cells):

- **street cells**: every street cell within the 45 m catchment, with the barriers (water areas; railways, motorways
  and rivers drawn as lines, as a 2 m strip) taken out, falls into pieces; a piece farther than 1.5 m from the
  street running through its own cell is land across a barrier. Counted with the cells built without barriers
  ("before") and with the barriers of the same extract ("after").
- **served areas**: the 10- and 15-minute polygons of seeded service points and their dissolved served area, with
  the barriers taken out; a piece farther than 1.5 m from every street of the network is a strip across a barrier.

Also prints the time to build the street cells without and with barriers (same run, same machine).

Run: ``PYTHONPATH=. python benchmarks/bench_barriers.py [--services 40]``
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely
from _data import SHARED_DATA, require

EXTRACTS = ("yuma_az_residential.osm.pbf", "nanjing_xinjiekou.osm.bz2")
TOUCH_M = 1.5
MIN_PIECE_M2 = 1.0


def cell_strips(cells, plain, cut: np.ndarray, lines: np.ndarray) -> tuple[int, float, int]:
    """Pieces of street cells (within the catchment, barriers out) farther than ``TOUCH_M`` from the street that
    runs through the same cell (taken from the uncut cells ``plain``); also how many of them belong to a cell whose
    street itself runs inside a barrier (a path drawn in a canal, a street under a motorway)."""
    seg = np.repeat(np.arange(len(plain.segment_ptr) - 1), np.diff(plain.segment_ptr))
    cell = plain.pass_cell
    own = shapely.intersection(lines[seg], plain.cells[cell])  # each cell's own stretches of street
    near_cut = np.unique(shapely.STRtree(cut).query(cells.cells, predicate="intersects")[0])
    land = shapely.difference(shapely.intersection(cells.cells[near_cut], cells.catchment), shapely.union_all(cut))
    parts, owner = shapely.get_parts(land, return_index=True)
    big = shapely.area(parts) > MIN_PIECE_M2
    parts, owner = parts[big], owner[big]
    mine: dict[int, list] = {c: [] for c in near_cut[owner]}
    for c, geom in zip(cell, own, strict=True):
        if c in mine:
            mine[c].append(geom)
    street = np.array([shapely.union_all(mine[c]) if mine[c] else None for c in near_cut[owner]], dtype=object)
    far = ~shapely.dwithin(parts, street, TOUCH_M) & ~shapely.is_missing(street)
    inside = shapely.intersects(street[far], shapely.union_all(cut))
    return int(far.sum()), float(shapely.area(parts[far]).sum()), int(inside.sum())


def polygon_strips(polys: np.ndarray, cut: np.ndarray, lines: np.ndarray) -> tuple[int, float]:
    """Pieces of the polygons (barriers out) farther than ``TOUCH_M`` from every street."""
    land = shapely.difference(polys, shapely.union_all(cut))
    parts = shapely.get_parts(land)
    parts = parts[shapely.area(parts) > MIN_PIECE_M2]
    near, _ = shapely.STRtree(lines).query(parts, predicate="dwithin", distance=TOUCH_M)
    lonely = np.setdiff1d(np.arange(len(parts)), near)
    return len(lonely), float(shapely.area(parts[lonely]).sum())


def services_near_water(net, cut: np.ndarray, n: int, seed: int) -> gpd.GeoDataFrame:
    """Seeded service points on streets within 300 m of a barrier (where the question arises)."""
    rng = np.random.default_rng(seed)
    near = np.unique(shapely.STRtree(net.segment_lines).query(cut, predicate="dwithin", distance=300)[1])
    seg = rng.choice(near, size=min(n, len(near)), replace=False)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(net.segment_lines[seg], 0.5, normalized=True))
    return gpd.GeoDataFrame(geometry=shapely.points(xy), crs=net.crs, index=[f"S{i}" for i in range(len(seg))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()

    from lifecircle.geo.network.barriers import barriers_from_osm
    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.isochrones import isochrones
    from lifecircle.geo.reach.streetcells import StreetCells

    for name in EXTRACTS:
        path = require(SHARED_DATA / "osm" / name)
        net = prepare_network(network_from_osm(path))
        barriers = barriers_from_osm(path)
        cut = barriers.to_crs(net.crs).land_cut()
        lines = net.segment_lines
        t = time.perf_counter()
        plain = StreetCells.build(net, catchment_m=45.0)
        t_plain = time.perf_counter() - t
        t = time.perf_counter()
        walled = StreetCells.build(net, catchment_m=45.0, barriers=barriers)
        t_walled = time.perf_counter() - t
        print(
            f"{name}: {net.n_nodes:,} nodes, {len(barriers.areas)} water areas, {len(barriers.lines)} barrier lines; "
            f"street cells {t_plain:.1f} s without barriers, {t_walled:.1f} s with ({t_walled / t_plain:.2f}x)"
        )
        for label, cells in (("before", plain), ("after", walled)):
            n, area, inside = cell_strips(cells, plain, cut, lines)
            print(
                f"  street cells {label}: {n} pieces across a barrier, {area:,.0f} m² "
                f"({inside} of them in cells whose street itself runs inside a barrier)"
            )
        services = services_near_water(net, cut, args.services, args.seed)
        for label, cells in (("before", plain), ("after", walled)):
            result = isochrones(net, services, minutes=[10, 15], category_column=None, street_cells=cells)
            polys = np.concatenate([result.per_service.geometry.to_numpy(), result.served_area.geometry.to_numpy()])
            n, area = polygon_strips(polys, cut, lines)
            print(
                f"  {len(services)} services near water, 10/15-min polygons and served area {label}: "
                f"{n} strips across a barrier, {area:,.0f} m²"
            )


if __name__ == "__main__":
    main()
