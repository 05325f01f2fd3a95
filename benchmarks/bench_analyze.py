"""The whole ``lifecircle analyze`` command against the plain script a GIS analyst would write, side by side.

Run from the repository root (Phoenix needs ../shared/data; the grids are made here)::

    python benchmarks/bench_analyze.py [--cases phoenix5k,grid250k] [--repeat 1] [--work /tmp/bench_analyze]

Cases: ``phoenix5k`` / ``phoenix100k`` (the ~60k-node Phoenix extract; compounds are its building footprints,
services other buildings' inside points, seeded as in :mod:`bench_coverage`; past the extract's 44,087 buildings,
footprints are reused shifted by 15-40 m), ``grid250k`` / ``grid1m`` (:mod:`grid_city`, 5,000 compounds and 2,000
services). Each case runs, as child processes in one process group, in turn and interleaved (the order rotates every
round, so load on the machine falls on all alike), ``--repeat`` times:

- *full*: ``lifecircle analyze`` with every default output (served areas, map, report), ``--no-cache`` when the
  network cache exists (a first run on the district);
- *no served areas*: the same with ``--no-served-area``;
- *plain*: :mod:`plain_script` (pyosmium, scipy csgraph ``dijkstra(min_only)`` per category, KD-tree snapping,
  CSV);
- *cached*: the full run again on a warm network cache (only where the cache exists; a second run on the district).

It prints the median wall time and peak memory (the child's own peak RSS, from ``wait4``) of each, the ratios to the
plain script, the stage breakdown of the full run (lifecircle's ``-v`` "took" lines, median), and growth exponents
(time ~ size^k: compounds 5k -> 100k on Phoenix, network 250k -> 1M nodes on the grids) for the cases run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from _data import PHOENIX, require  # noqa: E402

CASES = {
    "phoenix5k": ("phoenix", 5_000),
    "phoenix100k": ("phoenix", 100_000),
    "grid250k": ("grid", 250_000),
    "grid1m": ("grid", 1_000_000),
}
TOOK = re.compile(r"^DEBUG (.+?) took ([0-9.]+) s$", re.M)


@dataclass(frozen=True)
class Inputs:
    network: Path
    compounds: Path
    services: Path


@dataclass
class Runs:
    """Wall seconds and peak RSS (MB) of each run of one variant, and the stage times of each run."""

    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    stages: list[dict[str, float]] = field(default_factory=list)

    def median(self) -> tuple[float, float]:
        return statistics.median(self.seconds), statistics.median(self.rss_mb)


def phoenix_inputs(work: Path, n_compounds: int, n_services: int = 2000) -> Inputs:
    """Phoenix building footprints as compounds, other buildings' points as services (made once, then reused)."""
    out = work / f"phoenix_{n_compounds}"
    inputs = Inputs(require(PHOENIX), out / "compounds.gpkg", out / "services.gpkg")
    if inputs.compounds.exists() and inputs.services.exists():
        return inputs
    import geopandas as gpd
    import pandas as pd
    import shapely
    from bench_coverage import CATEGORIES, buildings

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    footprints = buildings(PHOENIX).geometry.to_numpy()
    order = rng.permutation(len(footprints))
    service_idx, compound_idx = order[:n_services], order[n_services:]
    picks = compound_idx[np.arange(n_compounds) % len(compound_idx)]
    rounds = np.arange(n_compounds) // len(compound_idx)  # 0 for the first use of a footprint
    angle = rng.uniform(0, 2 * np.pi, n_compounds)
    shift_deg = np.where(rounds > 0, rng.uniform(15, 40, n_compounds), 0.0) / 111_000
    geoms = footprints[picks].copy()  # each reused footprint shifted by its own offset
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    offsets = np.column_stack([shift_deg * np.cos(angle), shift_deg * np.sin(angle)])
    geoms = shapely.set_coordinates(shapely.transform(geoms, lambda xy: xy), coords + offsets[owner])
    compounds = gpd.GeoDataFrame(
        {"name": [f"compound {i}" for i in range(n_compounds)], "households": rng.integers(50, 800, n_compounds)},
        geometry=geoms,
        crs=4326,
        index=pd.Index([f"C{i}" for i in range(n_compounds)], name="compound_id"),
    )
    services = gpd.GeoDataFrame(
        {"name": [f"service {i}" for i in range(n_services)], "category": rng.choice(CATEGORIES, n_services)},
        geometry=shapely.point_on_surface(footprints[service_idx]),
        crs=4326,
        index=pd.Index([f"S{i}" for i in range(n_services)], name="service_id"),
    )
    compounds.to_file(inputs.compounds, driver="GPKG")
    services.to_file(inputs.services, driver="GPKG")
    return inputs


def grid_inputs(work: Path, nodes: int) -> Inputs:
    from grid_city import make_grid_city

    out = work / f"grid_{nodes}"
    done = out / "grid.osm.pbf", out / "compounds.gpkg", out / "services.gpkg"
    if not all(p.exists() for p in done):
        make_grid_city(out, nodes=nodes)
    return Inputs(*done)


def has_network_cache() -> bool:
    """Whether this lifecircle has a network cache (``--no-cache``)."""
    help_text = subprocess.run(
        [sys.executable, "-m", "lifecircle", "analyze", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return "--no-cache" in help_text


def run_child(argv: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run one child process to the end: (wall seconds, its own peak RSS in MB, stderr)."""
    err_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_analyze_{os.getpid()}.err"
    with open(err_path, "w+b") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    err_path.unlink(missing_ok=True)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed ({child.returncode}):\n{text[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def variants(inputs: Inputs, out: Path, *, cache: bool, cache_dir: Path) -> dict[str, tuple[list[str], dict]]:
    """The command line and environment of each variant."""
    base = [sys.executable, "-m", "lifecircle", "-v", "analyze", "--network", str(inputs.network),
            "--compounds", str(inputs.compounds), "--services", str(inputs.services), "--lang", "en"]  # fmt: skip
    env = {**os.environ, "LIFECIRCLE_CACHE_DIR": str(cache_dir)}
    no_cache = ["--no-cache"] if cache else []
    plain = [sys.executable, str(BENCH / "plain_script.py"), str(inputs.network), str(inputs.compounds),
             str(inputs.services), str(out / "plain.csv")]  # fmt: skip
    out_args = lambda name: ["--out", str(out / name), "--force"]  # noqa: E731
    runs = {
        "full": ([*base, *no_cache, *out_args("full")], env),
        "no_served": ([*base, *no_cache, "--no-served-area", *out_args("no_served")], env),
        "plain": (plain, env),
    }
    if cache:
        runs["cached"] = ([*base, *out_args("cached")], env)
    return runs


def run_case(name: str, inputs: Inputs, work: Path, repeat: int, cache: bool, *, cached: bool) -> dict[str, Runs]:
    out = work / f"out_{name}"
    cache_dir = work / "cache"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    commands = variants(inputs, out, cache=cache, cache_dir=cache_dir)
    if not cached:
        commands.pop("cached", None)
    results = {key: Runs() for key in commands}
    order = [k for k in commands if k != "cached"]
    for r in range(repeat):
        rotated = order[r % len(order) :] + order[: r % len(order)]
        if cached:  # a warm cache: one run of the district stores it, the next reads it
            shutil.rmtree(cache_dir, ignore_errors=True)
            run_child(commands["cached"][0], env=commands["cached"][1])
            rotated.insert(r % (len(rotated) + 1), "cached")
        for key in rotated:
            argv, env = commands[key]
            seconds, rss, err = run_child(argv, env=env)
            runs = results[key]
            runs.seconds.append(seconds)
            runs.rss_mb.append(rss)
            runs.stages.append({m.group(1): float(m.group(2)) for m in TOOK.finditer(err)})
            print(f"  {name} {key}: {seconds:.1f} s, {rss:,.0f} MB", file=sys.stderr, flush=True)
    return results


def stage_medians(runs: Runs) -> dict[str, float]:
    names = list(dict.fromkeys(k for stages in runs.stages for k in stages))
    return {k: statistics.median(s.get(k, 0.0) for s in runs.stages) for k in names}


def table(results: dict[str, dict[str, Runs]]) -> str:
    cached = any("cached" in r for r in results.values())
    head = ["case", "analyze, every default output", "without served areas", "plain script", "full / plain",
            "no served / plain"] + (["second run (cached)", "cached / plain"] if cached else [])  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, runs in results.items():
        full_s, full_mb = runs["full"].median()
        ns_s, ns_mb = runs["no_served"].median()
        plain_s, plain_mb = runs["plain"].median()
        row = [name, f"{full_s:.1f} s, {full_mb:,.0f} MB", f"{ns_s:.1f} s, {ns_mb:,.0f} MB",
               f"{plain_s:.1f} s, {plain_mb:,.0f} MB", f"{full_s / plain_s:.1f}×",
               f"{ns_s / plain_s:.1f}×"]  # fmt: skip
        if cached:
            c_s, c_mb = runs["cached"].median() if "cached" in runs else (math.nan, math.nan)
            row += [f"{c_s:.1f} s, {c_mb:,.0f} MB", f"{c_s / plain_s:.1f}×"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def stage_table(results: dict[str, dict[str, Runs]]) -> str:
    per_case = {name: stage_medians(runs["full"]) for name, runs in results.items()}
    names = list(dict.fromkeys(k for stages in per_case.values() for k in stages))
    lines = ["| stage (full run) | " + " | ".join(per_case) + " |", "|" + "---|" * (len(per_case) + 1)]
    for stage in names:
        lines.append(f"| {stage} | " + " | ".join(f"{per_case[c].get(stage, 0.0):.1f} s" for c in per_case) + " |")
    return "\n".join(lines)


def exponents(results: dict[str, dict[str, Runs]]) -> list[str]:
    """time ~ size^k between the two sizes of one input, for each variant."""
    pairs = [("compounds", "phoenix5k", "phoenix100k", 5_000, 100_000),
             ("network nodes", "grid250k", "grid1m", 250_000, 1_000_000)]  # fmt: skip
    lines = []
    for what, small, large, n_small, n_large in pairs:
        if small in results and large in results:
            ks = {key: math.log(results[large][key].median()[0] / results[small][key].median()[0])
                  / math.log(n_large / n_small) for key in ("full", "no_served", "plain")}  # fmt: skip
            lines.append(f"growth in {what} ({small} -> {large}): " + ", ".join(f"{k} {v:.2f}" for k, v in ks.items()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="phoenix5k,grid250k", help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per case (median of them); default 1")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_analyze"), help="inputs and outputs go here")
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    parser.add_argument("--no-cached", action="store_true", help="leave out the second run on a warm network cache")
    args = parser.parse_args()
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}")
    args.work.mkdir(parents=True, exist_ok=True)
    cache = has_network_cache()
    results: dict[str, dict[str, Runs]] = {}
    for name in names:
        kind, size = CASES[name]
        inputs = phoenix_inputs(args.work, size) if kind == "phoenix" else grid_inputs(args.work, size)
        results[name] = run_case(name, inputs, args.work, args.repeat, cache, cached=cache and not args.no_cached)
    print(f"median of {args.repeat} interleaved round(s); {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end\n")  # fmt: skip
    print(table(results))
    print()
    print(stage_table(results))
    for line in exponents(results):
        print(line)
    if args.json:
        raw = {c: {k: vars(v) for k, v in runs.items()} for c, runs in results.items()}
        args.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
