"""Planning new service sites on the walking network, existing services fixed: a library function that knows
nothing of files or the command line.

>>> plan = plan_sites(G, compounds, services, options=SitingOptions(add=3), walk=Walk(limit_min=10))  # doctest: +SKIP
>>> plan.sites            # recommended sites in build order, with what each newly covers       # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, POPULATION_COLUMNS, find_column
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import ALL, CoverageResult, Origins, compound_origins, coverage
from lifecircle.geo.routing.paths import nearest_destination, pairs_within
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.validate import weight_values
from lifecircle.geo.walk import Walk, prepared
from lifecircle.maps.streets import street_edges
from lifecircle.planning.candidates import (
    Candidates,
    attach_candidates,
    candidate_costs,
    compound_candidates,
    street_candidates,
)
from lifecircle.planning.reachability import CHECK_HINT, unreachable_mask
from lifecircle.planning.site_names import street_site_names
from lifecircle.planning.siting.matrix import CoverageMatrix
from lifecircle.planning.siting.models import CoverAll, MaxCoverage, PMedian
from lifecircle.planning.siting.options import SitingOptions
from lifecircle.planning.siting.plan_tables import before_after, critical_table, site_tables, siting_summary
from lifecircle.planning.siting.result import SitingResult

log = logging.getLogger(__name__)

__all__ = ["SitePlan", "compound_weights", "plan_sites"]


@dataclass(frozen=True, eq=False)
class SitePlan:
    """Everything one siting run found.

    Attributes
    ----------
    result
        The solver's answer (model, objective, bound, gap, status, ranked plan).
    sites
        Recommended sites in build order (WGS84), indexed by ``site_id``: ``name, source, lon, lat, rank,
        new_compounds, new_<weight>, cum_compounds, cum_<weight>, cum_share, covers`` (p-median adds
        ``walk_m_saved`` and ``cum_weighted_m``).
    catchments
        Per site, the union of the compounds it newly covers (WGS84), indexed by ``site_id``.
    before_after
        One row per compound: ``compound_id, name, <weight>, reach, covered_before, covered_after,
        walk_min_before, walk_min_after, new_site_id, outcome`` (``outcome`` in already_covered / newly_covered /
        not_covered / unreachable).
    critical
        Existing services that are the only one within reach of some compounds: ``service_id, name, category,
        sole_compounds, sole_<weight>, compound_ids``.
    coverage
        The existing coverage (before any new site).
    candidates
        The candidates used and the ones dropped.
    matrix
        The compounds × candidates walking coverage matrix the model was built from.
    summary
        The content of ``siting.json``.
    streets
        The network's street lines (:func:`~lifecircle.maps.streets.street_edges`) when the run read them to
        name street sites, else None: the map draws them without reading the network's edges again.
    """

    result: SitingResult
    sites: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    before_after: pd.DataFrame
    critical: pd.DataFrame
    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    coverage: CoverageResult
    candidates: Candidates
    matrix: CoverageMatrix
    summary: dict = field(default_factory=dict)
    streets: gpd.GeoDataFrame | None = field(default=None, repr=False)


def compound_weights(compounds: gpd.GeoDataFrame, weight_column: str | None) -> tuple[np.ndarray, str | None, str]:
    """Weights of compounds (households or population), checked.

    Returns
    -------
    weights, column, label
        One weight per compound (1 each without a column), the column used (None when none) and the name used
        in output columns (``households``, ``population``, the column's name, or ``compounds``).
    """
    if weight_column is not None:
        if weight_column not in compounds.columns:
            raise InputError(f"The compound layer has no weight column {weight_column!r}.")
        column = weight_column
    else:
        column = find_column(compounds, HOUSEHOLD_COLUMNS) or find_column(compounds, POPULATION_COLUMNS)
    if column is None:
        return np.ones(len(compounds)), None, "compounds"
    values = weight_values(compounds, column)
    if values.isna().any():
        log.warning("%d compounds have no %s value; they weigh 0", values.isna().sum(), column)
    lower = str(column).strip().lower()
    label = "households" if lower in HOUSEHOLD_COLUMNS else "population" if lower in POPULATION_COLUMNS else column
    return values.fillna(0.0).to_numpy(dtype=float), column, str(label)


def plan_sites(
    network: nx.MultiDiGraph | PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    options: SitingOptions,
    walk: Walk | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    street_lines: gpd.GeoDataFrame | None = None,
) -> SitePlan:
    """Choose new service sites on the walking network, existing services fixed.

    Parameters
    ----------
    network
        The walking network (osmnx-style graph, priced by ``walk``; or already prepared).
    compounds, services
        Compounds indexed by ``compound_id`` and existing services indexed by ``service_id`` (not modified).
    options
        How many sites, which model, candidates, category, weights, budget, capacity and solver.
    walk
        Speed, limit (the planned category's own limit when it has one) and edge costs; default ``Walk()`` (10
        minutes at :data:`~lifecircle.geo.walk.DEFAULT_SPEED_KMH`).
    candidates
        A candidate layer indexed by ``site_id`` (points). Default: street points every 100 m.
    gates
        Optional compound gates (walks start there).
    max_snap_m
        Points farther than this from a walkable street are off the network.
    street_lines
        The network's street lines (:func:`~lifecircle.maps.streets.street_edges`) when the caller has them (the
        network cache): street sites are named from them, also on a prepared network.

    Returns
    -------
    SitePlan

    Raises
    ------
    InputError
        A bad option or combination, a missing weight/cost column, an unknown category, or no usable candidate.
    """
    walk = walk or Walk()
    chosen = options.resolve_model(candidate_layer=candidates is not None)
    weights, weight_col, weight_label = compound_weights(compounds, options.weight_column)
    if candidates is not None and candidates.empty:
        raise InputError("The candidate layer is empty: it has no candidate sites.")
    costs_all = candidate_costs(candidates, options.cost_column) if options.cost_column is not None else None
    category = ALL if options.category is None else str(options.category)

    t0 = time.perf_counter()
    net = prepared(network, walk)
    existing = _Existing.of(net, compounds, services, walk=walk, category=category, gates=gates, max_snap_m=max_snap_m)
    t_cov = time.perf_counter()
    origins = compound_origins(net, compounds, gates=gates, max_snap_m=max_snap_m)
    cand, source, costs = _candidates(net, compounds, existing, origins, options, candidates, costs_all, max_snap_m)
    t_cand = time.perf_counter()
    matrix, set_aside = _demand(net, compounds, origins, cand, existing, weights, costs, options)
    _warn_capacity_below_every_weight(matrix, options.capacity)
    t_matrix = time.perf_counter()
    result = _solve(matrix, chosen, options)
    streets = street_lines
    named = streets is not None or not isinstance(network, PreparedNetwork)
    if source == "streets" and named and result.site_ids:  # named after streets
        picked = pd.Index(result.site_ids)
        streets = street_edges(network) if streets is None else streets
        cand.sites.loc[picked, "name"] = street_site_names(cand.sites.loc[picked], streets)

    # reports
    unreachable = ~existing.covered & ~(np.diff(matrix.cover.indptr) > 0)
    first_site, covered_after, walk_after = _after(net, origins, cand, matrix, result, existing, options, compounds)
    ba = before_after(
        compounds,
        existing.rows,
        weights,
        weight_col,
        weight_label,
        existing.covered,
        covered_after,
        existing.walk_m,
        walk_after,
        walk,
        first_site,
        result.site_ids,
        unreachable,
    )
    sites_out, catchments = site_tables(compounds, cand, result, ba, weight_label, weight_col)
    critical = critical_table(compounds, services, existing.coverage, category, weights, weight_label)
    params = _parameters(options, walk, existing, category, weight_col, weight_label, source, max_snap_m)
    summary = siting_summary(result, chosen, compounds, cand, source, ba, weights, unreachable, params=params)
    if set_aside.any():
        _note_set_aside(summary, compounds.index[set_aside])
    summary["timings"] = {
        "network_and_coverage_s": round(t_cov - t0, 3),
        "candidates_s": round(t_cand - t_cov, 3),
        "matrix_s": round(t_matrix - t_cand, 3),
        "solve_s": round(result.seconds, 3),
        "total_s": round(time.perf_counter() - t0, 3),
    }
    summary["matrix"] = {"pairs": int(matrix.cover.nnz), "compounds": matrix.shape[0], "candidates": matrix.shape[1]}
    return SitePlan(
        result=result,
        sites=sites_out,
        catchments=catchments,
        before_after=ba,
        critical=critical,
        compounds=compounds,
        services=services,
        coverage=existing.coverage,
        candidates=cand,
        matrix=matrix,
        summary=summary,
        streets=streets,
    )


@dataclass(frozen=True, eq=False)
class _Existing:
    """Coverage of the planned category by the existing services, at the category's limit."""

    coverage: CoverageResult
    rows: pd.DataFrame  # the category's coverage rows, one per compound in layer order
    covered: np.ndarray
    walk_m: np.ndarray
    limit_min: float
    limit_m: float

    @classmethod
    def of(cls, net, compounds, services, *, walk: Walk, category: str, gates, max_snap_m: float) -> _Existing:
        limit_min = walk.limit_min_of(category)
        cov = coverage(
            net,
            compounds,
            services,
            walk=walk.with_limit(minutes=limit_min),
            gates=gates,
            max_snap_m=max_snap_m,
        )
        if category not in cov.categories:
            known = ", ".join(c for c in cov.categories if c != ALL)
            raise InputError(f"No existing service has category {category!r}; the services' categories are: {known}.")
        rows = cov.table[cov.table["category"] == category].set_index("compound_id").reindex(compounds.index)
        return cls(
            coverage=cov,
            rows=rows,
            covered=rows["covered"].fillna(False).to_numpy(dtype=bool),
            walk_m=rows["walk_m"].to_numpy(dtype=float),
            limit_min=limit_min,
            limit_m=limit_min * walk.metres_per_minute,
        )


def _candidates(
    net: PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    existing: _Existing,
    origins: Origins,
    options: SitingOptions,
    candidates: gpd.GeoDataFrame | None,
    costs_all: np.ndarray | None,
    max_snap_m: float,
) -> tuple[Candidates, str, np.ndarray | None]:
    """The candidates used (given, inside compounds, or street points near the uncovered), their source and costs."""
    if candidates is not None:
        sites, source = candidates, "layer"
    elif options.candidates_from == "compounds":
        sites, source = compound_candidates(compounds), "compounds"
    else:
        uncovered_ids = compounds.index[~existing.covered]
        sites = street_candidates(net, compounds, uncovered_ids, spacing_m=options.spacing_m, near_m=existing.limit_m)
        source = "streets"
    cand = attach_candidates(net, sites, origins, max_snap_m=max_snap_m)
    if candidates is not None and cand.sites.empty:
        raise InputError(
            f"None of the {len(sites)} candidates can be used: each lies farther than {max_snap_m:.0f} m from a "
            "walkable street or on a piece of network no compound can walk to."
        )
    costs = None if costs_all is None else costs_all[sites.index.get_indexer(cand.sites.index)]
    return cand, source, costs


def _demand(net, compounds, origins: Origins, cand: Candidates, existing: _Existing, weights, costs, options):
    """The walking coverage matrix (compounds, min over their origins, × candidates) and the compounds set aside.

    Compounds nobody can walk to are no demand unless ``options.include_unreachable``: they lack a way in, not a
    site.
    """
    o, s, w = pairs_within(net, origins.attachment, cand.attachment, limit_m=existing.limit_m)
    set_aside = np.zeros(len(compounds), dtype=bool)
    if not options.include_unreachable:
        set_aside = unreachable_mask(existing.coverage, compounds.index).to_numpy() & ~existing.covered
        keep = ~set_aside[origins.compound_pos[o]]
        o, s, w = o[keep], s[keep], w[keep]
    matrix = CoverageMatrix.from_pairs(
        compounds.index,
        cand.sites.index,
        origins.compound_pos[o],
        s,
        walk_m=w,
        limit_m=existing.limit_m,
        weights=weights,
        covered=existing.covered,
        existing_walk_m=existing.walk_m,
        costs=costs,
    )
    log.info("siting: %r", matrix)
    return matrix, set_aside


def _note_set_aside(summary: dict, set_aside: pd.Index) -> None:
    ids = [str(c) for c in set_aside]
    summary["set_aside_unreachable"] = ids
    summary["notes"].append(
        f"{len(ids)} compounds nobody can walk to (off the network or on an island of streets without service) "
        f"were left out of the demand ({', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''}); "
        f"{CHECK_HINT}, or plan for them with --include-unreachable."
    )


def _after(net, origins, cand: Candidates, matrix, result: SitingResult, existing: _Existing, options, compounds):
    """Per compound after the plan: the site (build position) that newly covers it, covered, walking metres."""
    site_pos = cand.sites.index.get_indexer(pd.Index(result.site_ids))
    first_site = _assign_sites(matrix, site_pos, options.capacity)
    covered_after = existing.covered | (first_site >= 0)
    if options.capacity is None and not np.array_equal(
        covered_after, compounds.index.isin(pd.Index(result.covered_ids))
    ):
        log.warning("siting: the plan's coverage differs from the solver's covered compounds")
    new_walk = _walk_to_sites(net, origins, cand, site_pos, len(compounds))
    walk_after = np.fmin(np.where(np.isnan(existing.walk_m), np.inf, existing.walk_m), new_walk)
    return first_site, covered_after, walk_after


def _solve(matrix: CoverageMatrix, chosen: str, options: SitingOptions) -> SitingResult:
    add, capacity = options.add, options.capacity
    if chosen == "lscp":
        siting = CoverAll.from_matrix(matrix, capacity=capacity)
    elif chosen == "pmedian":
        siting = PMedian.from_matrix(matrix, k=int(add))
    else:
        k = None if add is None else int(add)
        siting = MaxCoverage.from_matrix(matrix, k=k, budget=options.budget, capacity=capacity)
    result = siting.solve(solver=options.solver, time_limit_s=options.time_limit_s)
    log.info(
        "siting: %s %s objective %s bound %s in %.1f s",
        result.model,
        result.status,
        result.objective,
        result.bound,
        result.seconds,
    )
    return result


def _parameters(options, walk: Walk, existing: _Existing, category, weight_col, weight_label, source, max_snap_m):
    """The parameters recorded in ``siting.json``."""
    return {
        "minutes": float(existing.limit_min),
        "speed_kmh": float(walk.speed_kmh),
        "limit_m": round(existing.limit_m, 1),
        "max_snap_m": float(max_snap_m),
        "category": category,
        "weight_column": weight_col,
        "weight": weight_label,
        "solver": options.solver,
        "time_limit_s": float(options.time_limit_s),
        "candidates": source,
        "candidate_spacing_m": options.spacing_m if source == "streets" else None,
        "add": None if options.add is None else int(options.add),
        "budget": options.budget,
        "cost_column": options.cost_column,
        "capacity": options.capacity,
        "origin": existing.coverage.params.get("origin"),
    }


def _warn_capacity_below_every_weight(matrix: CoverageMatrix, capacity: float | None) -> None:
    need = matrix.weights[~matrix.covered]
    need = need[need > 0]
    if capacity is not None and len(need) and capacity < need.min():
        log.warning(
            "The site capacity (%g) is below the weight of every uncovered compound (smallest %g): a new site "
            "serves only part of one, so no compound becomes fully covered",
            capacity,
            need.min(),
        )


def _assign_sites(matrix: CoverageMatrix, site_pos: np.ndarray, capacity: float | None) -> np.ndarray:
    """Per compound, the build-order position (0-based) of the site that newly covers it; -1 if none.

    Follows the ranked plan: sites are built in order, each covering the compounds within reach not yet covered;
    with a capacity a site serves at most that weight, compounds with the fewest candidates first (a compound
    counts as covered once fully served).
    """
    n = matrix.shape[0]
    covered = matrix.covered.copy()
    residual = np.where(covered, 0.0, matrix.weights)
    lens = np.diff(matrix.cover.indptr)
    csc = matrix.cover.tocsc()
    assigned = np.full(n, -1, dtype=np.int64)
    for rank, j in enumerate(site_pos):  # a handful of chosen sites, vectorised over compounds
        r = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if capacity is None:
            newly = r[~covered[r]]
        else:
            rr = r[np.argsort(lens[r], kind="stable")]
            take = min(float(capacity), residual[rr].sum())
            before = np.concatenate([[0.0], np.cumsum(residual[rr])[:-1]])
            residual[rr] -= np.clip(take - before, 0.0, residual[rr])
            newly = rr[(residual[rr] <= 1e-9) & ~covered[rr]]
        covered[newly] = True
        assigned[newly] = rank
    return assigned


def _walk_to_sites(net, origins, cand: Candidates, site_pos: np.ndarray, n_compounds: int) -> np.ndarray:
    """Walking metres from each compound (best origin) to its nearest chosen site (inf when none)."""
    best = np.full(n_compounds, np.inf)
    if len(site_pos) == 0:
        return best
    walk, _ = nearest_destination(net, origins.attachment, cand.attachment.take(site_pos))
    np.minimum.at(best, origins.compound_pos, walk)
    return best
