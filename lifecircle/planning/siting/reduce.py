"""Exact reductions of a siting instance before any solver sees it.

Every step keeps the optimum value (and maps solutions back one-to-one):

- compounds already covered by existing services are fixed (max-coverage, cover-all);
- compounds no candidate reaches are set aside and reported as ``unreachable``;
- compounds with identical candidate sets (and, for p-median, identical distances and fallback) are merged,
  their weights summed;
- dominated candidates are dropped: for coverage models a candidate whose covered set is a subset of another
  candidate's with no lower cost (not with capacities: two sites then add capacity); for p-median a candidate
  that another reaches everywhere it reaches at no greater distance;
- cover-all only: a compound only one candidate reaches forces that candidate; a compound whose candidate set
  contains another compound's set is covered whenever that one is (row dominance).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lifecircle.errors import InputError
from lifecircle.planning.siting.matrix import CoverageMatrix

log = logging.getLogger(__name__)

__all__ = ["ReducedInstance", "reduce_instance"]

_MAX_PAIR_EXPANSION = 30_000_000
_RNG = np.random.default_rng(20240607)
_HASH_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


@dataclass(frozen=True, eq=False)
class ReducedInstance:
    """A reduced siting instance: merged compound groups × surviving candidates.

    Attributes
    ----------
    A : scipy.sparse.csr_matrix
        Boolean groups × columns coverage.
    D : scipy.sparse.csr_matrix or None
        p-median only: walking metres with the pattern of ``A``.
    weight : numpy.ndarray
        Summed weight per group.
    fallback : numpy.ndarray or None
        p-median only: distance each group keeps without a new site.
    cols : numpy.ndarray
        Original candidate positions of the columns.
    cost, capacity : numpy.ndarray
        Per column (capacity None when uncapacitated).
    fixed : numpy.ndarray
        Original candidate positions forced into every optimal cover-all solution.
    unreachable : numpy.ndarray
        Original compound positions left out: no candidate reaches them (and, p-median, no existing service).
    constant : float
        Objective part the reductions took out (p-median distance of groups no candidate improves).
    stats : dict
        Sizes before and after.
    """

    A: sp.csr_matrix
    D: sp.csr_matrix | None
    weight: np.ndarray
    fallback: np.ndarray | None
    cols: np.ndarray
    cost: np.ndarray
    capacity: np.ndarray | None
    fixed: np.ndarray
    unreachable: np.ndarray
    constant: float = 0.0
    stats: dict = field(default_factory=dict)


def _hash_keys(m: int) -> tuple[np.ndarray, np.ndarray]:
    if m not in _HASH_CACHE:
        rng = np.random.default_rng(m + 7919)
        _HASH_CACHE[m] = (
            rng.integers(1, 2**63, size=m, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1),
            rng.integers(1, 2**63, size=m, dtype=np.int64).astype(np.uint64),
        )
    return _HASH_CACHE[m]


def _row_ids(indptr: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))


def merge_rows(A: sp.csr_matrix, values: np.ndarray | None = None, extra: np.ndarray | None = None):
    """Group rows with identical column sets (and identical ``values``/``extra`` when given).

    Rows must be non-empty with sorted indices. Returns ``(group_of_row, representative_row_of_group)``.
    """
    n, m = A.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    k1, k2 = _hash_keys(m)
    lens = np.diff(A.indptr)
    starts = A.indptr[:-1]
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(k1[A.indices], starts)
        mix = k2[A.indices]
        if values is not None:
            mix = mix ^ (np.ascontiguousarray(values, dtype=np.float64).view(np.uint64) * k1[A.indices])
        h2 = np.add.reduceat(mix, starts)
    cols = [lens.astype(np.uint64), h1, h2]
    if extra is not None:
        cols.append(np.ascontiguousarray(extra, dtype=np.float64).view(np.uint64))
    keys = np.stack(cols, axis=1)
    _, rep, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    # exact check against each group's representative (hash collisions are astronomically rare)
    rep_row = rep[group]
    rows = _row_ids(A.indptr)
    pos_rep = A.indptr[rep_row[rows]] + (np.arange(A.nnz) - starts[rows])
    bad = A.indices[pos_rep] != A.indices
    if values is not None:
        bad |= values[pos_rep] != values
    if bad.any():
        bad_rows = np.unique(rows[bad])
        group = group.copy()
        group[bad_rows] = group.max() + 1 + np.arange(bad_rows.size)
        _, rep, group = np.unique(group, return_index=True, return_inverse=True)
    return group.astype(np.int64), rep.astype(np.int64)


def _dominated_cover_cols(A: sp.csr_matrix, cost: np.ndarray) -> np.ndarray:
    """Columns whose row set is within another column's with no lower cost (ties kept once)."""
    A32 = A.astype(np.int32)
    S = (A32.T @ A32).tocoo()
    size = np.asarray(A32.sum(axis=0)).ravel()
    j, k, shared = S.row, S.col, S.data
    sub = (j != k) & (shared == size[j]) & (cost[k] <= cost[j])
    j, k = j[sub], k[sub]
    strict = (size[k] > size[j]) | (cost[k] < cost[j]) | (k < j)
    dom = np.zeros(A.shape[1], dtype=bool)
    dom[j[strict]] = True
    return dom


def _pairs_in_rows(indptr: np.ndarray):
    """All ordered (a, b) entry pairs sharing a row (a != b), as positions into the CSR data."""
    lens = np.diff(indptr)
    rows = _row_ids(indptr)
    reps = lens[rows]
    a = np.repeat(np.arange(indptr[-1]), reps)
    block_start = np.repeat(np.cumsum(reps) - reps, reps)
    b = indptr[rows][np.repeat(np.arange(indptr[-1]), reps)] + (np.arange(a.size) - block_start)
    keep = a != b
    return a[keep], b[keep]


def _dominated_median_cols(A: sp.csr_matrix, D: sp.csr_matrix) -> np.ndarray:
    """Columns j for which some k reaches every row j reaches at no greater distance (ties kept once)."""
    m = A.shape[1]
    dom = np.zeros(m, dtype=bool)
    lens = np.diff(A.indptr)
    if int((lens.astype(np.int64) ** 2).sum()) > _MAX_PAIR_EXPANSION:
        log.info("p-median dominance skipped: too many candidate pairs")
        return dom
    D = D.tocsr()
    a, b = _pairs_in_rows(A.indptr)
    j, k = A.indices[a].astype(np.int64), A.indices[b].astype(np.int64)
    good = D.data[b] <= D.data[a]
    better = D.data[b] < D.data[a]
    key = j[good] * m + k[good]
    ukey, inv = np.unique(key, return_inverse=True)
    count = np.bincount(inv.ravel())
    strict = np.bincount(inv.ravel(), weights=better[good].astype(float)) > 0
    jj, kk = ukey // m, ukey % m
    size = np.bincount(A.indices, minlength=m)
    full = count == size[jj]
    dominated = full & ((size[kk] > size[jj]) | strict | (kk < jj))
    dom[jj[dominated]] = True
    return dom


def _dominated_rows(A: sp.csr_matrix) -> np.ndarray:
    """Rows whose column set contains another (distinct) row's set: covered whenever that row is."""
    A32 = A.astype(np.int32)
    S = (A32 @ A32.T).tocoo()
    size = np.diff(A.indptr)
    i, i2, shared = S.row, S.col, S.data
    sub = (i != i2) & (shared == size[i2])
    dom = np.zeros(A.shape[0], dtype=bool)
    dom[i[sub]] = True
    return dom


def _take_rows(A: sp.csr_matrix, vals: np.ndarray | None, rows: np.ndarray):
    """Row subset of a CSR (and of values aligned with its data), explicit zeros kept."""
    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    lens = np.diff(A.indptr)[rows]
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    src = np.repeat(A.indptr[rows], lens) + (np.arange(indptr[-1]) - np.repeat(indptr[:-1], lens))
    out = sp.csr_matrix((A.data[src], A.indices[src], indptr), shape=(rows.size, A.shape[1]))
    return out, (None if vals is None else vals[src])


def _take_cols(A: sp.csr_matrix, vals: np.ndarray | None, keep: np.ndarray):
    """Column subset (boolean mask) of a CSR, explicit zeros kept."""
    remap = np.cumsum(keep) - 1
    k = keep[A.indices]
    rows = _row_ids(A.indptr)[k]
    indptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=A.shape[0]), out=indptr[1:])
    out = sp.csr_matrix((A.data[k], remap[A.indices[k]].astype(np.int32), indptr), shape=(A.shape[0], int(keep.sum())))
    return out, (None if vals is None else vals[k])


def reduce_instance(
    m: CoverageMatrix,
    *,
    kind: str,
    capacity: np.ndarray | None = None,
    unserved_m: float | None = None,
    dominance: bool = True,
    max_rounds: int = 6,
) -> ReducedInstance:
    """Reduce a coverage matrix for one model kind.

    Parameters
    ----------
    m : CoverageMatrix
        The full instance (not modified).
    kind : {"cover", "max", "median"}
        Cover-all (LSCP), max-coverage (MCLP) or p-median.
    capacity : numpy.ndarray, optional
        Per-candidate capacity in weight units; turns off reductions that capacities invalidate.
    unserved_m : float, optional
        p-median: distance charged to a compound no existing service reaches when no new site serves it.
    dominance : bool
        Apply candidate (and, cover-all, compound) dominance.
    max_rounds : int
        Rounds of merge/dominance until nothing changes.

    Returns
    -------
    ReducedInstance
    """
    if kind not in ("cover", "max", "median"):
        raise ValueError(f"unknown model kind {kind!r}")
    n0, m0 = m.shape
    work = _initial_rows(m, kind, unserved_m)
    work.cap = None if capacity is None else np.asarray(capacity, dtype=float).copy()
    stats = {"compounds": n0, "candidates": m0, "pairs": int(m.cover.nnz), "rows_in": int(work.rows_in)}
    for _ in range(max_rounds):
        before = work.A.shape
        work.merge_rows()
        if kind == "cover" and work.cap is None and work.A.shape[0]:
            work.force_single_rows()
            if dominance and work.A.shape[0]:
                work.drop_dominated_rows()
        work.drop_columns(kind, dominance)
        if work.A.shape == before:
            break
    A, vals = work.A, work.vals
    stats.update(
        groups=int(A.shape[0]),
        columns=int(A.shape[1]),
        pairs_reduced=int(A.nnz),
        fixed=int(sum(f.size for f in work.fixed)),
        unreachable=int(work.unreachable.size),
    )
    log.info("siting reduction (%s): %s", kind, stats)
    return ReducedInstance(
        A=A,
        D=None if vals is None else sp.csr_matrix((vals, A.indices, A.indptr), shape=A.shape),
        weight=work.weight,
        fallback=work.fallback,
        cols=work.cols,
        cost=work.cost,
        capacity=work.cap,
        fixed=np.concatenate(work.fixed) if work.fixed else np.zeros(0, dtype=np.int64),
        unreachable=work.unreachable,
        constant=work.constant,
        stats=stats,
    )


@dataclass(eq=False)
class _Work:
    """The instance while it is being reduced: groups × candidates, their weights, costs and what was fixed."""

    A: sp.csr_matrix
    vals: np.ndarray | None
    weight: np.ndarray
    fallback: np.ndarray | None
    cols: np.ndarray
    cost: np.ndarray
    unreachable: np.ndarray
    constant: float
    rows_in: int
    cap: np.ndarray | None = None
    fixed: list = field(default_factory=list)

    def merge_rows(self) -> None:
        """Merge identical rows (their weights add up)."""
        if not self.A.shape[0]:
            return
        group, rep = merge_rows(self.A, self.vals, self.fallback)
        if rep.size < self.A.shape[0]:
            self.weight = np.bincount(group, weights=self.weight, minlength=rep.size)
            self.A, self.vals = _take_rows(self.A, self.vals, rep)
            self.fallback = None if self.fallback is None else self.fallback[rep]

    def force_single_rows(self) -> None:
        """Cover-all: a row one candidate reaches forces that candidate; the rows it covers are done."""
        A = self.A
        single = np.diff(A.indptr) == 1
        if not single.any():
            return
        ess = np.zeros(A.shape[1], dtype=bool)
        ess[A.indices[A.indptr[:-1][single]]] = True
        self.fixed.append(self.cols[ess])
        hit = np.bincount(_row_ids(A.indptr)[ess[A.indices]], minlength=A.shape[0]) > 0
        A, _ = _take_rows(A, None, ~hit)
        self.weight = self.weight[~hit]
        self.A, _ = _take_cols(A, None, ~ess)
        self.cols, self.cost = self.cols[~ess], self.cost[~ess]

    def drop_dominated_rows(self) -> None:
        """Cover-all: a row whose candidates include another row's is covered whenever that one is."""
        rd = _dominated_rows(self.A)
        if rd.any():
            self.A, _ = _take_rows(self.A, None, ~rd)
            self.weight = self.weight[~rd]

    def drop_columns(self, kind: str, dominance: bool) -> None:
        """Drop dominated candidates (without capacities) and candidates reaching nothing."""
        A = self.A
        dc = np.zeros(A.shape[1], dtype=bool)
        if dominance and self.cap is None and A.shape[1] and A.shape[0]:
            if kind == "median":
                dc = _dominated_median_cols(A, sp.csr_matrix((self.vals, A.indices, A.indptr), shape=A.shape))
            else:
                dc = _dominated_cover_cols(A, self.cost)
        dc |= np.bincount(A.indices, minlength=A.shape[1]) == 0  # columns reaching nothing left
        if dc.any():
            self.A, self.vals = _take_cols(A, self.vals, ~dc)
            self.cols, self.cost = self.cols[~dc], self.cost[~dc]
            self.cap = None if self.cap is None else self.cap[~dc]


def _initial_rows(m: CoverageMatrix, kind: str, unserved_m: float | None) -> _Work:
    """The rows a model needs: uncovered (max: weighted) compounds some candidate reaches; p-median: compounds a
    candidate serves better than their fallback (existing service or ``unserved_m``), the rest a constant."""
    n0, m0 = m.shape
    w = m.weights
    reach = np.diff(m.cover.indptr) > 0
    fallback = None
    vals = None
    constant = 0.0
    if kind == "median":
        if m.walk_m is None:
            raise InputError("p-median needs a coverage matrix with walking distances.")
        ex = m.existing_walk_m if m.existing_walk_m is not None else np.full(n0, np.inf)
        fb = np.where(np.isfinite(ex), ex, np.inf if unserved_m is None else float(unserved_m))
        lost = ~reach & ~np.isfinite(ex)
        unreachable = np.flatnonzero(lost & (w > 0))
        # keep only pairs that beat the fallback
        better = m.walk_m < fb[_row_ids(m.cover.indptr)]
        A = m.cover.copy()
        A.data = better
        useful = np.bincount(_row_ids(A.indptr)[better], minlength=n0) > 0
        rows = np.flatnonzero(useful & (w > 0))
        const_rows = ~useful & ~lost & np.isfinite(fb) & (w > 0)
        constant = float((w[const_rows] * fb[const_rows]).sum())
        A, vals = _take_rows(A, m.walk_m, rows)
        A, vals = _take_cols_where(A, vals, A.data)
        fallback = fb[rows]
    else:
        active = ~m.covered
        if kind == "max":
            active &= w > 0
        unreachable = np.flatnonzero(active & ~reach)
        rows = np.flatnonzero(active & reach)
        A, _ = _take_rows(m.cover, None, rows)
    return _Work(
        A=A,
        vals=vals,
        weight=w[rows].astype(float),
        fallback=fallback,
        cols=np.arange(m0),
        cost=m.site_costs,
        unreachable=unreachable,
        constant=constant,
        rows_in=int(rows.size),
    )


def _take_cols_where(A: sp.csr_matrix, vals: np.ndarray, keep_entry: np.ndarray):
    """Drop individual entries (not columns): keep the entries where ``keep_entry`` is True."""
    keep_entry = np.asarray(keep_entry, dtype=bool)
    rows = _row_ids(A.indptr)[keep_entry]
    indptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=A.shape[0]), out=indptr[1:])
    out = sp.csr_matrix((np.ones(rows.size, dtype=bool), A.indices[keep_entry], indptr), shape=A.shape)
    return out, vals[keep_entry]
