"""Workbook benchmark: ``report.xlsx`` of a 200k-compound analysis, against pandas' own ``to_excel``.

Run from the repository root::

    python benchmarks/bench_workbook.py [--compounds 200000] [--categories 5] [--json out.json]

A synthetic analysis folder (seeded) holds ``summary.json``, ``coverage.csv`` (compounds × (categories + 1) rows:
1.2 million by default, more than one Excel sheet holds), ``compounds.gpkg`` (points) and ``rollup_street.csv``.
Each side runs in its own process, so peak memory and CPU time are its own (CPU time, as the machine may be shared):

- lifecircle: ``write_report`` (the whole report: page, charts, workbook with the named per-compound sheet);
- peer: the per-compound table and the long coverage table written with ``DataFrame.to_excel`` (xlsxwriter, the
  way the report was written before), which fails on the long table past Excel's row limit; its time and memory
  are measured up to the failure and for the per-compound sheet alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_folder(folder: Path, n: int, n_categories: int, seed: int = 7) -> None:
    """A seeded analysis folder of ``n`` compounds."""
    import geopandas as gpd
    import shapely

    from lifecircle.folder import write_csv, write_gpkg, write_json

    rng = np.random.default_rng(seed)
    ids = np.array([f"{i:07d}" for i in range(n)])
    cats = ["all", *[f"类别{k}" for k in range(1, n_categories + 1)]]
    streets = np.array([f"第{k}街道" for k in range(40)])[rng.integers(0, 40, n)]
    walk = rng.gamma(3.0, 3.0, (len(cats), n))
    walk[0] = walk[1:].min(axis=0)
    rows = {
        "compound_id": np.tile(ids, len(cats)),
        "category": np.repeat(cats, n),
        "walk_m": (walk * 75).ravel().round(1),
        "walk_min": walk.ravel().round(2),
        "nearest_service_id": rng.integers(0, 5000, len(cats) * n).astype(str),
        "services_within": rng.integers(0, 5, len(cats) * n),
        "covered": (walk <= 10).ravel(),
        "reach": "ok",
        "compound_name": np.tile(np.char.add("小区", ids), len(cats)),
        "nearest_service_name": np.char.add("服务点", rng.integers(0, 5000, len(cats) * n).astype(str)),
    }
    write_csv(pd.DataFrame(rows), folder / "coverage.csv")
    covered = walk <= 10
    compounds = gpd.GeoDataFrame(
        {
            "name": np.char.add("小区", ids),
            "街道": streets,
            "households": rng.integers(50, 2000, n),
            "has_branch": rng.random(n) < 0.8,
            "status": np.where(covered[0], "covered", "no_service"),
        },
        geometry=shapely.points(rng.uniform(440_000, 460_000, n), rng.uniform(4_420_000, 4_440_000, n)),
        index=pd.Index(ids, name="compound_id"),
        crs="EPSG:32650",
    )
    write_gpkg(compounds, folder / "compounds.gpkg", layer="compounds")
    hh = compounds["households"].to_numpy()
    summary = {
        "compounds": n,
        "households": float(hh.sum()),
        "lang": "zh",
        "categories": {
            c: {
                "compounds_covered": int(covered[k].sum()),
                "compounds_share": round(float(covered[k].mean()), 4),
                "households_share": round(float(hh[covered[k]].sum() / hh.sum()), 4),
                "median_walk_min": round(float(np.median(walk[k])), 2),
                "unreachable": 0,
            }
            for k, c in enumerate(cats)
        },
        "status": {"covered": int(covered[0].sum()), "no_service": int((~covered[0]).sum())},
        "parameters": {"max_walk_min": 10, "max_walk_m": 750, "speed_kmh": 4.5, "max_snap_m": 300},
        "governance_columns": {"street": "街道"},
        "weight_columns": {"households": "households"},
        "unreachable_compounds": {"off_network": 0, "no_service_connected": 0},
        "data_quality": [],
    }
    write_json(summary, folder / "summary.json")
    unit = pd.Series(streets)
    rollup = pd.DataFrame({"compounds": unit.value_counts().sort_index()})
    for k, c in enumerate(cats):
        rollup[f"share_{c}"] = pd.Series(covered[k]).groupby(unit).mean().round(4)
    write_csv(rollup.rename_axis("街道").reset_index(), folder / "rollup_street.csv")


def _lifecircle(folder: Path) -> None:
    from lifecircle.planning.report import write_report

    write_report(folder, lang="zh")


def _peer(folder: Path, which: str) -> None:
    from lifecircle.planning.report_data import load_report_data
    from lifecircle.planning.report_tables import compound_table

    data = load_report_data([folder])
    tables = {"compounds": compound_table(data, "zh").frame}
    if which == "all":
        tables["coverage"] = data.coverage
    with pd.ExcelWriter(folder / "peer.xlsx", engine="xlsxwriter") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name, index=False)


def child(kind: str, folder: Path) -> None:
    """Run one side; print its seconds, peak memory and outcome as JSON."""
    t0 = time.perf_counter()
    outcome = "ok"
    try:
        _lifecircle(folder) if kind == "lifecircle" else _peer(folder, kind.removeprefix("peer-"))
    except Exception as exc:  # the peer fails past Excel's row limit: that failure is the measurement
        outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {"kind": kind, "seconds": round(seconds, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
              "peak_rss_mb": round(usage.ru_maxrss / 1024), "outcome": outcome}  # fmt: skip
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=200_000)
    parser.add_argument("--categories", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_folder(folder, args.compounds, args.categories)
        print(f"folder of {args.compounds:,} compounds made in {time.perf_counter() - t0:.1f} s")
        results = []
        for kind in ("lifecircle", "peer-compounds", "peer-all"):
            run = subprocess.run([sys.executable, __file__, "--child", kind, str(folder)], capture_output=True,
                                 text=True, check=True)  # fmt: skip
            results.append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(results[-1])
        import openpyxl

        book = openpyxl.load_workbook(folder / "report.xlsx", read_only=True)
        sheets = {name: book[name].max_row for name in book.sheetnames}
        print("report.xlsx sheets (rows):", sheets)
        size_mb = (folder / "report.xlsx").stat().st_size / 1e6
        ours, peer = results[0], results[1]
        summary = {
            "compounds": args.compounds,
            "coverage_rows": args.compounds * (args.categories + 1),
            "results": results,
            "workbook_mb": round(size_mb, 1),
            "sheets": sheets,
            "memory_ratio_peer_over_lifecircle": round(peer["peak_rss_mb"] / ours["peak_rss_mb"], 2),
            "cpu_ratio_lifecircle_over_peer_compound_sheet": round(ours["cpu_seconds"] / peer["cpu_seconds"], 2),
        }
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        if args.json:
            args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
