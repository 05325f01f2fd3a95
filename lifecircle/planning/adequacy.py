"""Adequacy in an analysis (供需, ``--adequacy``): access ratios per compound, demand and load per service,
crowded compounds and overloaded services against a per-capita norm.

The arithmetic (2SFCA / E2SFCA) is :func:`lifecircle.geo.reach.adequacy.adequacy`, run on the walks the coverage
analysis already found.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, find_column
from lifecircle.geo.reach.adequacy import METHODS, AdequacyResult, adequacy
from lifecircle.geo.reach.coverage import ALL
from lifecircle.geo.validate import column_numbers
from lifecircle.planning.analysis import Analysis

log = logging.getLogger(__name__)

__all__ = ["AdequacyOptions", "category_norms", "crowded_table", "with_adequacy"]

EXAMPLE_IDS = 20  # ids of crowded compounds / overloaded services listed per category in summary.json


@dataclass(frozen=True)
class AdequacyOptions:
    """How adequacy is measured (the study file's ``[adequacy]`` table, or ``--adequacy`` and its flags).

    Attributes
    ----------
    method
        ``2sfca`` (binary catchment: the walking limit), ``e2sfca`` (distance-decay zones within the limit), or None
        (no adequacy).
    capacity_column
        Service column of capacity (doctors, beds, m², seats); None: each service counts 1.
    demand_column
        Compound column of demand; None: the households column (户数...).
    norm
        Capacity per unit of demand below which a covered compound is crowded and a service overloaded
        (None: not judged).
    category_norms
        Norms of single categories, overriding ``norm``.
    """

    method: str | None = None
    capacity_column: str | None = None
    demand_column: str | None = None
    norm: float | None = None
    category_norms: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method is not None and self.method not in METHODS:
            raise InputError(f"Unknown adequacy method {self.method!r}: use {' or '.join(METHODS)}.")


def with_adequacy(analysis: Analysis, options: AdequacyOptions) -> tuple[Analysis, pd.DataFrame]:
    """The analysis with adequacy added, and the table ``adequacy.csv`` (``compound_id, category, access_ratio``).

    Services gain ``capacity``, ``demand_within`` and ``load`` (demand per unit of capacity) and, with a norm,
    ``norm`` (empty for a category without one) and ``overloaded`` (capacity per unit of demand within its
    catchment below the norm); ``summary.json``
    gains ``adequacy``: method, columns, limits and, with a norm, per category the covered compounds whose ratio is
    below it (crowded) and the services whose supply ratio is below it (overloaded).

    Raises
    ------
    InputError
        A named column that is not there, or one holding text or negative numbers.
    """
    compounds, services, result = analysis.compounds, analysis.services, analysis.coverage
    demand, demand_name = _demand(compounds, options.demand_column)
    capacity = _capacity(services, options.capacity_column)
    categories = [c for c in result.categories if c != ALL] or [ALL]
    category = services["category"].astype(str) if "category" in services.columns and categories != [ALL] else None
    if category is None:
        category = pd.Series(ALL, index=services.index)
    default_m = result.params["max_walk_m"]
    limits = result.params.get("category_max_walk_m", {})
    limit_m = {c: float(limits.get(c, default_m)) for c in set(category) | set(categories)}
    found = adequacy(
        result.pairs, demand, capacity, category, limit_m=limit_m, method=options.method or "2sfca",
        categories=categories,
    )  # fmt: skip
    services_out = services.copy()
    services_out["capacity"] = capacity
    services_out["demand_within"] = found.services["demand_within"].round(3)
    services_out["load"] = found.services["load"].round(3)
    norms = {cat: options.category_norms.get(cat, options.norm) for cat in set(category)}
    if any(v is not None for v in norms.values()):
        norm = category.map(norms).astype(float)
        services_out["norm"] = norm  # empty where the category has no norm (not judged)
        services_out["overloaded"] = (found.services["supply_ratio"] < norm).fillna(False).astype(bool)
    summary = dict(analysis.summary)
    summary["adequacy"] = {
        **found.params,
        "demand_column": demand_name,
        "capacity_column": options.capacity_column,
        "categories": _judged(analysis, found, category, options),
    }
    table = found.ratios.copy()
    table["access_ratio"] = table["access_ratio"].round(9)
    return replace(analysis, services=services_out, summary=summary), table


def category_norms(summary: dict) -> dict[str, float | None]:
    """Category -> the norm adequacy was judged against (None: not judged), from ``summary.json``."""
    entry = summary.get("adequacy")
    cats = entry.get("categories") if isinstance(entry, dict) else None
    if not isinstance(cats, dict):
        return {}
    return {str(cat): (None if item.get("norm") is None else float(item["norm"])) for cat, item in cats.items()}


def crowded_table(ratios: pd.DataFrame, coverage: pd.DataFrame, norms: Mapping[str, float | None]) -> pd.DataFrame:
    """``adequacy.csv`` with ``covered`` (from ``coverage.csv``), ``norm`` and ``crowded``: covered, and an access
    ratio below the category's norm (missing where the category has no norm)."""
    covered = coverage.assign(
        compound_id=coverage["compound_id"].astype(str), category=coverage["category"].astype(str)
    )
    covered = covered.set_index(["compound_id", "category"])["covered"].astype("boolean")
    out = ratios.assign(compound_id=ratios["compound_id"].astype(str), category=ratios["category"].astype(str))
    keys = pd.MultiIndex.from_frame(out[["compound_id", "category"]])
    out["covered"] = covered.reindex(keys).fillna(False).to_numpy()
    out["norm"] = out["category"].map(lambda c: norms.get(c)).astype(float)
    crowded = out["covered"].to_numpy(bool) & (out["access_ratio"].to_numpy(float) < out["norm"].to_numpy())
    out["crowded"] = pd.Series(crowded, index=out.index, dtype="boolean").where(out["norm"].notna(), pd.NA)
    return out


def _demand(compounds: pd.DataFrame, column: str | None) -> tuple[pd.Series, str]:
    """Demand per compound: the named column, else the households column; blanks count 0 (with a warning)."""
    name = column or find_column(compounds, HOUSEHOLD_COLUMNS)
    if name is None:
        raise InputError(
            "Adequacy needs each compound's demand: a households column (户数, households) or --demand-column."
        )
    values = column_numbers(compounds, name, kind="compound").astype(float)
    if values.isna().any():
        missing = values.index[values.isna()]
        log.warning(
            "%d compounds have no %s and add no demand to adequacy (%s)",
            len(missing),
            name,
            ", ".join(map(str, missing[:5])),
        )
    return values.fillna(0.0), name


def _capacity(services: pd.DataFrame, column: str | None) -> pd.Series:
    """Capacity per service: the named column (blanks count 0, with a warning), else 1 each."""
    if column is None:
        return pd.Series(1.0, index=services.index)
    values = column_numbers(services, column, kind="service").astype(float)
    if values.isna().any():
        missing = values.index[values.isna()]
        log.warning(
            "%d services have no %s and count as capacity 0 (%s)",
            len(missing),
            column,
            ", ".join(map(str, missing[:5])),
        )
    return values.fillna(0.0)


def _judged(analysis: Analysis, found: AdequacyResult, category: pd.Series, options: AdequacyOptions) -> dict:
    """Per category: the norm, covered compounds below it (crowded) and services below it (overloaded)."""
    out = {}
    ratios = found.ratios
    for cat in dict.fromkeys(ratios["category"]):
        rows = ratios[ratios["category"] == cat].set_index("compound_id")["access_ratio"]
        norm = options.category_norms.get(cat, options.norm)
        entry: dict = {"norm": norm, "median_access_ratio": _number(rows.median())}
        if norm is not None:
            covered_col = f"covered_{cat}"
            covered = analysis.compounds[covered_col].reindex(rows.index).fillna(False).astype(bool)
            crowded = rows.index[covered.to_numpy() & (rows.to_numpy() < norm)]
            supply = found.services["supply_ratio"][(category == cat).to_numpy()]
            overloaded = supply.index[(supply < norm).to_numpy()]
            entry.update(
                crowded_compounds=len(crowded),
                crowded_examples=[str(i) for i in crowded[:EXAMPLE_IDS]],
                overloaded_services=len(overloaded),
                overloaded_examples=[str(i) for i in overloaded[:EXAMPLE_IDS]],
            )
        out[cat] = entry
    return out


def _number(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
