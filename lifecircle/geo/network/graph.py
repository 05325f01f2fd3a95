"""A walking graph prepared for fast work: metric coordinates, sparse cost matrices, street segments.

:func:`prepare_network` turns an osmnx-style ``MultiDiGraph`` into a :class:`PreparedNetwork` once; snapping,
shortest paths, coverage, isochrones and siting all read from it. :func:`prepare_arrays` does the same from plain
node and edge arrays (no graph), as a tile of a partitioned run gives them.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.crs import metric_crs_for_lonlat
from lifecircle.geo.network.chains import ChainGraph, build_chains
from lifecircle.geo.network.costs import min_csr
from lifecircle.geo.network.segment_index import SegmentIndex, build_segment_index

log = logging.getLogger(__name__)

ZERO_COST = 1e-9  # csgraph drops explicit zeros: zero-length segments cost this instead


@dataclass(frozen=True, eq=False)
class PreparedNetwork:
    """A walking network in a metric CRS, ready for shortest paths and snapping.

    Attributes
    ----------
    crs
        The metric CRS of ``node_xy`` and ``segment_lines``.
    node_ids
        The graph's node ids, position ``i`` is matrix row ``i``.
    node_xy
        Node coordinates in ``crs`` (metres), shape ``(n, 2)``.
    cost
        ``n × n`` CSR matrix of walking cost in metres from row to column; parallel edges keep the minimum.
    cost_reverse
        The transpose of ``cost`` as CSR (walking *to* a node), for searches run backwards from destinations.
    segment_u, segment_v
        Node positions of each street segment (one per undirected pair of nodes).
    segment_cost_uv, segment_cost_vu
        Cost of walking the whole segment from ``u`` to ``v`` and back (``inf`` where that direction is closed).
    segment_lines
        Segment geometries in ``crs`` (oriented from ``u`` to ``v``).
    component
        Weakly connected component label of each node.
    min_cost_per_m
        Lower bound of walking cost per metre of straight line over all segments (1 for lengths in metres; 0
        when no bound holds). Bounded searches use it to look only at nodes within ``limit / min_cost_per_m``.
    chains
        The graph with its chains of two-neighbour nodes contracted, for searches between attached points.
    segment_index
        Straight pieces of ``segment_lines`` sampled in a k-d tree, for snapping many points at once.
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    cost: sp.csr_array
    cost_reverse: sp.csr_array
    segment_u: np.ndarray
    segment_v: np.ndarray
    segment_cost_uv: np.ndarray
    segment_cost_vu: np.ndarray
    segment_lines: np.ndarray
    component: np.ndarray
    min_cost_per_m: float
    segment_index: SegmentIndex = field(repr=False)
    chains: ChainGraph = field(repr=False)

    @functools.cached_property
    def tree(self) -> shapely.STRtree:
        """STRtree of ``segment_lines``, built on first use."""
        return shapely.STRtree(self.segment_lines)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the nodes, in ``crs``."""
        return (*self.node_xy.min(axis=0), *self.node_xy.max(axis=0))


@dataclass(frozen=True, eq=False)
class EdgeTable:
    """Every edge of a graph, read once: matrix positions of its ends (``G.nodes`` order) and its attributes."""

    u: np.ndarray
    v: np.ndarray
    data: list[dict]

    def values(self, attribute: str) -> np.ndarray:
        """A numeric edge attribute as an array (walking costs: finite and not negative).

        Raises
        ------
        NetworkError
            Some edge lacks it, or it is not a finite, non-negative number.
        """
        try:
            out = np.fromiter((d[attribute] for d in self.data), dtype=float, count=len(self.data))
        except (KeyError, TypeError, ValueError) as exc:
            raise NetworkError(f"Some walking-network edges have no numeric {attribute!r} attribute.") from exc
        if np.any(~np.isfinite(out)) or np.any(out < 0):
            raise NetworkError(f"Walking-network edge attribute {attribute!r} has negative or non-finite values.")
        return out


def edge_table(G: nx.MultiDiGraph | nx.DiGraph) -> EdgeTable:
    """Read every edge of ``G`` once (the adjacency directly: networkx's edge views cost several times more)."""
    position = {node: i for i, node in enumerate(G.nodes)}
    if G.is_multigraph():
        records = [
            (position[u], position[v], d)
            for u, nbrs in G._adj.items()
            for v, keyed in nbrs.items()
            for d in keyed.values()
        ]
    else:
        records = [(position[u], position[v], d) for u, nbrs in G._adj.items() for v, d in nbrs.items()]
    u = np.fromiter((r[0] for r in records), dtype=np.int64, count=len(records))
    v = np.fromiter((r[1] for r in records), dtype=np.int64, count=len(records))
    return EdgeTable(u=u, v=v, data=[r[2] for r in records])


def prepare_network(
    G: nx.MultiDiGraph,
    *,
    crs: pyproj.CRS | str | None = None,
    weight: str = "length",
    edges: EdgeTable | None = None,
) -> PreparedNetwork:
    """Prepare a walking graph for snapping and shortest paths.

    Parameters
    ----------
    G
        osmnx-style graph: ``G.graph["crs"]``, nodes with ``x``/``y``, edges with ``weight`` (metres) and optional
        ``geometry``. It is not modified.
    crs
        Metric CRS to work in; by default the local UTM zone of the network (or the graph's own CRS when it is
        already projected).
    weight
        Edge attribute holding the walking cost in metres.
    edges
        ``edge_table(G)`` when the caller has read it already (it is read here otherwise).

    Returns
    -------
    PreparedNetwork

    Raises
    ------
    NetworkError
        The graph is empty or has no CRS.
    """
    if not any(G._adj[n] for n in G._adj):
        raise NetworkError("The walking network has no edges.")
    if "crs" not in G.graph:
        raise InputError("The walking network does not say its CRS (G.graph['crs']).")
    graph_crs = pyproj.CRS.from_user_input(G.graph["crs"])
    node_ids = np.fromiter(G.nodes, dtype=object, count=len(G))
    try:
        node_ids = node_ids.astype(np.int64)
    except (TypeError, ValueError):
        pass
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
    edges = edges if edges is not None else edge_table(G)
    return prepare_arrays(
        node_ids,
        xy,
        node_crs=graph_crs,
        edge_u=edges.u,
        edge_v=edges.v,
        edge_cost_m=edges.values(weight),
        edge_geometry=[d.get("geometry") for d in edges.data],
        crs=crs,
    )


def prepare_arrays(
    node_ids: np.ndarray,
    node_xy: np.ndarray,
    *,
    node_crs: pyproj.CRS | str,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_cost_m: np.ndarray,
    edge_geometry: list | None = None,
    crs: pyproj.CRS | str | None = None,
) -> PreparedNetwork:
    """Prepare a walking network given as arrays (no graph): what :func:`prepare_network` does after reading one.

    Parameters
    ----------
    node_ids
        Node ids; position ``i`` becomes matrix row ``i``.
    node_xy
        Node coordinates in ``node_crs``, shape ``(n, 2)`` (lon, lat for EPSG:4326).
    node_crs
        The CRS of ``node_xy`` and of ``edge_geometry``.
    edge_u, edge_v
        Positions in ``node_ids`` of each directed edge's ends (both directions listed for a two-way street).
    edge_cost_m
        Walking cost of each edge in flat-equivalent metres (finite, not negative).
    edge_geometry
        A LineString in ``node_crs`` per edge, or ``None`` for a straight edge (all straight when omitted).
    crs
        Metric CRS to work in; by default ``node_crs`` when projected, else the local UTM zone of the nodes.

    Returns
    -------
    PreparedNetwork
        Equal to :func:`prepare_network` of the graph with these nodes and edges in this order.

    Raises
    ------
    NetworkError
        There is no edge, or some cost is negative or not finite.
    """
    if len(edge_u) == 0:
        raise NetworkError("The walking network has no edges.")
    w = np.asarray(edge_cost_m, dtype=float)
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise NetworkError("Walking-network edge costs have negative or non-finite values.")
    graph_crs = pyproj.CRS.from_user_input(node_crs)
    xy = np.asarray(node_xy, dtype=float)
    if crs is None:
        if graph_crs.is_projected:
            work_crs = graph_crs
        else:
            work_crs = metric_crs_for_lonlat(xy[:, 0], xy[:, 1], source_crs=graph_crs)
    else:
        work_crs = pyproj.CRS.from_user_input(crs)
    if work_crs != graph_crs:
        transformer = pyproj.Transformer.from_crs(graph_crs, work_crs, always_xy=True)
        node_xy = np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    else:
        transformer = None
        node_xy = xy

    ui, vi = np.asarray(edge_u, dtype=np.int64), np.asarray(edge_v, dtype=np.int64)
    w = np.maximum(w, ZERO_COST)
    keep = ui != vi  # self-loops never shorten a walk
    ui, vi, w = ui[keep], vi[keep], w[keep]
    if edge_geometry is None:
        geoms: list = [None] * len(ui)
    else:
        geoms = [g for g, k in zip(edge_geometry, keep, strict=True) if k]

    n = len(node_ids)
    cost = min_csr(ui, vi, w, n)
    cost_reverse = min_csr(vi, ui, w, n)

    # Street segments: one per undirected node pair (the cheapest geometry kept for each pair).
    lo, hi = np.minimum(ui, vi), np.maximum(ui, vi)
    pair = lo * n + hi
    order = np.lexsort((w, pair))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    chosen = order[first]
    seg_u, seg_v = ui[chosen], vi[chosen]
    cost_uv = np.asarray(cost[seg_u, seg_v]).ravel()
    cost_vu = np.asarray(cost[seg_v, seg_u]).ravel()
    cost_uv[cost_uv == 0] = np.inf  # absent entries read as 0
    cost_vu[cost_vu == 0] = np.inf
    lines = _segment_lines(seg_u, seg_v, [geoms[i] for i in chosen.tolist()], node_xy, transformer)

    _, component = connected_components(cost, directed=True, connection="weak")
    straight = shapely.length(lines)
    measurable = straight > 0  # a segment with no extent moves a walker nowhere: it bounds nothing
    ratios = np.minimum(cost_uv[measurable], cost_vu[measurable]) / straight[measurable]
    min_cost_per_m = float(np.clip(ratios.min(), 0.0, 1.0)) if measurable.any() else 0.0
    log.info("prepared network: %d nodes, %d segments, CRS %s", n, len(seg_u), work_crs.to_string())
    return PreparedNetwork(
        crs=work_crs,
        node_ids=node_ids,
        node_xy=node_xy,
        cost=cost,
        cost_reverse=cost_reverse,
        segment_u=seg_u,
        segment_v=seg_v,
        segment_cost_uv=cost_uv,
        segment_cost_vu=cost_vu,
        segment_lines=lines,
        component=component,
        min_cost_per_m=min_cost_per_m,
        segment_index=build_segment_index(lines),
        chains=build_chains(seg_u, seg_v, cost_uv, cost_vu, node_xy, zero_cost=ZERO_COST),
    )


def _segment_lines(
    seg_u: np.ndarray,
    seg_v: np.ndarray,
    geoms: list,
    node_xy: np.ndarray,
    transformer: pyproj.Transformer | None,
) -> np.ndarray:
    """LineStrings of segments in the metric CRS, oriented u → v; straight where the edge has no geometry."""
    lines = shapely.linestrings(np.stack([node_xy[seg_u], node_xy[seg_v]], axis=1))
    has_geom = np.array([g is not None for g in geoms], dtype=bool)
    if has_geom.any():
        curved = np.array([g for g in geoms if g is not None], dtype=object)
        if transformer is not None:
            curved = shapely.transform(curved, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
        # orient each geometry from u to v
        starts = shapely.get_point(curved, 0)
        u_points = shapely.points(node_xy[seg_u[has_geom]])
        v_points = shapely.points(node_xy[seg_v[has_geom]])
        flip = shapely.distance(starts, u_points) > shapely.distance(starts, v_points)
        curved[flip] = shapely.reverse(curved[flip])
        lines[has_geom] = curved
    return lines
