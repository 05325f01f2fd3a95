"""The tables of a siting plan: compounds before and after, the recommended sites and their catchments, the
existing services nobody else backs up, and the summary written to ``siting.json``."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.geo.crs import WGS84
from lifecircle.geo.reach.coverage import ALL, CoverageResult
from lifecircle.geo.walk import Walk
from lifecircle.planning.candidates import Candidates
from lifecircle.planning.siting.matrix import CoverageMatrix
from lifecircle.planning.siting.plan import critical_services
from lifecircle.planning.siting.result import SitingResult

__all__ = ["before_after", "critical_table", "site_tables", "siting_summary"]


def before_after(
    compounds,
    before,
    weights,
    weight_col,
    weight_label,
    covered_before,
    covered_after,
    walk_before,
    walk_after,
    walk: Walk,
    first_site,
    site_ids,
    unreachable,
) -> pd.DataFrame:
    newly = covered_after & ~covered_before
    site_ids = np.asarray([*site_ids, None], dtype=object)
    new_site = np.where(newly & (first_site >= 0), site_ids[first_site], None)
    outcome = np.select(
        [covered_before, newly, unreachable], ["already_covered", "newly_covered", "unreachable"], "not_covered"
    )
    table = pd.DataFrame(
        {
            "compound_id": compounds.index.astype(str),
            "name": compounds["name"].astype(str).to_numpy() if "name" in compounds else compounds.index.astype(str),
        }
    )
    if weight_col is not None:
        table[weight_label] = weights
    walk_after_m = np.where(np.isfinite(walk_after), walk_after, np.nan)
    table["reach"] = before["reach"].fillna("off_network").to_numpy()
    table["covered_before"] = covered_before
    table["covered_after"] = covered_after
    table["walk_min_before"] = np.round(walk.minutes(walk_before), 2)
    table["walk_min_after"] = np.round(walk.minutes(walk_after_m), 2)
    table["new_site_id"] = new_site
    table["outcome"] = outcome
    return table


def site_tables(compounds, cand: Candidates, result: SitingResult, before_after, weight_label, weight_col):
    """The recommended sites (WGS84, build order) and their new catchments."""
    plan = result.plan.copy()
    ids = pd.Index(result.site_ids, name="site_id")
    chosen = cand.sites.loc[ids]
    pts = chosen.to_crs(WGS84).geometry
    out = gpd.GeoDataFrame(
        {
            "name": chosen["name"].astype(str).to_numpy(),
            "source": chosen["source"].astype(str).to_numpy() if "source" in chosen else "layer",
            "lon": pts.x.round(7).to_numpy(),
            "lat": pts.y.round(7).to_numpy(),
        },
        geometry=pts.to_numpy(),
        index=ids,
        crs=WGS84,
    )
    out["rank"] = plan["rank"].reindex(ids).to_numpy(dtype=np.int64)
    out["new_compounds"] = plan["new_compounds"].reindex(ids).to_numpy(dtype=np.int64)
    if weight_col is not None:
        out[f"new_{weight_label}"] = plan["new_weight"].reindex(ids).to_numpy(dtype=float)
    out["cum_compounds"] = plan["cum_compounds"].reindex(ids).to_numpy(dtype=np.int64)
    if weight_col is not None:
        out[f"cum_{weight_label}"] = plan["cum_weight"].reindex(ids).to_numpy(dtype=float)
    out["cum_share"] = plan["cum_share"].reindex(ids).round(4).to_numpy(dtype=float)
    if result.model == "p_median":
        out["walk_m_saved"] = plan["gain"].reindex(ids).round(1).to_numpy(dtype=float)
        out["cum_weighted_m"] = plan["cum_weighted_m"].reindex(ids).round(1).to_numpy(dtype=float)
    newly = before_after[before_after["new_site_id"].notna()]
    covers = newly.groupby("new_site_id")["name"].agg(lambda names: "; ".join(names))
    out["covers"] = covers.reindex(ids).fillna("").to_numpy(dtype=object)

    comp = compounds[[compounds.geometry.name]].to_crs(WGS84)
    members = newly.groupby("new_site_id")["compound_id"].agg(list)
    geoms = [  # one union per chosen site (a handful)
        comp.geometry[comp.index.astype(str).isin(members.get(s, []))].union_all() for s in ids
    ]
    catchments = gpd.GeoDataFrame(
        {"rank": out["rank"].to_numpy(), "new_compounds": out["new_compounds"].to_numpy()},
        geometry=gpd.GeoSeries(geoms, crs=WGS84).to_numpy(),
        index=ids.copy(),
        crs=WGS84,
    )
    catchments = catchments[~(catchments.geometry.isna() | catchments.geometry.is_empty)]
    return out, catchments


def critical_table(compounds, services, cov: CoverageResult, category, weights, weight_label) -> pd.DataFrame:
    """Existing services of the category that are the only one within reach of some compounds."""
    in_cat = services.index if category == ALL else services.index[services["category"].astype(str) == category]
    pairs = cov.pairs[cov.pairs["service_id"].isin(in_cat)]
    svc_ids = pd.Index(in_cat)
    existing = CoverageMatrix.from_pairs(
        compounds.index,
        svc_ids,
        compounds.index.get_indexer(pairs["compound_id"]),
        svc_ids.get_indexer(pairs["service_id"]),
        weights=weights,
    )
    crit = critical_services(existing)
    names = compounds["name"].astype(str) if "name" in compounds else pd.Series(compounds.index, compounds.index)
    columns = {
        "service_id": crit.index.astype(str),
        "name": services["name"].reindex(crit.index).astype(str).to_numpy() if "name" in services else "",
        "category": services["category"].reindex(crit.index).astype(str).to_numpy(),
        "sole_compounds": crit["sole_compounds"].to_numpy(dtype=np.int64),
    }
    if weight_label != "compounds":
        columns[f"sole_{weight_label}"] = crit["sole_weight"].to_numpy(dtype=float)
    columns["compound_ids"] = ["; ".join(map(str, c)) for c in crit["compound_ids"]]
    name_of = dict(zip(names.index, names, strict=True))  # one lookup per id, not a pandas .loc per service
    columns["compound_names"] = ["; ".join(name_of[i] for i in c) for c in crit["compound_ids"]]
    table = pd.DataFrame(columns)
    return table


def siting_summary(result, chosen, compounds, cand: Candidates, source, before_after, weights, unreachable, params):
    summary = result.to_dict()
    summary["model_option"] = chosen
    summary["parameters"] = {**params, **{f"model_{k}": v for k, v in summary["parameters"].items()}}
    cb = before_after["covered_before"].to_numpy(dtype=bool)
    ca = before_after["covered_after"].to_numpy(dtype=bool)
    unreachable_ids = [str(c) for c in compounds.index[unreachable]]
    summary["unreachable"] = unreachable_ids
    summary["candidates"] = {
        "source": source,
        "given": len(cand.sites) + cand.n_dropped,
        "used": len(cand.sites),
        "dropped": cand.n_dropped,
        "dropped_off_network": len(cand.off_network),
        "dropped_unconnected": len(cand.unconnected),
    }
    summary["compounds"] = {
        "total": len(compounds),
        "covered_before": int(cb.sum()),
        "covered_after": int(ca.sum()),
        "newly_covered": int((ca & ~cb).sum()),
        "weight_before": float(weights[cb].sum()),
        "weight_after": float(weights[ca].sum()),
        "weight_total": float(weights.sum()),
        "unreachable": len(unreachable_ids),
    }
    notes = []
    if unreachable_ids:
        shown = ", ".join(unreachable_ids[:10]) + (" ..." if len(unreachable_ids) > 10 else "")
        what = "cover-all covers every other compound" if chosen == "lscp" else "they stay uncovered"
        notes.append(
            f"{len(unreachable_ids)} uncovered compounds have no candidate within {params['minutes']:g} minutes "
            f"on foot ({shown}); {what}."
        )
    if cand.n_dropped:
        notes.append(
            f"{cand.n_dropped} candidates were dropped: {len(cand.off_network)} lie farther than "
            f"{params['max_snap_m']:.0f} m from a walkable street, {len(cand.unconnected)} are on network pieces "
            "no compound can walk to."
        )
    if not result.optimal:
        gap = result.gap
        gap_text = "unknown" if not math.isfinite(gap) else f"{gap:.2%}"
        notes.append(f"The answer is not proven optimal (status {result.status}, gap {gap_text}).")
    if not cb.all() and len(cand.sites) == 0:
        notes.append("No candidate site could be placed near the uncovered compounds.")
    if cb.all():
        notes.append("Every compound is already covered by existing services: no new site is needed.")
    summary["notes"] = notes
    return summary
