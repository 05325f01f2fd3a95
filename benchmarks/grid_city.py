"""A synthetic walkable grid city for the analyze benchmark: an ``.osm.pbf`` street grid, compound polygons and
service points, all drawn from one seed.

Run from the repository root::

    python benchmarks/grid_city.py --nodes 250000 --out /tmp/grid250k [--compounds 5000] [--services 2000]

The city is a square grid of street nodes ``spacing_m`` apart (about ``nodes`` of them), laid out in WGS84 around
Phoenix (33.45 N, 112.07 W) with a local equirectangular projection. Every row and column is cut into ways of
``way_nodes`` nodes tagged ``highway=residential`` (every tenth ``highway=footway``); a seeded share of grid edges is
left out (``missing_share``), so blocks have dead ends and walks detour as in a real city. Compounds are blocks
(the square between four streets, set back 8 m from them), chosen at random without repetition; services are points
inside other blocks, near one of their sides, in four categories. The files are written as
``grid.osm.pbf`` (osmium's SimpleWriter), ``compounds.gpkg`` (``compound_id``, ``name``, ``households``) and
``services.gpkg`` (``service_id``, ``name``, ``category``).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CATEGORIES = ["convenience", "health", "community", "elderly"]
ORIGIN_LAT, ORIGIN_LON = 33.45, -112.07
EARTH_M = 6_371_008.8


@dataclass(frozen=True)
class GridCity:
    """Where the city's files were written, and its size."""

    network: Path
    compounds: Path
    services: Path
    nodes: int
    side: int


def _lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres east/north of the origin as longitude/latitude (equirectangular)."""
    lat = ORIGIN_LAT + np.degrees(y_m / EARTH_M)
    lon = ORIGIN_LON + np.degrees(x_m / (EARTH_M * math.cos(math.radians(ORIGIN_LAT))))
    return lon, lat


def _write_pbf(path: Path, side: int, spacing_m: float, way_nodes: int, missing_share: float, rng) -> None:
    """The street grid as OSM nodes and ways (node id = 1 + row * side + column)."""
    import osmium

    path.unlink(missing_ok=True)
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    lon, lat = _lonlat(cols.ravel() * spacing_m, rows.ravel() * spacing_m)
    ids = np.arange(1, side * side + 1).reshape(side, side)
    writer = osmium.SimpleWriter(str(path))
    try:
        for node_id, x, y in zip(ids.ravel().tolist(), lon.tolist(), lat.tolist(), strict=True):
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(x, y)))
        way_id = 1
        for lines in (ids, ids.T):  # rows, then columns
            for line in lines:
                for start in range(0, side - 1, way_nodes - 1):
                    chain = line[start : start + way_nodes]
                    if len(chain) < 2 or rng.random() < missing_share:
                        continue  # a missing street piece: a dead end
                    kind = "footway" if way_id % 10 == 0 else "residential"
                    writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=chain.tolist(), tags={"highway": kind}))
                    way_id += 1
    finally:
        writer.close()


def _blocks(side: int, spacing_m: float, count: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct blocks (their lower-left grid corner, in metres), at random."""
    blocks = (side - 1) ** 2
    chosen = rng.choice(blocks, size=min(count, blocks), replace=False)
    return (chosen % (side - 1)) * spacing_m, (chosen // (side - 1)) * spacing_m


def make_grid_city(
    out: str | Path,
    *,
    nodes: int,
    compounds: int = 5000,
    services: int = 2000,
    spacing_m: float = 80.0,
    way_nodes: int = 11,
    missing_share: float = 0.03,
    seed: int = 7,
) -> GridCity:
    """Write a grid city of about ``nodes`` street nodes into ``out`` (see the module docstring)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    side = max(3, round(math.sqrt(nodes)))
    rng = np.random.default_rng(seed)
    network = out / "grid.osm.pbf"
    _write_pbf(network, side, spacing_m, way_nodes, missing_share, rng)
    x0, y0 = _blocks(side, spacing_m, compounds + services, rng)
    inset = 8.0
    cx, cy = x0[:compounds], y0[:compounds]
    corners = [(inset, inset), (spacing_m - inset, inset), (spacing_m - inset, spacing_m - inset),
               (inset, spacing_m - inset)]  # fmt: skip
    xs = np.stack([cx + dx for dx, _ in corners], axis=1)
    ys = np.stack([cy + dy for _, dy in corners], axis=1)
    lon, lat = _lonlat(xs, ys)
    rings = np.stack([lon, lat], axis=2)
    polygons = shapely.polygons(rings)
    n_c = len(polygons)
    compound_frame = gpd.GeoDataFrame(
        {"name": [f"compound {i}" for i in range(n_c)], "households": rng.integers(50, 800, n_c)},
        geometry=polygons,
        crs=4326,
        index=pd.Index([f"C{i}" for i in range(n_c)], name="compound_id"),
    )
    sx, sy = x0[compounds:], y0[compounds:]
    n_s = len(sx)
    along = rng.uniform(inset, spacing_m - inset, n_s)
    slon, slat = _lonlat(sx + along, sy + rng.uniform(3.0, inset, n_s))  # near the block's south street
    service_frame = gpd.GeoDataFrame(
        {"name": [f"service {i}" for i in range(n_s)], "category": rng.choice(CATEGORIES, n_s)},
        geometry=shapely.points(slon, slat),
        crs=4326,
        index=pd.Index([f"S{i}" for i in range(n_s)], name="service_id"),
    )
    compound_path, service_path = out / "compounds.gpkg", out / "services.gpkg"
    for path, frame in ((compound_path, compound_frame), (service_path, service_frame)):
        path.unlink(missing_ok=True)
        frame.to_file(path, driver="GPKG")
    return GridCity(network, compound_path, service_path, side * side, side)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=250_000, help="street nodes (about; a square grid)")
    parser.add_argument("--compounds", type=int, default=5000)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    city = make_grid_city(args.out, nodes=args.nodes, compounds=args.compounds, services=args.services, seed=args.seed)
    print(f"{city.nodes:,} nodes ({city.side} x {city.side}): {city.network}, {city.compounds}, {city.services}")


if __name__ == "__main__":
    main()
