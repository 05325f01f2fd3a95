"""Walker profiles: adults, the elderly, children and wheelchair users walk at their own speeds and by their own
step rules, all in one study.

A profile's walking time on an edge is its flat-equivalent length (``effort_m`` from
:func:`lifecircle.geo.walkers.terrain.apply_terrain` on hills, else ``length``), times the profile's ``steps_factor`` on
``highway=steps``, at the profile's flat speed. Steps are closed to profiles whose ``steps_factor`` is None.

Profiles that share a step rule share one cost network, and the walk is computed once for the fastest of them:
the slower ones' times are the same flat-equivalent metres at their own speed, thresholded at their own limit.
So four profiles cost at most one search per step rule (two with the defaults when the network has steps,
one when it has none). The default walkers share one step rule (steps take 1.5× their level time — for the
elderly that is 1.5× their own slower pace); giving the elderly a harsher rule (e.g.
``WalkerProfile("elderly", 3.0, 2.0, "pop_60plus")``) is supported and costs one more search.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from lifecircle.errors import InputError
from lifecircle.geo.network.chains import build_chains
from lifecircle.geo.network.graph import ZERO_COST, EdgeTable, PreparedNetwork, edge_table, prepare_network
from lifecircle.geo.network.segment_index import build_segment_index
from lifecircle.geo.reach.coverage import (
    ALL,
    DEFAULT_MAX_WALK_MIN,
    CoverageResult,
    Origins,
    compound_origins,
    coverage,
    metres_per_minute,
)
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.walk import DEFAULT_SPEED_KMH
from lifecircle.geo.walkers.compare import ScenarioComparison
from lifecircle.geo.walkers.terrain import is_steps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkerProfile:
    """How one group of residents walks.

    Attributes
    ----------
    name
        Identifier (``adult``, ``elderly``, ...), used in tables and weight names.
    speed_kmh
        Walking speed on flat ground.
    steps_factor
        Steps take this many times as long as level walking of the same (slope-adjusted) length; None: this
        walker cannot use steps.
    population_column
        Compound column counting residents of this group (e.g. ``pop_60plus``), for population-weighted results.
    label
        Display name (Chinese for maps and reports).
    """

    name: str
    speed_kmh: float
    steps_factor: float | None = 1.5
    population_column: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not self.speed_kmh > 0:
            raise InputError(f"Walker profile {self.name!r}: speed must be positive, got {self.speed_kmh} km/h.")
        if self.steps_factor is not None and not self.steps_factor >= 1:
            raise InputError(f"Walker profile {self.name!r}: steps_factor must be at least 1 (or None for no steps).")


ADULT = WalkerProfile("adult", DEFAULT_SPEED_KMH, 1.5, "population", "成年人")
ELDERLY = WalkerProfile("elderly", 3.0, 1.5, "pop_60plus", "老年人")
CHILD = WalkerProfile("child", 3.5, 1.5, "pop_0_14", "儿童")
WHEELCHAIR = WalkerProfile("wheelchair", 3.0, None, "pop_wheelchair", "轮椅使用者")
PROFILES: dict[str, WalkerProfile] = {p.name: p for p in (ADULT, ELDERLY, CHILD, WHEELCHAIR)}
DEFAULT_PROFILES = tuple(PROFILES)


def get_profiles(profiles: Iterable[str | WalkerProfile] = DEFAULT_PROFILES) -> tuple[WalkerProfile, ...]:
    """Profiles by name (``adult``, ``elderly``, ``child``, ``wheelchair``) or as given; names must be unique."""
    out = []
    for p in profiles:
        if isinstance(p, WalkerProfile):
            out.append(p)
        elif p in PROFILES:
            out.append(PROFILES[p])
        else:
            raise InputError(f"Unknown walker profile {p!r}: choose from {', '.join(PROFILES)}.")
    names = [p.name for p in out]
    if len(set(names)) != len(names) or not out:
        raise InputError(f"Walker profiles must be given once each, got {names}.")
    return tuple(out)


def base_weight(G: nx.MultiDiGraph) -> str:
    """``effort_m`` when terrain has been applied to ``G`` (:func:`apply_terrain`), else ``length``."""
    return "effort_m" if "terrain" in G.graph else "length"


def profile_weight(profile: WalkerProfile) -> str:
    """Name of the edge attribute :func:`profile_graph` writes for a profile."""
    return f"cost_{profile.name}_m"


def profile_graph(G: nx.MultiDiGraph, profile: WalkerProfile | str, *, weight: str | None = None) -> nx.MultiDiGraph:
    """A copy of ``G`` for one walker: edge attribute ``cost_<name>_m`` (flat-equivalent metres, steps penalised),
    steps left out when the walker cannot use them.

    Use it where a single profile must go through another engine, e.g.
    ``gated_coverage(profile_graph(G, "elderly"), ..., weight="cost_elderly_m", speed_kmh=3.0)``.
    """
    (profile,) = get_profiles([profile])
    weight = weight or base_weight(G)
    H = nx.MultiDiGraph(**G.graph)
    H.add_nodes_from(G.nodes(data=True))
    attr = profile_weight(profile)
    for u, v, k, d in G.edges(keys=True, data=True):
        steps = is_steps(d.get("highway"))
        if steps and profile.steps_factor is None:
            continue
        H.add_edge(u, v, k, **d, **{attr: d[weight] * (profile.steps_factor if steps else 1.0)})
    H.remove_nodes_from([n for n in list(H.nodes) if H.degree(n) == 0])
    return H


def prepare_profiles(
    G: nx.MultiDiGraph, profiles: Iterable[str | WalkerProfile] = DEFAULT_PROFILES, *, weight: str | None = None
) -> dict[str, PreparedNetwork]:
    """One prepared network per profile; profiles with the same step rule share the same object.

    The graph is prepared once; every other step rule only re-weights (or, for walkers who cannot use steps,
    drops) the steps in its cost matrices and street segments, without walking the graph again. Where steps
    run between the same two nodes as another way, the walker's own graph (:func:`profile_graph`) is prepared
    instead, so that points join and walks follow the line of the way that walker takes.
    """
    profiles = get_profiles(profiles)
    weight = weight or base_weight(G)
    edges = edge_table(G)
    base = prepare_network(G, weight=weight, edges=edges)
    steps = _step_pairs(edges, weight)
    out: dict[str, PreparedNetwork] = {}
    by_rule: dict[object, PreparedNetwork] = {}
    for p in profiles:
        rule = p.steps_factor if len(steps.rows) else 1.0
        if rule not in by_rule:
            if rule == 1.0:
                by_rule[rule] = base
            elif steps.beside_other_ways:
                # the walker may now take a parallel way with its own line: prepare that walker's graph afresh
                by_rule[rule] = prepare_network(profile_graph(G, p, weight=weight), weight=profile_weight(p))
            else:
                by_rule[rule] = _reweighted(base, steps, rule)
        out[p.name] = by_rule[rule]
    return out


@dataclass(frozen=True)
class _StepPairs:
    """Directed node pairs joined by steps, with every parallel edge of those pairs: ``pair`` (index into
    ``rows``/``cols``), ``cost`` and ``on_steps`` per edge."""

    rows: np.ndarray
    cols: np.ndarray
    pair: np.ndarray
    cost: np.ndarray
    on_steps: np.ndarray

    @property
    def beside_other_ways(self) -> bool:
        """Whether some steps run between the same two nodes as another way (whose line may differ)."""
        edges = np.bincount(self.pair, minlength=len(self.rows))
        step_edges = np.bincount(self.pair, weights=self.on_steps, minlength=len(self.rows))
        return bool((edges > step_edges).any())


def _step_pairs(edges: EdgeTable, weight: str) -> _StepPairs:
    """The node pairs of a graph's edges joined by steps (matrix positions, self-loops left out)."""
    steps = np.fromiter((is_steps(d.get("highway")) for d in edges.data), dtype=bool, count=len(edges.data))
    steps &= edges.u != edges.v
    n = int(max(edges.u.max(initial=0), edges.v.max(initial=0))) + 1
    key = edges.u * n + edges.v
    step_keys = np.unique(key[steps])
    parallel = np.flatnonzero(np.isin(key, step_keys))  # every edge of those pairs, steps or not
    cost = np.array([float(edges.data[i][weight]) for i in parallel])
    return _StepPairs(
        rows=step_keys // n,
        cols=step_keys % n,
        pair=np.searchsorted(step_keys, key[parallel]),
        cost=cost,
        on_steps=steps[parallel],
    )


def _reweighted(net: PreparedNetwork, steps: _StepPairs, rule: float | None) -> PreparedNetwork:
    """``net`` with steps costing ``rule`` times as much (``None``: steps removed); street segments left with no
    open direction are removed too (points then join the nearest street still open).

    Only the node pairs joined by steps change: their entries are recomputed from their parallel edges and the
    rest of the cost matrix is kept.
    """

    rows, cols = steps.rows, steps.cols
    edge_cost = np.where(steps.on_steps, np.inf if rule is None else steps.cost * (rule or 1.0), steps.cost)
    values = np.full(len(rows), np.inf)
    np.minimum.at(values, steps.pair, edge_cost)
    n = net.n_nodes
    coo = net.cost.tocoo()
    changed = np.isin(coo.row.astype(np.int64) * n + coo.col, rows * n + cols)
    open_pair = np.isfinite(values)
    r = np.concatenate([coo.row[~changed], rows[open_pair]])
    c = np.concatenate([coo.col[~changed], cols[open_pair]])
    w = np.concatenate([coo.data[~changed], np.maximum(values[open_pair], ZERO_COST)])
    cost = sp.csr_array((w, (r, c)), shape=(n, n))  # entries are unique: no sum of duplicates
    cost_uv = np.asarray(cost[net.segment_u, net.segment_v]).ravel()
    cost_vu = np.asarray(cost[net.segment_v, net.segment_u]).ravel()
    cost_uv[cost_uv == 0] = np.inf
    cost_vu[cost_vu == 0] = np.inf
    changes: dict = {"cost": cost, "cost_reverse": sp.csr_array((w, (c, r)), shape=(n, n))}
    open_seg = np.isfinite(cost_uv) | np.isfinite(cost_vu)
    if open_seg.all():
        changes.update(segment_cost_uv=cost_uv, segment_cost_vu=cost_vu)
    else:
        lines = net.segment_lines[open_seg]
        _, component = connected_components(cost, directed=True, connection="weak")
        changes.update(
            segment_u=net.segment_u[open_seg],
            segment_v=net.segment_v[open_seg],
            segment_cost_uv=cost_uv[open_seg],
            segment_cost_vu=cost_vu[open_seg],
            segment_lines=lines,
            component=component,
            segment_index=build_segment_index(lines),
        )
    seg_u, seg_v = changes.get("segment_u", net.segment_u), changes.get("segment_v", net.segment_v)
    changes["chains"] = build_chains(
        seg_u, seg_v, changes["segment_cost_uv"], changes["segment_cost_vu"], net.node_xy, zero_cost=ZERO_COST
    )
    return dataclasses.replace(net, **changes)


@dataclass(frozen=True, eq=False)
class ProfileCoverage:
    """Coverage for several walker profiles of the same compounds and services.

    Attributes
    ----------
    profiles
        The profiles, in order.
    results
        One :class:`CoverageResult` per profile name (``walk_m`` is flat-equivalent metres).
    table
        All results' tables stacked, with a first column ``profile``.
    summary
        One row per profile and category: ``compounds``, ``covered``, ``covered_share``, ``population_column``,
        ``population``, ``population_covered``, ``population_share`` (NaN where the compound layer lacks the
        profile's population column).
    """

    profiles: tuple[WalkerProfile, ...]
    results: dict[str, CoverageResult]
    table: pd.DataFrame
    summary: pd.DataFrame

    def compare(self, before: str, after: str, *, category: str = ALL) -> ScenarioComparison:
        """Per-compound difference between two profiles (e.g. ``adult`` and ``wheelchair``)."""
        return ScenarioComparison.of(
            self.results[before], self.results[after], labels=(before, after), category=category
        )


def coverage_by_profile(
    network: nx.MultiDiGraph | dict[str, PreparedNetwork],
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    profiles: Iterable[str | WalkerProfile] = DEFAULT_PROFILES,
    max_walk_min: float = DEFAULT_MAX_WALK_MIN,
    category_column: str | None = "category",
    gates: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    weight: str | None = None,
) -> ProfileCoverage:
    """Coverage per walker profile, in one study.

    Parameters
    ----------
    network
        The walking graph (with terrain from :func:`lifecircle.geo.walkers.terrain.apply_terrain` for hills), or the
        output of :func:`prepare_profiles` to reuse prepared networks.
    compounds, services
        As for :func:`lifecircle.geo.reach.coverage.coverage`. Population-weighted results use each profile's
        ``population_column`` when the compounds have it.
    profiles
        Profile names or :class:`WalkerProfile` objects (default: adult, elderly, child, wheelchair).
    max_walk_min
        The walking-time threshold in minutes, the same for every profile.
    category_column, gates, max_snap_m
        As for :func:`lifecircle.geo.reach.coverage.coverage`.
    weight
        Base edge cost in metres; default ``effort_m`` when terrain was applied, else ``length``.

    Returns
    -------
    ProfileCoverage
    """
    profiles = get_profiles(profiles)
    if isinstance(network, dict):
        missing = [p.name for p in profiles if p.name not in network]
        if missing:
            raise InputError(f"No prepared network for walker profiles {missing}.")
        nets = network
    else:
        nets = prepare_profiles(network, profiles, weight=weight)
    results: dict[str, CoverageResult] = {}
    groups: dict[int, list[WalkerProfile]] = {}
    for p in profiles:
        groups.setdefault(id(nets[p.name]), []).append(p)
    origins: dict[int, Origins] = {}  # networks that only re-weight steps share their streets, hence the origins
    for members in groups.values():
        fastest = max(members, key=lambda p: p.speed_kmh)
        net = nets[fastest.name]
        key = id(net.segment_index)
        if key not in origins:
            origins[key] = compound_origins(net, compounds, gates=gates, max_snap_m=max_snap_m)
        full = coverage(
            net,
            compounds,
            services,
            max_walk_min=max_walk_min,
            speed_kmh=fastest.speed_kmh,
            category_column=category_column,
            max_snap_m=max_snap_m,
            origins=origins[key],
        )
        for p in members:
            result = full if p is fastest else _at_speed(full, services, p.speed_kmh, max_walk_min, category_column)
            result.params.update({"profile": p.name, "steps_factor": p.steps_factor})
            results[p.name] = result
    results = {p.name: results[p.name] for p in profiles}
    table = pd.concat([r.table.assign(profile=name) for name, r in results.items()], ignore_index=True)
    table = table[["profile", *[c for c in table.columns if c != "profile"]]]
    summary = population_summary(results, compounds, profiles)
    log.info("coverage for %d walker profiles in %d searches", len(profiles), len(groups))
    return ProfileCoverage(profiles=profiles, results=results, table=table, summary=summary)


def _at_speed(
    result: CoverageResult,
    services: gpd.GeoDataFrame,
    speed_kmh: float,
    max_walk_min: float,
    category_column: str | None,
) -> CoverageResult:
    """The same walks (flat-equivalent metres) for a slower walker: times, limits and counts at ``speed_kmh``."""
    mpm = metres_per_minute(speed_kmh)
    limit = max_walk_min * mpm
    if limit > result.params["max_walk_m"] + 1e-9:
        raise InputError("A derived walker profile must not be faster than the one its walks were computed for.")
    pairs = result.pairs[result.pairs["walk_m"].to_numpy() <= limit].reset_index(drop=True)
    table = result.table.copy()
    walk = table["walk_m"].to_numpy()
    table["walk_min"] = walk / mpm
    table["covered"] = walk <= limit  # NaN (unreachable) compares False
    # services within the new limit, per compound and category ("all": every category)
    row_cat, categories = pd.factorize(table["category"])
    row_comp, compound_ids = pd.factorize(table["compound_id"])
    pair_comp = compound_ids.get_indexer(pairs["compound_id"])
    counts = np.zeros((len(categories), len(compound_ids)), dtype=np.int64)
    if category_column and category_column in services.columns:
        service_cat = services[category_column].astype(str).to_numpy()[services.index.get_indexer(pairs["service_id"])]
        pair_cat = categories.get_indexer(service_cat)
        known = pair_cat >= 0
        np.add.at(counts, (pair_cat[known], pair_comp[known]), 1)
    if ALL in categories:
        counts[categories.get_loc(ALL)] = np.bincount(pair_comp, minlength=len(compound_ids))
    table["services_within"] = counts[row_cat, row_comp]
    params = {**result.params, "speed_kmh": float(speed_kmh), "max_walk_m": float(limit)}
    return CoverageResult(
        table=table,
        services_off_network=result.services_off_network,
        compounds_off_network=result.compounds_off_network,
        pairs=pairs,
        params=params,
    )


def population_summary(
    results: dict[str, CoverageResult], compounds: gpd.GeoDataFrame, profiles: Sequence[WalkerProfile]
) -> pd.DataFrame:
    """Share of compounds and of each profile's residents covered, per profile and category.

    Residents of a profile are counted from its ``population_column`` (e.g. ``pop_60plus``); without that
    column the population figures are NaN.
    """
    rows = []
    for p in profiles:
        table = results[p.name].table
        col = p.population_column if p.population_column in compounds.columns else None
        codes, categories = pd.factorize(table["category"])
        covered = table["covered"].to_numpy(dtype=bool)
        n_comp = np.bincount(codes, minlength=len(categories))
        n_covered = np.bincount(codes, weights=covered, minlength=len(categories)).astype(np.int64)
        if col:
            residents = pd.to_numeric(compounds[col], errors="coerce").fillna(0.0)
            weights = residents.to_numpy(dtype=float)[compounds.index.get_indexer(table["compound_id"])]
            population = np.bincount(codes, weights=weights, minlength=len(categories))
            population_covered = np.bincount(codes, weights=weights * covered, minlength=len(categories))
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(population > 0, population_covered / population, np.nan)
        else:
            population = population_covered = share = np.full(len(categories), np.nan)
        rows.append(
            pd.DataFrame(
                {
                    "profile": p.name,
                    "category": categories,
                    "compounds": n_comp,
                    "covered": n_covered,
                    "covered_share": n_covered / n_comp,
                    "population_column": col,
                    "population": population,
                    "population_covered": population_covered,
                    "population_share": share,
                }
            )
        )
    columns = [
        "profile",
        "category",
        "compounds",
        "covered",
        "covered_share",
        "population_column",
        "population",
        "population_covered",
        "population_share",
    ]
    return pd.concat(rows, ignore_index=True)[columns]
