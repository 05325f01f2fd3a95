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
    csc = m.cover.tocsc()
    w = m.weights
    cap = None if capacity is None else np.broadcast_to(np.asarray(capacity, dtype=float), (m.shape[1],))
    covered = m.covered.copy()
    residual = np.where(covered, 0.0, w).astype(float)
    total_w = float(w.sum()) or 1.0
    dist = None
    if by == "distance":
        ex = m.existing_walk_m if m.existing_walk_m is not None else np.full(m.shape[0], np.inf)
        dist = np.where(np.isfinite(ex), ex, np.inf if unserved_m is None else float(unserved_m))
        dcsc = m.distances.tocsc()
    remaining = list(range(sel.size))
    rows_out = []
    cum_m = float(np.where(np.isfinite(dist), w * dist, 0.0).sum()) if dist is not None else np.nan
    while remaining:
        cand = sel[remaining]
        new_w = np.empty(len(remaining))
        gain = np.empty(len(remaining))
        for t, j in enumerate(cand):  # loop over the (few) selected sites, vectorised over compounds
            r = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            nw = residual[r].sum()
            new_w[t] = min(nw, cap[j]) if cap is not None else nw
            if dist is not None:
                d = dcsc.data[dcsc.indptr[j] : dcsc.indptr[j + 1]]
                cur = dist[r]
                gain[t] = float((w[r] * (np.where(np.isfinite(cur), cur, 2 * d.max() + 1) - d).clip(0)).sum())
            else:
                gain[t] = new_w[t]
        best = int(np.lexsort((np.arange(len(remaining)), -new_w, -gain))[0])
        j = cand[best]
        r = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        newly = r[~covered[r]]
        if cap is not None:
            take = min(cap[j], residual[r].sum())
            order = np.argsort(np.diff(m.cover.indptr)[r], kind="stable")
            rr = r[order]
            before = np.concatenate([[0.0], np.cumsum(residual[rr])[:-1]])
            served = np.clip(take - before, 0.0, residual[rr])
            residual[rr] -= served
            newly = rr[(residual[rr] <= 1e-9) & ~covered[rr]]
        else:
            residual[r] = 0.0
        covered[newly] = True
        if dist is not None:
            d = dcsc.data[dcsc.indptr[j] : dcsc.indptr[j + 1]]
            cur = dist[r]
            fin = np.isfinite(cur)
            cum_m -= float((w[r][fin] * (cur[fin] - d[fin]).clip(0)).sum())
            cum_m += float((w[r][~fin] * d[~fin]).sum())
            dist[r] = np.minimum(cur, d)
        rows_out.append(
            {
                "site_id": m.site_ids[j],
                "rank": len(rows_out) + 1,
                "gain": float(gain[best]),
                "new_compounds": int(newly.size),
                "new_weight": float(new_w[best]),
                "cum_compounds": int(covered.sum()),
                "cum_weight": float(w[covered].sum()),
                "cum_share": 0.0,
                "cum_weighted_m": cum_m,
            }
        )
        remaining.pop(best)
    df = pd.DataFrame(
        rows_out,
        columns=[
            "site_id",
            "rank",
            "gain",
            "new_compounds",
            "new_weight",
            "cum_compounds",
            "cum_weight",
            "cum_share",
            "cum_weighted_m",
        ],
    ).set_index("site_id")
    if cap is not None:
        # served weight: existing coverage plus what the sites serve, cumulated
        df["cum_weight"] = float(w[m.covered].sum()) + df["new_weight"].cumsum()
    df["cum_share"] = df["cum_weight"] / total_w
    if by != "distance":
        df = df.drop(columns="cum_weighted_m")
    return df


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
