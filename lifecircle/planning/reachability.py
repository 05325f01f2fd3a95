"""Compounds nobody can walk to or from: their own status, counted apart from the compounds not covered.

A compound is *unreachable* (无法步行到达) when it lies farther than the snap limit from every walkable street
(``reach = off_network``) or when no service at all stands on its piece of the walking network
(``reach = no_service_connected``: an island of streets). Such a compound is not a service gap to fill: what is
missing is usually a way in — internal roads absent from the network, a wall or fence with its gate not mapped,
water or a railway without its crossing. So it gets the status ``unreachable``, an empty ``area_share``, its own
count beside "covered" and "not covered" in the summary, and ``lifecircle site`` leaves it out of the demand
unless asked (``--include-unreachable``).

Headline shares stay over **all** compounds (what a planner reports upward); each category also gives the
unreachable and the not-covered counts apart and the share covered among reachable compounds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecircle.geo.reach.coverage import ALL, CoverageResult

UNREACHABLE = "unreachable"
STATUSES = ("covered", "no_service", "no_branch", "neither", UNREACHABLE)
UNREACHABLE_REACH = ("off_network", "no_service_connected")
CHECK_HINT = (
    "check whether the compound's internal roads or paths are missing from the network, whether a wall, fence, "
    "water or railway shuts it off without its gate or crossing mapped, or whether its location is wrong"
)


def unreachable_mask(result: CoverageResult, index: pd.Index, *, category: str = ALL) -> pd.Series:
    """True for the compounds of ``index`` that cannot walk to any service of ``category`` at all (off the network
    or on a piece of it without such a service); compounds the table does not know count as unreachable."""
    table = result.table
    reach = table[table["category"] == category].set_index("compound_id")["reach"]
    reach = reach.reindex(index)
    return pd.Series(reach.fillna("off_network").isin(UNREACHABLE_REACH).to_numpy(), index=index, name=UNREACHABLE)


def compound_status(
    covered: pd.Series, has_branch: pd.Series | None, unreachable: pd.Series | None = None
) -> pd.Series:
    """Status per compound: ``covered``, ``no_service``, ``no_branch``, ``neither`` (no branch data: the first
    two), or ``unreachable`` — which wins over the others."""
    if has_branch is None:
        status = np.where(covered, "covered", "no_service")
    else:
        status = np.select(
            [covered & has_branch, ~covered & has_branch, covered & ~has_branch],
            ["covered", "no_service", "no_branch"],
            default="neither",
        )
    if unreachable is not None:
        status = np.where(unreachable.reindex(covered.index).fillna(False).to_numpy(dtype=bool), UNREACHABLE, status)
    return pd.Series(status, index=covered.index, name="status")


def blank_unreachable_shares(table: pd.DataFrame) -> pd.DataFrame:
    """``area_share`` emptied (NaN) for the compounds unreachable overall: a share of a served area means nothing
    for a compound nobody walks to."""
    overall = table[table["category"] == ALL].set_index("compound_id")["reach"]
    lost = overall.index[overall.isin(UNREACHABLE_REACH)]
    out = table.copy()
    out.loc[out["compound_id"].isin(lost), "area_share"] = np.nan
    return out


def headline_counts(name: str, weight: pd.Series, covered: pd.Series, unreachable: pd.Series) -> dict:
    """``<name>_unreachable``, ``<name>_not_covered`` (reachable, not covered) and ``<name>_share_of_reachable``
    (covered weight over the reachable weight; None when nothing is reachable)."""
    lost = unreachable.reindex(weight.index).fillna(False).to_numpy(dtype=bool)
    hit = covered.reindex(weight.index).fillna(False).to_numpy(dtype=bool) & ~lost
    values = weight.to_numpy(dtype=float)
    reachable = float(values[~lost].sum())

    def amount(x: float) -> float | int:
        return int(x) if name == "compounds" else round(x, 3)

    return {
        f"{name}_unreachable": amount(float(values[lost].sum())),
        f"{name}_not_covered": amount(float(values[~lost & ~hit].sum())),
        f"{name}_share_of_reachable": round(float(values[hit].sum()) / reachable, 4) if reachable > 0 else None,
    }


def unreachable_summary(reach: pd.Series, *, shown: int = 50) -> dict:
    """The ``unreachable_compounds`` entry of summary.json: counts by reason, the first ``shown`` ids, what to
    check."""
    lost = reach[reach.isin(UNREACHABLE_REACH)]
    return {
        "off_network": int((reach == "off_network").sum()),
        "no_service_connected": int((reach == "no_service_connected").sum()),
        "total": len(lost),
        "compound_ids": [str(c) for c in lost.index[:shown]],
        "check": CHECK_HINT if len(lost) else None,
    }


def network_notes(result: CoverageResult) -> list[str]:
    """Data-quality notes on compounds and services the walking network does not reach."""
    notes = []
    snap = result.params["max_snap_m"]
    if len(result.compounds_off_network):
        ids = ", ".join(map(str, result.compounds_off_network[:10]))
        notes.append(
            f"{len(result.compounds_off_network)} compounds lie farther than {snap:.0f} m from any walkable street "
            f"and are reported unreachable, apart from the compounds not covered ({ids}); {CHECK_HINT}."
        )
    table = result.table
    lonely = table[(table["category"] == ALL) & (table["reach"] == "no_service_connected")]["compound_id"]
    if len(lonely):
        ids = ", ".join(map(str, lonely[:10]))
        notes.append(
            f"{len(lonely)} compounds are on a piece of the walking network that no service reaches "
            f"(an island of streets) and are reported unreachable, apart from the compounds not covered ({ids}); "
            f"{CHECK_HINT}."
        )
    if len(result.services_off_network):
        ids = ", ".join(map(str, result.services_off_network[:10]))
        notes.append(
            f"{len(result.services_off_network)} services lie farther than {snap:.0f} m from any walkable street "
            f"and serve no compound ({ids})."
        )
    return notes
