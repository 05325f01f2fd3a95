"""Gated compounds: residents walk their own compound's internal roads to its gates; nobody else may.

A compound's internal roads (OSM ``access=private`` ways kept by ``network_from_osm(include_private=True)``,
flagged ``private=True``) belong to the compound they lie in. Residents of compound *c* start at a point inside
*c*, walk *c*'s private roads to where they leave — its gates when gates are known, otherwise every junction of
its private roads with public streets — and walk on over public streets only. Services are reached through
public streets. So a compound's private road is never a shortcut for anyone else.

The work is two searches, never one per compound: every compound's private roads are copied into one
block-diagonal graph (the copies of a shared junction node are distinct, so compounds stay apart) and one
multi-source Dijkstra gives each compound's internal cost to its exits. Each exit then becomes an ordinary walk
origin on the public network whose access cost is the internal walk, and the core coverage search runs unchanged.

The "open blocks" scenario (开放街区) treats internal roads as public streets: :func:`gated_coverage` with
``open_blocks=True``; :func:`open_blocks_comparison` runs both and tables the difference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.costs import min_csr, partial_cost
from lifecircle.geo.network.graph import ZERO_COST, PreparedNetwork, prepare_network
from lifecircle.geo.reach.coverage import (
    DEFAULT_MAX_WALK_MIN,
    DEFAULT_SPEED_KMH,
    CoverageResult,
    Origins,
    compound_origins,
    coverage,
    inside_points,
)
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M, Attachment
from lifecircle.geo.walkers.compare import ScenarioComparison

log = logging.getLogger(__name__)

PRIVATE_ASSIGN_M = 30.0  # a private road belongs to the nearest compound within this distance of its middle
GATE_TO_ROAD_M = 60.0  # a gate joins its compound's internal roads within this distance


def public_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The graph without its private edges (``private=True``); a new graph, ``G`` is not modified."""
    H = nx.MultiDiGraph(**G.graph)
    H.add_edges_from((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True) if not d.get("private", False))
    H.add_nodes_from((n, G.nodes[n]) for n in H.nodes)
    return H


@dataclass(frozen=True, eq=False)
class PrivateRoads:
    """Every compound's private roads, copied into one block-diagonal graph (copies never connect compounds).

    Attributes
    ----------
    graph_node
        Original graph node id of each local node.
    owner
        Compound position of each local node.
    cost
        Local CSR cost matrix (``n_local × n_local``).
    seg_u, seg_v, seg_cost_uv, seg_cost_vu, seg_lines, seg_owner
        Local segments (one per undirected pair) for joining points to a compound's own roads.
    """

    graph_node: np.ndarray
    owner: np.ndarray
    cost: sp.csr_array
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_cost_uv: np.ndarray
    seg_cost_vu: np.ndarray
    seg_lines: np.ndarray
    seg_owner: np.ndarray

    @property
    def n_local(self) -> int:
        """Number of local nodes."""
        return len(self.graph_node)


def private_roads(
    G: nx.MultiDiGraph,
    compounds_m: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    *,
    weight: str = "length",
    assign_m: float = PRIVATE_ASSIGN_M,
) -> PrivateRoads | None:
    """Give each private edge of ``G`` to the compound nearest its middle (within ``assign_m``).

    Returns None when ``G`` has no private edge near a compound. Private edges near no compound are unusable.
    """
    edges = [(u, v, d) for u, v, d in G.edges(data=True) if d.get("private", False) and u != v]
    if not edges:
        return None
    node_list = list({n for u, v, _ in edges for n in (u, v)})
    node_pos = {n: i for i, n in enumerate(node_list)}
    xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in node_list], dtype=float)
    graph_crs = pyproj.CRS.from_user_input(G.graph["crs"])
    transformer = None
    if graph_crs != crs:
        transformer = pyproj.Transformer.from_crs(graph_crs, crs, always_xy=True)
        xy = np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    ui = np.fromiter((node_pos[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    vi = np.fromiter((node_pos[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    w = np.maximum(np.fromiter((d[weight] for _, _, d in edges), dtype=float, count=len(edges)), ZERO_COST)
    geoms = np.array([d.get("geometry") for _, _, d in edges], dtype=object)
    lines = shapely.linestrings(np.stack([xy[ui], xy[vi]], axis=1))
    curved = ~pd.isna(geoms)
    if curved.any():
        g = geoms[curved]
        if transformer is not None:
            g = shapely.transform(g, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
        flip = shapely.distance(shapely.get_point(g, 0), shapely.points(xy[ui[curved]])) > shapely.distance(
            shapely.get_point(g, 0), shapely.points(xy[vi[curved]])
        )
        g[flip] = shapely.reverse(g[flip])
        lines[curved] = g
    middles = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    joined = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=middles, crs=crs),
        gpd.GeoDataFrame(geometry=compounds_m.geometry.to_numpy(), crs=crs),
        how="inner",
        max_distance=assign_m,
    )
    joined = joined[~joined.index.duplicated()]
    if joined.empty:
        return None
    keep = joined.index.to_numpy()
    owner_e = joined["index_right"].to_numpy(dtype=np.int64)
    ui, vi, w, lines = ui[keep], vi[keep], w[keep], lines[keep]
    n_nodes = len(node_list)
    keys = np.concatenate([owner_e * n_nodes + ui, owner_e * n_nodes + vi])
    codes, uniques = pd.factorize(keys, sort=False)
    lu, lv = codes[: len(ui)], codes[len(ui) :]
    n_local = len(uniques)
    local_owner = (uniques // n_nodes).astype(np.int64)
    local_node = np.asarray(node_list, dtype=object)[uniques % n_nodes]
    cost = min_csr(lu, lv, w, n_local)
    # one segment per undirected local pair (the cheapest direction's geometry)
    lo, hi = np.minimum(lu, lv), np.maximum(lu, lv)
    order = np.lexsort((w, lo * n_local + hi))
    pair = (lo * n_local + hi)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    chosen = order[first]
    su, sv = lu[chosen], lv[chosen]
    seg_lines = lines[chosen]
    cuv = np.asarray(cost[su, sv]).ravel()
    cvu = np.asarray(cost[sv, su]).ravel()
    cuv[cuv == 0] = np.inf
    cvu[cvu == 0] = np.inf
    log.info("%d private road segments in %d compounds", len(su), len(np.unique(owner_e)))
    return PrivateRoads(
        graph_node=local_node,
        owner=local_owner,
        cost=cost,
        seg_u=su,
        seg_v=sv,
        seg_cost_uv=cuv,
        seg_cost_vu=cvu,
        seg_lines=seg_lines,
        seg_owner=local_owner[su],
    )


def _snap_owned(
    roads: PrivateRoads, points: np.ndarray, owner: np.ndarray, max_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join points to the nearest private segment *of their own compound*: (segment, fraction, access_m)."""
    n = len(points)
    segment = np.full(n, -1, dtype=np.int64)
    fraction = np.zeros(n)
    access = np.full(n, np.inf)
    if n == 0:
        return segment, fraction, access
    tree = shapely.STRtree(roads.seg_lines)
    pi, si = tree.query(points, predicate="dwithin", distance=max_m)
    ok = roads.seg_owner[si] == owner[pi]
    pi, si = pi[ok], si[ok]
    if len(pi) == 0:
        return segment, fraction, access
    dist = shapely.distance(points[pi], roads.seg_lines[si])
    order = np.lexsort((dist, pi))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pi[order][1:] != pi[order][:-1]
    best = order[first]
    rows, segs = pi[best], si[best]
    segment[rows] = segs
    access[rows] = dist[best]
    lines = roads.seg_lines[segs]
    length = shapely.length(lines)
    along = shapely.line_locate_point(lines, points[rows])
    fraction[rows] = np.clip(np.divide(along, length, out=np.zeros_like(along), where=length > 0), 0.0, 1.0)
    return segment, fraction, access


def gated_origins(
    G: nx.MultiDiGraph,
    net: PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    *,
    gates: gpd.GeoDataFrame | None = None,
    weight: str = "length",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    assign_m: float = PRIVATE_ASSIGN_M,
) -> Origins:
    """Walk origins on the public network for residents who first walk their own compound's private roads.

    Parameters
    ----------
    G
        The full walking graph, private edges flagged ``private=True`` (``network_from_osm(include_private=True)``).
    net
        The prepared *public* network (``prepare_network(public_graph(G), weight=weight)``).
    compounds
        Compound polygons indexed by compound id.
    gates
        Gate points (``compound_id`` column, or given to the nearest compound within 50 m), e.g. from
        :func:`gates_from_osm` or a gates layer. Residents of a gated compound leave only through its gates;
        they reach them from the compound's inner point over its internal roads, or in a straight line where it
        has none (so gated and open-blocks walks start at the same point; the core's plain gate rule starts at
        the gate itself).
    weight
        Edge attribute of walking cost, in metres (``length``, or flat-equivalent ``effort_m`` from
        :mod:`lifecircle.geo.walkers.terrain`), the same as ``net`` was prepared with.
    max_snap_m
        Snap limit for points joining the public network.
    assign_m
        A private road belongs to the nearest compound within this distance of its middle.

    Returns
    -------
    Origins
        For use as ``coverage(net, ..., origins=...)``. A compound with internal roads starts at its
        representative point on its own roads and leaves (a) through each gate, the internal walk added to the
        gate's access, or (b) without gates, at each node where its private roads meet a public street.
        A compound without internal roads starts at its representative point, or at its gates (plus the straight
        line to them) when it has gates.
    """
    base = compound_origins(net, compounds, gates=gates, max_snap_m=max_snap_m)
    compounds_m = to_crs(compounds, net.crs)
    roads = private_roads(G, compounds_m, net.crs, weight=weight, assign_m=assign_m)
    n_comp = len(compounds_m)
    inner = inside_points(compounds, net.crs).to_numpy()
    owner = base.compound_pos
    is_rep = shapely.equals_exact(base.points.to_numpy(), inner[owner], tolerance=0.0)
    # residents start inside: to a gate they walk their internal roads, or a straight line where none are mapped
    straight = np.where(is_rep, 0.0, shapely.distance(base.points.to_numpy(), inner[owner]))
    if roads is None:
        return Origins(
            points=base.points,
            compound_pos=owner,
            attachment=Attachment(
                base.attachment.segment, base.attachment.fraction, base.attachment.access_m + straight
            ),
        )
    dist, started = _internal_costs(roads, inner, max_snap_m)
    gate_rows = np.flatnonzero(~is_rep & started[owner])
    access = base.attachment.access_m + straight
    if len(gate_rows):
        _through_gates(access, roads, base, gate_rows, dist, n_comp)
    return _with_road_exits(net, roads, base, access, is_rep, dist, started)


def _internal_costs(roads: PrivateRoads, inner: np.ndarray, max_snap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Each private road node's walk from its compound's inner point (one multi-source search), and which
    compounds start on their own roads."""
    n_comp = len(inner)
    o_seg, o_frac, o_acc = _snap_owned(roads, inner, np.arange(n_comp), max_snap_m)
    starts = np.flatnonzero(o_seg >= 0)
    k = len(starts)
    n_loc = roads.n_local
    seg = o_seg[starts]
    t = o_frac[starts]
    to_u = partial_cost(t, roads.seg_cost_vu[seg]) + o_acc[starts]
    to_v = partial_cost(1.0 - t, roads.seg_cost_uv[seg]) + o_acc[starts]
    rows = np.concatenate([np.arange(k), np.arange(k)]) + n_loc
    cols = np.concatenate([roads.seg_u[seg], roads.seg_v[seg]])
    vals = np.maximum(np.concatenate([to_u, to_v]), ZERO_COST)
    ok = np.isfinite(vals)
    extra = sp.csr_array((vals[ok], (rows[ok], cols[ok])), shape=(n_loc + k, n_loc + k))
    graph = sp.csr_array(sp.block_diag([roads.cost, sp.csr_array((k, k))], format="csr") + extra)
    if k:
        dist = dijkstra(graph, directed=True, indices=n_loc + np.arange(k), min_only=True)[:n_loc]
    else:
        dist = np.full(n_loc, np.inf)
    started = np.zeros(n_comp, dtype=bool)
    started[starts] = True
    return dist, started


def _through_gates(
    access: np.ndarray, roads: PrivateRoads, base: Origins, gate_rows: np.ndarray, dist: np.ndarray, n_comp: int
) -> None:
    """Gate origins of compounds that start on their own roads: the internal walk to each gate added to its
    access (in ``access``, in place); a compound none of whose gates its roads reach keeps straight lines."""
    owner = base.compound_pos
    g_points = base.points.to_numpy()[gate_rows]
    g_owner = owner[gate_rows]
    g_seg, g_frac, g_acc = _snap_owned(roads, g_points, g_owner, GATE_TO_ROAD_M)
    joined = g_seg >= 0
    s = np.where(joined, g_seg, 0)
    with np.errstate(invalid="ignore"):
        inside = (
            np.minimum(
                dist[roads.seg_u[s]] + partial_cost(g_frac, roads.seg_cost_uv[s]),
                dist[roads.seg_v[s]] + partial_cost(1.0 - g_frac, roads.seg_cost_vu[s]),
            )
            + g_acc
        )
    inside = np.where(joined, inside, np.inf)
    reach_any = np.zeros(n_comp, dtype=bool)
    reach_any[g_owner[np.isfinite(inside)]] = True
    lost = np.unique(g_owner[~reach_any[g_owner]])
    if len(lost):
        log.warning("%d gated compounds reach no gate on internal roads: straight lines to the gates", len(lost))
    use = reach_any[g_owner]
    access[gate_rows[use]] = base.attachment.access_m[gate_rows[use]] + inside[use]


def _with_road_exits(
    net: PreparedNetwork,
    roads: PrivateRoads,
    base: Origins,
    access: np.ndarray,
    is_rep: np.ndarray,
    dist: np.ndarray,
    started: np.ndarray,
) -> Origins:
    """The origins, where ungated compounds with internal roads leave where their roads meet public streets."""
    owner = base.compound_pos
    n_comp = len(started)
    public_pos = pd.Index(net.node_ids).get_indexer(pd.Index(roads.graph_node.tolist()))
    exit_local = np.flatnonzero((public_pos >= 0) & np.isfinite(dist))
    seg_of_node = np.full(net.n_nodes, -1, dtype=np.int64)
    frac_of_node = np.zeros(net.n_nodes)
    seg_of_node[net.segment_v] = np.arange(len(net.segment_v))
    frac_of_node[net.segment_v] = 1.0
    seg_of_node[net.segment_u] = np.arange(len(net.segment_u))
    frac_of_node[net.segment_u] = 0.0
    exit_pos = public_pos[exit_local]
    exit_local = exit_local[seg_of_node[exit_pos] >= 0]
    exit_pos = public_pos[exit_local]
    exit_owner = roads.owner[exit_local]
    has_gates = np.zeros(n_comp, dtype=bool)
    has_gates[owner[~is_rep]] = True
    use = ~has_gates[exit_owner]
    exit_local, exit_pos, exit_owner = exit_local[use], exit_pos[use], exit_owner[use]
    exits_of = np.zeros(n_comp, dtype=bool)
    exits_of[exit_owner] = True
    no_exit = started & ~has_gates & ~exits_of
    if no_exit.any():
        log.warning("%d compounds' internal roads meet no public street: walks start inside", no_exit.sum())
    replace = is_rep & exits_of[owner]
    keep = ~replace
    points = np.concatenate([base.points.to_numpy()[keep], shapely.points(net.node_xy[exit_pos])])
    compound_pos = np.concatenate([owner[keep], exit_owner])
    attachment = Attachment(
        segment=np.concatenate([base.attachment.segment[keep], seg_of_node[exit_pos]]),
        fraction=np.concatenate([base.attachment.fraction[keep], frac_of_node[exit_pos]]),
        access_m=np.concatenate([access[keep], dist[exit_local]]),
    )
    log.info(
        "gated origins: %d compounds start on internal roads (%d through gates, %d through road exits)",
        int(started.sum()),
        int((started & has_gates).sum()),
        int(exits_of.sum()),
    )
    return Origins(points=gpd.GeoSeries(points, crs=net.crs), compound_pos=compound_pos, attachment=attachment)


def gated_coverage(
    G: nx.MultiDiGraph,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    gates: gpd.GeoDataFrame | None = None,
    open_blocks: bool = False,
    weight: str = "length",
    max_walk_min: float = DEFAULT_MAX_WALK_MIN,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    category_column: str | None = "category",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> CoverageResult:
    """Coverage where compounds' private roads serve only their own residents (or, with open blocks, everyone).

    Parameters
    ----------
    G
        Walking graph with private edges flagged ``private=True``. A graph without private edges gives the same
        result as :func:`lifecircle.geo.reach.coverage.coverage`.
    compounds, services
        As for :func:`lifecircle.geo.reach.coverage.coverage`.
    gates
        Gate points; residents of a gated compound leave only through its gates (ignored with ``open_blocks``).
    open_blocks
        开放街区 scenario: internal roads are public streets, compounds have no gates, residents start from
        their representative point on the whole network.
    weight
        Edge cost attribute in metres (``length`` or ``effort_m`` from :mod:`lifecircle.geo.walkers.terrain`).
    max_walk_min, speed_kmh, category_column, max_snap_m
        As for :func:`lifecircle.geo.reach.coverage.coverage`.

    Returns
    -------
    CoverageResult
        ``params`` also holds ``scenario`` (``gated`` or ``open_blocks``).
    """
    kw = {
        "max_walk_min": max_walk_min,
        "speed_kmh": speed_kmh,
        "category_column": category_column,
        "max_snap_m": max_snap_m,
    }
    if open_blocks:
        result = coverage(prepare_network(G, weight=weight), compounds, services, **kw)
        scenario = "open_blocks"
    else:
        net = prepare_network(public_graph(G), weight=weight)
        origins = gated_origins(G, net, compounds, gates=gates, weight=weight, max_snap_m=max_snap_m)
        result = coverage(net, compounds, services, origins=origins, **kw)
        scenario = "gated"
    result.params["scenario"] = scenario
    result.params["weight"] = weight
    return result


def open_blocks_comparison(
    G: nx.MultiDiGraph,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    gates: gpd.GeoDataFrame | None = None,
    category: str = "all",
    **coverage_kw,
) -> ScenarioComparison:
    """Run the gated and the open-blocks (开放街区) scenarios and table what opening the blocks changes.

    ``coverage_kw`` go to :func:`gated_coverage` (``weight``, ``max_walk_min``, ``speed_kmh``, ...). The diff has
    columns ``walk_min_gated``, ``walk_min_open_blocks``, ``delta_min`` (negative: opening shortens the walk),
    ``covered_gated``, ``covered_open_blocks``, ``change``.
    """
    gated = gated_coverage(G, compounds, services, gates=gates, **coverage_kw)
    opened = gated_coverage(G, compounds, services, open_blocks=True, **coverage_kw)
    return ScenarioComparison.of(gated, opened, labels=("gated", "open_blocks"), category=category)
