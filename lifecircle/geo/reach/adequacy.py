"""Adequacy (供需): two-step floating catchment access ratios from the compound–service walks within the limit.

Each service ``j`` with capacity ``S_j`` (doctors, beds, m², seats; 1 per service when none is given) is shared by
the demand ``D_k`` (households or population) of the compounds within its walking limit::

    R_j = S_j / sum_k w(d_kj) D_k                (the service's supply per unit of demand; its load is 1 / R_j)
    A_i = sum_j w(d_ij) R_j                      (the compound's access ratio, per service category)

``2sfca`` (Luo & Wang 2003) weighs every pair within the limit 1 (binary catchment). ``e2sfca`` (Luo & Qi 2009)
weighs pairs by distance zones of the limit ``L``: 1.0 up to ``L/3``, 0.68 up to ``2L/3``, 0.22 up to ``L``
(the Gaussian-derived steps of the original paper, also PySAL ``access``'s default ``{10: 1, 20: 0.68, 30: 0.22}``
for a 30-minute limit); other steps may be given. Costs are walking metres on the network, the same pairs the
coverage engine found (:attr:`~lifecircle.geo.reach.coverage.CoverageResult.pairs`), so nothing is routed again.
A service with no demand within its limit adds nothing to any ratio (PySAL ``access`` divides by zero there).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lifecircle.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["E2SFCA_STEPS", "METHODS", "AdequacyResult", "adequacy", "decay_weights"]

METHODS = ("2sfca", "e2sfca")
E2SFCA_STEPS: tuple[tuple[float, float], ...] = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))
"""E2SFCA's zones: (upper bound as a fraction of the walking limit, weight), bounds inclusive."""


@dataclass(frozen=True, eq=False)
class AdequacyResult:
    """Access ratios per compound and category, and each service's demand and load.

    Attributes
    ----------
    ratios
        ``compound_id, category, access_ratio``: capacity per unit of demand within reach (0 where no service of
        the category is within the limit), one row per compound and category.
    services
        Indexed by service id: ``demand_within`` (weighted demand of the compounds within its limit), ``load``
        (that demand per unit of capacity; empty without capacity) and ``supply_ratio`` (``R_j``, its inverse).
    params
        ``method``, ``steps`` (e2sfca's zones, fractions of the limit) and ``limit_m`` per category.
    """

    ratios: pd.DataFrame
    services: pd.DataFrame
    params: dict = field(default_factory=dict)


def decay_weights(
    walk_m: np.ndarray,
    limit_m: np.ndarray,
    *,
    method: str = "2sfca",
    steps: tuple[tuple[float, float], ...] = E2SFCA_STEPS,
) -> np.ndarray:
    """Weight of each walk: 1 within the limit for ``2sfca``, the zone's weight for ``e2sfca``, 0 beyond the limit.

    Parameters
    ----------
    walk_m, limit_m
        Walks and each walk's limit, in metres (same shape).
    method
        ``2sfca`` or ``e2sfca``.
    steps
        E2SFCA zones: (upper bound as a fraction of the limit, weight), in increasing order.
    """
    if method not in METHODS:
        raise InputError(f"Unknown adequacy method {method!r}: use {' or '.join(METHODS)}.")
    walk_m = np.asarray(walk_m, dtype=float)
    limit_m = np.asarray(limit_m, dtype=float)
    inside = walk_m <= limit_m
    if method == "2sfca":
        return inside.astype(float)
    weights = np.zeros(walk_m.shape)
    placed = np.zeros(walk_m.shape, dtype=bool)
    for fraction, weight in sorted(steps):
        zone = ~placed & (walk_m <= limit_m * fraction)
        weights[zone] = weight
        placed |= zone
    return np.where(inside, weights, 0.0)


def adequacy(
    pairs: pd.DataFrame,
    demand: pd.Series,
    capacity: pd.Series,
    category: pd.Series,
    *,
    limit_m: float | Mapping[str, float],
    method: str = "2sfca",
    steps: tuple[tuple[float, float], ...] = E2SFCA_STEPS,
    categories: list[str] | None = None,
) -> AdequacyResult:
    """Two-step floating catchment access ratios (2SFCA or E2SFCA) from walks already found.

    Parameters
    ----------
    pairs
        Compound–service walks within the limit: ``compound_id, service_id, walk_m``.
    demand
        Demand per compound (households or population), indexed by compound id; blanks count 0.
    capacity
        Capacity per service, indexed by service id; blanks count 0.
    category
        Category per service, indexed like ``capacity``.
    limit_m
        The walking limit in metres, or category -> limit (a service's catchment is its category's limit).
    method, steps
        See :func:`decay_weights`.
    categories
        Categories of the ratio table, in order (default: those of ``category``, sorted).

    Returns
    -------
    AdequacyResult
    """
    demand_v = np.nan_to_num(demand.to_numpy(dtype=float))
    capacity_v = np.nan_to_num(capacity.to_numpy(dtype=float))
    category_v = category.reindex(capacity.index).astype(str).to_numpy()
    cats = categories if categories is not None else sorted(set(category_v))
    c_pos = demand.index.get_indexer(pairs["compound_id"])
    s_pos = capacity.index.get_indexer(pairs["service_id"])
    if (c_pos < 0).any() or (s_pos < 0).any():
        raise InputError("Adequacy: walk pairs name compounds or services that are not in the layers.")
    if isinstance(limit_m, Mapping):
        pair_limit = np.array([limit_m[c] for c in category_v], dtype=float)[s_pos]
    else:
        pair_limit = np.full(len(pairs), float(limit_m))
    w = decay_weights(pairs["walk_m"].to_numpy(dtype=float), pair_limit, method=method, steps=steps)
    n_comp, n_serv = len(demand_v), len(capacity_v)
    demand_within = np.bincount(s_pos, weights=w * demand_v[c_pos], minlength=n_serv)
    with np.errstate(divide="ignore", invalid="ignore"):
        supply_ratio = np.where(demand_within > 0, capacity_v / demand_within, np.nan)
        load = np.where(capacity_v > 0, demand_within / capacity_v, np.nan)
    empty = (demand_within == 0) & np.isin(np.arange(n_serv), s_pos)
    if empty.any():
        log.info("%d services have no demand within their limit and add nothing to any access ratio", empty.sum())
    cat_code = pd.Index(cats).get_indexer(category_v)
    contribution = w * np.nan_to_num(supply_ratio)[s_pos]
    keep = cat_code[s_pos] >= 0
    flat = cat_code[s_pos][keep] * n_comp + c_pos[keep]
    access = np.bincount(flat, weights=contribution[keep], minlength=len(cats) * n_comp)
    ratios = pd.DataFrame(
        {
            "compound_id": np.tile(demand.index.to_numpy(), len(cats)),
            "category": np.repeat(np.asarray(cats, dtype=object), n_comp),
            "access_ratio": access,
        }
    )
    services = pd.DataFrame(
        {"demand_within": demand_within, "load": load, "supply_ratio": supply_ratio}, index=capacity.index
    )
    limits = dict(limit_m) if isinstance(limit_m, Mapping) else {c: float(limit_m) for c in cats}
    params = {"method": method, "limit_m": {str(k): float(v) for k, v in limits.items()}}
    if method == "e2sfca":
        params["steps"] = [[float(f), float(v)] for f, v in steps]
    return AdequacyResult(ratios=ratios, services=services, params=params)
