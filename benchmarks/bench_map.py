"""Map size and speed in a real Chromium with the network blocked: the demo and the Phoenix benchmark network.

Run from the repository root (needs ../shared/data and Chromium at /usr/bin/chromium)::

    python benchmarks/bench_map.py [--repeat 3] [--baseline-src DIR] [--json out.json]

Cases:

- ``demo``: ``lifecircle demo`` with no flags (the map as users get it: offline, street layer drawn);
- ``phoenix``: 5,000 compounds and 2,000 services (made as in ``bench_coverage.py``) on the ~60k-node walking
  network of ``phoenix_az303_bench.osm.pbf``, with the whole network as the street layer.

Peers, built and opened in the same run: the same map without the street layer (what the street layer costs),
and with ``--baseline-src`` the map of an older lifecircle checkout (its ``coverage_map`` and ``save_map(...,
offline=True)``, run in a subprocess on the same layers): the map before this change.

Measured per map: file size; in Chromium (every non-file request aborted), the time from navigation to the runtime
having drawn every layer (``ready``), to the first frame painted after it, and to interactive (the end of the
last main-thread task over 50 ms, read from the Long Tasks API, with 2 s of quiet after it). Median of
``--repeat`` page loads, each in a fresh page.

Panning (every page load): at the opening view and at zooms 14, 16 and 17, six mouse drags of ~300 px (each over
~0.6 s, there and back, across and down), with a Chromium trace. Per zoom and load: the longest gap between frames
(wall time: on a loaded machine other processes' work shows in it) and the longest main-thread task in thread CPU
time (what the page itself costs, robust to load); per zoom the median over the loads (the worst single load is
printed too). "No stalls" is: the longest main-thread task while panning <= 50 ms CPU at every zoom (target
``pan_task_ms``), and frame gaps <= 100 ms on an idle machine.
``--map FILE`` measures an existing map too (e.g. the ``map.html`` of ``lifecircle analyze`` on Phoenix).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import PHOENIX, require  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TARGETS = {"demo_mb": 3.0, "phoenix_mb": 20.0, "phoenix_interactive_s": 3.0, "phoenix_pan_task_ms": 50.0}

_INIT = """
window.__lc = { long: [] };
new PerformanceObserver(l => l.getEntries().forEach(e => window.__lc.long.push([e.startTime, e.duration])))
  .observe({ type: "longtask", buffered: true });
"""


def _open_once(browser, path: Path, *, pan: bool = False) -> dict:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page.add_init_script(_INIT)
    page.goto(path.as_uri())
    page.wait_for_function("window.LC && window.LC.last", timeout=60_000)
    ready = page.evaluate("performance.now()")
    frame = page.evaluate(
        "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"
    )
    page.wait_for_function("LC.last.streetsDone !== false", timeout=60_000)
    streets = page.evaluate("performance.now()")
    page.wait_for_timeout(2000)
    long_tasks = page.evaluate("window.__lc.long")
    interactive = max([ready, *(s + d for s, d in long_tasks)])
    timing = page.evaluate("LC.last.timing || null")
    pans = {}
    if pan:
        opening = page.evaluate("LC.last.map.getZoom()")
        for zoom in (opening, 14, 16, 17):
            page.evaluate(f"void LC.last.map.setZoom({zoom}, {{animate: false}})")
            page.wait_for_timeout(600)
            pans[zoom] = _pan(browser, page)
    page.close()
    out = {
        "ready_s": ready / 1000,
        "first_frame_s": frame / 1000,
        "streets_drawn_s": streets / 1000,
        "interactive_s": interactive / 1000,
        "runtime_ms": timing,
        "page_errors": errors,
    }
    if pans:
        out["pan"] = pans
        out["pan_max_frame_gap_ms"] = max(p["max_frame_gap_ms"] for p in pans.values())
        out["pan_task_ms"] = max(p["longest_task_cpu_ms"] for p in pans.values())
    return out


_DRAGS = ((-10, -5), (10, 5), (-12, 0), (0, 8), (12, 0), (0, -8))  # px per mouse step, 30 steps per drag


def _pan(browser, page) -> dict:
    """Six mouse drags over the map: the longest frame gap (wall ms) and main-thread task (thread CPU ms)."""
    box = page.evaluate(
        "(() => { const r = LC.last.map.getContainer().getBoundingClientRect();"
        " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    page.evaluate(
        "() => { window.__gaps = []; let last = performance.now(); window.__run = true;"
        " (function tick(t) { window.__gaps.push(t - last); last = t;"
        " if (window.__run) requestAnimationFrame(tick); })(last); }"
    )
    browser.start_tracing(page=page, categories=["devtools.timeline", "disabled-by-default-devtools.timeline"])
    for dx, dy in _DRAGS:
        page.mouse.move(*box)
        page.mouse.down()
        for step in range(1, 31):
            page.mouse.move(box[0] + dx * step, box[1] + dy * step)
            page.wait_for_timeout(20)
        page.mouse.up()
        page.wait_for_timeout(300)  # the redraw after the drag ends
    page.wait_for_timeout(300)
    events = json.loads(browser.stop_tracing())["traceEvents"]
    gaps = page.evaluate("() => { window.__run = false; return window.__gaps.slice(2); }")
    threads = {
        (e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    tasks = [
        e.get("tdur", 0) / 1000
        for e in events
        if e.get("ph") == "X" and e.get("name") == "RunTask" and threads.get((e["pid"], e["tid"])) == "CrRendererMain"
    ]
    return {
        "max_frame_gap_ms": round(max(gaps), 1) if gaps else 0.0,
        "frame_gaps_over_100ms": sum(g > 100 for g in gaps),
        "longest_task_cpu_ms": round(max(tasks), 1) if tasks else 0.0,
    }


def measure(browser, path: Path, repeat: int) -> dict:
    """Size and median timings of one map file."""
    runs = [_open_once(browser, path, pan=True) for _ in range(repeat)]
    out = {"mb": path.stat().st_size / 1e6}
    for key in ("ready_s", "first_frame_s", "streets_drawn_s", "interactive_s"):
        out[key] = statistics.median(r[key] for r in runs)
    # panning: per zoom, the median over page loads of each load's longest task and frame gap (one load's pan
    # can catch a garbage collection or a first fill of the hit grid)
    out["pan"] = {
        zoom: {
            key: statistics.median(r["pan"][zoom][key] for r in runs)
            for key in ("max_frame_gap_ms", "frame_gaps_over_100ms", "longest_task_cpu_ms")
        }
        for zoom in runs[0]["pan"]
    }
    out["pan_worst_load_task_ms"] = max(r["pan_task_ms"] for r in runs)
    out["pan_max_frame_gap_ms"] = max(p["max_frame_gap_ms"] for p in out["pan"].values())
    out["pan_task_ms"] = max(p["longest_task_cpu_ms"] for p in out["pan"].values())
    out["runtime_ms"] = runs[-1]["runtime_ms"]
    out["page_errors"] = sorted({e for r in runs for e in r["page_errors"]})
    return out


def demo_map(tmp: Path) -> Path:
    """``lifecircle demo`` with no flags; its map."""
    out = tmp / "demo"
    subprocess.run([sys.executable, "-m", "lifecircle", "-q", "demo", "--out", str(out)], check=True, cwd=REPO)
    return out / "map.html"


def phoenix_maps(tmp: Path, baseline_src: Path | None) -> dict[str, Path]:
    """The Phoenix map with and without the street layer (and the baseline checkout's map)."""
    from bench_coverage import make_layers

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.coverage import coverage
    from lifecircle.geo.walk import Walk
    from lifecircle.maps import coverage_map, save_map
    from lifecircle.maps.streets import street_edges

    compounds, services = make_layers(5000, 2000)
    graph = network_from_osm(require(PHOENIX))
    table = coverage(prepare_network(graph), compounds, services, max_walk_min=10).table
    paths = {}
    t0 = time.perf_counter()
    streets = street_edges(graph)
    m = coverage_map(compounds, services, table, walk=Walk(limit_min=10), streets=streets)
    paths["phoenix"] = save_map(m, tmp / "phoenix.html")
    print(f"phoenix map built and written in {time.perf_counter() - t0:.1f} s ({len(streets)} street segments)")
    m = coverage_map(compounds, services, table, walk=Walk(limit_min=10))
    paths["phoenix_no_streets"] = save_map(m, tmp / "phoenix_no_streets.html")
    if baseline_src is not None:
        layers = tmp / "layers.pkl"
        layers.write_bytes(pickle.dumps((compounds, services, table)))
        code = (
            "import pickle, sys; from lifecircle.maps.coverage_map import coverage_map, save_map; "
            f"c, s, t = pickle.load(open({str(layers)!r}, 'rb')); "
            f"save_map(coverage_map(c, s, t, minutes=10, speed_kmh=4.5), {str(tmp / 'baseline.html')!r}, offline=True)"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=baseline_src)
        paths["phoenix_baseline"] = tmp / "baseline.html"
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="page loads per map (median)")
    parser.add_argument("--baseline-src", type=Path, help="an older lifecircle checkout whose map to time as well")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--map", type=Path, action="append", default=[], help="an existing map file to measure too")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        maps = {"demo": demo_map(tmp), **phoenix_maps(tmp, args.baseline_src)}
        maps.update({f"file:{p.parent.name}/{p.name}": p.resolve() for p in args.map})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, path in maps.items():
                results[name] = measure(browser, path, args.repeat)
            browser.close()
    for name, r in results.items():
        print(
            f"{name:20s} {r['mb']:6.2f} MB  ready {r['ready_s']:5.2f} s  first frame {r['first_frame_s']:5.2f} s  "
            f"streets drawn {r['streets_drawn_s']:5.2f} s  "
            f"interactive {r['interactive_s']:5.2f} s  errors {len(r['page_errors'])}"
        )
        print(
            f"{'':20s} panning (median of the loads per zoom): longest main-thread task {r['pan_task_ms']:5.1f} ms "
            f"CPU (worst load {r['pan_worst_load_task_ms']:.1f} ms), longest frame gap "
            f"{r['pan_max_frame_gap_ms']:6.1f} ms; per zoom {r['pan']}"
        )
        print(f"{'':20s} runtime steps (ms): {r['runtime_ms']}")
    if "phoenix_no_streets" in results:
        print(
            f"street layer costs: x{results['phoenix']['mb'] / results['phoenix_no_streets']['mb']:.2f} size, "
            f"x{results['phoenix']['interactive_s'] / results['phoenix_no_streets']['interactive_s']:.2f} "
            "time to interactive"
        )
    checks = {
        "demo_mb": results["demo"]["mb"],
        "phoenix_mb": results["phoenix"]["mb"],
        "phoenix_interactive_s": results["phoenix"]["interactive_s"],
        "phoenix_pan_task_ms": results["phoenix"]["pan_task_ms"],
    }
    for key, value in checks.items():
        print(f"target {key:24s} {value:6.2f} <= {TARGETS[key]:g}: {'ok' if value <= TARGETS[key] else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
