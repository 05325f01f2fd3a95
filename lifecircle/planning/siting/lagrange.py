"""Lagrangian bounds and Lagrangian variable fixing for max-coverage (MCLP) and cover-all (LSCP).

MCLP ``max w·y s.t. y_g <= sum_j a_gj x_j, sum x <= k``: relaxing the coverage rows with ``0 <= lam <= w`` gives

    L(lam) = sum_g max(0, w_g - lam_g) + (sum of the k largest positive (A^T lam)_j),

an upper bound on the optimum for every such ``lam`` (the relaxed problem picks the top-k candidates by reduced
gain). LSCP ``min c·x s.t. A x >= 1``: relaxing the cover rows with ``u >= 0`` gives the lower bound

    L(u) = sum_g u_g + sum_j min(0, c_j - (A^T u)_j).

Both are maximised/minimised by projected subgradient steps (Polyak step size towards the incumbent); the
best value seen is returned. Every value of L is a valid bound, whatever the multipliers, so the answer stays
a bound even when the iteration has not converged.
The MCLP steps and fixing are :func:`top_k_lagrange`'s, shared with the p-median
(:mod:`~lifecircle.planning.siting.lagrange_median`).

Fixing: with the bound L and an incumbent of value ``z``, a candidate whose forced opening (closing) already
bounds every solution below ``z`` (max) or at/above ``z`` (min) cannot be in any strictly better solution
that way; it is fixed. The incumbent always satisfies the fixings, so the optimum is
``max(z, optimum of the fixed instance)`` (min: ``min``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.planning.siting.reduce import ReducedInstance, merge_rows

log = logging.getLogger(__name__)

__all__ = [
    "Fixing",
    "LagrangeResult",
    "cover_lagrange",
    "fix_instance",
    "log_lagrange",
    "max_cover_lagrange",
    "top_k_lagrange",
]


@dataclass(frozen=True, eq=False)
class LagrangeResult:
    """Best Lagrangian bound found and what variable fixing it allows.

    Attributes
    ----------
    bound : float
        Valid bound on the instance optimum (upper for MCLP, lower for LSCP), in the instance's objective.
    ones, zeros : numpy.ndarray
        Column positions that every solution strictly better than the incumbent opens (closes).
    iterations : int
    seconds : float
    multipliers : numpy.ndarray or None
        The multipliers of the best bound (to continue from).
    relaxed : numpy.ndarray or None
        Columns the relaxed problem opens at those multipliers (a start for primal heuristics).
    """

    bound: float
    ones: np.ndarray
    zeros: np.ndarray
    iterations: int
    seconds: float
    multipliers: np.ndarray | None = None
    relaxed: np.ndarray | None = None


def _top_k(v: np.ndarray, k: int) -> tuple[np.ndarray, float, float]:
    """Positions of the (at most) k largest positive entries, the k-th and (k+1)-th positive values (0 if none)."""
    m = v.size
    if k <= 0 or m == 0:
        return np.zeros(0, dtype=np.int64), 0.0, max(0.0, float(v.max())) if m else 0.0
    kk = min(k, m)
    if kk < m:
        part = np.argpartition(-v, kk)[: kk + 1]
        part = part[np.argsort(-v[part], kind="stable")]
        top, nxt = part[:kk], max(0.0, float(v[part[kk]]))
    else:
        top, nxt = np.argsort(-v, kind="stable"), 0.0
    top = top[v[top] > 0]
    kth = float(v[top[-1]]) if top.size == kk else 0.0
    return top, kth, nxt


# L(lam), every column's reduced gain, the top-k columns, the k-th and (k+1)-th gains (see _top_k)
TopKValue = tuple[float, np.ndarray, np.ndarray, float, float]


def _max_value(AT: sp.csr_matrix, w: np.ndarray, lam: np.ndarray, k: int) -> TopKValue:
    v = AT @ lam
    top, kth, nxt = _top_k(v, k)
    val = float(np.maximum(0.0, w - lam).sum() + v[top].sum())
    return val, v, top, kth, nxt


def top_k_lagrange(
    value: Callable[[np.ndarray], TopKValue],
    subgradient: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lam: np.ndarray,
    *,
    k: int,
    target: float,
    tol: float,
    upper: np.ndarray | None,
    rtol: float,
    iterations: int,
    time_limit_s: float,
    t0: float,
) -> LagrangeResult:
    """Minimise a top-k Lagrangian upper bound by projected subgradient steps, then fix columns against it.

    Shared by every relaxation whose relaxed problem opens the ``k`` columns of largest positive reduced gain
    (MCLP, p-median as savings): each model gives its value and subgradient; the steps, their halving and the
    fixing are the same.

    Parameters
    ----------
    value : callable
        ``lam -> (L(lam), gains, top, kth, nxt)``, the bound and the relaxed problem's solution at ``lam``.
    subgradient : callable
        ``(lam, top) -> dL/dlam`` (not yet projected) with ``top`` the relaxed problem's open columns.
    lam : numpy.ndarray
        Starting multipliers, within ``[0, upper]``.
    k : int
        Number of columns the relaxed problem opens.
    target : float
        The incumbent's value (the Polyak step's target and the fixing threshold), a lower bound on the optimum.
    tol : float
        Absolute tolerance: iteration stops once the bound is within ``tol`` of ``target``; a column is fixed only
        when forcing it the other way bounds every solution more than ``tol`` below ``target``.
    upper : numpy.ndarray or None
        Upper limit of the multipliers (None: none).
    rtol : float
        Relative amount a value must fall below the best so far to count as progress (20 steps without
        progress halve the step).
    iterations, time_limit_s : int, float
        Stop after that many steps or seconds since ``t0`` (a ``time.perf_counter()`` reading).

    Returns
    -------
    LagrangeResult
        ``bound`` the smallest ``L`` seen; ``multipliers`` where it was reached and ``relaxed`` the top-k there.
    """
    best, best_lam = math.inf, lam
    theta, stall, it = 1.0, 0, 0
    while it < iterations:
        it += 1
        val, _, top, _, _ = value(lam)
        if not val >= best - rtol * max(1.0, abs(val)):
            best, best_lam, stall = val, lam.copy(), 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2.0, 0
        if best - target <= tol or theta < 1e-4 or time.perf_counter() - t0 > time_limit_s:
            break
        s = subgradient(lam, top)
        s[(lam <= 0) & (s > 0)] = 0.0  # projected: lam stays within [0, upper]
        if upper is not None:
            s[(lam >= upper) & (s < 0)] = 0.0
        nrm = float(s @ s)
        if nrm == 0:
            break
        step = theta * (val - target) / nrm
        lam = np.maximum(0.0, lam - step * s) if upper is None else np.clip(lam - step * s, 0.0, upper)
    val, v, top, kth, nxt = value(best_lam)
    best = min(best, val)
    in_top = np.zeros(v.size, dtype=bool)
    in_top[top] = True
    # x_j = 1 forced for a column outside the top set: L + v_j - kth; x_j = 0 for one inside: L - v_j + nxt
    full = top.size == min(k, v.size)
    zeros = np.flatnonzero(~in_top & (val + v - (kth if full else 0.0) < target - tol))
    ones = np.flatnonzero(in_top & (val - v + nxt < target - tol))
    return LagrangeResult(best, ones, zeros, it, time.perf_counter() - t0, best_lam, top)


def log_lagrange(label: str, lag: LagrangeResult, incumbent: float) -> LagrangeResult:
    """Log a Lagrangian result (``label``: the model) and return it."""
    log.info(
        "%s Lagrangian: bound %.9g (incumbent %.9g) after %d iterations in %.3fs; fixes %d open, %d closed",
        label,
        lag.bound,
        incumbent,
        lag.iterations,
        lag.seconds,
        lag.ones.size,
        lag.zeros.size,
    )
    return lag


def max_cover_lagrange(
    inst: ReducedInstance,
    *,
    k: int,
    incumbent: float,
    iterations: int = 1500,
    time_limit_s: float = 5.0,
    start: np.ndarray | None = None,
) -> LagrangeResult:
    """Lagrangian upper bound for uncapacitated MCLP with at most ``k`` sites (no budget), plus fixing.

    Parameters
    ----------
    inst : ReducedInstance
        Uncapacitated max-coverage instance.
    k : int
        Number of sites.
    incumbent : float
        Value of a known solution (the subgradient target and the fixing threshold).
    start : numpy.ndarray, optional
        Multipliers to start from (e.g. those of an earlier call).
    """
    t0 = time.perf_counter()
    A = inst.A.astype(float).tocsr()
    AT = A.T.tocsr()
    w = inst.weight.astype(float)
    g, m = A.shape
    if g == 0 or m == 0 or k <= 0:
        return LagrangeResult(
            float(w.sum()) if k > 0 else 0.0, np.zeros(0, np.int64), np.zeros(0, np.int64), 0, time.perf_counter() - t0
        )

    def subgradient(lam: np.ndarray, top: np.ndarray) -> np.ndarray:
        x = np.zeros(m)
        x[top] = 1.0
        return (w > lam).astype(float) * -1.0 + A @ x

    deg = np.maximum(np.diff(A.indptr), 1)
    lam = w / deg if start is None else np.clip(start, 0.0, w)  # start: each group split over its candidates
    lag = top_k_lagrange(
        lambda lam: _max_value(AT, w, lam, k),
        subgradient,
        lam,
        k=k,
        target=incumbent,
        tol=1e-9 * max(1.0, abs(incumbent)),
        upper=w,
        rtol=1e-9,
        iterations=iterations,
        time_limit_s=time_limit_s,
        t0=t0,
    )
    return log_lagrange("MCLP", lag, incumbent)


def cover_lagrange(
    inst: ReducedInstance,
    *,
    incumbent: float,
    integer_costs: bool,
    iterations: int = 1500,
    time_limit_s: float = 5.0,
) -> LagrangeResult:
    """Lagrangian lower bound for uncapacitated LSCP (``min cost·x`` covering every group), plus fixing.

    Parameters
    ----------
    inst : ReducedInstance
        Uncapacitated cover-all instance (forced sites already taken out).
    incumbent : float
        Cost of a known cover (the subgradient target and the fixing threshold).
    integer_costs : bool
        All costs are integers: a strictly better cover costs at most ``incumbent - 1``.
    """
    t0 = time.perf_counter()
    A = inst.A.astype(float).tocsr()
    AT = A.T.tocsr()
    c = inst.cost.astype(float)
    g = A.shape[0]
    if g == 0:
        return LagrangeResult(0.0, np.zeros(0, np.int64), np.zeros(0, np.int64), 0, time.perf_counter() - t0)
    # start: each group pays the cheapest per-group price of its candidates
    per = c / np.maximum(np.diff(AT.indptr), 1)
    u = np.full(g, np.inf)
    rows = np.repeat(np.arange(g), np.diff(A.indptr))
    np.minimum.at(u, rows, per[A.indices])
    u = np.where(np.isfinite(u), u, 0.0)
    best, best_u = -math.inf, u
    theta, stall, it = 1.0, 0, 0
    target = incumbent - (1.0 if integer_costs else 0.0)
    while it < iterations:
        it += 1
        rc = c - AT @ u
        neg = rc < 0
        val = float(u.sum() + rc[neg].sum())
        if not val <= best + 1e-9 * max(1.0, abs(val)):
            best, best_u, stall = val, u.copy(), 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2.0, 0
        if (integer_costs and math.ceil(best - 1e-6) >= incumbent) or best >= incumbent or theta < 1e-4:
            break
        if time.perf_counter() - t0 > time_limit_s:
            break
        s = 1.0 - A @ neg.astype(float)
        s[(u <= 0) & (s < 0)] = 0.0
        nrm = float(s @ s)
        if nrm == 0:
            break
        step = theta * (max(target, best + 1e-6) - val) / nrm
        u = np.maximum(0.0, u + step * s)
    rc = c - AT @ best_u
    val = float(best_u.sum() + rc[rc < 0].sum())
    best = max(best, val)
    tol = 1e-6 if integer_costs else 0.0
    need = incumbent - 1.0 + tol if integer_costs else incumbent
    # forcing x_j against its reduced-cost sign costs |rc_j|
    zeros = np.flatnonzero((rc > 0) & (val + rc > need))
    ones = np.flatnonzero((rc < 0) & (val - rc > need))
    return log_lagrange("LSCP", LagrangeResult(best, ones, zeros, it, time.perf_counter() - t0), incumbent)


@dataclass(frozen=True, eq=False)
class Fixing:
    """A sub-instance left after fixing columns, and how to map its solutions back.

    ``sub`` has the free columns ``free`` (positions in the parent instance); ``ones`` are opened;
    ``constant`` is the objective the fixing contributes (weight the opened sites cover, or their cost);
    ``infeasible`` is True when some group has no free column left (cover-all: no better cover exists).
    """

    sub: ReducedInstance
    free: np.ndarray
    ones: np.ndarray
    constant: float
    infeasible: bool

    def lift(self, x_sub: np.ndarray, m: int) -> np.ndarray:
        """Site vector of the parent instance for a site vector of ``sub``."""
        x = np.zeros(m)
        x[self.ones] = 1.0
        x[self.free[np.asarray(x_sub[: self.free.size]) > 0.5]] = 1.0
        return x


def fix_instance(inst: ReducedInstance, ones: np.ndarray, zeros: np.ndarray, *, kind: str) -> Fixing:
    """Apply column fixings to an uncapacitated ``max`` or ``cover`` instance (rows covered by opened sites go)."""
    A = inst.A.tocsr()
    m = A.shape[1]
    ones = np.asarray(ones, dtype=np.int64)
    free_mask = np.ones(m, dtype=bool)
    free_mask[ones] = False
    free_mask[np.asarray(zeros, dtype=np.int64)] = False
    opened = np.zeros(m, dtype=bool)
    opened[ones] = True
    hit = np.asarray(A.astype(np.int32) @ opened.astype(np.int32)).ravel() > 0
    constant = float(inst.weight[hit].sum()) if kind == "max" else float(inst.cost[ones].sum())
    free = np.flatnonzero(free_mask)
    sub = A[~hit][:, free].tocsr()
    sub.sort_indices()
    weight = inst.weight[~hit]
    reach = np.diff(sub.indptr) > 0
    infeasible = bool(kind == "cover" and (~reach).any())
    sub, weight = sub[reach].tocsr(), weight[reach]  # max: those groups can no longer be covered
    sub.sort_indices()
    if sub.shape[0]:
        group, rep = merge_rows(sub)
        weight = np.bincount(group, weights=weight, minlength=rep.size)
        sub = sub[rep].tocsr()
        sub.sort_indices()
    stats = dict(inst.stats)
    stats.update(
        lagrange_fixed_open=int(ones.size),
        lagrange_fixed_closed=int(m - free.size - ones.size),
        groups_after_fixing=int(sub.shape[0]),
        columns_after_fixing=int(sub.shape[1]),
    )
    sub_inst = ReducedInstance(
        A=sub,
        D=None,
        weight=weight,
        fallback=None,
        cols=inst.cols[free],
        cost=inst.cost[free],
        capacity=None,
        fixed=np.zeros(0, dtype=np.int64),
        unreachable=np.zeros(0, dtype=np.int64),
        constant=0.0,
        stats=stats,
    )
    return Fixing(sub_inst, free, ones, constant, infeasible)
