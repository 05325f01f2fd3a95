"""Benchmark: lifecircle siting (reduce + sparse model + warm-started HiGHS) vs PySAL spopt (PuLP + CBC).

Same coverage matrix for both, MCLP with K=10 and K=50 and LSCP. Times model build and solve separately,
reports time to proven optimum, the proven gap at the time limit, and greedy's gap.

The matrix comes from a seeded synthetic street-grid instance for now (compounds clustered like housing
estates, candidates on a 100 m street grid, walking distance = grid (L1) distance × a detour factor).
Swap in a real walking-network matrix by calling :func:`run` with a :class:`CoverageMatrix`.

Usage::

    PYTHONPATH=. /work/venv/bin/python benchmarks/bench_siting.py --compounds 5000 --candidates 2000 \
        --time-limit-s 60 --json bench_siting.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time

import numpy as np
from scipy.spatial import cKDTree

from lifecircle.planning.siting import CoverageMatrix, CoverAll, MaxCoverage


def synthetic_matrix(
    n_compounds: int = 5000,
    n_candidates: int = 2000,
    *,
    radius_m: float = 800.0,
    side_m: float | None = None,
    seed: int = 7,
) -> CoverageMatrix:
    """A street-grid-like coverage matrix: ~40 candidates within reach of a compound at the defaults."""
    rng = np.random.default_rng(seed)
    side = side_m or 8000.0 * math.sqrt(n_candidates / 2000.0)
    n_clustered = int(0.7 * n_compounds)
    centres = rng.uniform(0.1 * side, 0.9 * side, size=(max(1, n_compounds // 120), 2))
    pick = rng.integers(0, len(centres), n_clustered)
    clustered = centres[pick] + rng.normal(0, 0.06 * side, size=(n_clustered, 2))
    uniform = rng.uniform(0, side, size=(n_compounds - n_clustered, 2))
    comp = np.clip(np.vstack([clustered, uniform]), 0, side)
    # candidates on street lines every 100 m
    cand = rng.uniform(0, side, size=(n_candidates, 2))
    axis = rng.integers(0, 2, n_candidates)
    cand[np.arange(n_candidates), axis] = np.round(cand[np.arange(n_candidates), axis] / 100.0) * 100.0
    tree_c, tree_s = cKDTree(comp), cKDTree(cand)
    D = tree_c.sparse_distance_matrix(tree_s, radius_m, p=1, output_type="coo_matrix")
    detour = 1.0 + rng.gamma(2.0, 0.06, size=D.nnz)
    walk = D.data * detour
    households = rng.integers(50, 1500, n_compounds)
    return CoverageMatrix.from_pairs(
        [f"c{i}" for i in range(n_compounds)], [f"s{j}" for j in range(n_candidates)], D.row, D.col,
        walk_m=walk, limit_m=radius_m, weights=households,
    )


_CBC_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s*([-+0-9.eE]+)", re.M)
_CBC_OBJ = re.compile(r"^Objective value:\s*([-+0-9.eE]+)", re.M)


def _spopt(matrix: CoverageMatrix, model: str, k: int | None, time_limit_s: float) -> dict:
    import pulp
    from spopt.locate import LSCP, MCLP

    radius = matrix.limit_m
    cost = np.full(matrix.shape, 10.0 * radius)
    dense = matrix.distances.toarray()
    mask = matrix.cover.toarray()
    cost[mask] = dense[mask]
    t0 = time.perf_counter()
    if model == "lscp":
        problem = LSCP.from_cost_matrix(cost, radius)
    else:
        problem = MCLP.from_cost_matrix(cost, np.asarray(matrix.weights), radius, k)
    build_s = time.perf_counter() - t0
    fd, log_path = tempfile.mkstemp(suffix=".log")
    os.close(fd)
    t1 = time.perf_counter()
    err = None
    try:
        problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, logPath=log_path))
    except RuntimeError as e:  # spopt raises when PuLP status is not 1
        err = str(e)
    solve_s = time.perf_counter() - t1
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    os.unlink(log_path)
    prob = problem.problem
    optimal = prob.sol_status == pulp.LpSolutionOptimal
    obj = pulp.value(prob.objective) if prob.sol_status in (1, 2) else math.nan
    b = _CBC_BOUND.findall(text)
    bound = obj if optimal else (abs(float(b[-1])) if b else math.nan)
    return {
        "build_s": build_s, "solve_s": solve_s, "total_s": build_s + solve_s,
        "objective": obj, "bound": bound, "optimal": bool(optimal), "error": err,
        "pulp_status": pulp.LpStatus[prob.status], "sol_status": int(prob.sol_status),
    }


def _ours(matrix: CoverageMatrix, model: str, k: int | None, time_limit_s: float) -> dict:
    t0 = time.perf_counter()
    m = CoverAll.from_matrix(matrix) if model == "lscp" else MaxCoverage.from_matrix(matrix, k=k)
    res = m.solve(solver="highs", time_limit_s=time_limit_s)
    total = time.perf_counter() - t0
    st = res.stats
    g = st["greedy_objective"] + (st["fixed"] if model == "lscp" else 0.0)
    sense = "min" if model == "lscp" else "max"
    greedy_gap = ((g - res.bound) if sense == "min" else (res.bound - g)) / abs(g) if g else math.nan
    return {
        "build_s": st["reduce_s"] + st["build_s"], "greedy_s": st["greedy_s"],
        "solve_s": st.get("solve_s", 0.0),
        "total_s": total, "objective": res.objective, "bound": res.bound, "gap": res.gap,
        "optimal": res.optimal, "status": res.status, "solver": res.solver, "greedy_objective": g,
        "greedy_gap": greedy_gap, "n_sites": len(res.site_ids),
        "reduced": {k2: st[k2] for k2 in ("groups", "columns", "pairs_reduced", "fixed")},
    }


def _gap(obj, bound, sense):
    if not (math.isfinite(obj) and math.isfinite(bound)) or obj == 0:
        return math.nan
    return max(0.0, (bound - obj) if sense == "max" else (obj - bound)) / abs(obj)


def run(matrix: CoverageMatrix, *, time_limit_s: float = 60.0, spopt: bool = True, cases=None) -> list[dict]:
    """Run every case on ``matrix``; returns one dict per case."""
    cases = cases or [("mclp", 10), ("mclp", 50), ("lscp", None)]
    rows = []
    for model, k in cases:
        name = f"{model.upper()}" + (f" K={k}" if k else "")
        print(f"-- {name}", file=sys.stderr, flush=True)
        ours = _ours(matrix, model, k, time_limit_s)
        row = {"case": name, "ours": ours}
        if spopt:
            sp = _spopt(matrix, model, k, time_limit_s)
            sense = "min" if model == "lscp" else "max"
            sp["gap"] = 0.0 if sp["optimal"] else _gap(sp["objective"], sp["bound"], sense)
            sp["gap_vs_our_bound"] = _gap(sp["objective"], ours["bound"], sense)
            row["spopt"] = sp
            if ours["optimal"] and sp["optimal"]:
                row["speedup_to_optimum"] = sp["total_s"] / ours["total_s"]
        rows.append(row)
    return rows


def _fmt(v, spec=".3g"):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec)


def print_table(rows: list[dict]) -> None:
    hdr = (f"{'case':<10} {'who':<7} {'build s':>8} {'solve s':>8} {'total s':>8} {'objective':>12} "
           f"{'bound':>12} {'gap':>8} {'optimal':>7} {'greedy gap':>10}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        o = r["ours"]
        print(f"{r['case']:<10} {'ours':<7} {_fmt(o['build_s'])!s:>8} {_fmt(o['solve_s'])!s:>8} "
              f"{_fmt(o['total_s'])!s:>8} {_fmt(o['objective'], '.6g')!s:>12} "
              f"{_fmt(o['bound'], '.6g')!s:>12} "
              f"{_fmt(o['gap'], '.2%')!s:>8} {o['optimal']!s:>7} {_fmt(o['greedy_gap'], '.2%')!s:>10}")
        if "spopt" in r:
            s = r["spopt"]
            print(f"{'':<10} {'spopt':<7} {_fmt(s['build_s'])!s:>8} {_fmt(s['solve_s'])!s:>8} "
                  f"{_fmt(s['total_s'])!s:>8} {_fmt(s['objective'], '.6g')!s:>12} "
                  f"{_fmt(s['bound'], '.6g')!s:>12} "
                  f"{_fmt(s['gap'], '.2%')!s:>8} {s['optimal']!s:>7} {'':>10}")
        if "speedup_to_optimum" in r:
            print(f"{'':<10} speed-up to proven optimum incl. build: {r['speedup_to_optimum']:.1f}x")


def _clean(v):
    """JSON-safe copy: non-finite floats become null."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compounds", type=int, default=5000)
    ap.add_argument("--candidates", type=int, default=2000)
    ap.add_argument("--radius-m", type=float, default=800.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--json", default="bench_siting.json")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    matrix = synthetic_matrix(a.compounds, a.candidates, radius_m=a.radius_m, seed=a.seed)
    gen_s = time.perf_counter() - t0
    per_row = matrix.cover.nnz / matrix.shape[0]
    print(f"{matrix!r}; {per_row:.1f} candidates per compound; generated in {gen_s:.1f}s; "
          f"{os.cpu_count()} cores (shared)")
    spopt = not a.no_spopt
    if spopt:
        try:
            import spopt.locate
        except ImportError as e:
            print(f"spopt not importable ({e}); ours only")
            spopt = False
    rows = run(matrix, time_limit_s=a.time_limit_s, spopt=spopt)
    print_table(rows)
    out = {
        "instance": {"compounds": a.compounds, "candidates": a.candidates, "radius_m": a.radius_m,
                     "seed": a.seed, "pairs": int(matrix.cover.nnz), "time_limit_s": a.time_limit_s,
                     "cores": os.cpu_count()},
        "cases": rows,
    }
    tmp = a.json + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_clean(out), f, indent=2)
    os.replace(tmp, a.json)
    print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
