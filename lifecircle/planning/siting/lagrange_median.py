"""Lagrangian bound and variable fixing for the uncapacitated p-median, and the instance fixing leaves.

p-median as savings over each group's fallback walk (as :func:`~lifecircle.planning.siting.formulation.median_model`):
``max sum s_gj z_gj`` with ``s_gj = w_g (fb_g - d_gj) > 0``, ``z_gj <= x_j``, ``sum_j z_gj <= 1``, ``sum x <= k``.
Relaxing the assignment rows with ``lam >= 0`` gives the upper bound on the savings

    L(lam) = sum_g lam_g + (sum of the k largest rho_j),    rho_j = sum_g max(0, s_gj - lam_g),

for every ``lam`` (the relaxed problem opens the top-k candidates by reduced saving), so the walked distance is
at least ``base - L(lam)`` with ``base`` the walk when no new site opens. Its best value equals the LP relaxation's
(the relaxed problem has integral solutions), which is often the optimum itself: projected subgradient steps
towards the incumbent get there in a few hundred cheap NumPy passes, where the simplex needs one iteration per
assignment pair. Fixing then keeps only the few candidates that can still be in a strictly better plan, and the
MILP left is small (:func:`fix_median`).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from lifecircle.planning.siting.lagrange import Fixing, LagrangeResult, TopKValue, _top_k, log_lagrange, top_k_lagrange
from lifecircle.planning.siting.reduce import ReducedInstance

__all__ = ["fix_median", "median_base", "median_lagrange"]


def median_base(inst: ReducedInstance) -> float:
    """The walk (model objective) of the instance when no new site opens: its constant plus every fallback."""
    return float(inst.constant + (inst.weight * inst.fallback).sum())


def _savings(inst: ReducedInstance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of every pair and its weighted metres saved over the group's fallback."""
    A, D = inst.A, inst.D
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return rows, A.indices, inst.weight[rows] * (inst.fallback[rows] - D.data)


def _value(rows, cols, s, lam, m: int, k: int) -> TopKValue:
    rho = np.bincount(cols, weights=np.maximum(0.0, s - lam[rows]), minlength=m)
    top, kth, nxt = _top_k(rho, k)
    return float(lam.sum() + rho[top].sum()), rho, top, kth, nxt


def median_lagrange(
    inst: ReducedInstance,
    *,
    k: int,
    incumbent: float,
    iterations: int = 1500,
    time_limit_s: float = 5.0,
    start: np.ndarray | None = None,
) -> LagrangeResult:
    """Lagrangian lower bound on the walked distance of an uncapacitated p-median instance, plus fixing.

    Parameters
    ----------
    inst : ReducedInstance
        p-median instance whose every group has a finite fallback walk.
    k : int
        Number of new sites (at most).
    incumbent : float
        Walked distance (model objective) of a known plan: the subgradient target and the fixing threshold.
    start : numpy.ndarray, optional
        Multipliers to start from (e.g. those of an earlier call).

    Returns
    -------
    LagrangeResult
        ``bound`` in walked distance (model objective); ``ones``/``zeros`` the columns every strictly shorter
        plan opens/closes.
    """
    t0 = time.perf_counter()
    g, m = inst.A.shape
    base = median_base(inst)
    if g == 0 or m == 0 or k <= 0:
        return LagrangeResult(base if g == 0 or k <= 0 else -math.inf, _none(), _none(), 0, time.perf_counter() - t0)
    rows, cols, s = _savings(inst)
    smax = np.zeros(g)
    np.maximum.at(smax, rows, s)

    def subgradient(lam: np.ndarray, top: np.ndarray) -> np.ndarray:
        opened = np.zeros(m, dtype=bool)
        opened[top] = True
        return 1.0 - np.bincount(rows, weights=(opened[cols] & (s > lam[rows])).astype(float), minlength=g)

    lag = top_k_lagrange(
        lambda lam: _value(rows, cols, s, lam, m, k),
        subgradient,
        0.5 * smax if start is None else np.clip(start, 0.0, smax),
        k=k,
        target=base - incumbent,  # the incumbent's savings
        tol=1e-9 * max(1.0, abs(incumbent)),
        upper=None,
        rtol=1e-12,
        iterations=iterations,
        time_limit_s=time_limit_s,
        t0=t0,
    )
    return log_lagrange("p-median", replace(lag, bound=base - lag.bound), incumbent)


def _none() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def fix_median(inst: ReducedInstance, ones: np.ndarray, zeros: np.ndarray) -> Fixing:
    """The p-median instance left when columns ``ones`` are opened and ``zeros`` closed.

    Each group's fallback becomes its walk to the nearest opened site when shorter; pairs that no longer beat
    it go, and so do groups left without pairs (their walk joins the constant). The sub-instance's model
    objective is then the parent's for the same plan, so the fixing adds no constant.
    """
    A, D = inst.A, inst.D
    g, m = A.shape
    ones = np.asarray(ones, dtype=np.int64)
    free_mask = np.ones(m, dtype=bool)
    free_mask[ones] = False
    free_mask[np.asarray(zeros, dtype=np.int64)] = False
    opened = np.zeros(m, dtype=bool)
    opened[ones] = True
    rows = np.repeat(np.arange(g), np.diff(A.indptr))
    fallback = inst.fallback.astype(float).copy()
    np.minimum.at(fallback, rows[opened[A.indices]], D.data[opened[A.indices]])
    keep = free_mask[A.indices] & (D.data < fallback[rows])
    has = np.bincount(rows[keep], minlength=g) > 0
    constant = float(inst.constant + (inst.weight * fallback)[~has].sum())
    remap = np.cumsum(free_mask) - 1
    group = np.cumsum(has) - 1
    n_sub, free = int(has.sum()), np.flatnonzero(free_mask)
    indptr = np.zeros(n_sub + 1, dtype=np.int64)  # rows stay in order and columns sorted: CSR directly
    np.cumsum(np.bincount(group[rows[keep]], minlength=n_sub), out=indptr[1:])
    indices = remap[A.indices[keep]].astype(np.int32)
    sub = sp.csr_matrix((np.ones(indices.size, dtype=bool), indices, indptr), shape=(n_sub, free.size))
    sub_d = sp.csr_matrix((D.data[keep], indices, indptr), shape=(n_sub, free.size))
    stats = dict(inst.stats)
    stats.update(
        lagrange_fixed_open=int(ones.size),
        lagrange_fixed_closed=int(m - free.size - ones.size),
        groups_after_fixing=n_sub,
        columns_after_fixing=int(free.size),
    )
    sub_inst = ReducedInstance(
        A=sub,
        D=sub_d,
        weight=inst.weight[has],
        fallback=fallback[has],
        cols=inst.cols[free],
        cost=inst.cost[free],
        capacity=None,
        fixed=_none(),
        unreachable=_none(),
        constant=constant,
        stats=stats,
    )
    return Fixing(sub_inst, free, ones, 0.0, False)
