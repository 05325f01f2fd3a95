"""From buildings back to compounds: households within the limit, the worst building, and what changes.

Per compound and category (the columns ``coverage.csv`` gains with ``--buildings``):

- ``households_within``: households of the compound's buildings within the category's limit (empty when no
  building of the compound has households);
- ``worst_building_id``, ``worst_building_walk_m``, ``worst_building_walk_min``: the building with the longest
  walk to the nearest service (a building that cannot reach one is the worst, with an empty walk);
- ``buildings_not_covered``: the compound's buildings beyond the limit;
- ``buildings_without_group`` (with a building-group column): buildings with no 楼栋党小组.

Compounds with no building keep these empty. Apportioned households are fractions: ``households_within`` is
written to 0.1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BUILDING_COVERAGE_COLUMNS", "changed_compounds", "compound_columns"]

BUILDING_COVERAGE_COLUMNS = (
    "households_within",
    "worst_building_id",
    "worst_building_walk_m",
    "worst_building_walk_min",
    "buildings_not_covered",
)
EXAMPLES = 20


def compound_columns(
    table: pd.DataFrame, households: pd.Series, groups: pd.Series | None, *, metres_per_minute: float
) -> pd.DataFrame:
    """Per compound and category, from the building table (``building_id, compound_id, category, walk_m,
    covered``): the columns above, indexed by ``(compound_id, category)``.

    ``households`` and ``groups`` (True: the building has a group) are indexed by building id.
    """
    owned = table[table["compound_id"].notna()]
    key = [owned["compound_id"].astype(str).to_numpy(), owned["category"].to_numpy()]
    hh = households.reindex(owned["building_id"]).to_numpy(dtype=float)
    covered = owned["covered"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {"hh": np.where(covered, hh, 0.0), "known": np.isfinite(hh), "not": ~covered},
        index=pd.MultiIndex.from_arrays(key, names=["compound_id", "category"]),
    )
    grouped = frame.groupby(level=[0, 1], sort=False)
    out = pd.DataFrame(index=grouped.size().index)
    out["households_within"] = grouped["hh"].sum().where(grouped["known"].any()).round(1)
    ranked = owned.assign(_walk=owned["walk_m"].astype(float).fillna(np.inf))
    ranked = ranked.sort_values(["_walk", "building_id"], ascending=[False, True], kind="stable")
    worst = ranked.drop_duplicates(["compound_id", "category"])
    worst_key = pd.MultiIndex.from_arrays([worst["compound_id"].astype(str), worst["category"]])
    out["worst_building_id"] = pd.Series(worst["building_id"].to_numpy(), index=worst_key).reindex(out.index)
    walk_m = pd.Series(worst["walk_m"].to_numpy(dtype=float), index=worst_key).reindex(out.index)
    out["worst_building_walk_m"] = walk_m.round(1)
    out["worst_building_walk_min"] = (walk_m / metres_per_minute).round(2)
    out["buildings_not_covered"] = grouped["not"].sum().astype(int)
    if groups is not None:
        lacking = ~groups.reindex(owned["building_id"]).fillna(False).to_numpy(dtype=bool)
        out["buildings_without_group"] = pd.Series(lacking, index=frame.index).groupby(level=[0, 1]).sum()
    return out


def changed_compounds(
    columns: pd.DataFrame, coverage: pd.DataFrame, names: pd.Series | None = None, *, limit: int = EXAMPLES
) -> dict:
    """Compounds covered at compound level (its centre or gates) with a building that is not, per category.

    Returns ``{category: {"count": n, "compounds": [{compound_id, name, buildings_not_covered,
    worst_building_id, worst_building_walk_min}, ...]}}`` (at most ``limit`` listed, the worst walks first).
    """
    at_compound = coverage.set_index([coverage["compound_id"].astype(str), "category"])["covered"]
    level = at_compound.reindex(columns.index).fillna(False).to_numpy(dtype=bool)
    changed = columns[level & (columns["buildings_not_covered"].to_numpy() > 0)]
    out: dict = {}
    for category, rows in changed.groupby(level=1, sort=False):
        rows = rows.sort_values("worst_building_walk_m", ascending=False, na_position="first")
        listed = []
        for (compound_id, _), row in rows.head(limit).iterrows():
            walk_min = row["worst_building_walk_min"]
            listed.append(
                {
                    "compound_id": str(compound_id),
                    "name": None if names is None else _text(names.get(compound_id)),
                    "buildings_not_covered": int(row["buildings_not_covered"]),
                    "worst_building_id": str(row["worst_building_id"]),
                    "worst_building_walk_min": None if pd.isna(walk_min) else float(walk_min),
                }
            )
        out[str(category)] = {"count": len(rows), "compounds": listed}
    return out


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
