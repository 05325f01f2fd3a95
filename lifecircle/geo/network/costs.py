"""Cost arithmetic shared by the prepared graph, its contraction and the searches."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def min_csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n: int) -> sp.csr_array:
    """``n × n`` CSR matrix keeping the minimum of duplicate entries (``to_scipy_sparse_array`` would sum them)."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    key = rows * n + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
    least = np.minimum.reduceat(np.asarray(values, dtype=float)[order], starts) if len(key) else np.zeros(0)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key[starts] // n, minlength=n), out=indptr[1:])
    return sp.csr_array((least, key[starts] % n, indptr), shape=(n, n))


def partial_cost(fraction: np.ndarray, segment_cost: np.ndarray) -> np.ndarray:
    """Cost of walking ``fraction`` of a segment whose whole walk costs ``segment_cost``.

    No distance costs nothing, even on a segment closed in that direction (``0 × inf`` would be NaN).
    """
    with np.errstate(invalid="ignore"):
        return np.where(fraction > 0, fraction * segment_cost, 0.0)


def min_per_pair(first: np.ndarray, second: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The smallest cost of each distinct ``(first, second)`` pair of non-negative integers.

    Returns
    -------
    first, second, cost
        One entry per distinct pair, sorted by ``first`` then ``second``.
    """
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    if len(first) == 0:
        return first, second, np.asarray(cost, dtype=float)
    span = int(second.max()) + 1
    key = first * span + second
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    least = np.minimum.reduceat(np.asarray(cost, dtype=float)[order], starts)
    return key[starts] // span, key[starts] % span, least
