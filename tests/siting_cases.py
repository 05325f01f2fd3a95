"""Seeded small siting instances and brute-force optima shared by the siting tests."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from lifecircle.planning.siting import CoverageMatrix


def random_instance(
    seed: int,
    n: int = 28,
    m: int = 9,
    *,
    limit_m: float = 260.0,
    existing: bool = False,
    costs: bool = False,
    isolated: int = 0,
):
    """Points in a 1 km square; walking metres = straight line × 1.2; some compounds far away if isolated."""
    r = np.random.default_rng(seed)
    comp = r.uniform(0, 1000, (n, 2))
    if isolated:
        comp[:isolated] = r.uniform(5000, 6000, (isolated, 2))
    sites = r.uniform(0, 1000, (m, 2))
    d = 1.2 * np.linalg.norm(comp[:, None] - sites[None], axis=2)
    w = r.integers(1, 30, n).astype(float)
    kw = {}
    if existing:
        kw["existing_walk_m"] = r.uniform(100, 1200, n)
    if costs:
        kw["costs"] = r.integers(1, 5, m).astype(float)
    return CoverageMatrix.from_dense(d, limit_m=limit_m, weights=w, **kw), d


def _hits(mat: CoverageMatrix, sel) -> np.ndarray:
    A = mat.cover.toarray()
    return A[:, list(sel)].any(axis=1) if len(sel) else np.zeros(mat.shape[0], dtype=bool)


def brute_max(mat: CoverageMatrix, k: int | None, budget: float | None = None) -> float:
    m = mat.shape[1]
    cost = mat.site_costs
    best = 0.0
    for size in range(0, m + 1):
        if k is not None and size > k:
            break
        for sel in itertools.combinations(range(m), size):
            if budget is not None and cost[list(sel)].sum() > budget + 1e-9:
                continue
            v = mat.weights[_hits(mat, sel) & ~mat.covered].sum()
            best = max(best, v)
    return float(best)


def brute_cover(mat: CoverageMatrix, *, use_costs: bool = False) -> float:
    A = mat.cover.toarray()
    need = ~mat.covered & A.any(axis=1)
    m = mat.shape[1]
    cost = mat.site_costs if use_costs else np.ones(m)
    best = np.inf
    for mask in range(1 << m):
        sel = [j for j in range(m) if mask >> j & 1]
        if cost[sel].sum() >= best:
            continue
        if (A[need][:, sel].any(axis=1)).all():
            best = cost[sel].sum()
    return float(best)


def brute_median(mat: CoverageMatrix, d_dense: np.ndarray, k: int, unserved_m: float) -> float:
    ex = mat.existing_walk_m if mat.existing_walk_m is not None else np.full(mat.shape[0], np.inf)
    fb = np.where(np.isfinite(ex), ex, unserved_m)
    D = np.where(mat.cover.toarray(), d_dense, np.inf)
    ok = (mat.cover.toarray().any(axis=1) | np.isfinite(ex)) & (mat.weights > 0)
    best = np.inf
    for sel in itertools.combinations(range(mat.shape[1]), k):
        dist = np.minimum(fb, D[:, list(sel)].min(axis=1))
        best = min(best, float((mat.weights[ok] * dist[ok]).sum()))
    return best


def served_weight(mat: CoverageMatrix, sel, cap: float) -> float:
    """Max weight the sites ``sel`` (capacity ``cap`` each) can serve, compounds splittable (an LP)."""
    A = mat.cover.toarray()[:, list(sel)] & ~mat.covered[:, None]
    rows, cols = np.nonzero(A)
    if rows.size == 0:
        return 0.0
    w = mat.weights
    nv = rows.size
    A_ub, b_ub = [], []
    for i in np.unique(rows):  # each compound at most fully served
        a = np.zeros(nv)
        a[rows == i] = 1
        A_ub.append(a)
        b_ub.append(1)
    for j in range(len(sel)):
        a = np.zeros(nv)
        a[cols == j] = w[rows[cols == j]]
        A_ub.append(a)
        b_ub.append(cap)
    res = linprog(-w[rows], A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=(0, 1), method="highs")
    return float(-res.fun)


def brute_max_capacity(mat: CoverageMatrix, k: int, cap: float) -> float:
    return max(served_weight(mat, sel, cap) for sel in itertools.combinations(range(mat.shape[1]), k))
