"""Compliance with a planning standard: per compound, which of a level's facilities are missing within its
walking distance, from the long coverage table of the core."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.reach.coverage import ALL

if TYPE_CHECKING:
    from lifecircle.planning.standards import Standard

logger = logging.getLogger(__name__)

__all__ = ["check_standard", "compliance", "compliance_detail", "default_category_map", "standard_summary"]


def _as_categories(value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(
        f"category_map[{key!r}] must be a category name or a list of names (e.g. ['超市', '便利店']); got {value!r}."
    )


def compliance_detail(
    coverage_table: pd.DataFrame,
    standard: Standard,
    category_map: Mapping[str, str | Sequence[str]],
    *,
    include_recommended: bool = False,
    coverage_limit_m: float | None = None,
) -> pd.DataFrame:
    """Per compound and facility: is a service of a mapped category within the level's walking distance?

    Parameters
    ----------
    coverage_table : pandas.DataFrame
        The core's long coverage table: one row per (compound_id, category) with ``walk_m`` (NaN when
        unreachable).
    standard : Standard
        The level to check.
    category_map : mapping
        Facility key -> coverage category (or list of categories, any of which satisfies the facility).
        Facilities without an entry are reported as not assessed, never as met.
    include_recommended : bool, optional
        Also check recommended (△) facilities.
    coverage_limit_m : float, optional
        The walking limit the coverage was computed with; if shorter than a distance to check, distances
        beyond it are unknown and an ``InputError`` is raised.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``compound_id, facility, name, required, categories, limit_m, walk_m,
        assessed, met``; ``walk_m`` is the shortest walk to any mapped category.
    """
    needed = {"compound_id", "category", "walk_m"}
    if not needed <= set(coverage_table.columns):
        missing_cols = ", ".join(sorted(needed - set(coverage_table.columns)))
        raise InputError(f"The coverage table lacks column(s) {missing_cols}; it must be the long table format.")
    valid = {f.key for f in standard.facilities}
    unknown = sorted(set(category_map) - valid)
    if unknown:
        raise InputError(
            f"category_map names {unknown[0]!r}, which is not a facility of {standard.key}; "
            f"its facilities are {', '.join(f.key for f in standard.facilities)}."
        )
    facilities = [f for f in standard.facilities if f.required or include_recommended]
    if coverage_limit_m is not None:
        longest = max((f.walk_m or standard.walk_m) for f in facilities if f.key in category_map)
        if coverage_limit_m < longest:
            raise InputError(
                f"The coverage was computed up to {coverage_limit_m:.0f} m but {standard.key} checks "
                f"{longest:.0f} m; compute coverage with a longer walking limit."
            )
    walk = coverage_table.pivot_table(index="compound_id", columns="category", values="walk_m", aggfunc="min")
    walk = walk.reindex(pd.Index(coverage_table["compound_id"].unique(), name="compound_id"))
    present = set(walk.columns)
    frames = []
    for fac in facilities:
        limit = fac.walk_m or standard.walk_m
        cats = _as_categories(category_map[fac.key], fac.key) if fac.key in category_map else ()
        absent = [c for c in cats if c not in present]
        if absent:
            logger.warning(
                "category %s (mapped to facility %s of %s) has no row in the coverage table; counted as missing",
                ", ".join(map(repr, absent)),
                fac.key,
                standard.key,
            )
        cols = [c for c in cats if c in present]
        nearest = walk[cols].min(axis=1) if cols else pd.Series(np.nan, index=walk.index)
        frames.append(
            pd.DataFrame(
                {
                    "compound_id": walk.index,
                    "facility": fac.key,
                    "name": fac.name,
                    "required": fac.required,
                    "categories": "; ".join(cats),
                    "limit_m": float(limit),
                    "walk_m": nearest.to_numpy(dtype=float),
                    "assessed": bool(cats),
                    "met": (nearest.to_numpy(dtype=float) <= limit) & bool(cats),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def compliance(
    coverage_table: pd.DataFrame,
    standard: Standard,
    category_map: Mapping[str, str | Sequence[str]],
    *,
    include_recommended: bool = False,
    coverage_limit_m: float | None = None,
) -> pd.DataFrame:
    """Which required facilities of a level each compound lacks within the level's walking distance.

    Parameters
    ----------
    coverage_table : pandas.DataFrame
        The core's long coverage table (``compound_id, category, walk_m, ...``).
    standard : Standard
        The level to check (:func:`load_standard`).
    category_map : mapping
        Facility key -> coverage category or list of categories (``{"kindergarten": "幼儿园",
        "neighbourhood_shops": ["超市", "便民服务点"]}``).
    include_recommended : bool, optional
        Also check recommended (△) facilities.
    coverage_limit_m : float, optional
        Walking limit the coverage was computed with (checked to be long enough).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``compound_id``: ``standard``, ``walk_m`` (the level's distance), ``n_checked`` (facilities
        in the checklist), ``n_assessed`` (with a category mapped), ``n_met``, ``missing`` (facility keys,
        ``"; "``-joined), ``missing_names`` (Chinese names, ``"、"``-joined), ``not_assessed`` (keys without a
        mapping) and ``compliant`` (nullable boolean: False when anything assessed is missing, True when all
        checked facilities are assessed and met, NA when nothing is missing but some were not assessed).
    """
    detail = compliance_detail(
        coverage_table,
        standard,
        category_map,
        include_recommended=include_recommended,
        coverage_limit_m=coverage_limit_m,
    )
    order = pd.Index(coverage_table["compound_id"].unique(), name="compound_id")
    lacking = detail[detail["assessed"] & ~detail["met"]]
    unassessed = detail[~detail["assessed"]]
    g = detail.groupby("compound_id", sort=False)
    out = pd.DataFrame(index=order)
    out["standard"] = standard.key
    out["walk_m"] = standard.walk_m
    out["n_checked"] = g.size().reindex(order).astype(int)
    out["n_assessed"] = g["assessed"].sum().reindex(order).astype(int)
    out["n_met"] = g["met"].sum().reindex(order).astype(int)
    out["missing"] = lacking.groupby("compound_id", sort=False)["facility"].agg("; ".join).reindex(order).fillna("")
    out["missing_names"] = lacking.groupby("compound_id", sort=False)["name"].agg("、".join).reindex(order).fillna("")
    out["not_assessed"] = (
        unassessed.groupby("compound_id", sort=False)["facility"].agg("; ".join).reindex(order).fillna("")
    )
    compliant = pd.array([pd.NA] * len(out), dtype="boolean")
    any_missing = (out["n_met"] < out["n_assessed"]).to_numpy()
    all_met = ((out["n_met"] == out["n_checked"]) & (out["n_checked"] > 0)).to_numpy()
    compliant[any_missing] = False
    compliant[all_met] = True
    out["compliant"] = compliant
    if not standard.fully_verified:
        logger.info(
            "%s: the checklist of %s is not verified against the standard text (see %s)",
            standard.key,
            standard.name,
            standard.source,
        )
    return out


def default_category_map(standard: Standard, categories: Sequence[str]) -> dict[str, list[str]]:
    """Facility key -> the categories named like the facility (its key, Chinese name or English name)."""
    by_name = {str(c).strip().lower(): c for c in categories if c != ALL}
    out = {}
    for fac in standard.facilities:
        names = {fac.key.lower(), fac.name.strip().lower(), fac.name_en.strip().lower()}
        hits = [by_name[n] for n in names if n in by_name]
        if hits:
            out[fac.key] = sorted(hits)
    return out


def standard_summary(comp: pd.DataFrame, standard: Standard, category_map: Mapping) -> dict:
    """JSON-ready compliance counts: compounds compliant, missing something, and how often each facility lacks."""
    missing = comp["missing"].str.split("; ").explode()
    missing = missing[missing.astype(bool)]
    return {
        "key": standard.key,
        "name": standard.name,
        "label": standard.label,
        "label_en": standard.label_en,
        "walk_m": standard.walk_m,
        "verified": standard.fully_verified,
        "source": standard.source,
        "category_map": {k: v for k, v in category_map.items()},
        "compounds_compliant": int((comp["compliant"] == True).sum()),  # noqa: E712 - nullable boolean
        "compounds_missing_any": int((comp["compliant"] == False).sum()),  # noqa: E712
        "compounds_not_fully_assessed": int(comp["compliant"].isna().sum()),
        "missing_counts": {str(k): int(v) for k, v in missing.value_counts().items()},
        "not_assessed": sorted({f for s in comp["not_assessed"] for f in s.split("; ") if f}),
    }


def check_standard(
    table: pd.DataFrame,
    standard: Standard,
    standard_categories: Mapping[str, str | Sequence[str]] | None,
    categories: Sequence[str],
) -> tuple[pd.DataFrame, dict]:
    """Compliance of every compound with a standard level, and its JSON-ready summary.

    ``standard_categories`` maps facility keys to categories (default: categories named like the facilities).
    """
    category_map = (
        dict(standard_categories) if standard_categories is not None else default_category_map(standard, categories)
    )
    comp = compliance(table, standard, category_map)
    return comp, standard_summary(comp, standard, category_map)
