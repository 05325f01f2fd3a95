"""The coverage table as the map reads it: checked, per compound and category, service reach and statuses."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.walk import Walk
from lifecircle.maps._json import is_listlike
from lifecircle.maps._style import STATUS_ORDER, UNREACHABLE

__all__ = ["prepare_table", "service_reach", "statuses", "within_counts"]

_COVERAGE_STATUSES = ("covered", "no_service")
_REACH_UNREACHABLE = ("off_network", "no_service_connected")


def prepare_table(table: pd.DataFrame, *, walk: Walk) -> pd.DataFrame:
    """A copy of the coverage table with ``walk_min``, ``covered``, ``nearest_service_id`` and ``services_within``.

    ``walk_min`` missing is ``walk_m`` at the walk's speed; ``covered`` missing is within the walk's general limit.

    Raises
    ------
    InputError
        Not a DataFrame, no ids, categories or walks, or duplicate (compound_id, category) rows.
    """
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"The coverage table must be a pandas DataFrame, got {type(table).__name__}.")
    t = table.copy()
    if "compound_id" not in t.columns and t.index.name == "compound_id":
        t = t.reset_index()
    missing = {"compound_id", "category"} - set(t.columns)
    if missing:
        raise InputError(f"The coverage table lacks column(s) {', '.join(sorted(missing))}.")
    if "walk_min" not in t.columns:
        if "walk_m" not in t.columns:
            raise InputError("The coverage table needs a walk_min or walk_m column.")
        t["walk_min"] = walk.minutes(t["walk_m"].astype(float))
    t["walk_min"] = pd.to_numeric(t["walk_min"], errors="coerce")
    if "covered" not in t.columns:
        t["covered"] = t["walk_min"] <= walk.max_walk_min
    t["covered"] = t["covered"].fillna(False).astype(bool)
    if "nearest_service_id" not in t.columns:
        t["nearest_service_id"] = None
    if "services_within" not in t.columns:
        t["services_within"] = np.nan
    t["compound_id"] = t["compound_id"].astype(str)
    t["category"] = t["category"].astype(str)
    dup = t.duplicated(["compound_id", "category"])
    if dup.any():
        first = t.loc[dup, ["compound_id", "category"]].iloc[0]
        raise InputError(
            f"The coverage table has {int(dup.sum())} duplicate (compound_id, category) rows, "
            f"e.g. ({first['compound_id']}, {first['category']})."
        )
    return t


def within_counts(col: pd.Series) -> pd.Series:
    """services_within as a count (it may hold counts or lists of service ids)."""
    listlike = col.map(is_listlike)
    counts = pd.to_numeric(col.where(~listlike), errors="coerce")
    counts[listlike] = col[listlike].map(len)
    return counts


def service_reach(
    t: pd.DataFrame, services: gpd.GeoDataFrame, weights: dict[str, pd.Series]
) -> tuple[pd.DataFrame, bool]:
    """Per service: compounds (and the sum of each weight, e.g. residents) it serves within its limit.

    Uses lists of service ids in ``services_within`` when the table has them (every compound within
    reach); otherwise the compounds whose nearest service of that category it is (and covered).
    ``weights`` maps an output column to a Series indexed by compound id (as text).
    """
    rows = t[(t["category"] != "all") & t["covered"]]
    within_mode = bool(len(rows)) and bool(rows["services_within"].map(is_listlike).all())
    if within_mode:
        pairs = rows[["compound_id", "services_within"]].explode("services_within").dropna()
        pairs = pairs.rename(columns={"services_within": "service_id"})
    else:
        pairs = rows[["compound_id", "nearest_service_id"]].dropna()
        pairs = pairs.rename(columns={"nearest_service_id": "service_id"})
    pairs = pairs.astype(str).drop_duplicates()
    out = pd.DataFrame(index=services.index.astype(str))
    out["n_comp"] = pairs.groupby("service_id")["compound_id"].nunique().reindex(out.index).fillna(0)
    for col, vals in weights.items():
        summed = pairs.assign(v=pairs["compound_id"].map(vals)).groupby("service_id")["v"].sum()
        out[col] = summed.reindex(out.index).fillna(0)
    return out, within_mode


def _unreachable(compounds: gpd.GeoDataFrame, t: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    """Compounds that cannot walk to any service: the status says so, or the table's ``reach`` (category all)
    says the compound is off the network or on a piece of network with no service."""
    out = np.zeros(len(ids), bool)
    if "status" in compounds.columns:
        out |= (compounds["status"].astype(object) == UNREACHABLE).to_numpy(bool)
    if "reach" in t.columns:
        reach = t[t["category"] == "all"].set_index("compound_id")["reach"].reindex(ids)
        out |= reach.isin(_REACH_UNREACHABLE).to_numpy(bool)
    return out


def statuses(
    compounds: gpd.GeoDataFrame, t: pd.DataFrame, ids: pd.Index, category: str | None
) -> tuple[np.ndarray, tuple[str, ...], bool]:
    """Status per compound, the statuses to show in the legend, and whether branch data exists.

    The legend lists the coverage statuses (with branch statuses when branch data exists), then
    ``unreachable`` and ``unknown`` when some compound has them.
    """
    unreachable = _unreachable(compounds, t, ids)
    st, legend, branch_info = _base_statuses(compounds, t, ids, category)
    st[unreachable] = UNREACHABLE
    extra = tuple(s for s in (UNREACHABLE, "unknown") if (st == s).any())
    return st, (*legend, *extra), branch_info


def _base_statuses(
    compounds: gpd.GeoDataFrame, t: pd.DataFrame, ids: pd.Index, category: str | None
) -> tuple[np.ndarray, tuple[str, ...], bool]:
    if category is not None:
        cov = t[t["category"] == category].set_index("compound_id")["covered"].reindex(ids)
        st = np.where(cov.fillna(False).to_numpy(bool), "covered", "no_service")
        st = np.where(cov.isna().to_numpy(), "unknown", st)
        return st.astype(object), _COVERAGE_STATUSES, False
    has_branch = compounds["has_branch"].astype("boolean").to_numpy() if "has_branch" in compounds.columns else None
    branch_known = has_branch is not None and not pd.isna(has_branch).all()
    legend = STATUS_ORDER[:4] if branch_known else _COVERAGE_STATUSES
    if "status" in compounds.columns:
        st = compounds["status"].astype(object).to_numpy()
        st = np.where(pd.Series(st).isin(STATUS_ORDER).to_numpy(), st, "unknown").astype(object)
        return st, legend, branch_known
    cov = t[t["category"] == "all"].set_index("compound_id")["covered"].reindex(ids)
    c = cov.fillna(False).to_numpy(bool)
    if branch_known:
        b = pd.Series(has_branch).fillna(False).to_numpy(bool)
        st = np.select([c & b, ~c & b, c & ~b], ["covered", "no_service", "no_branch"], "neither")
        return st.astype(object), legend, True
    st = np.where(c, "covered", "no_service").astype(object)
    st[cov.isna().to_numpy()] = "unknown"
    return st, legend, False
