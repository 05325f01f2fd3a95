"""From buildings back to compounds: households within the limit, the worst building, and what changes.

Per compound and category (the columns ``coverage.csv`` gains with ``--buildings``):

- ``households_within``: households of the compound's buildings within the category's limit (empty when no
  building of the compound has households; apportioned households are fractions, written to 0.1);
- ``worst_building_id``, ``worst_building_walk_m``, ``worst_building_walk_min``: the building with the longest
  walk to the nearest service (a building that cannot reach one is the worst, with an empty walk; between equal
  walks, the first in the layer);
- ``buildings_not_covered``: the compound's buildings beyond the limit (or unreachable);
- ``buildings_without_group`` (with a building-group column): buildings with no 楼栋党小组.

Compounds with no building keep these empty. Everything is counted with NumPy over the ``categories × buildings``
walks, one ``bincount`` per column and category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifecircle.geo.reach.origin_walks import NearestWalks

__all__ = ["BUILDING_COVERAGE_COLUMNS", "BuildingRollup", "building_rollup", "changed_compounds", "coverage_columns"]

BUILDING_COVERAGE_COLUMNS = (
    "households_within",
    "worst_building_id",
    "worst_building_walk_m",
    "worst_building_walk_min",
    "buildings_not_covered",
)
EXAMPLES = 20


@dataclass(frozen=True, eq=False)
class BuildingRollup:
    """Per category (rows, as in the walks) and compound (columns, in compound layer order).

    Attributes
    ----------
    categories, compound_ids
        Row and column labels.
    n_buildings
        Buildings per compound.
    households_within
        Households of covered buildings; NaN without buildings or without any known households.
    worst_building
        Position (in the building layer) of the building with the longest walk; ``-1`` without buildings.
    worst_walk_m
        Its walk (``inf``: it reaches no service; NaN without buildings).
    not_covered
        Buildings beyond the limit.
    without_group
        Per compound: buildings without a group (None without a group column).
    """

    categories: list[str]
    compound_ids: np.ndarray
    n_buildings: np.ndarray
    households_within: np.ndarray
    worst_building: np.ndarray
    worst_walk_m: np.ndarray
    not_covered: np.ndarray
    without_group: np.ndarray | None


def building_rollup(
    walks: NearestWalks,
    owner: np.ndarray,
    compound_ids: np.ndarray,
    households: np.ndarray,
    has_group: np.ndarray | None,
) -> BuildingRollup:
    """Roll the buildings' walks up to their compounds.

    Parameters
    ----------
    walks
        The buildings' walks (:func:`~lifecircle.geo.reach.origin_walks.nearest_walks`).
    owner
        Per building: position of its compound in ``compound_ids`` (``-1``: none).
    compound_ids
        The compounds' ids.
    households
        Per building (NaN: unknown).
    has_group
        Per building: has a group (None: no group column).
    """
    n_cat, n_comp = len(walks.categories), len(compound_ids)
    owned = np.flatnonzero(owner >= 0)
    own = owner[owned]
    n_buildings = np.bincount(own, minlength=n_comp)
    hh = households[owned]
    known = np.bincount(own, weights=np.isfinite(hh), minlength=n_comp) > 0
    within = np.full((n_cat, n_comp), np.nan)
    worst = np.full((n_cat, n_comp), -1, dtype=np.int64)
    worst_walk = np.full((n_cat, n_comp), np.nan)
    not_covered = np.zeros((n_cat, n_comp), dtype=np.int64)
    for k in range(n_cat):
        covered = walks.covered[k, owned]
        counted = np.where(covered & np.isfinite(hh), hh, 0.0)
        within[k] = np.where(known, np.bincount(own, weights=counted, minlength=n_comp), np.nan)
        not_covered[k] = np.bincount(own, weights=~covered, minlength=n_comp).astype(np.int64)
        walk = walks.walk_m[k, owned]  # inf: no service reached
        order = np.lexsort((owned, -walk, own))  # per compound: the longest walk first, then layer order
        first = order[np.r_[True, own[order][1:] != own[order][:-1]]] if len(order) else order
        worst[k, own[first]] = owned[first]
        worst_walk[k, own[first]] = walk[first]
    lacking = None
    if has_group is not None:
        lacking = np.bincount(own, weights=~has_group[owned], minlength=n_comp).astype(np.int64)
    return BuildingRollup(
        list(walks.categories), np.asarray(compound_ids), n_buildings, within, worst, worst_walk, not_covered, lacking
    )


def coverage_columns(
    rollup: BuildingRollup, coverage: pd.DataFrame, building_ids: np.ndarray, *, metres_per_minute: float
) -> dict[str, pd.api.extensions.ExtensionArray | np.ndarray]:
    """The columns :data:`BUILDING_COVERAGE_COLUMNS` (and ``buildings_without_group``) for the rows of the
    coverage table (``compound_id, category``)."""
    comp = pd.Index(rollup.compound_ids.astype(str)).get_indexer(coverage["compound_id"].astype(str))
    cat = pd.Index(rollup.categories).get_indexer(coverage["category"].astype(str))
    has = (comp >= 0) & (cat >= 0)
    has[has] = rollup.n_buildings[comp[has]] > 0
    k, c = cat[has], comp[has]

    def take(matrix: np.ndarray, empty: object) -> np.ndarray:
        out = np.full(len(coverage), empty, dtype=matrix.dtype)
        out[has] = matrix[k, c]
        return out

    worst = take(rollup.worst_building, -1)
    worst_id = np.full(len(coverage), None, dtype=object)
    worst_id[worst >= 0] = np.asarray(building_ids, dtype=object)[worst[worst >= 0]]
    walk_m = take(rollup.worst_walk_m, np.nan)
    walk_m = np.where(np.isfinite(walk_m), walk_m, np.nan)
    not_covered = pd.array(take(rollup.not_covered, 0), dtype="Int64")
    not_covered[~has] = pd.NA
    out: dict = {
        "households_within": np.round(take(rollup.households_within, np.nan), 1),
        "worst_building_id": worst_id,
        "worst_building_walk_m": np.round(walk_m, 1),
        "worst_building_walk_min": np.round(walk_m / metres_per_minute, 2),
        "buildings_not_covered": not_covered,
    }
    if rollup.without_group is not None:
        lacking = pd.array(np.where(has, rollup.without_group[np.maximum(comp, 0)], 0), dtype="Int64")
        lacking[~has] = pd.NA
        out["buildings_without_group"] = lacking
    return out


def changed_compounds(
    rollup: BuildingRollup,
    covered_at_compound: np.ndarray,
    building_ids: np.ndarray,
    names: pd.Series | None = None,
    *,
    metres_per_minute: float,
    limit: int = EXAMPLES,
) -> dict:
    """Compounds covered at compound level (its point or gates) with a building that is not, per category.

    ``covered_at_compound`` has the rollup's shape. Returns ``{category: {"count": n, "compounds": [{compound_id,
    name, buildings_not_covered, worst_building_id, worst_building_walk_min}, ...]}}`` with at most ``limit``
    compounds listed, the longest worst walks (unreachable first) first.
    """
    out: dict = {}
    for k, category in enumerate(rollup.categories):
        changed = np.flatnonzero(covered_at_compound[k] & (rollup.not_covered[k] > 0))
        walk = rollup.worst_walk_m[k, changed]
        changed = changed[np.lexsort((changed, -walk))][:limit] if len(changed) else changed
        listed = []
        for c in changed:
            walk_m = rollup.worst_walk_m[k, c]
            cid = str(rollup.compound_ids[c])
            name = None if names is None else names.get(cid)
            listed.append(
                {
                    "compound_id": cid,
                    "name": None if name is None or pd.isna(name) else str(name),
                    "buildings_not_covered": int(rollup.not_covered[k, c]),
                    "worst_building_id": str(building_ids[rollup.worst_building[k, c]]),
                    "worst_building_walk_min": round(float(walk_m) / metres_per_minute, 2)
                    if np.isfinite(walk_m)
                    else None,
                }
            )
        count = int((covered_at_compound[k] & (rollup.not_covered[k] > 0)).sum())
        out[str(category)] = {"count": count, "compounds": listed}
    return out
