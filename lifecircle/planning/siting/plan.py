"""A plan, not just a set: build order by marginal gain, and the existing services nobody else backs up."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.planning.siting.matrix import CoverageMatrix

__all__ = ["critical_services", "ranked_plan"]


def _positions(m: CoverageMatrix, site_ids) -> np.ndarray:
    pos = m.site_ids.get_indexer(pd.Index(list(site_ids)))
    if (pos < 0).any():
        raise InputError("Some selected sites are not columns of the coverage matrix.")
    return pos


def ranked_plan(
    m: CoverageMatrix,
    site_ids,
    *,
    capacity=None,
    unserved_m: float | None = None,
    by: str = "coverage",
) -> pd.DataFrame:
    """Order selected sites by marginal gain over the chosen set (greedy order) with cumulative coverage.

    Parameters
    ----------
    m : CoverageMatrix
        The full matrix (existing coverage counts from the start).
    site_ids : sequence
        The selected sites (any order).
    capacity : array-like, optional
        Per-candidate capacity (aligned with ``m.site_ids``): a site adds at most this much weight.
    unserved_m : float, optional
        With ``by="distance"``: distance charged to compounds no existing service reaches.
    by : {"coverage", "distance"}
        Rank by newly covered weight, or (p-median) by weighted walking metres saved.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id`` in build order with columns ``rank``, ``gain``, ``new_compounds``,
        ``new_weight``,
        ``cum_compounds``, ``cum_weight``, ``cum_share`` (share of all compound weight covered), and for
        ``by="distance"`` also ``cum_weighted_m``.
    """
    sel = _positions(m, site_ids)
    cap = None if capacity is None else np.broadcast_to(np.asarray(capacity, dtype=float), (m.shape[1],))
    state = _Build(m, cap, sel, by=by, unserved_m=unserved_m)
    left = np.ones(sel.size, dtype=bool)
    rows_out = []
    while left.any():
        live = np.flatnonzero(left)
        new_w, gain = state.gains(live)
        best = int(np.lexsort((live, -new_w, -gain))[0])  # most gain, then most weight, then first given
        j = sel[live[best]]
        newly = state.build(j)
        rows_out.append(
            {
                "site_id": m.site_ids[j],
                "rank": len(rows_out) + 1,
                "gain": float(gain[best]),
                "new_compounds": int(newly.size),
                "new_weight": float(new_w[best]),
                "cum_compounds": int(state.covered.sum()),
                "cum_weight": float(m.weights[state.covered].sum()),
                "cum_share": 0.0,
                "cum_weighted_m": state.cum_m,
            }
        )
        left[live[best]] = False
    df = pd.DataFrame(rows_out, columns=_PLAN_COLUMNS).set_index("site_id")
    if cap is not None:
        # served weight: existing coverage plus what the sites serve, cumulated
        df["cum_weight"] = float(m.weights[m.covered].sum()) + df["new_weight"].cumsum()
    df["cum_share"] = df["cum_weight"] / (float(m.weights.sum()) or 1.0)
    if by != "distance":
        df = df.drop(columns="cum_weighted_m")
    return df


_PLAN_COLUMNS = [
    "site_id",
    "rank",
    "gain",
    "new_compounds",
    "new_weight",
    "cum_compounds",
    "cum_weight",
    "cum_share",
    "cum_weighted_m",
]


class _Build:
    """The ranked plan while it is built: what each compound still needs, who is covered, walks so far.

    The selected sites' columns are laid out once as flat ``(site, compound, walk)`` entries, so the gains of
    every site left are one weighted ``bincount`` per step instead of a Python loop over sites.
    """

    def __init__(self, m: CoverageMatrix, cap, sel: np.ndarray, *, by: str, unserved_m: float | None):
        self.m, self.cap, self.w = m, cap, m.weights
        self.csc = m.cover.tocsc()
        self.covered = m.covered.copy()
        self.residual = np.where(self.covered, 0.0, self.w).astype(float)
        self.sel = sel
        sub = self.csc[:, sel]
        self.entry_site = np.repeat(np.arange(sel.size), np.diff(sub.indptr))
        self.entry_row = sub.indices
        self.dist = None
        if by == "distance":
            ex = m.existing_walk_m if m.existing_walk_m is not None else np.full(m.shape[0], np.inf)
            self.dist = np.where(np.isfinite(ex), ex, np.inf if unserved_m is None else float(unserved_m))
            self.dcsc = m.distances.tocsc()
            self.entry_walk = self.dcsc[:, sel].data
            longest = np.full(sel.size, -np.inf)
            np.maximum.at(longest, self.entry_site, self.entry_walk)
            self.entry_unserved = 2 * longest[self.entry_site] + 1  # a walk longer than any of the site's own
        d = self.dist
        self.cum_m = float(np.where(np.isfinite(d), self.w * d, 0.0).sum()) if d is not None else np.nan

    def _rows(self, j: int) -> np.ndarray:
        return self.csc.indices[self.csc.indptr[j] : self.csc.indptr[j + 1]]

    def _walks(self, j: int) -> np.ndarray:
        return self.dcsc.data[self.dcsc.indptr[j] : self.dcsc.indptr[j + 1]]

    def gains(self, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weight each selected site ``live`` (positions in ``sel``) would newly serve, and its gain (that weight,
        or the weighted walking saved by distance)."""
        n = self.sel.size
        new_w = np.bincount(self.entry_site, weights=self.residual[self.entry_row], minlength=n)[live]
        if self.cap is not None:
            new_w = np.minimum(new_w, self.cap[self.sel[live]])
        if self.dist is None:
            return new_w, new_w.copy()
        cur = self.dist[self.entry_row]
        saved = self.w[self.entry_row] * (np.where(np.isfinite(cur), cur, self.entry_unserved) - self.entry_walk)
        return new_w, np.bincount(self.entry_site, weights=saved.clip(0), minlength=n)[live]

    def build(self, j: int) -> np.ndarray:
        """Build site ``j``: serve what it can (with a capacity, compounds with the fewest candidates first) and
        return the compounds it newly covers."""
        r = self._rows(j)
        newly = r[~self.covered[r]]
        if self.cap is not None:
            take = min(self.cap[j], self.residual[r].sum())
            order = np.argsort(np.diff(self.m.cover.indptr)[r], kind="stable")
            rr = r[order]
            before = np.concatenate([[0.0], np.cumsum(self.residual[rr])[:-1]])
            served = np.clip(take - before, 0.0, self.residual[rr])
            self.residual[rr] -= served
            newly = rr[(self.residual[rr] <= 1e-9) & ~self.covered[rr]]
        else:
            self.residual[r] = 0.0
        self.covered[newly] = True
        if self.dist is not None:
            d = self._walks(j)
            cur = self.dist[r]
            fin = np.isfinite(cur)
            self.cum_m -= float((self.w[r][fin] * (cur[fin] - d[fin]).clip(0)).sum())
            self.cum_m += float((self.w[r][~fin] * d[~fin]).sum())
            self.dist[r] = np.minimum(cur, d)
        return newly


def critical_services(existing: CoverageMatrix) -> pd.DataFrame:
    """Existing services that are the only one within reach of some compounds.

    Parameters
    ----------
    existing : CoverageMatrix
        Compounds × existing services (columns are services; ``site_ids`` hold the service ids).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``service_id``, columns ``sole_compounds`` (count), ``sole_weight`` and ``compound_ids``
        (tuple), most weight first; only services that are critical.
    """
    A = existing.cover
    lens = np.diff(A.indptr)
    sole = np.flatnonzero(lens == 1)
    svc = A.indices[A.indptr[sole]]
    df = pd.DataFrame({"svc": svc, "w": existing.weights[sole], "cid": existing.compound_ids[sole]})
    out = df.groupby("svc").agg(sole_compounds=("cid", "size"), sole_weight=("w", "sum"), compound_ids=("cid", tuple))
    out.index = pd.Index(existing.site_ids[out.index.to_numpy()], name="service_id")
    return out.sort_values(["sole_weight", "sole_compounds"], ascending=False)
