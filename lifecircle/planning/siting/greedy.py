"""Greedy and lazy-greedy heuristics on a reduced instance (milliseconds; bounds come from elsewhere).

All functions return reduced-column positions in pick order; they never modify the instance.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable

import numpy as np

from lifecircle.planning.siting.reduce import ReducedInstance

log = logging.getLogger(__name__)

__all__ = ["greedy_cover", "greedy_max", "greedy_median", "swap_max", "swap_median"]


def _fill(rows: np.ndarray, residual: np.ndarray, cap: float, degree: np.ndarray) -> np.ndarray:
    """Serve up to ``cap`` of the residual weight of ``rows`` (fewest alternatives first); returns amounts."""
    order = np.argsort(degree[rows], kind="stable")
    r = rows[order]
    need = residual[r]
    before = np.concatenate([[0.0], np.cumsum(need)[:-1]])
    take = np.clip(cap - before, 0.0, need)
    out = np.zeros(rows.size)
    out[order] = take
    return out


def greedy_max(inst: ReducedInstance, *, k: int | None, budget: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lazy greedy for max-coverage: best gain (per cost under a budget) until ``k`` sites or budget spent.

    With capacities a site's gain is the residual weight it can serve (up to its capacity).
    With a budget the better of the ratio-greedy and the best single affordable site is returned.

    Returns
    -------
    (picked, gains) : reduced column positions in pick order and the weight each added.
    """
    A = inst.A
    m = A.shape[1]
    csc = A.tocsc()
    residual = inst.weight.astype(float).copy()
    degree = np.diff(A.indptr).astype(float)
    cap = inst.capacity
    cost = inst.cost if budget is not None else np.ones(m)
    k = m if k is None else int(k)
    left = np.inf if budget is None else float(budget)

    def gain(j: int) -> float:
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        s = residual[rows].sum()
        return float(min(s, cap[j]) if cap is not None else s)

    heap = [(-gain(j) / cost[j], j) for j in range(m)]
    heapq.heapify(heap)
    picked, gains = [], []
    while heap and len(picked) < k:
        _, j = heapq.heappop(heap)
        if inst.cost[j] > left + 1e-9 and budget is not None:
            continue  # never affordable again
        gj = gain(j)
        key = gj / cost[j]
        if heap and key < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-key, j))
            continue
        if gj <= 0:
            break
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if cap is None:
            residual[rows] = 0.0
        else:
            residual[rows] -= _fill(rows, residual, cap[j], degree)
        picked.append(j)
        gains.append(gj)
        if budget is not None:
            left -= inst.cost[j]
    picked_a, gains_a = np.asarray(picked, dtype=np.int64), np.asarray(gains)
    if budget is not None and m:
        single = np.asarray(csc.T @ inst.weight).ravel()
        if cap is not None:
            single = np.minimum(single, cap)
        single[inst.cost > budget] = -1
        j = int(np.argmax(single))
        if single[j] > gains_a.sum():
            return np.array([j], dtype=np.int64), np.array([single[j]])
    return picked_a, gains_a


def greedy_cover(inst: ReducedInstance) -> np.ndarray | None:
    """Greedy set cover (most newly covered groups per cost), then redundant sites removed.

    With capacities: most residual weight served per cost until every group is fully served.
    Returns reduced column positions, or None when greedy cannot serve everything.
    """
    A = inst.A
    g, m = A.shape
    csc = A.tocsc()
    cap = inst.capacity
    cost = inst.cost
    if cap is None:
        unc = np.ones(g, dtype=bool)

        def gain(j):
            return float(unc[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]].sum())
    else:
        residual = inst.weight.astype(float).copy()
        degree = np.diff(A.indptr).astype(float)

        def gain(j):
            return float(min(residual[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]].sum(), cap[j]))

    heap = [(-gain(j) / cost[j], j) for j in range(m)]
    heapq.heapify(heap)
    picked: list[int] = []
    remaining = g if cap is None else float(residual.sum())
    tol = 1e-9 * max(1.0, float(inst.weight.sum()))
    while heap and remaining > (0 if cap is None else tol):
        _, j = heapq.heappop(heap)
        gj = gain(j)
        if heap and gj / cost[j] < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-gj / cost[j], j))
            continue
        if gj <= 0:
            break
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if cap is None:
            remaining -= int(unc[rows].sum())
            unc[rows] = False
        else:
            residual[rows] -= _fill(rows, residual, cap[j], degree)
            remaining = float(residual.sum())
        picked.append(j)
    if remaining > (0 if cap is None else tol):
        return None
    sel = np.asarray(picked, dtype=np.int64)
    if cap is None and sel.size:
        # drop redundant sites, most expensive / last picked first
        count = np.asarray(A[:, sel].sum(axis=1)).ravel()
        keep = np.ones(sel.size, dtype=bool)
        for t in np.lexsort((-np.arange(sel.size), -cost[sel])):
            rows = csc.indices[csc.indptr[sel[t]] : csc.indptr[sel[t] + 1]]
            if (count[rows] >= 2).all():
                keep[t] = False
                count[rows] -= 1
        sel = sel[keep]
    return sel


def greedy_median(inst: ReducedInstance, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy p-median: repeatedly open the site that saves the most weighted distance.

    Returns
    -------
    (picked, savings) : reduced column positions in pick order and the distance each saved.
    """
    D = inst.D
    g, m = D.shape
    rows = np.repeat(np.arange(g), np.diff(D.indptr))
    cur = inst.fallback.astype(float).copy()
    big = np.isinf(cur)
    if big.any():  # no fallback: any site is worth more than all finite savings
        cur[big] = 10.0 * (D.data.max() if D.nnz else 1.0) + 1.0
    picked, savings = [], []
    chosen = np.zeros(m, dtype=bool)
    for _ in range(min(int(k), m)):
        save = inst.weight[rows] * np.maximum(0.0, cur[rows] - D.data)
        per_col = np.bincount(D.indices, weights=save, minlength=m)
        per_col[chosen] = -1.0
        j = int(np.argmax(per_col))
        if per_col[j] <= 0:
            break
        e = D.indices == j
        np.minimum.at(cur, rows[e], D.data[e])
        chosen[j] = True
        picked.append(j)
        savings.append(float(per_col[j]))
    return np.asarray(picked, dtype=np.int64), np.asarray(savings)


def _swap_search(
    picked: np.ndarray,
    m: int,
    best_swap: Callable[[np.ndarray], tuple[int, int, float]],
    *,
    tol: float,
    max_swaps: int,
    time_limit_s: float,
) -> np.ndarray:
    """Best-improvement 1-swap local search over ``m`` columns, from the columns ``picked``.

    Each round ``best_swap(sel)`` (``sel`` the chosen columns as a mask) names the best (close one chosen column,
    open one other) pair and its improvement; the swap is made when that exceeds ``tol``. The search stops at a
    local optimum, after ``max_swaps`` swaps or ``time_limit_s``. Returns the chosen column positions.
    """
    t0 = time.perf_counter()
    sel = np.zeros(m, dtype=bool)
    sel[np.asarray(picked, dtype=np.int64)] = True
    if not sel.any() or sel.all():
        return np.flatnonzero(sel)
    for _ in range(max_swaps):
        out, i, delta = best_swap(sel)
        if delta <= tol:
            break
        sel[out], sel[i] = False, True
        if time.perf_counter() - t0 > time_limit_s:
            break
    return np.flatnonzero(sel)


def swap_max(
    inst: ReducedInstance,
    picked: np.ndarray,
    *,
    max_swaps: int = 500,
    time_limit_s: float = 5.0,
) -> np.ndarray:
    """Best-improvement 1-swap local search for uncapacitated max-coverage (same number of sites).

    Every round evaluates all (close one chosen site, open one other) pairs at once with sparse products and
    makes the best strictly improving swap; it stops at a local optimum, after ``max_swaps`` swaps or the time
    limit. The covered weight never decreases.

    Parameters
    ----------
    inst : ReducedInstance
        Uncapacitated instance.
    picked : numpy.ndarray
        Reduced column positions of the starting solution (e.g. greedy's).

    Returns
    -------
    numpy.ndarray
        Reduced column positions of the improved solution.
    """
    import scipy.sparse as sp

    A = inst.A.astype(float).tocsr()
    AT = A.T.tocsr()
    w = inst.weight.astype(float)

    def best_swap(sel: np.ndarray) -> tuple[int, int, float]:
        S = np.flatnonzero(sel)
        cnt = A @ sel.astype(float)  # chosen sites covering each group
        gain = AT @ np.where(cnt == 0, w, 0.0)  # weight a closed site would newly cover
        uniq = np.where(cnt == 1, w, 0.0)  # weight only one chosen site covers
        loss = AT[S] @ uniq
        both = (AT @ sp.diags(uniq) @ A[:, S]).toarray()  # uniquely covered by S[s], also by candidate i
        delta = gain[:, None] - loss[None, :] + both
        delta[sel, :] = -np.inf
        i, s = np.unravel_index(int(np.argmax(delta)), delta.shape)
        return int(S[s]), int(i), float(delta[i, s])

    tol = 1e-9 * max(1.0, float(w.sum()))
    return _swap_search(picked, A.shape[1], best_swap, tol=tol, max_swaps=max_swaps, time_limit_s=time_limit_s)


def _nearest_two(rows, cols, d, sel, fb):
    """Per group: walk to the nearest open site or the fallback (d1), that site (-1: the fallback) and the walk
    without it (d2: the next open site or the fallback)."""
    e = np.flatnonzero(sel[cols])
    order = e[np.lexsort((d[e], rows[e]))]
    r = rows[order]
    first = np.r_[True, r[1:] != r[:-1]] if r.size else np.zeros(0, dtype=bool)
    d1, phi = fb.copy(), np.full(fb.size, -1, dtype=np.int64)
    f = order[first]
    near = d[f] < fb[rows[f]]
    d1[rows[f][near]], phi[rows[f][near]] = d[f][near], cols[f][near]
    d2 = fb.copy()
    second = order[1:][(r[1:] == r[:-1]) & first[:-1]] if r.size else order
    np.minimum.at(d2, rows[second], d[second])
    return d1, phi, d2


def swap_median(
    inst: ReducedInstance,
    picked: np.ndarray,
    *,
    max_swaps: int = 500,
    time_limit_s: float = 5.0,
) -> np.ndarray:
    """Best-improvement 1-swap local search for the p-median (every group with a finite fallback walk).

    Every round evaluates all (close one chosen site, open one other) pairs at once: the saving of opening a site,
    the loss of closing one (its groups fall back to their second nearest), and the correction for groups the
    opened site takes over from the closed one. It makes the best strictly improving swap and stops at a local
    optimum, after ``max_swaps`` swaps or the time limit. The walked distance never increases. Parameters and
    return value as :func:`swap_max`'s, with ``inst`` a p-median instance whose fallback walks are all finite.
    """
    D = inst.D
    g, m = D.shape
    rows, cols, d = np.repeat(np.arange(g), np.diff(D.indptr)), D.indices.astype(np.int64), D.data
    w, fb = inst.weight.astype(float), inst.fallback.astype(float)

    def best_swap(sel: np.ndarray) -> tuple[int, int, float]:
        S = np.flatnonzero(sel)
        pos = np.full(m, -1, dtype=np.int64)
        pos[S] = np.arange(S.size)
        d1, phi, d2 = _nearest_two(rows, cols, d, sel, fb)
        gain = np.bincount(cols, weights=w[rows] * np.maximum(0.0, d1[rows] - d), minlength=m)
        held = phi >= 0
        loss = np.bincount(pos[phi[held]], weights=w[held] * (d2[held] - d1[held]), minlength=S.size)
        take = held[rows] & (d < d2[rows])  # groups of a closed site that the opened one would serve
        corr = np.bincount(
            pos[phi[rows[take]]] * m + cols[take],
            weights=w[rows[take]] * (d2[rows[take]] - np.maximum(d[take], d1[rows[take]])),
            minlength=S.size * m,
        ).reshape(S.size, m)
        delta = gain[None, :] - loss[:, None] + corr
        delta[:, sel] = -np.inf
        s, i = np.unravel_index(int(np.argmax(delta)), delta.shape)
        return int(S[s]), int(i), float(delta[s, i])

    tol = 1e-9 * max(1.0, float((w * fb).sum()))
    return _swap_search(picked, m, best_swap, tol=tol, max_swaps=max_swaps, time_limit_s=time_limit_s)
