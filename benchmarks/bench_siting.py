"""Benchmark: lifecircle siting (reduce + sparse model + bounds + HiGHS) against the models a competent user writes.

Who is who, on the same coverage matrix (MCLP with K=10 and K=50, LSCP, p-median with K=10):

- ``ours/highs``: ``MaxCoverage`` / ``CoverAll`` / ``PMedian`` ``.solve()``, model building included.
- ``scipy milp``: the direct sparse model built from the CSR matrix for ``scipy.optimize.milp`` (HiGHS inside):
  the strongest plain peer. p-median as savings over each compound's fallback walk.
- ``pulp/cbc``: the same direct model written with PuLP, solved by its bundled CBC; optimality read from
  ``sol_status`` (PuLP's ``status`` says "Optimal" also for a solution found when CBC stops at the time limit).
- ``spopt/cbc``: PySAL spopt's ``MCLP`` / ``LSCP`` from a dense cost matrix (no p-median: spopt's knows no existing
  services or fallback walk).

Ours and scipy milp run ``--repeats`` times interleaved (median kept); the ratio printed is ours over the peer's
total time (<= 1: as fast or faster). Reports time to proven optimum, the proven gap at the time limit, and
greedy's gap against the best proven bound.

Instances:

- ``phoenix`` (default): the real walking network of ``phoenix_az303_bench.osm.pbf`` (``../shared/data/osm``, or
  ``$LIFECIRCLE_SHARED_DATA/osm``). Compounds are building footprints (representative points),
  candidates and existing services are other buildings, all drawn with a fixed seed by
  ``bench_coverage.make_layers``; the coverage matrix is built with ``pairs_within`` on the network, the existing
  services' walking distances with ``nearest_destination``. Compounds existing services already reach are fixed.
- ``synthetic``: a seeded street-grid-like matrix (denser, harder for every solver) as a stress test.

spopt does not know existing services, so it is given the same problem: for MCLP the already-covered compounds
get weight 0 (its objective then equals ours, the newly covered weight); for LSCP only compounds that are not
covered yet and that some candidate reaches are passed (spopt needs every row coverable).

Usage::

    python benchmarks/bench_siting.py [--instance phoenix] [--compounds 5000] \
        [--candidates 2500] [--existing 100] [--minutes 10] [--time-limit-s 60] [--json bench_siting.json]
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
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import PHOENIX  # noqa: E402

from lifecircle.planning.siting import CoverageMatrix, CoverAll, MaxCoverage, PMedian  # noqa: E402

PHOENIX_CANDIDATES = (PHOENIX,)


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
        [f"c{i}" for i in range(n_compounds)],
        [f"s{j}" for j in range(n_candidates)],
        D.row,
        D.col,
        walk_m=walk,
        limit_m=radius_m,
        weights=households,
    )


def phoenix_matrix(
    path: Path,
    *,
    n_compounds: int = 5000,
    n_candidates: int = 2500,
    n_existing: int = 100,
    minutes: float = 10.0,
    speed_kmh: float = 4.5,
    seed: int = 42,
) -> tuple[CoverageMatrix, dict]:
    """The real-network coverage matrix and the timings of each step (see the module docstring)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_coverage

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.routing.paths import nearest_destination
    from lifecircle.geo.routing.snapping import snap_points
    from lifecircle.planning.siting import build_coverage_matrix

    timings = {}
    bench_coverage.PHOENIX = path  # make_layers reads the module's path
    t = time.perf_counter()
    compounds, others = bench_coverage.make_layers(n_compounds, n_existing + n_candidates, seed=seed)
    existing, candidates = others.iloc[:n_existing], others.iloc[n_existing:]
    candidates = candidates.rename_axis("site_id")
    timings["layers_s"] = time.perf_counter() - t
    t = time.perf_counter()
    net = prepare_network(network_from_osm(path))
    timings["network_s"] = time.perf_counter() - t
    limit_m = minutes * speed_kmh * 1000.0 / 60.0
    t = time.perf_counter()
    c_att = snap_points(net, compounds.geometry.representative_point())
    s_att = snap_points(net, candidates.geometry)
    e_att = snap_points(net, existing.geometry)
    existing_walk_m = nearest_destination(net, c_att, e_att)[0] if n_existing else None
    timings["snap_existing_s"] = time.perf_counter() - t
    t = time.perf_counter()
    matrix = build_coverage_matrix(
        net,
        c_att,
        s_att,
        limit_m,
        compound_ids=compounds.index,
        site_ids=candidates.index,
        weights=compounds["households"].to_numpy(),
        existing_walk_m=existing_walk_m,
    )
    timings["matrix_s"] = time.perf_counter() - t
    timings["network_nodes"] = int(net.n_nodes)
    timings["limit_m"] = limit_m
    return matrix, timings


PROOF_GAP = 1e-6  # the relative gap lifecircle proves by default: the scipy peer proves the same

_CBC_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s*([-+0-9.eE]+)", re.M)
_CBC_OBJ = re.compile(r"^Objective value:\s*([-+0-9.eE]+)", re.M)


def _spopt(matrix: CoverageMatrix, model: str, k: int | None, time_limit_s: float) -> dict:
    """spopt + its default CBC on the same problem; dense cost-matrix preparation, build and solve timed apart."""
    import pulp
    from spopt.locate import LSCP, MCLP

    radius = matrix.limit_m
    t = time.perf_counter()
    cost = np.full(matrix.shape, 10.0 * radius)
    cover = matrix.cover.toarray()
    cost[cover] = matrix.distances.toarray()[cover]
    prep_s = time.perf_counter() - t
    t0 = time.perf_counter()
    if model == "lscp":
        rows = ~matrix.covered & cover.any(axis=1)
        problem = LSCP.from_cost_matrix(cost[rows], radius)
    else:
        weights = np.where(matrix.covered, 0.0, matrix.weights)
        problem = MCLP.from_cost_matrix(cost, weights, radius, k)
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
        "prep_s": prep_s,
        "build_s": build_s,
        "solve_s": solve_s,
        "total_s": build_s + solve_s,
        "objective": obj,
        "bound": bound,
        "optimal": bool(optimal),
        "error": err,
        "status": "optimal" if optimal else ("time_limit" if prob.sol_status == 2 else pulp.LpStatus[prob.status]),
        "sol_status": int(prob.sol_status),
    }


def _peer_rows(matrix: CoverageMatrix) -> tuple:
    """What a direct model needs: the compounds not covered yet that some candidate reaches (the others cannot
    change the objective), their weights and their rows of the coverage matrix (CSR, booleans)."""
    cover = matrix.cover.tocsr().astype(bool)
    rows = np.flatnonzero(~matrix.covered & (np.diff(cover.indptr) > 0))
    return rows, matrix.weights[rows].astype(float), cover[rows]


def _scipy_milp(matrix: CoverageMatrix, model: str, k: int | None, time_limit_s: float) -> dict:
    """The direct sparse model a competent user writes for ``scipy.optimize.milp`` (HiGHS inside).

    MCLP: binary ``x_j`` (site), ``y_i`` in [0, 1] (compound covered), max ``sum w_i y_i`` s.t.
    ``y_i <= sum_{j reaches i} x_j`` and ``sum x_j <= K``. LSCP: min ``sum x_j`` s.t. every compound not covered
    yet that some candidate reaches gets ``sum_{j reaches i} x_j >= 1``. Built from the CSR matrix with scipy.sparse.
    """
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    _, weights, a = _peer_rows(matrix)
    n_i, n_j = a.shape
    if model == "pmedian":
        return _scipy_pmedian(matrix, k, time_limit_s)
    if model == "lscp":
        c = np.ones(n_j)
        cons = [LinearConstraint(a.astype(float), lb=1.0, ub=np.inf)]
        integrality, bounds = np.ones(n_j), Bounds(0, 1)
    else:
        c = np.r_[np.zeros(n_j), -weights]
        link = sp.hstack([-a.astype(float), sp.identity(n_i, format="csr")], format="csr")  # y_i - sum x_j <= 0
        budget = sp.csr_array(np.r_[np.ones(n_j), np.zeros(n_i)][None, :])
        cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, -np.inf, float(k))]
        integrality, bounds = np.r_[np.ones(n_j), np.zeros(n_i)], Bounds(0, 1)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    options = {"time_limit": time_limit_s, "mip_rel_gap": PROOF_GAP}
    res = milp(c, constraints=cons, integrality=integrality, bounds=bounds, options=options)
    solve_s = time.perf_counter() - t1
    optimal = res.status == 0
    obj = math.nan if res.x is None else (float(res.fun) if model == "lscp" else -float(res.fun))
    bound = getattr(res, "mip_dual_bound", math.nan)
    bound = math.nan if bound is None else (float(bound) if model == "lscp" else -float(bound))
    return {
        "build_s": build_s,
        "solve_s": solve_s,
        "total_s": build_s + solve_s,
        "objective": obj,
        "bound": obj if optimal else bound,
        "optimal": bool(optimal),
        "status": "optimal" if optimal else str(res.message)[:40],
    }


def _savings(matrix: CoverageMatrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """p-median as savings: each compound keeps its fallback walk (nearest existing service, else twice the limit,
    as lifecircle's default) unless a new site is nearer. Returns the pairs that save (compound, site, weighted
    metres saved) and the total weighted fallback walk of the compounds counted."""
    existing = matrix.existing_walk_m if matrix.existing_walk_m is not None else np.full(matrix.shape[0], np.inf)
    fallback = np.where(np.isfinite(existing), existing, 2.0 * matrix.limit_m)
    coo = matrix.distances.tocoo()
    saved = matrix.weights[coo.row] * (fallback[coo.row] - coo.data)
    keep = saved > 0
    # compounds with neither an existing service nor a candidate are reported unreachable, not charged
    counted = np.isfinite(existing) | (np.diff(matrix.cover.tocsr().indptr) > 0)
    return coo.row[keep], coo.col[keep], saved[keep], float((matrix.weights * fallback)[counted].sum())


def _scipy_pmedian(matrix: CoverageMatrix, k: int, time_limit_s: float) -> dict:
    """The direct sparse p-median for scipy ``milp``: binary ``x_j``, ``z_p`` in [0, 1] per saving pair, max
    savings s.t. ``z_p <= x_j``, ``sum_p of i z_p <= 1``, ``sum x_j <= K``."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    row, col, saved, total = _savings(matrix)
    n_j, n_p, n_i = matrix.shape[1], len(row), matrix.shape[0]
    pairs = np.arange(n_p)
    link = sp.csr_array(
        (np.r_[np.ones(n_p), -np.ones(n_p)], (np.r_[pairs, pairs], np.r_[n_j + pairs, col])), shape=(n_p, n_j + n_p)
    )
    once = sp.csr_array((np.ones(n_p), (row, n_j + pairs)), shape=(n_i, n_j + n_p))
    budget = sp.csr_array(np.r_[np.ones(n_j), np.zeros(n_p)][None, :])
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(once, -np.inf, 1.0),
            LinearConstraint(budget, -np.inf, float(k))]  # fmt: skip
    c = np.r_[np.zeros(n_j), -saved]
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = milp(c, constraints=cons, integrality=np.r_[np.ones(n_j), np.zeros(n_p)], bounds=Bounds(0, 1),
               options={"time_limit": time_limit_s, "mip_rel_gap": PROOF_GAP})  # fmt: skip
    solve_s = time.perf_counter() - t1
    optimal = res.status == 0
    obj = math.nan if res.x is None else total + float(res.fun)
    return {"build_s": build_s, "solve_s": solve_s, "total_s": build_s + solve_s, "objective": obj,
            "bound": obj if optimal else math.nan, "optimal": bool(optimal),
            "status": "optimal" if optimal else str(res.message)[:40]}  # fmt: skip


def _pulp_cbc(matrix: CoverageMatrix, model: str, k: int | None, time_limit_s: float) -> dict:
    """The same direct sparse model written with PuLP and solved by its bundled CBC.

    Optimality is read from ``sol_status`` (``LpSolutionOptimal``), not from ``status``: PuLP reports status 1
    ("Optimal") also for an integer solution found when CBC stops at the time limit.
    """
    import pulp

    t0 = time.perf_counter()
    _, weights, a = _peer_rows(matrix)
    n_i, n_j = a.shape
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_j)]
    total = 0.0
    if model == "pmedian":
        row, col, saved, total = _savings(matrix)
        prob = pulp.LpProblem("pmedian", pulp.LpMaximize)
        z = [pulp.LpVariable(f"z{p}", lowBound=0, upBound=1) for p in range(len(row))]
        prob += pulp.lpSum(float(s) * zp for s, zp in zip(saved, z, strict=True))
        for p, j in enumerate(col):
            prob += z[p] <= x[j]
        for members in np.split(np.argsort(row, kind="stable"), np.flatnonzero(np.diff(np.sort(row))) + 1):
            prob += pulp.lpSum(z[p] for p in members) <= 1
        prob += pulp.lpSum(x) <= k
    elif model == "lscp":
        prob = pulp.LpProblem("lscp", pulp.LpMinimize)
        prob += pulp.lpSum(x)
        for i in range(n_i):
            prob += pulp.lpSum(x[j] for j in a.indices[a.indptr[i] : a.indptr[i + 1]]) >= 1
    else:
        prob = pulp.LpProblem("mclp", pulp.LpMaximize)
        y = [pulp.LpVariable(f"y{i}", lowBound=0, upBound=1) for i in range(n_i)]
        prob += pulp.lpSum(float(w) * yi for w, yi in zip(weights, y, strict=True))
        for i in range(n_i):
            prob += y[i] <= pulp.lpSum(x[j] for j in a.indices[a.indptr[i] : a.indptr[i + 1]])
        prob += pulp.lpSum(x) <= k
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    solve_s = time.perf_counter() - t1
    optimal = prob.sol_status == pulp.LpSolutionOptimal
    obj = pulp.value(prob.objective) if prob.sol_status in (1, 2) else math.nan
    if model == "pmedian":
        obj = total - obj
    return {
        "build_s": build_s,
        "solve_s": solve_s,
        "total_s": build_s + solve_s,
        "objective": obj,
        "bound": obj if optimal else math.nan,
        "optimal": bool(optimal),
        "status": "optimal" if optimal else ("time_limit" if prob.sol_status == 2 else pulp.LpStatus[prob.status]),
        "sol_status": int(prob.sol_status),
    }


def _ours(matrix: CoverageMatrix, model: str, k: int | None, time_limit_s: float, solver: str) -> dict:
    t0 = time.perf_counter()
    if model == "pmedian":
        m = PMedian.from_matrix(matrix, k=k)
    else:
        m = CoverAll.from_matrix(matrix) if model == "lscp" else MaxCoverage.from_matrix(matrix, k=k)
    res = m.solve(solver=solver, time_limit_s=time_limit_s)
    total = time.perf_counter() - t0
    st = res.stats
    g = st.get("greedy_objective", math.nan) + (st["fixed"] if model == "lscp" else 0.0)
    sense = "max" if model == "mclp" else "min"
    return {
        "solver": res.solver,
        "build_s": st["reduce_s"] + st["build_s"],
        "reduce_s": st["reduce_s"],
        "model_s": st["build_s"],
        "heuristic_s": st.get("greedy_s", 0.0) + st.get("local_search_s", 0.0),
        "bound_s": st.get("bound_s", 0.0),
        "solve_s": st.get("solve_s", 0.0),
        "total_s": total,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "optimal": res.optimal,
        "status": res.status,
        "greedy_objective": g,
        "greedy_gap": _gap(g, res.bound, sense),
        "n_sites": len(res.site_ids),
        "bound_source": st.get("bound_source"),
        "reduced": {k2: st.get(k2) for k2 in ("rows_in", "groups", "columns", "pairs_reduced", "fixed")},
    }


def _gap(obj, bound, sense):
    if not (math.isfinite(obj) and math.isfinite(bound)) or obj == 0:
        return math.nan
    return max(0.0, (bound - obj) if sense == "max" else (obj - bound)) / abs(obj)


def _median_run(runs: list[dict]) -> dict:
    """The run of median total time (its figures kept together), with every run's total."""
    ordered = sorted(runs, key=lambda r: r["total_s"])
    return {**ordered[len(ordered) // 2], "runs_total_s": [r["total_s"] for r in runs]}


def run(
    matrix: CoverageMatrix,
    *,
    time_limit_s: float = 60.0,
    spopt: bool = True,
    cases=None,
    solvers=("highs",),
    repeats: int = 3,
    pulp_cbc: bool = True,
) -> list[dict]:
    """Run every case on ``matrix``; returns one dict per case.

    Ours and the direct sparse scipy ``milp`` model run ``repeats`` times, interleaved (ours, scipy, ours,
    scipy...), and the median of each is kept; PuLP + CBC and spopt + CBC run once.
    """
    cases = cases or [("mclp", 10), ("mclp", 50), ("lscp", None), ("pmedian", 10)]
    rows = []
    for model, k in cases:
        name = f"{model.upper()}" + (f" K={k}" if k else "")
        sense = "max" if model == "mclp" else "min"
        print(f"-- {name}", file=sys.stderr, flush=True)
        ours_runs: dict[str, list] = {s: [] for s in solvers}
        scipy_runs = []
        for _ in range(repeats):
            for s in solvers:
                ours_runs[s].append(_ours(matrix, model, k, time_limit_s, s))
            scipy_runs.append(_scipy_milp(matrix, model, k, time_limit_s))
        row = {"case": name, "ours": {s: _median_run(r) for s, r in ours_runs.items()}}
        best = row["ours"][solvers[0]]
        row["scipy_milp"] = _median_run(scipy_runs)
        row["ratio_vs_scipy_milp"] = best["total_s"] / row["scipy_milp"]["total_s"]
        if pulp_cbc:
            row["pulp_cbc"] = _pulp_cbc(matrix, model, k, time_limit_s)
            row["ratio_vs_pulp_cbc"] = best["total_s"] / row["pulp_cbc"]["total_s"]
        if spopt and model != "pmedian":  # spopt's p-median knows no existing services nor a fallback walk
            sp = _spopt(matrix, model, k, time_limit_s)
            sp["gap"] = 0.0 if sp["optimal"] else _gap(sp["objective"], sp["bound"], sense)
            sp["gap_vs_our_bound"] = _gap(sp["objective"], best["bound"], sense)
            row["spopt"] = sp
            if best["optimal"] and sp["optimal"]:
                row["speedup_to_optimum"] = sp["total_s"] / best["total_s"]
                row["speedup_solve_only"] = sp["solve_s"] / max(best["total_s"], 1e-9)
        rows.append(row)
    return rows


def _fmt(v, spec=".3g"):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec)


def print_table(rows: list[dict]) -> None:
    hdr = (
        f"{'case':<9} {'who':<12} {'build s':>8} {'solve s':>8} {'total s':>8} {'objective':>11} "
        f"{'bound':>11} {'gap':>7} {'status':>10} {'greedy gap':>10}"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        for name, o in r["ours"].items():
            solve = o["total_s"] - o["build_s"]  # heuristics, bounds and MILP
            print(
                f"{r['case']:<9} {'ours/' + name:<12} {_fmt(o['build_s'])!s:>8} {_fmt(solve)!s:>8} "
                f"{_fmt(o['total_s'])!s:>8} {_fmt(o['objective'], '.7g')!s:>11} "
                f"{_fmt(o['bound'], '.7g')!s:>11} {_fmt(o['gap'], '.2%')!s:>7} {o['status']:>10} "
                f"{_fmt(o['greedy_gap'], '.2%')!s:>10}"
            )
        for key, who in (("scipy_milp", "scipy milp"), ("pulp_cbc", "pulp/cbc"), ("spopt", "spopt/cbc")):
            if key not in r:
                continue
            s = r[key]
            print(
                f"{'':<9} {who:<12} {_fmt(s['build_s'])!s:>8} {_fmt(s['solve_s'])!s:>8} "
                f"{_fmt(s['total_s'])!s:>8} {_fmt(s['objective'], '.7g')!s:>11} "
                f"{_fmt(s['bound'], '.7g')!s:>11} {_fmt(s.get('gap'), '.2%')!s:>7} {s['status']:>10} {'':>10}"
            )
        ratios = [f"{who} {r[key]:.2f}" for key, who in (("ratio_vs_scipy_milp", "scipy milp"),
                                                        ("ratio_vs_pulp_cbc", "pulp/cbc")) if key in r]  # fmt: skip
        if ratios:
            print(f"{'':<9} ours / peer, total time (<= 1 is as fast or faster): {', '.join(ratios)}")
        if "speedup_to_optimum" in r:
            print(
                f"{'':<9} to proven optimum incl. build: {r['speedup_to_optimum']:.0f}x faster than spopt "
                f"(spopt's solve alone: {r['speedup_solve_only']:.1f}x)"
            )


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


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", choices=("phoenix", "synthetic"), default="phoenix")
    ap.add_argument("--osm", type=Path, default=None, help="OSM extract (default: the Phoenix benchmark file)")
    ap.add_argument("--compounds", type=int, default=5000)
    ap.add_argument("--candidates", type=int, default=2500)
    ap.add_argument("--existing", type=int, default=100, help="existing services (phoenix)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--speed-kmh", type=float, default=4.5)
    ap.add_argument("--radius-m", type=float, default=800.0, help="walking limit (synthetic)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--solvers", default="highs", help="our back ends, comma-separated (highs,cbc,scipy)")
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--no-pulp", action="store_true", help="skip the direct PuLP + CBC model")
    ap.add_argument("--repeats", type=int, default=3, help="runs of ours and scipy milp (median kept)")
    ap.add_argument("--json", default="bench_siting.json")
    a = ap.parse_args(argv)
    load_before = _load()
    t0 = time.perf_counter()
    if a.instance == "phoenix":
        path = a.osm or next((p for p in PHOENIX_CANDIDATES if p.exists()), None)
        if path is None or not path.exists():
            print("Phoenix extract not found (../shared/data/osm); use --osm or --instance synthetic")
            return 2
        matrix, timings = phoenix_matrix(
            path,
            n_compounds=a.compounds,
            n_candidates=a.candidates,
            n_existing=a.existing,
            minutes=a.minutes,
            speed_kmh=a.speed_kmh,
            seed=a.seed,
        )
    else:
        matrix = synthetic_matrix(a.compounds, a.candidates, radius_m=a.radius_m, seed=a.seed)
        timings = {"matrix_s": time.perf_counter() - t0, "limit_m": a.radius_m}
    per_row = matrix.cover.nnz / matrix.shape[0]
    print(
        f"{matrix!r}; {per_row:.1f} candidates per compound; matrix built in {timings['matrix_s']:.2f}s "
        f"({', '.join(f'{k} {v:.2f}' for k, v in timings.items() if k.endswith('_s'))}); "
        f"{os.cpu_count()} cores shared, load {load_before}"
    )
    spopt = not a.no_spopt
    if spopt:
        try:
            import spopt.locate
        except ImportError as e:
            print(f"spopt not importable ({e}); ours only")
            spopt = False
    rows = run(
        matrix,
        time_limit_s=a.time_limit_s,
        spopt=spopt,
        solvers=tuple(a.solvers.split(",")),
        repeats=a.repeats,
        pulp_cbc=not a.no_pulp,
    )
    print_table(rows)
    load_after = _load()
    print(f"load average before {load_before}, after {load_after}")
    out = {
        "instance": {
            "kind": a.instance,
            "compounds": a.compounds,
            "candidates": a.candidates,
            "existing": a.existing if a.instance == "phoenix" else 0,
            "already_covered": int(matrix.covered.sum()),
            "pairs": int(matrix.cover.nnz),
            "seed": a.seed,
            "time_limit_s": a.time_limit_s,
            "cores": os.cpu_count(),
            "load_before": load_before,
            "load_after": load_after,
            **timings,
        },
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
