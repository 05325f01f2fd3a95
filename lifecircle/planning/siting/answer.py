"""Running a siting model's solvers and turning their answer into a result: MILP backends, the LP bound every
answer gets, the compounds a capacitated plan fully serves, and the :class:`SitingResult`."""

from __future__ import annotations

import math

import numpy as np

from lifecircle.planning.siting.formulation import MilpModel, max_cover_model
from lifecircle.planning.siting.matrix import CoverageMatrix
from lifecircle.planning.siting.reduce import ReducedInstance, reduce_instance
from lifecircle.planning.siting.result import SitingResult
from lifecircle.planning.siting.solvers import MilpOutcome, solve_cbc, solve_highs, solve_lp_bound, solve_scipy

__all__ = ["capacitated_served", "lp_bound", "run_backend", "siting_result"]


def run_backend(model, *, solver, time_limit_s, mip_rel_gap, start, start_sites, threads) -> MilpOutcome:
    """Run one MILP solver (HiGHS warm-started, scipy, or CBC)."""
    if solver == "highs":
        return solve_highs(
            model,
            time_limit_s=time_limit_s,
            mip_rel_gap=mip_rel_gap,
            threads=threads,
            start=start,
            start_sites=None if start is not None else start_sites,
        )
    if solver == "scipy":
        return solve_scipy(model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    return solve_cbc(model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, start=start)


def lp_bound(model: MilpModel, inst: ReducedInstance, time_limit_s: float) -> float:
    """LP-relaxation bound (given at least 30 s), else the trivial bound, so every answer has one."""
    b, _ = solve_lp_bound(model, time_limit_s=max(float(time_limit_s), 30.0))
    if math.isfinite(b):
        return b
    if model.sense == "max":  # everything covered
        return float(inst.weight.sum())
    if model.kind == "cover":  # no new site beyond the forced ones
        return 0.0
    D = inst.D  # every group at its nearest candidate
    near = np.full(D.shape[0], np.inf)
    np.minimum.at(near, np.repeat(np.arange(D.shape[0]), np.diff(D.indptr)), D.data)
    return float((inst.weight * np.minimum(near, inst.fallback)).sum() + inst.constant)


def siting_result(siting, sel_ids, objective, bound, gap, solver, status, seconds, inst, stats) -> SitingResult:
    """The result in the original sites' terms: ranked plan, compounds covered, parameters."""
    m = siting.matrix
    plan = siting._plan(list(sel_ids))
    order = tuple(plan.index)
    sel = m.site_ids.get_indexer(list(sel_ids))
    covered = m.covered.copy()
    if len(sel):
        if siting.params.get("capacity") is not None:
            covered = capacitated_served(m, siting.params["capacity"], sel)
        else:
            covered |= np.asarray(m.cover[:, sel].sum(axis=1)).ravel() > 0
    return SitingResult(
        model=siting.name,
        site_ids=order,
        objective=float(objective),
        bound=float(bound) if bound is not None else math.nan,
        gap=float(gap),
        solver=solver,
        status=status,
        seconds=float(seconds),
        plan=plan,
        covered_ids=tuple(m.compound_ids[covered]),
        unreachable_ids=tuple(m.compound_ids[inst.unreachable]),
        parameters={k: v for k, v in siting.params.items() if k != "capacity"}
        | {"capacity": None if siting.params.get("capacity") is None else "per-site"},
        stats=stats,
    )


def capacitated_served(m: CoverageMatrix, cap, sel: np.ndarray) -> np.ndarray:
    """Capacitated: compounds fully served by sites ``sel`` under the best assignment (an LP)."""
    full = reduce_instance(m, kind="max", capacity=cap, dominance=False, max_rounds=0)
    rows = np.flatnonzero(~m.covered & (m.weights > 0) & (np.diff(m.cover.indptr) > 0))
    x = np.zeros(m.shape[1])
    x[sel] = 1.0
    model = max_cover_model(full, k=None, budget=None).with_sites_fixed(x)
    lp = solve_highs(model, time_limit_s=60)
    served = m.covered.copy()
    if lp.x is not None and full.A.nnz:
        z = lp.x[model.n_site :]
        frac = np.bincount(
            np.repeat(np.arange(full.A.shape[0]), np.diff(full.A.indptr)), weights=z, minlength=full.A.shape[0]
        )
        served[rows[frac >= 1 - 1e-6]] = True
    return served
