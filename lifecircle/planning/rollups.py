"""Governance roll-ups: every coverage summary also per street (街道), community (社区) and grid (网格).

Offices report up the administrative hierarchy, so the per-compound result is summed per unit: compounds,
households, covered shares per category, compounds without a party branch, unreachable compounds, and the
worst-served compound (the longest walk to any service, unreachable compounds first).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, POPULATION_COLUMNS, find_column
from lifecircle.planning.reachability import UNREACHABLE_REACH

log = logging.getLogger(__name__)

__all__ = ["GOVERNANCE_LEVELS", "NO_UNIT", "governance_columns", "rollup", "rollup_all"]

#: Governance levels and the column names that hold them (case-insensitive), in reporting order.
GOVERNANCE_LEVELS: dict[str, tuple[str, ...]] = {
    "street": ("街道", "street", "街道办", "街道名称", "乡镇街道", "subdistrict"),
    "community": ("社区", "community", "社区名称", "居委会", "社区居委会"),
    "grid": ("网格", "grid", "网格名称", "网格编号"),
}
#: Unit name of compounds whose governance column is empty.
NO_UNIT = "(none)"


def governance_columns(compounds: pd.DataFrame, governance: Mapping[str, str | None] | None = None) -> dict:
    """Which column of the compounds holds each governance level.

    Parameters
    ----------
    compounds
        The compound table.
    governance
        Level (``street``, ``community``, ``grid``) -> column name, as configured; a level mapped to None is
        switched off; levels not named are auto-detected (``街道``/``street``, ``社区``/``community``,
        ``网格``/``grid``).

    Returns
    -------
    dict
        Level -> column, only for levels present.

    Raises
    ------
    InputError
        A configured level is unknown or its column is missing.
    """
    governance = dict(governance or {})
    unknown = sorted(set(governance) - set(GOVERNANCE_LEVELS))
    if unknown:
        raise InputError(
            f'Unknown governance level {unknown[0]!r}; use {", ".join(GOVERNANCE_LEVELS)} (e.g. street = "街道").'
        )
    out = {}
    for level, names in GOVERNANCE_LEVELS.items():
        if level in governance:
            column = governance[level]
            if column is None:
                continue
            if column not in compounds.columns:
                raise InputError(
                    f"The compound layer has no {level} column {column!r}; its columns are "
                    f"{', '.join(map(str, [c for c in compounds.columns if c != 'geometry'][:20]))}."
                )
            out[level] = column
        else:
            found = find_column(compounds, names)
            if found is not None:
                out[level] = found
    return out


def rollup(compounds: pd.DataFrame, column: str) -> pd.DataFrame:
    """Summarise an analysed compound table per unit of one governance column.

    Parameters
    ----------
    compounds
        The analysed compounds (:attr:`Analysis.compounds`): ``name``, ``reach``, ``has_branch`` and
        ``walk_min_<category>`` / ``covered_<category>`` columns, plus the governance ``column``.
    column
        The column naming each compound's unit (empty values are grouped as ``(none)``).

    Returns
    -------
    pandas.DataFrame
        Indexed by unit name (sorted): ``compounds``, ``households`` / ``population`` (when given),
        ``covered_<category>`` (compounds covered), ``share_<category>`` (share of compounds),
        ``households_share_<category>`` (when households are given), ``compounds_without_branch`` (NA without
        branch data), ``unreachable``, ``worst_compound_id``, ``worst_compound_name``, ``worst_walk_min``
        (NaN when the worst compound reaches no service) and ``worst_reach``.
    """
    if column not in compounds.columns:
        raise InputError(f"The compound layer has no column {column!r} to roll up by.")
    df = pd.DataFrame(compounds.drop(columns="geometry", errors="ignore"))
    unit = df[column].astype(object).where(df[column].notna(), NO_UNIT).astype(str).str.strip()
    unit = unit.where(unit != "", NO_UNIT).rename(column)
    categories = [c.removeprefix("covered_") for c in df.columns if str(c).startswith("covered_")]
    households = find_column(df, HOUSEHOLD_COLUMNS)
    population = find_column(df, POPULATION_COLUMNS)
    groups = df.groupby(unit, sort=True)
    out = pd.DataFrame({"compounds": groups.size()})
    weights = {}
    for label, col in (("households", households), ("population", population)):
        if col is not None:
            weights[label] = pd.to_numeric(df[col], errors="coerce").fillna(0)
            out[label] = weights[label].groupby(unit).sum()
    for category in categories:
        covered = df[f"covered_{category}"].fillna(False).astype(bool)
        out[f"covered_{category}"] = covered.groupby(unit).sum().astype(int)
        out[f"share_{category}"] = (out[f"covered_{category}"] / out["compounds"]).round(4)
        if "households" in weights:
            hit = weights["households"].where(covered, 0).groupby(unit).sum()
            total = out["households"].replace(0, np.nan)
            out[f"households_share_{category}"] = (hit / total).round(4)
    if "has_branch" in df.columns and df["has_branch"].notna().any():
        without = ~df["has_branch"].astype("boolean").fillna(False).astype(bool)
        out["compounds_without_branch"] = without.groupby(unit).sum().astype(int)
    else:
        out["compounds_without_branch"] = pd.NA
    reach = df["reach"] if "reach" in df.columns else pd.Series("ok", index=df.index)
    out["unreachable"] = reach.isin(UNREACHABLE_REACH).groupby(unit).sum().astype(int)
    walk = pd.to_numeric(df.get("walk_min_all", pd.Series(np.nan, index=df.index)), errors="coerce")
    rank = walk.fillna(np.inf)  # a compound reaching no service is the worst served
    order = pd.DataFrame({"unit": unit, "rank": rank.to_numpy(), "pos": np.arange(len(df))}, index=df.index)
    worst = order.sort_values(["unit", "rank", "pos"], ascending=[True, False, True]).groupby("unit").head(1)
    worst = worst.set_index("unit")
    ids = df.index[worst["pos"].to_numpy()]
    out["worst_compound_id"] = pd.Series(ids.astype(str), index=worst.index)
    out["worst_compound_name"] = pd.Series(df["name"].iloc[worst["pos"]].astype(str).to_numpy(), index=worst.index)
    out["worst_walk_min"] = pd.Series(walk.iloc[worst["pos"]].round(2).to_numpy(), index=worst.index)
    out["worst_reach"] = pd.Series(reach.iloc[worst["pos"]].to_numpy(), index=worst.index)
    out.index.name = column
    return out


def rollup_all(compounds: pd.DataFrame, *, levels: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """:func:`rollup` for every governance level found (``{"street": "街道", ...}`` -> ``{"street": table}``)."""
    return {level: rollup(compounds, column) for level, column in levels.items()}
