"""The coverage matrix that every siting model is built from.

Rows are compounds (``compound_id``), columns are candidate sites (``site_id``). Only pairs within the walking
limit are stored (scipy CSR), optionally with their walking distance. Compound weights, compounds already
covered by existing services (fixed, cost nothing) and per-candidate costs travel with the matrix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from lifecircle.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["CoverageMatrix", "build_coverage_matrix"]


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def _as_index(ids, name: str) -> pd.Index:
    idx = pd.Index(ids, name=name)
    if idx.has_duplicates:
        dup = idx[idx.duplicated()][:3].tolist()
        raise InputError(f"The {name} values must be unique; duplicated: {dup}.")
    return idx.copy()


def _vector(values, n: int, what: str, default: float) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=float)
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(f"The {what} must have one value per row ({n}), got shape {arr.shape}.")
    return arr.copy()


@dataclass(frozen=True, eq=False)
class CoverageMatrix:
    """Sparse compounds × candidates coverage (and optionally walking distance) matrix.

    Build it with :meth:`from_pairs` or :meth:`from_dense`; all arrays are read-only copies.

    Attributes
    ----------
    cover : scipy.sparse.csr_matrix
        Boolean (n_compounds, n_candidates); True where the candidate is within the walking limit.
        Canonical: sorted indices, no duplicates, no explicit False.
    walk_m : numpy.ndarray or None
        Walking distance in metres of each stored pair, aligned with ``cover.data`` (same order).
    compound_ids, site_ids : pandas.Index
        Row and column labels (``compound_id``, ``site_id``).
    weights : numpy.ndarray
        Compound weight (households or population); 1 when not given.
    covered : numpy.ndarray
        Boolean per compound: already covered by an existing service (fixed; those cost nothing).
    existing_walk_m : numpy.ndarray or None
        Walking distance to the nearest existing service (inf when none); used by p-median as the fallback.
    costs : numpy.ndarray or None
        Per-candidate cost; None means every site costs 1.
    limit_m : float or None
        The walking limit the matrix was built with.
    """

    cover: sp.csr_matrix
    walk_m: np.ndarray | None
    compound_ids: pd.Index
    site_ids: pd.Index
    weights: np.ndarray
    covered: np.ndarray
    existing_walk_m: np.ndarray | None = None
    costs: np.ndarray | None = None
    limit_m: float | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_pairs(
        cls,
        compound_ids,
        site_ids,
        compound_idx,
        site_idx,
        *,
        walk_m=None,
        limit_m: float | None = None,
        weights=None,
        covered=None,
        existing_walk_m=None,
        costs=None,
    ) -> CoverageMatrix:
        """Build from arrays of (compound position, candidate position[, walking metres]) pairs.

        Parameters
        ----------
        compound_ids, site_ids : sequence
            Row and column labels; positions in ``compound_idx`` / ``site_idx`` refer to them.
        compound_idx, site_idx : array-like of int
            One entry per pair within reach. Duplicated pairs keep the shortest distance.
        walk_m : array-like of float, optional
            Walking distance of each pair in metres; needed by p-median.
        limit_m : float, optional
            When given with ``walk_m``, pairs farther than this are dropped.
        weights : array-like, optional
            Compound weights (households/population); default 1. Must be finite and >= 0.
        covered : array-like of bool, optional
            Compounds already covered by existing services. Default: ``existing_walk_m <= limit_m`` when both
            are given, else none.
        existing_walk_m : array-like of float, optional
            Walking distance to the nearest existing service (NaN/inf when none).
        costs : array-like of float, optional
            Per-candidate cost (> 0).

        Returns
        -------
        CoverageMatrix
        """
        cids = _as_index(compound_ids, "compound_id")
        sids = _as_index(site_ids, "site_id")
        n, m = len(cids), len(sids)
        ri = np.asarray(compound_idx, dtype=np.int64).ravel()
        ci = np.asarray(site_idx, dtype=np.int64).ravel()
        if ri.shape != ci.shape:
            raise InputError("The compound and site index arrays of the coverage pairs differ in length.")
        if ri.size and (ri.min() < 0 or ri.max() >= n or ci.min() < 0 or ci.max() >= m):
            raise InputError("A coverage pair refers to a compound or site position out of range.")
        d = None
        if walk_m is not None:
            d = np.asarray(walk_m, dtype=float).ravel()
            if d.shape != ri.shape:
                raise InputError("The walking distances must have one value per coverage pair.")
            if np.isnan(d).any() or (d < 0).any():
                raise InputError("Walking distances of coverage pairs must be finite and non-negative.")
            keep = np.isfinite(d)
            if limit_m is not None:
                keep &= d <= float(limit_m)
            ri, ci, d = ri[keep], ci[keep], d[keep]
        # canonical order: by row then column, shortest distance first for duplicates
        order = np.lexsort((d, ci, ri)) if d is not None else np.lexsort((ci, ri))
        ri, ci = ri[order], ci[order]
        first = np.ones(ri.size, dtype=bool)
        first[1:] = (ri[1:] != ri[:-1]) | (ci[1:] != ci[:-1])
        ri, ci = ri[first], ci[first]
        if d is not None:
            d = d[order][first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(ri, minlength=n), out=indptr[1:])
        cover = sp.csr_matrix((np.ones(ri.size, dtype=bool), ci.astype(np.int32), indptr), shape=(n, m))
        cover.has_sorted_indices = True

        w = _vector(weights, n, "compound weights", 1.0)
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("Compound weights must be finite and non-negative.")
        ex = None
        if existing_walk_m is not None:
            ex = _vector(existing_walk_m, n, "existing-service distances", np.inf)
            ex = np.where(np.isnan(ex), np.inf, ex)
        if covered is None:
            known = ex is not None and limit_m is not None
            cov = ex <= float(limit_m) if known else np.zeros(n, dtype=bool)
        else:
            cov = np.asarray(covered, dtype=bool).ravel()
            if cov.shape != (n,):
                raise InputError("The already-covered flags must have one value per compound.")
        c = None
        if costs is not None:
            c = _vector(costs, m, "candidate costs", 1.0)
            if not np.isfinite(c).all() or (c <= 0).any():
                raise InputError("Candidate costs must be finite and positive.")
        return cls(
            cover=cover,
            walk_m=_frozen(d),
            compound_ids=cids,
            site_ids=sids,
            weights=_frozen(w),
            covered=_frozen(cov),
            existing_walk_m=_frozen(ex),
            costs=_frozen(c),
            limit_m=None if limit_m is None else float(limit_m),
        )

    @classmethod
    def from_dense(
        cls,
        walk_m,
        *,
        limit_m: float,
        compound_ids=None,
        site_ids=None,
        **kwargs,
    ) -> CoverageMatrix:
        """Build from a dense compounds × candidates distance array or DataFrame (inf/NaN = unreachable).

        Labels come from the DataFrame index/columns, or ``compound_ids``/``site_ids``, or positions as str.
        Other keyword arguments go to :meth:`from_pairs`.
        """
        if isinstance(walk_m, pd.DataFrame):
            compound_ids = walk_m.index if compound_ids is None else compound_ids
            site_ids = walk_m.columns if site_ids is None else site_ids
            walk_m = walk_m.to_numpy(dtype=float)
        d = np.asarray(walk_m, dtype=float)
        if d.ndim != 2:
            raise InputError("A dense distance matrix must be two-dimensional.")
        n, m = d.shape
        compound_ids = [str(i) for i in range(n)] if compound_ids is None else compound_ids
        site_ids = [str(j) for j in range(m)] if site_ids is None else site_ids
        ri, ci = np.nonzero(np.isfinite(d) & (d <= limit_m))
        return cls.from_pairs(compound_ids, site_ids, ri, ci, walk_m=d[ri, ci], limit_m=limit_m, **kwargs)

    # ------------------------------------------------------------------ views
    @property
    def shape(self) -> tuple[int, int]:
        """(n_compounds, n_candidates)."""
        return self.cover.shape

    @property
    def distances(self) -> sp.csr_matrix:
        """Walking metres as a float CSR with the same pattern as ``cover`` (explicit zeros kept)."""
        if self.walk_m is None:
            raise InputError("This coverage matrix has no walking distances; p-median needs them.")
        c = self.cover
        return sp.csr_matrix((self.walk_m.copy(), c.indices.copy(), c.indptr.copy()), shape=c.shape)

    @property
    def site_costs(self) -> np.ndarray:
        """Per-candidate cost (ones when no costs were given)."""
        return np.ones(self.shape[1]) if self.costs is None else self.costs.copy()

    def __repr__(self) -> str:
        n, m = self.shape
        return (
            f"CoverageMatrix({n} compounds × {m} candidates, {self.cover.nnz} pairs, "
            f"{int(self.covered.sum())} already covered, limit_m={self.limit_m})"
        )


def build_coverage_matrix(
    net,
    compounds_att,
    candidates_att,
    limit_m: float,
    *,
    compound_ids=None,
    site_ids=None,
    weights=None,
    existing_walk_m=None,
    costs=None,
) -> CoverageMatrix:
    """Walking-network coverage matrix: every (compound, candidate) pair within ``limit_m`` metres on foot.

    Uses :func:`lifecircle.geo.routing.paths.pairs_within` (compounds walk to candidates) from the network core.

    Parameters
    ----------
    net : lifecircle.geo.network.graph.PreparedNetwork
        The prepared walking network.
    compounds_att, candidates_att : Attachment
        Compounds and candidate sites snapped with :func:`lifecircle.geo.routing.snapping.snap_points`.
    limit_m : float
        Walking limit in metres (minutes × speed).
    compound_ids, site_ids : sequence, optional
        Labels; default taken from the attachments' ``index`` attribute when they have one.
    weights, existing_walk_m, costs : array-like, optional
        See :meth:`CoverageMatrix.from_pairs`. Compounds with ``existing_walk_m <= limit_m`` are covered.

    Returns
    -------
    CoverageMatrix
    """
    from lifecircle.geo.routing.paths import pairs_within  # lazy: the network core lands on main separately

    if compound_ids is None:
        compound_ids = getattr(compounds_att, "index", None)
    if site_ids is None:
        site_ids = getattr(candidates_att, "index", None)
    if compound_ids is None or site_ids is None:
        raise InputError("Compound and site ids are needed to build a coverage matrix.")
    src, tgt, walk = pairs_within(net, compounds_att, candidates_att, limit_m=limit_m)
    log.info("coverage matrix: %d pairs within %.0f m", len(src), limit_m)
    return CoverageMatrix.from_pairs(
        compound_ids,
        site_ids,
        src,
        tgt,
        walk_m=walk,
        limit_m=limit_m,
        weights=weights,
        existing_walk_m=existing_walk_m,
        costs=costs,
    )
