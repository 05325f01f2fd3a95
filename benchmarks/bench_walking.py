"""Benchmark: the coverage engine with slope and walker profiles on vs off, on a real network.

Network: ``phoenix_az303_bench.osm.pbf`` (© OpenStreetMap contributors, ODbL), read from
``../shared/data`` beside the repository. A synthetic DEM (rolling hills, ±40 m, 20 m cells, in the network's
UTM zone) is written to a temporary GeoTIFF. 2,000 services (4 categories) and 5,000 compounds (80 m squares)
are placed around random network nodes (seed 5).

Runs (best of ``--repeat``):
  plain      prepare_network(G) + coverage(...)                         (metres, one adult walker)
  slope      prepare_network(G_terrain, weight="effort_m") + coverage   (Tobler, directed)
  profiles   coverage_by_profile(G_terrain, adult/elderly/child/wheelchair) (prepare included)
  apply_terrain(G, dem) is timed separately: it runs once per study.

Usage: python benchmarks/bench_walking.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from _data import PHOENIX as DATA
from rasterio.transform import from_origin

from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.reach.coverage import coverage
from lifecircle.geo.walkers.profiles import coverage_by_profile
from lifecircle.geo.walkers.terrain import apply_terrain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--compounds", type=int, default=5000)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"benchmark network {DATA} is absent")

    t = time.perf_counter()
    G = network_from_osm(DATA)
    print(f"network: {len(G)} nodes, {G.number_of_edges()} directed edges, load {time.perf_counter() - t:.2f} s")
    # the extract has no highway=steps: turn a seeded 3 % of footway/path ways into steps, so that the step rules
    # of the profiles (elderly x2, wheelchair none) need networks of their own
    ways = sorted({d["osmid"] for *_, d in G.edges(data=True) if d.get("highway") in ("footway", "path", "pedestrian")})
    chosen = set(np.random.default_rng(3).choice(ways, max(1, len(ways) * 3 // 100), replace=False).tolist())
    for *_, d in G.edges(data=True):
        if d["osmid"] in chosen:
            d["highway"] = "steps"
    steps = sum(1 for *_, d in G.edges(data=True) if d.get("highway") == "steps")
    print(f"steps: {len(chosen)} of {len(ways)} footway/path ways, {steps} directed edges")
    base = prepare_network(G)
    rng = np.random.default_rng(5)
    xy = base.node_xy
    s_xy = xy[rng.choice(len(xy), args.services)] + rng.normal(0, 15, (args.services, 2))
    c_xy = xy[rng.choice(len(xy), args.compounds)] + rng.normal(0, 15, (args.compounds, 2))
    services = gpd.GeoDataFrame(
        {"name": "s", "category": rng.choice(["clinic", "grocery", "kindergarten", "elderly_care"], args.services)},
        geometry=shapely.points(s_xy),
        crs=base.crs,
        index=[f"s{i}" for i in range(args.services)],
    )
    compounds = gpd.GeoDataFrame(
        {
            "name": "c",
            "population": rng.integers(200, 3000, args.compounds),
            "pop_60plus": rng.integers(20, 600, args.compounds),
        },
        geometry=shapely.box(c_xy[:, 0] - 40, c_xy[:, 1] - 40, c_xy[:, 0] + 40, c_xy[:, 1] + 40),
        crs=base.crs,
        index=[f"c{i}" for i in range(args.compounds)],
    )

    with tempfile.TemporaryDirectory() as tmp:
        minx, miny, maxx, maxy = base.bounds
        cell = 20.0
        west, north = minx - 200, maxy + 200
        cols = int((maxx - minx + 400) / cell) + 1
        rows = int((maxy - miny + 400) / cell) + 1
        gx = west + cell * (np.arange(cols) + 0.5)
        gy = north - cell * (np.arange(rows) + 0.5)
        X, Y = np.meshgrid(gx, gy)
        Z = 300 + 40 * np.sin(2 * np.pi * X / 1500) * np.cos(2 * np.pi * Y / 2100) + 0.01 * (X - west)
        dem = Path(tmp) / "hills.tif"
        with rasterio.open(
            dem,
            "w",
            driver="GTiff",
            height=rows,
            width=cols,
            count=1,
            dtype="float32",
            crs=base.crs.to_wkt(),
            transform=from_origin(west, north, cell, cell),
        ) as dst:
            dst.write(Z.astype("float32"), 1)
        print(f"DEM: {cols}×{rows} cells of {cell:.0f} m")
        t0 = time.process_time()
        G_t = apply_terrain(G, dem)
        t_terrain = time.process_time() - t0

    def plain():
        return coverage(prepare_network(G), compounds, services)

    def slope():
        return coverage(prepare_network(G_t, weight="effort_m"), compounds, services)

    def profiles():
        return coverage_by_profile(G_t, compounds, services)

    def profiles_flat():
        return coverage_by_profile(G, compounds, services)

    # interleaved rounds, best of each: the 2 cores are shared, so load drifts during the run; the ratios use
    # process CPU time, which other engineers' jobs disturb much less than wall time
    runs = {
        "plain": plain,
        "slope": slope,
        "profiles": profiles,
        "profiles_flat": profiles_flat,
        "cov_only": lambda: coverage(base, compounds, services),
    }
    times = {name: [] for name in runs}
    walls = {name: [] for name in runs}
    outs = {}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            gc.collect()  # each run starts from the same heap, not from the previous run's garbage
            t, w = time.process_time(), time.perf_counter()
            outs[name] = fn()
            times[name].append(time.process_time() - t)
            walls[name].append(time.perf_counter() - w)
    t_plain, t_slope, t_prof, t_prof_flat, t_cov_only = (min(times[n]) for n in runs)
    r_plain, r_slope, r_prof = outs["plain"], outs["slope"], outs["profiles"]
    print("CPU s per run: ", {n: [round(x, 2) for x in v] for n, v in times.items()})
    print("wall s per run:", {n: [round(x, 2) for x in v] for n, v in walls.items()})
    print("best wall: " + ", ".join(f"{n} {min(v):.2f} s" for n, v in walls.items()))
    print("best CPU below; ratios against plain:")

    share = lambda r: r.table.query("category == 'all'")["covered"].mean()  # noqa: E731
    print(f"apply_terrain (once per study):      {t_terrain:6.2f} s")
    print(f"plain   prepare+coverage:             {t_plain:6.2f} s   covered(all) {share(r_plain):.3f}")
    print(f"  (coverage alone on a prepared net:  {t_cov_only:6.2f} s)")
    print(
        f"slope   prepare+coverage:             {t_slope:6.2f} s   covered(all) {share(r_slope):.3f}"
        f"   ratio {t_slope / t_plain:.2f}×"
    )
    print(f"4 profiles, flat:                     {t_prof_flat:6.2f} s   ratio {t_prof_flat / t_plain:.2f}×")
    print(
        f"4 profiles with slope:                {t_prof:6.2f} s   ratio {t_prof / t_plain:.2f}×"
        f"   per profile {t_prof / 4 / t_plain:.2f}×"
    )
    median = {n: float(np.median(v)) for n, v in times.items()}
    print(
        "median CPU ratios against plain: "
        + ", ".join(f"{n} {median[n] / median['plain']:.2f}×" for n in ("slope", "profiles_flat", "profiles"))
    )
    print(r_prof.summary.query("category == 'all'").to_string(index=False))


if __name__ == "__main__":
    main()
