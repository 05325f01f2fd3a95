"""MILP back ends: HiGHS through highspy (default), scipy.optimize.milp, and CBC through PuLP.

Each returns a :class:`MilpOutcome` with the incumbent, the proven bound read from the solver (never assumed),
and a status that distinguishes a proven optimum from a stop at the time limit.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from lifecircle.errors import SolverError
from lifecircle.planning.siting.formulation import MilpModel

log = logging.getLogger(__name__)

SOLVERS = ("highs", "cbc", "scipy", "greedy")  # the exact MILP solvers, and the greedy heuristic alone

__all__ = ["SOLVERS", "MilpOutcome", "relative_gap", "solve_cbc", "solve_highs", "solve_lp_bound", "solve_scipy"]

OPTIMAL, TIME_LIMIT, NO_SOLUTION, INFEASIBLE = "optimal", "time_limit", "no_solution", "infeasible"


@dataclass(frozen=True)
class MilpOutcome:
    """What a MILP solver returned, in the model's own sense (objective includes the model offset)."""

    x: np.ndarray | None
    objective: float
    bound: float
    status: str
    seconds: float
    solver: str


def relative_gap(objective: float, bound: float, sense: str) -> float:
    """|bound - objective| / |objective| (0 when both are 0; inf without an incumbent)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    diff = (bound - objective) if sense == "max" else (objective - bound)
    diff = max(diff, 0.0)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


@contextmanager
def _stdout_silenced():
    """Silence the C-level standard output: HiGHS prints its banner when constructed, before any option applies."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs(model: MilpModel, *, time_limit_s: float, mip_rel_gap: float, threads: int | None):
    import highspy

    with _stdout_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("random_seed", 1)
    if threads:
        h.setOptionValue("threads", int(threads))
    A = model.A.tocsr()
    A.sort_indices()
    inf = highspy.kHighsInf
    sense = highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_var
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = model.c.astype(float)
    lp.col_lower_ = model.col_lo.astype(float)
    lp.col_upper_ = np.where(np.isinf(model.col_hi), inf, model.col_hi).astype(float)
    lp.row_lower_ = np.where(np.isneginf(model.row_lo), -inf, model.row_lo).astype(float)
    lp.row_upper_ = np.where(np.isposinf(model.row_hi), inf, model.row_hi).astype(float)
    lp.offset_ = float(model.offset)
    lp.sense_ = sense
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_row_ = A.shape[0]
    lp.a_matrix_.num_col_ = model.n_var
    if model.integrality.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous for v in model.integrality
        ]
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the siting model.")
    return h, highspy


def solve_highs(
    model: MilpModel,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-6,
    start: np.ndarray | None = None,
    start_sites: np.ndarray | None = None,
    threads: int | None = None,
) -> MilpOutcome:
    """Solve with HiGHS (highspy), optionally warm-started.

    Parameters
    ----------
    start : numpy.ndarray, optional
        A complete feasible vector (all variables).
    start_sites : numpy.ndarray, optional
        Site variables only; HiGHS completes the rest.
    """
    t0 = time.perf_counter()
    h, highspy = _highs(model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, threads=threads)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    elif start_sites is not None:
        idx = np.arange(model.n_site, dtype=np.int32)
        h.setSolution(int(model.n_site), idx, np.asarray(start_sites, dtype=float))
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2
    obj = float(info.objective_function_value) if has_sol else math.nan
    M = highspy.HighsModelStatus
    if ms == M.kInfeasible:
        st = INFEASIBLE
    elif ms == M.kOptimal:
        st = OPTIMAL
    elif has_sol:
        st = TIME_LIMIT
    else:
        st = NO_SOLUTION
    bound = float(info.mip_dual_bound)
    if st == OPTIMAL and not math.isfinite(bound):
        bound = obj
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_sol else None
    secs = time.perf_counter() - t0
    log.info("HiGHS: %s obj=%s bound=%s in %.2fs (%s)", st, obj, bound, secs, h.modelStatusToString(ms))
    return MilpOutcome(x, obj, bound, st, secs, "highs")


def solve_lp_bound(model: MilpModel, *, time_limit_s: float = 60.0) -> tuple[float, np.ndarray | None]:
    """A valid bound from the LP relaxation (HiGHS interior point, no crossover), with its solution.

    The interior-point objective is loosened by a relative 1e-7 so it stays a bound; (nan, None) if unsolved.
    """
    h, highspy = _highs(model.relaxed(), time_limit_s=time_limit_s, mip_rel_gap=0.0, threads=None)
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return math.nan, None
    v = float(h.getInfo().objective_function_value)
    slack = 1e-7 * max(1.0, abs(v))
    v = v + slack if model.sense == "max" else v - slack
    return v, np.asarray(h.getSolution().col_value, dtype=float)


def solve_scipy(model: MilpModel, *, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-6) -> MilpOutcome:
    """Solve with :func:`scipy.optimize.milp` (HiGHS inside; no warm start)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    sgn = -1.0 if model.sense == "max" else 1.0
    res = milp(
        sgn * model.c,
        integrality=model.integrality.astype(int),
        bounds=Bounds(model.col_lo, model.col_hi),
        constraints=LinearConstraint(model.A, model.row_lo, model.row_hi),
        options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap), "disp": False},
    )
    has_sol = res.x is not None
    obj = sgn * float(res.fun) + model.offset if has_sol else math.nan
    bound = getattr(res, "mip_dual_bound", None)
    bound = sgn * float(bound) + model.offset if bound is not None and np.isfinite(bound) else math.nan
    if res.status == 0:
        st = OPTIMAL
        bound = obj if not math.isfinite(bound) else bound
    elif res.status == 2:
        st = INFEASIBLE
    else:
        st = TIME_LIMIT if has_sol else NO_SOLUTION
    return MilpOutcome(res.x if has_sol else None, obj, bound, st, time.perf_counter() - t0, "scipy")


_CBC_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s*([-+0-9.eE]+)", re.M)
_CBC_BEST_POSSIBLE = re.compile(r"best possible\s+([-+0-9.eE]+)")


def solve_cbc(
    model: MilpModel,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-6,
    start: np.ndarray | None = None,
) -> MilpOutcome:
    """Solve with CBC through PuLP.

    PuLP reports ``status == 1`` ("Optimal") also when CBC stops at the time limit with an incumbent;
    the solution status (``sol_status``) tells the two apart and is what this reads. The proven bound is
    taken from CBC's log.
    """
    import warnings

    import pulp

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3 announces its 4.0 API
        return _solve_cbc(pulp, model, time_limit_s, mip_rel_gap, start, t0)


def _solve_cbc(pulp, model, time_limit_s, mip_rel_gap, start, t0) -> MilpOutcome:
    prob = pulp.LpProblem("siting", pulp.LpMaximize if model.sense == "max" else pulp.LpMinimize)
    hi = np.where(np.isinf(model.col_hi), None, model.col_hi)
    v = [
        pulp.LpVariable(
            f"v{i}",
            lowBound=float(model.col_lo[i]),
            upBound=None if hi[i] is None else float(hi[i]),
            cat=pulp.LpInteger if model.integrality[i] else pulp.LpContinuous,
        )
        for i in range(model.n_var)
    ]
    nz = np.flatnonzero(model.c)
    prob += pulp.LpAffineExpression(zip([v[i] for i in nz], model.c[nz].tolist(), strict=True)) + float(model.offset)
    A = model.A.tocsr()
    for r in range(A.shape[0]):
        s, e = A.indptr[r], A.indptr[r + 1]
        expr = pulp.LpAffineExpression(zip([v[j] for j in A.indices[s:e]], A.data[s:e].tolist(), strict=True))
        lo, up = model.row_lo[r], model.row_hi[r]
        if lo == up:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", float(lo))
        else:
            if np.isfinite(lo):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}l", float(lo))
            if np.isfinite(up):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}u", float(up))
    if start is not None:
        sv = np.asarray(start, dtype=float)
        sv = np.where(model.integrality.astype(bool), np.round(sv), sv)
        for var, val in zip(v, sv.tolist(), strict=True):
            var.setInitialValue(val)
    fd, log_path = tempfile.mkstemp(suffix=".log", prefix="cbc_")
    os.close(fd)
    try:
        solver = pulp.PULP_CBC_CMD(
            msg=False,
            timeLimit=float(time_limit_s),
            gapRel=float(mip_rel_gap),
            warmStart=start is not None,
            logPath=log_path,
        )
        prob.solve(solver)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    finally:
        os.unlink(log_path)
    sol = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible:
        st = INFEASIBLE
    elif sol == pulp.LpSolutionOptimal:
        st = OPTIMAL
    elif sol == pulp.LpSolutionIntegerFeasible:
        st = TIME_LIMIT
    else:
        st = NO_SOLUTION
    x = None
    obj = math.nan
    if st in (OPTIMAL, TIME_LIMIT):
        x = np.array([var.value() or 0.0 for var in v], dtype=float)
        obj = float(model.c @ x + model.offset)
    bound = math.nan
    if st == OPTIMAL:
        bound = obj
    else:
        m = _CBC_BOUND.findall(text) or _CBC_BEST_POSSIBLE.findall(text)
        if m:
            b = float(m[-1])
            # CBC prints the bound of the internal minimisation; max problems are negated by -max
            bound = (-b if model.sense == "max" and b < 0 < obj else b) + 0.0
            bound += model.offset
    return MilpOutcome(x, obj, bound, st, time.perf_counter() - t0, "cbc")
