"""Benchmark: the network cache on Phoenix (5,000 compounds, 2,000 services), cold against warm.

1. **Network load**, in one process, run alternately: ``--no-cache`` (read the extract, prepare the network:
   what every run paid before the cache), a warm load (the prepared network, street layer and barriers read
   from the cache), and the first load's graph building with networkx's ``add_edges_from`` against the
   adjacency written directly (:func:`lifecircle.geo.network.osm._add_edges`).
2. **Whole ``lifecircle analyze``** (every default output), fresh processes run alternately: cold (empty cache:
   everything built and stored), warm (the same command again) and ``--no-cache``; ``coverage.csv`` must be equal
   byte for byte between the three.

Wall and CPU seconds (user + sys, less sensitive to other work on a shared machine), best of ``--repeat``, and
the ratios warm / no cache. Targets: the warm network load ≤ 0.3 s; a warm analyze faster than a cold one.

Usage: python benchmarks/bench_cache.py [--repeat 3] [--compounds FILE --services FILE] [--skip-analyze]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHOENIX = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "phoenix_az303_bench.osm.pbf"


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def network_load(network: Path, cache: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall/CPU seconds of each way of loading the network (run alternately)."""
    import networkx as nx

    from lifecircle.geo.network import osm
    from lifecircle.geo.walk import Walk
    from lifecircle.planning.network_store import open_network

    os.environ["LIFECIRCLE_CACHE_DIR"] = str(cache)
    walk = Walk()
    open_network(network).prepared(walk)  # fill the cache
    warm_net = open_network(network)
    warm_net.streets  # noqa: B018  (stored too)
    warm_net.barriers()

    def no_cache() -> None:
        open_network(network, use_cache=False).prepared(walk)

    def warm() -> None:
        loaded = open_network(network)
        loaded.prepared(walk)
        loaded.barriers()

    def networkx_edges() -> None:
        fast = osm._add_edges
        osm._add_edges = lambda G, edges: nx.MultiDiGraph.add_edges_from(G, edges)
        try:
            osm.network_from_osm(network)
        finally:
            osm._add_edges = fast

    def direct_edges() -> None:
        osm.network_from_osm(network)

    cases = {"no cache": no_cache, "warm": warm, "graph, networkx": networkx_edges, "graph, direct": direct_edges}
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for name, fn in cases.items():
            wall, cpu = _timed(fn)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall), min(old[1], cpu))
    return best


def analyze_once(args: list[str], out: Path, env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "lifecircle", "-q", "analyze", *args, "--out", str(out), "--force"]
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def whole_analyze(network: Path, compounds: Path, services: Path, work: Path, repeat: int) -> dict:
    """Best wall/CPU seconds of cold, warm and --no-cache analyze processes (run alternately)."""
    base = ["--network", str(network), "--compounds", str(compounds), "--services", str(services)]
    best: dict[str, tuple[float, float]] = {}
    outputs = {}
    for r in range(repeat):
        cache = work / f"cache{r}"
        env = {**os.environ, "LIFECIRCLE_CACHE_DIR": str(cache)}
        for name, extra in (("cold", []), ("warm", []), ("no cache", ["--no-cache"])):
            outputs[name] = work / name.replace(" ", "_")
            wall, cpu = analyze_once([*base, *extra], outputs[name], env)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall), min(old[1], cpu))
    coverage = {name: (out / "coverage.csv").read_bytes() for name, out in outputs.items()}
    best["coverage.csv identical"] = len(set(coverage.values())) == 1  # type: ignore[assignment]
    return best


def _table(title: str, best: dict, peer: str) -> None:
    print(f"\n{title}")
    print(f"{'case':<22}{'wall s':>9}{'CPU s':>9}{'wall / ' + peer:>18}{'CPU / ' + peer:>16}")
    for name, value in best.items():
        if not isinstance(value, tuple):
            print(f"{name:<22}{value!s:>9}")
            continue
        wall, cpu = value
        print(f"{name:<22}{wall:>9.3f}{cpu:>9.3f}{wall / best[peer][0]:>18.3f}{cpu / best[peer][1]:>16.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--network", type=Path, default=PHOENIX)
    parser.add_argument("--compounds", type=Path, default=Path("/tmp/ph/compounds_5000.gpkg"))
    parser.add_argument("--services", type=Path, default=Path("/tmp/ph/services_5000.gpkg"))
    parser.add_argument("--skip-analyze", action="store_true", help="only the network load")
    args = parser.parse_args()
    if not args.network.exists():
        sys.exit(f"{args.network} not found (the Phoenix benchmark extract of ../shared/data/osm)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        work = Path(tmp)
        _table("network load (in process)", network_load(args.network, work / "cache", args.repeat), "no cache")
        if not args.skip_analyze:
            if not (args.compounds.exists() and args.services.exists()):
                sys.exit("compound/service layers not found: make them with benchmarks/bench_coverage.make_layers")
            best = whole_analyze(args.network, args.compounds, args.services, work, args.repeat)
            _table("lifecircle analyze, every default output (fresh processes)", best, "no cache")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
