"""The ``lifecircle site`` job: where to put new service points, as a ranked plan with before/after coverage.

:func:`plan_sites` works on layers already read (existing services fixed; they count and cost nothing),
:func:`write_site_plan` writes every output together, and :func:`run_site` does both from files, as the command
line does.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, POPULATION_COLUMNS, find_column
from lifecircle.geo.inputs.layers import read_compounds, read_gates, read_services
from lifecircle.geo.network.graph import PreparedNetwork, prepare_network
from lifecircle.geo.network.osm import load_network
from lifecircle.geo.reach.coverage import ALL, CoverageResult, compound_origins, coverage, metres_per_minute
from lifecircle.geo.routing.paths import nearest_destination, pairs_within
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.validate import weight_values
from lifecircle.maps import coverage_map, save_map
from lifecircle.planning.analyze_job import LayerSpec, MapOptions
from lifecircle.planning.candidates import (
    DEFAULT_SPACING_M,
    Candidates,
    attach_candidates,
    candidate_costs,
    compound_candidates,
    read_candidates,
    street_candidates,
)
from lifecircle.planning.outputs import input_hashes, staged_directory, write_csv, write_gpkg, write_json
from lifecircle.planning.siting import (
    CoverageMatrix,
    CoverAll,
    MaxCoverage,
    PMedian,
    SitingResult,
    critical_services,
)

log = logging.getLogger(__name__)

__all__ = ["OUTPUT_FILES", "SitePlan", "plan_sites", "run_site", "write_site_plan"]

OUTPUT_FILES = ("sites.csv", "sites.gpkg", "siting.json", "before_after.csv", "critical_services.csv", "map.html")
MODELS = ("mclp", "lscp", "pmedian")
SOLVERS = ("highs", "cbc", "scipy", "greedy")
CANDIDATE_SOURCES = ("streets", "compounds")
OUTCOMES = ("already_covered", "newly_covered", "not_covered", "unreachable")
WGS84 = "EPSG:4326"


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


# ---------------------------------------------------------------------------------------------- options
def _resolve_model(
    *,
    add: int | None,
    cover_all: bool,
    model: str | None,
    budget: float | None,
    capacity: float | None,
    cost_column: str | None,
    candidates_given: bool,
    candidate_sources: int,
    candidates_from: str | None,
    solver: str,
    time_limit_s: float,
) -> str:
    """Check the option combination; return the model (mclp, lscp or pmedian)."""
    if add is not None and cover_all:
        raise InputError("Choose either --add K (the best K new sites) or --cover-all, not both.")
    if add is not None and (isinstance(add, bool) or int(add) != add or add < 1):
        raise InputError(f"The number of sites to add (--add) must be a whole number of at least 1, got {add}.")
    if model is not None and model not in MODELS:
        raise InputError(f"Unknown siting model {model!r}; use one of {', '.join(MODELS)}.")
    if solver not in SOLVERS:
        raise InputError(f"Unknown solver {solver!r}; use one of {', '.join(SOLVERS)}.")
    if not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise InputError(f"The solver time limit must be a positive number of seconds, got {time_limit_s}.")
    if budget is not None and not (budget > 0 and math.isfinite(budget)):
        raise InputError(f"The budget must be a positive number, got {budget}.")
    if capacity is not None and not (capacity > 0 and math.isfinite(capacity)):
        raise InputError(f"The site capacity must be a positive number, got {capacity}.")
    if candidate_sources > 1:
        raise InputError(
            "Give one source of candidates: --candidates FILE, --candidate-spacing-m M or --candidates-from."
        )
    if candidates_from is not None and candidates_from not in CANDIDATE_SOURCES:
        raise InputError(f"Unknown candidate source {candidates_from!r}; use one of {', '.join(CANDIDATE_SOURCES)}.")
    if cost_column is not None and not candidates_given:
        raise InputError("--cost-column needs a candidate layer (--candidates) that holds the costs.")
    if cover_all:
        if model not in (None, "lscp"):
            raise InputError(f"--cover-all is the lscp model, not {model}; drop --model or use --add K.")
        if budget is not None:
            raise InputError("--budget limits --add (max-coverage); --cover-all finds the fewest sites instead.")
        return "lscp"
    if add is None and budget is None:
        raise InputError("Say how many new sites to plan with --add K, or ask for --cover-all.")
    chosen = model or "mclp"
    if chosen == "lscp":
        raise InputError("The lscp model covers every compound: use --cover-all instead of --add.")
    if chosen == "pmedian":
        if add is None:
            raise InputError("The p-median model needs the number of sites (--add K).")
        if budget is not None or capacity is not None:
            raise InputError("The p-median model takes neither --budget nor --capacity.")
    return chosen


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


# ---------------------------------------------------------------------------------------------- planning
def plan_sites(
    network: nx.MultiDiGraph | PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    add: int | None = None,
    cover_all: bool = False,
    model: str | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    candidate_spacing_m: float | None = None,
    candidates_from: str | None = None,
    minutes: float = 10.0,
    speed_kmh: float = 4.5,
    category: str | None = None,
    weight_column: str | None = None,
    budget: float | None = None,
    cost_column: str | None = None,
    capacity: float | None = None,
    solver: str = "highs",
    time_limit_s: float = 60.0,
    gates: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> SitePlan:
    """Choose new service sites on the walking network, existing services fixed.

    Parameters
    ----------
    network
        The walking network (osmnx-style graph, or prepared).
    compounds, services
        Compounds indexed by ``compound_id`` and existing services indexed by ``service_id`` (not modified).
    add
        Number of new sites (max-coverage, or p-median with ``model="pmedian"``).
    cover_all
        Find the fewest new sites that bring every reachable compound within ``minutes`` (set covering).
    model
        ``"mclp"`` (default with ``add``), ``"lscp"`` (``cover_all``) or ``"pmedian"``.
    candidates
        A candidate layer indexed by ``site_id`` (points). Default: street points every 100 m.
    candidate_spacing_m
        Generate street candidates this many metres apart (near the uncovered compounds).
    candidates_from
        ``"compounds"``: one candidate inside each compound; ``"streets"``: street candidates.
    minutes, speed_kmh
        The walking threshold and speed.
    category
        Service category whose coverage is planned; default ``all`` (any service).
    weight_column
        Compound column of households/population; default a ``households``/``population`` column when present,
        else every compound weighs 1.
    budget, cost_column
        Max-coverage with a total cost limit; costs from a column of the candidate layer (else 1 per site).
    capacity
        Weight (households...) one new site can serve.
    solver, time_limit_s
        ``highs`` (default), ``cbc``, ``scipy`` or ``greedy``, and the solver's time limit.
    gates
        Optional compound gates (walks start there).
    max_snap_m
        Points farther than this from a walkable street are off the network.

    Returns
    -------
    SitePlan

    Raises
    ------
    InputError
        A bad option or combination, a missing weight/cost column, an unknown category, or no usable candidate.
    """
    chosen = _resolve_model(
        add=add,
        cover_all=cover_all,
        model=model,
        budget=budget,
        capacity=capacity,
        cost_column=cost_column,
        candidates_given=candidates is not None,
        candidate_sources=sum(x is not None for x in (candidates, candidate_spacing_m, candidates_from)),
        candidates_from=candidates_from,
        solver=solver,
        time_limit_s=time_limit_s,
    )
    weights, weight_col, weight_label = compound_weights(compounds, weight_column)
    if candidates is not None and candidates.empty:
        raise InputError("The candidate layer is empty: it has no candidate sites.")
    costs_all = candidate_costs(candidates, cost_column) if cost_column is not None else None

    t0 = time.perf_counter()
    net = network if isinstance(network, PreparedNetwork) else prepare_network(network)
    limit_m = minutes * metres_per_minute(speed_kmh)
    cov = coverage(
        net, compounds, services, max_walk_min=minutes, speed_kmh=speed_kmh, gates=gates, max_snap_m=max_snap_m
    )
    category = ALL if category is None else str(category)
    if category not in cov.categories:
        known = ", ".join(c for c in cov.categories if c != ALL)
        raise InputError(f"No existing service has category {category!r}; the services' categories are: {known}.")
    before = cov.table[cov.table["category"] == category].set_index("compound_id").reindex(compounds.index)
    covered_before = before["covered"].fillna(False).to_numpy(dtype=bool)
    walk_before = before["walk_m"].to_numpy(dtype=float)

    t_cov = time.perf_counter()
    # candidates
    origins = compound_origins(net, compounds, gates=gates, max_snap_m=max_snap_m)
    uncovered_ids = compounds.index[~covered_before]
    if candidates is not None:
        sites, source = candidates, "layer"
    elif candidates_from == "compounds":
        sites, source = compound_candidates(compounds), "compounds"
    else:
        spacing = DEFAULT_SPACING_M if candidate_spacing_m is None else float(candidate_spacing_m)
        sites, source = street_candidates(net, compounds, uncovered_ids, spacing_m=spacing, near_m=limit_m), "streets"
    cand = attach_candidates(net, sites, origins, max_snap_m=max_snap_m)
    if candidates is not None and cand.sites.empty:
        raise InputError(
            f"None of the {len(sites)} candidates can be used: each lies farther than {max_snap_m:.0f} m from a "
            "walkable street or on a piece of network no compound can walk to."
        )
    costs = None
    if costs_all is not None:
        costs = costs_all[sites.index.get_indexer(cand.sites.index)]

    t_cand = time.perf_counter()
    # walking coverage matrix: compounds (min over their origins) × candidates
    o, s, w = pairs_within(net, origins.attachment, cand.attachment, limit_m=limit_m)
    matrix = CoverageMatrix.from_pairs(
        compounds.index,
        cand.sites.index,
        origins.compound_pos[o],
        s,
        walk_m=w,
        limit_m=limit_m,
        weights=weights,
        covered=covered_before,
        existing_walk_m=walk_before,
        costs=costs,
    )
    log.info("siting: %r", matrix)
    _warn_capacity_below_every_weight(matrix, capacity)
    t_matrix = time.perf_counter()
    if chosen == "lscp":
        siting = CoverAll.from_matrix(matrix, capacity=capacity)
    elif chosen == "pmedian":
        siting = PMedian.from_matrix(matrix, k=int(add))
    else:
        siting = MaxCoverage.from_matrix(matrix, k=None if add is None else int(add), budget=budget, capacity=capacity)
    result = siting.solve(solver=solver, time_limit_s=time_limit_s)
    log.info(
        "siting: %s %s objective %s bound %s in %.1f s",
        result.model,
        result.status,
        result.objective,
        result.bound,
        result.seconds,
    )

    # reports
    reaches = np.diff(matrix.cover.indptr) > 0
    unreachable = ~covered_before & ~reaches
    site_pos = cand.sites.index.get_indexer(pd.Index(result.site_ids))
    first_site = _assign_sites(matrix, site_pos, capacity)
    covered_after = covered_before | (first_site >= 0)
    if capacity is None and not np.array_equal(covered_after, compounds.index.isin(pd.Index(result.covered_ids))):
        log.warning("siting: the plan's coverage differs from the solver's covered compounds")
    new_walk = _walk_to_sites(net, origins, cand, site_pos, len(compounds))
    walk_after = np.fmin(np.where(np.isnan(walk_before), np.inf, walk_before), new_walk)
    before_after = _before_after(
        compounds,
        before,
        weights,
        weight_col,
        weight_label,
        covered_before,
        covered_after,
        walk_before,
        walk_after,
        speed_kmh,
        first_site,
        result.site_ids,
        unreachable,
    )
    sites_out, catchments = _site_tables(compounds, cand, result, before_after, weight_label, weight_col)
    critical = _critical(compounds, services, cov, category, weights, weight_label)
    summary = _summary(
        result,
        chosen,
        compounds,
        cand,
        source,
        before_after,
        weights,
        unreachable,
        params={
            "minutes": float(minutes),
            "speed_kmh": float(speed_kmh),
            "limit_m": round(limit_m, 1),
            "max_snap_m": float(max_snap_m),
            "category": category,
            "weight_column": weight_col,
            "weight": weight_label,
            "solver": solver,
            "time_limit_s": float(time_limit_s),
            "candidates": source,
            "candidate_spacing_m": (DEFAULT_SPACING_M if candidate_spacing_m is None else candidate_spacing_m)
            if source == "streets"
            else None,
            "add": None if add is None else int(add),
            "budget": budget,
            "cost_column": cost_column,
            "capacity": capacity,
            "origin": cov.params.get("origin"),
        },
    )
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
        before_after=before_after,
        critical=critical,
        compounds=compounds,
        services=services,
        coverage=cov,
        candidates=cand,
        matrix=matrix,
        summary=summary,
    )


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


def _before_after(
    compounds,
    before,
    weights,
    weight_col,
    weight_label,
    covered_before,
    covered_after,
    walk_before,
    walk_after,
    speed_kmh,
    first_site,
    site_ids,
    unreachable,
) -> pd.DataFrame:
    mpm = metres_per_minute(speed_kmh)
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
    table["walk_min_before"] = np.round(walk_before / mpm, 2)
    table["walk_min_after"] = np.round(walk_after_m / mpm, 2)
    table["new_site_id"] = new_site
    table["outcome"] = outcome
    return table


def _site_tables(compounds, cand: Candidates, result: SitingResult, before_after, weight_label, weight_col):
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


def _critical(compounds, services, cov: CoverageResult, category, weights, weight_label) -> pd.DataFrame:
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
    columns["compound_names"] = ["; ".join(names.loc[list(c)]) for c in crit["compound_ids"]]
    table = pd.DataFrame(columns)
    return table


def _summary(result, chosen, compounds, cand: Candidates, source, before_after, weights, unreachable, params):
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


# ---------------------------------------------------------------------------------------------- writing
def write_site_plan(
    plan: SitePlan,
    out_dir: str | Path,
    *,
    inputs: dict[str, str | Path | None] | None = None,
    map_options: MapOptions | None = None,
) -> Path:
    """Write ``sites.csv``, ``sites.gpkg``, ``siting.json``, ``before_after.csv``, ``critical_services.csv``
    and ``map.html``: all of them appear in ``out_dir`` together, or none does."""
    map_options = map_options or MapOptions()
    summary = {**plan.summary, "inputs": input_hashes(inputs or {})}
    params = plan.summary["parameters"]
    with staged_directory(out_dir, job="site", inputs=(inputs or {}).values()) as stage:
        write_csv(pd.DataFrame(plan.sites.drop(columns=plan.sites.geometry.name)).reset_index(), stage / "sites.csv")
        write_gpkg(plan.sites, stage / "sites.gpkg", layer="sites")
        if not plan.catchments.empty:
            write_gpkg(plan.catchments, stage / "sites.gpkg", layer="catchments")
        write_json(summary, stage / "siting.json")
        write_csv(plan.before_after, stage / "before_after.csv")
        write_csv(plan.critical, stage / "critical_services.csv")
        category = params["category"]
        fmap = coverage_map(
            plan.compounds,
            plan.services,
            plan.coverage.table,
            minutes=params["minutes"],
            speed_kmh=params["speed_kmh"],
            sites=plan.sites[
                [
                    "name",
                    "rank",
                    *[c for c in plan.sites.columns if c.startswith("new_")],
                    "cum_share",
                    "covers",
                    "geometry",
                ]
            ],
            site_areas=plan.catchments,
            category=None if category == ALL else category,
            lang=map_options.lang,
            basemap=map_options.basemap,
            tianditu_key=map_options.tianditu_key,
            data_date=map_options.data_date,
        )
        save_map(fmap, stage / "map.html", offline=map_options.offline)
    return Path(out_dir)


def run_site(
    *,
    network: str | Path | nx.MultiDiGraph,
    compounds: LayerSpec,
    services: LayerSpec,
    out_dir: str | Path,
    candidates: LayerSpec | None = None,
    gates: LayerSpec | None = None,
    category_column: str | None = None,
    map_options: MapOptions | None = None,
    **options,
) -> SitePlan:
    """Read every input, plan the sites and write the outputs of ``lifecircle site``.

    Parameters
    ----------
    network
        OSM extract, GraphML, ``place:``/``bbox:`` source, or a graph.
    compounds, services, candidates, gates
        How to read each layer (:class:`~lifecircle.planning.analyze_job.LayerSpec`); candidates optional.
    out_dir
        Output folder (written atomically).
    category_column
        Service category column.
    map_options
        Map drawing options.
    **options
        Passed to :func:`plan_sites` (``add``, ``cover_all``, ``minutes``, ``weight_column``...).

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before anything is written.
    """
    _resolve_model(
        add=options.get("add"),
        cover_all=options.get("cover_all", False),
        model=options.get("model"),
        budget=options.get("budget"),
        capacity=options.get("capacity"),
        cost_column=options.get("cost_column"),
        candidates_given=candidates is not None,
        candidate_sources=sum(
            x is not None for x in (candidates, options.get("candidate_spacing_m"), options.get("candidates_from"))
        ),
        candidates_from=options.get("candidates_from"),
        solver=options.get("solver", "highs"),
        time_limit_s=options.get("time_limit_s", 60.0),
    )
    compounds_gdf = read_compounds(compounds.path, **compounds.read_kw())
    services_gdf = read_services(services.path, category_column=category_column, **services.read_kw())
    candidates_gdf = None
    if candidates is not None:
        candidates_gdf = read_candidates(
            candidates.path, cost_column=options.get("cost_column"), **candidates.read_kw()
        )
    gates_gdf = read_gates(gates.path, **gates.read_kw()) if gates else None
    graph = network if isinstance(network, nx.MultiDiGraph) else load_network(network)
    plan = plan_sites(graph, compounds_gdf, services_gdf, candidates=candidates_gdf, gates=gates_gdf, **options)
    inputs = {
        "network": None if isinstance(network, nx.MultiDiGraph) else network,
        "compounds": compounds.path,
        "services": services.path,
        "candidates": candidates.path if candidates else None,
        "gates": gates.path if gates else None,
    }
    write_site_plan(plan, out_dir, inputs=inputs, map_options=map_options)
    return plan
