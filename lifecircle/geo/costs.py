"""Cost arithmetic shared by the prepared graph, its contraction and the searches."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def min_csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n: int) -> sp.csr_array:
    """``n × n`` CSR matrix keeping the minimum of duplicate entries (``to_scipy_sparse_array`` would sum them)."""
    order = np.lexsort((values, cols, rows))
    r, c, v = rows[order], cols[order], values[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return sp.csr_array((v[first], (r[first], c[first])), shape=(n, n))


def partial_cost(fraction: np.ndarray, segment_cost: np.ndarray) -> np.ndarray:
    """Cost of walking ``fraction`` of a segment whose whole walk costs ``segment_cost``.

    No distance costs nothing, even on a segment closed in that direction (``0 × inf`` would be NaN).
    """
    with np.errstate(invalid="ignore"):
        return np.where(fraction > 0, fraction * segment_cost, 0.0)
