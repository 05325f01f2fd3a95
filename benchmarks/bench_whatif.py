"""What-if page benchmark on the Phoenix network: time per change in real Chromium, against a Python recompute.

Run from the repository root (needs ../shared/data and /usr/bin/chromium)::

    python benchmarks/bench_whatif.py [--compounds 5000] [--services 2000] [--changes 30] [--json out.json]

Input: the ~60k-node walking network of ``phoenix_az303_bench.osm.pbf`` with the compounds and services of
``bench_coverage.py`` (same seed). The page ``whatif.html`` is built in-process (as ``lifecircle what-if`` builds
it) and opened offline in Chromium through Playwright. Through ``window.lifecircle`` it then adds services at
random compounds (random categories), moves each added service, disables existing services and removes the added
ones; each change is timed inside the page (``performance.now()`` around the hook call: the bounded search, the
bookkeeping, the recolouring of compounds whose status changed, the counts table and the changed-compounds list),
and again until the next animation frame has run (Leaflet repaints its canvas there). The peer is what a planner
does without the page: recompute coverage in Python with the service added (``coverage()`` on the prepared
network, the core of ``lifecircle analyze`` without reading files or writing outputs). Finally the page's
coverage after every change is compared with ``coverage()`` run on the page's exported scenario.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _data import PHOENIX, require  # noqa: E402
from bench_coverage import CATEGORIES, make_layers  # noqa: E402

from lifecircle.geo.inputs.layers import read_services  # noqa: E402
from lifecircle.geo.network.graph import prepare_network  # noqa: E402
from lifecircle.geo.network.osm import load_network  # noqa: E402
from lifecircle.geo.reach.coverage import compound_origins, coverage  # noqa: E402
from lifecircle.geo.walk import Walk  # noqa: E402
from lifecircle.maps._offline import write_atomic  # noqa: E402
from lifecircle.maps.whatif import render_whatif  # noqa: E402
from lifecircle.maps.whatif_data import WhatIfScene  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TIMED_CHANGES = """async (ops) => {
  const out = [];
  for (const [kind, a, b, c] of ops) {
    const t0 = performance.now();
    let id = null;
    if (kind === "add") { id = lifecircle.addService(a, b, c); }
    else if (kind === "move") { lifecircle.moveService(a, b, c); }
    else { lifecircle.removeService(a); }
    const t1 = performance.now();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    out.push({kind, id, sync_ms: t1 - t0, frame_ms: performance.now() - t0});
  }
  return out;
}"""


def stats(values: list[float]) -> dict[str, float]:
    """Median, 95th percentile and largest of a list of milliseconds."""
    a = np.asarray(values, dtype=float)
    return {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95)), "max_ms": float(a.max())}


def page_vs_python(page_coverage: dict, table: pd.DataFrame, max_walk_min: float) -> tuple[int, float]:
    """Rows whose covered flag differs, and the largest walk difference (minutes) among covered rows."""
    rows = table.assign(compound_id=table["compound_id"].astype(str))
    page = np.array(
        [
            page_coverage[c][k] if page_coverage[c][k] is not None else np.nan
            for c, k in zip(rows["compound_id"], rows["category"], strict=True)
        ],
        dtype=float,
    )
    covered = rows["covered"].to_numpy(dtype=bool)
    flags = int((np.isfinite(page) != covered).sum())
    both = np.isfinite(page) & covered
    worst = float(np.abs(page[both] - rows["walk_min"].to_numpy()[both]).max()) if both.any() else 0.0
    return flags, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=5000)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--changes", type=int, default=30, help="services added (then moved, disabled, removed)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    require(PHOENIX)
    from playwright.sync_api import sync_playwright

    results: dict = {"compounds": args.compounds, "services": args.services, "changes_each_kind": args.changes}
    compounds, services = make_layers(args.compounds, args.services)
    net = prepare_network(load_network(PHOENIX))
    results["network_nodes"] = net.n_nodes
    results["network_junctions"] = net.chains.n_junctions
    scene = WhatIfScene(
        net=net,
        origins=compound_origins(net, compounds),
        compounds=compounds,
        services=services,
        walk=Walk(limit_min=args.minutes),
        max_snap_m=300.0,
    )
    t0 = time.perf_counter()
    html, _ = render_whatif(scene, lang="en")
    results["page_build_s"] = time.perf_counter() - t0
    results["page_mb"] = len(html.encode("utf-8")) / 1e6

    rng = np.random.default_rng(7)
    points = compounds.geometry.representative_point()
    picks = rng.choice(len(points), 2 * args.changes, replace=False)
    jitter = rng.uniform(-0.001, 0.001, (2 * args.changes, 2))
    spots = [(points.iloc[p].x + dx, points.iloc[p].y + dy) for p, (dx, dy) in zip(picks, jitter, strict=True)]
    cats = rng.choice(CATEGORIES, args.changes).tolist()

    # the peer: Python recomputes coverage with one more service (the core of a new `lifecircle analyze` run)
    peer = []
    for (lon, lat), cat in list(zip(spots[: args.changes], cats, strict=True))[:3]:
        extra = services.iloc[:1].copy()
        extra.index = pd.Index(["extra"], name="service_id")
        extra["category"] = cat
        extra = extra.set_geometry(gpd.GeoSeries.from_xy([lon], [lat], crs=4326, index=extra.index))
        t0 = time.perf_counter()
        coverage(net, compounds, pd.concat([services, extra]), max_walk_min=args.minutes, origins=scene.origins)
        peer.append((time.perf_counter() - t0) * 1000)
    results["python_recompute"] = stats(peer)

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "whatif.html"
        write_atomic(path, html)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort()
        )
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function("window.lifecircle !== undefined", timeout=120_000)
        results["page_open_s"] = time.perf_counter() - t0
        adds = [["add", lon, lat, cat] for (lon, lat), cat in zip(spots[: args.changes], cats, strict=True)]
        timed = page.evaluate(TIMED_CHANGES, adds)
        ids = [t["id"] for t in timed]
        moves = [["move", sid, lon, lat] for sid, (lon, lat) in zip(ids, spots[args.changes :], strict=True)]
        timed += page.evaluate(TIMED_CHANGES, moves)
        existing = [str(s) for s in rng.choice(services.index.to_numpy(), args.changes, replace=False)]
        timed += page.evaluate(TIMED_CHANGES, [["remove", sid, None, None] for sid in existing])
        page_coverage = page.evaluate("lifecircle.coverage()")
        scenario = page.evaluate("lifecircle.scenario()")
        timed += page.evaluate(TIMED_CHANGES, [["remove", sid, None, None] for sid in ids[: args.changes // 2]])
        browser.close()
        scenario_path = Path(tmp) / "scenario.geojson"
        scenario_path.write_text(json.dumps(scenario["geojson"]), encoding="utf-8")
        scenario_services = read_services(scenario_path)

    for kind in ("add", "move", "remove"):
        rows = [t for t in timed if t["kind"] == kind]
        results[f"{kind}_sync"] = stats([t["sync_ms"] for t in rows])
        results[f"{kind}_to_next_frame"] = stats([t["frame_ms"] for t in rows])
    every = [t["sync_ms"] for t in timed]
    results["all_changes_sync"] = stats(every)
    results["changes_over_100ms"] = int(sum(ms > 100 for ms in every))
    results["speedup_vs_python_recompute"] = (
        results["python_recompute"]["median_ms"] / results["all_changes_sync"]["median_ms"]
    )
    check = coverage(net, compounds, scenario_services, max_walk_min=args.minutes, origins=scene.origins)
    flags, worst = page_vs_python(page_coverage, check.table, args.minutes)
    results["scenario_rows_with_other_covered_flag"] = flags
    results["scenario_max_walk_diff_min"] = worst

    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
