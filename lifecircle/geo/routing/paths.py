"""Shortest walks between attached points, in C (scipy.sparse.csgraph), never a Python loop per origin.

Destinations (service points, candidate sites) become virtual nodes joined to the graph near them; searches run
backwards from them over the reversed graph, so one pass answers "how far is every node from its nearest
destination" and bounded passes answer "which origins lie within the limit of each destination".
Walks between attached points (:func:`nearest_destination`, :func:`pairs_within`) search the contracted graph of
junctions (:mod:`lifecircle.geo.network.chains`): a point reaches the two junctions of its chain at known costs, and two
points on one chain may also walk straight along it. Per-node costs over the whole network
(:func:`node_costs_to_nearest`, :func:`destination_node_costs`, for isochrones) search every node.
Walking from an origin point includes its straight-line access and the part of its street to the graph.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from lifecircle.geo.network.chains import ChainGraph, chain_end_costs, chain_ends, same_chain_walks
from lifecircle.geo.network.costs import min_per_pair, partial_cost
from lifecircle.geo.network.graph import ZERO_COST, PreparedNetwork
from lifecircle.geo.routing.snapping import Attachment

DEFAULT_CHUNK = 256
# Destinations are grouped by grid cells this many search radii wide: wider cells mean fewer, larger subgraph
# searches (measured best at 2–4 on the 60k-node Phoenix network).
GROUP_CELL_RADII = 3.0


def end_costs(net: PreparedNetwork, att: Attachment, *, leaving: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cost between each attached point and the two ends of its segment, access included.

    Parameters
    ----------
    net, att
        The network and the attached points.
    leaving
        True: from the point to the ends (origins); False: from the ends to the point (destinations).

    Returns
    -------
    (to_u, to_v)
        Costs in metres, ``inf`` for unattached points or closed directions.
    """
    seg = np.where(att.snapped, att.segment, 0)
    t, rest = att.fraction, 1.0 - att.fraction
    uv, vu = net.segment_cost_uv[seg], net.segment_cost_vu[seg]
    if leaving:  # point -> u walks the segment backwards (v -> u direction)
        cost_u, cost_v = partial_cost(t, vu), partial_cost(rest, uv)
    else:  # u -> point walks forwards
        cost_u, cost_v = partial_cost(t, uv), partial_cost(rest, vu)
    cost_u = np.where(att.snapped, cost_u + att.access_m, np.inf)
    cost_v = np.where(att.snapped, cost_v + att.access_m, np.inf)
    return cost_u, cost_v


def _with_virtual_rows(graph: sp.csr_array, ends: np.ndarray, costs: np.ndarray, *, sink: bool = False) -> sp.csr_array:
    """Append one virtual node per row of ``ends``/``costs`` (shape ``k × 2``) with edges to those ends.

    Entries where the end is ``-1`` or the cost is not finite are left out. Built by extending the CSR arrays:
    no sorting, no summing of the base graph. ``sink`` appends one more node with no edges at all: its column of
    any search is ``inf``, a ready "not reached" for gathers with index ``-1``.
    """
    return _csr_with_virtual_rows(graph.data, graph.indices, graph.indptr, ends, costs, sink=sink)


def _csr_with_virtual_rows(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, ends: np.ndarray, costs: np.ndarray, *, sink: bool
) -> sp.csr_array:
    """:func:`_with_virtual_rows` on the raw CSR arrays of the base graph (one matrix built, not two)."""
    m, k = len(indptr) - 1, len(ends)
    ok = (ends >= 0) & np.isfinite(costs)
    counts = ok.sum(axis=1)
    indptr = np.concatenate([indptr, indptr[-1] + np.cumsum(counts)])
    if sink:
        indptr = np.append(indptr, indptr[-1])
    indices = np.concatenate([indices, ends[ok]])
    data = np.concatenate([data, np.maximum(costs[ok], ZERO_COST)])
    size = m + k + int(sink)
    return sp.csr_array((data, indices, indptr), shape=(size, size))


def _induced_subgraph(
    graph: sp.csr_array, nodes: np.ndarray, local: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR arrays ``(data, indices, indptr)`` of the subgraph on sorted ``nodes``.

    ``local`` maps a node to its position in ``nodes`` (``-1`` outside). Cuts the rows' index arrays directly:
    scipy's general column indexing sorts and is several times slower.
    """
    starts, stops = graph.indptr[nodes], graph.indptr[nodes + 1]
    lengths = stops - starts
    take = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    cols = local[graph.indices[take]]
    keep = cols >= 0
    row_of = np.repeat(np.arange(len(nodes)), lengths)[keep]
    indptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=len(nodes)), out=indptr[1:])
    return graph.data[take][keep], cols[keep], indptr


def _reverse_graph_with(net: PreparedNetwork, destinations: Attachment) -> sp.csr_array:
    """Reversed cost graph plus one virtual node per destination, edges virtual → segment ends."""
    from_u, from_v = end_costs(net, destinations, leaving=False)
    seg = np.where(destinations.snapped, destinations.segment, 0)
    ends = np.column_stack([net.segment_u[seg], net.segment_v[seg]])
    ends[~destinations.snapped] = -1
    return _with_virtual_rows(net.cost_reverse, ends, np.column_stack([from_u, from_v]))


def node_costs_to_nearest(
    net: PreparedNetwork, destinations: Attachment, *, limit_m: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Walking cost from every node to its nearest destination, in one multi-source pass.

    Returns
    -------
    cost, destination
        Per node: the cost (``inf`` beyond ``limit_m`` or unreachable) and the position in ``destinations`` of
        the nearest one (``-1`` when none).
    """
    n = net.n_nodes
    if not destinations.snapped.any():
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    graph = _reverse_graph_with(net, destinations)
    virtual = n + np.flatnonzero(destinations.snapped)
    dist, _, source = dijkstra(
        graph, directed=True, indices=virtual, min_only=True, return_predecessors=True, limit=limit_m
    )
    source = np.where(source >= 0, source - n, -1)
    return dist[:n], source[:n]


def nearest_destination(
    net: PreparedNetwork, origins: Attachment, destinations: Attachment
) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance from every origin to its nearest destination, in one multi-source pass.

    Parameters
    ----------
    net
        The prepared network.
    origins
        Where walks start (compounds, gates).
    destinations
        Where walks end (service points).

    Returns
    -------
    walk_m, destination
        Walking metres to the nearest destination (``inf`` when none is reachable) and its position in
        ``destinations`` (``-1`` when none).
    """
    n_orig = len(origins)
    walk_m = np.full(n_orig, np.inf)
    nearest = np.full(n_orig, -1, dtype=np.int64)
    if n_orig == 0 or not destinations.snapped.any():
        return walk_m, nearest
    chains = net.chains
    m = chains.n_junctions
    graph = _reverse_chain_graph_with(chains, destinations, sink=True)
    virtual = m + np.flatnonzero(destinations.snapped)
    dist, _, source = dijkstra(graph, directed=True, indices=virtual, min_only=True, return_predecessors=True)
    source = np.where(source >= 0, source - m, -1)
    to_a, to_b = chain_end_costs(chains, origins, leaving=True)
    a, b = chain_ends(chains, origins)  # -1 (unattached) reads the sink: inf
    via_a, via_b = to_a + dist[a], to_b + dist[b]
    walk_m = np.minimum(via_a, via_b)
    nearest = np.where(via_a <= via_b, source[a], source[b])
    o, d, direct = same_chain_walks(chains, origins, destinations)
    if len(o):
        order = np.lexsort((direct, o))
        o, d, direct = o[order], d[order], direct[order]
        first = np.ones(len(o), dtype=bool)
        first[1:] = o[1:] != o[:-1]
        o, d, direct = o[first], d[first], direct[first]
        better = direct < walk_m[o]
        walk_m[o[better]] = direct[better]
        nearest[o[better]] = d[better]
    nearest = np.where(np.isfinite(walk_m), nearest, -1)
    return walk_m, nearest


def _reverse_chain_graph_with(chains: ChainGraph, destinations: Attachment, *, sink: bool) -> sp.csr_array:
    """Reversed junction graph plus one virtual node per destination, edges virtual → its chain's junctions."""
    from_a, from_b = chain_end_costs(chains, destinations, leaving=False)
    a, b = chain_ends(chains, destinations)
    return _with_virtual_rows(
        chains.cost_reverse, np.column_stack([a, b]), np.column_stack([from_a, from_b]), sink=sink
    )


def destination_node_costs(
    net: PreparedNetwork,
    destinations: Attachment,
    *,
    limit_m: float,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Bounded searches back from each destination: the cost of walking from every node to it.

    Yields
    ------
    positions, costs
        Positions in ``destinations`` of a chunk, and a dense ``len(chunk) × n_nodes`` array of walking metres
        (``inf`` beyond ``limit_m``). Chunking bounds memory to ``chunk_size × n_nodes`` floats.
    """
    n = net.n_nodes
    graph = _reverse_graph_with(net, destinations)
    snapped = np.flatnonzero(destinations.snapped)
    for start in range(0, len(snapped), chunk_size):
        positions = snapped[start : start + chunk_size]
        dist = dijkstra(graph, directed=True, indices=n + positions, limit=limit_m)
        yield positions, dist[:, :n]


def joining_points_xy(net: PreparedNetwork, att: Attachment) -> np.ndarray:
    """Coordinates (network CRS) where attached points join their segments; NaN for unattached points."""
    xy = np.full((len(att), 2), np.nan)
    snapped = att.snapped
    if snapped.any():
        joins = shapely.line_interpolate_point(
            net.segment_lines[att.segment[snapped]], att.fraction[snapped], normalized=True
        )
        xy[snapped] = shapely.get_coordinates(joins)
    return xy


def _spatial_groups(xy: np.ndarray, positions: np.ndarray, *, cell_m: float, chunk_size: int) -> list[np.ndarray]:
    """Split positions into groups of nearby points: by grid cell, at most ``chunk_size`` each."""
    cells = np.floor(xy[positions] / cell_m).astype(np.int64)
    order = np.lexsort((cells[:, 1], cells[:, 0]))
    cells, ordered = cells[order], positions[order]
    breaks = np.flatnonzero(np.any(cells[1:] != cells[:-1], axis=1)) + 1
    groups = []
    for group in np.split(ordered, breaks):
        groups.extend(np.array_split(group, -(-len(group) // chunk_size)))
    return groups


def pairs_within(
    net: PreparedNetwork,
    origins: Attachment,
    destinations: Attachment,
    *,
    limit_m: float,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every origin–destination pair within a walking limit, with its walking distance.

    Destinations are searched in groups of nearby ones. Walking cost is at least ``net.min_cost_per_m`` per metre
    of straight line, so a group's bounded search only needs the nodes within ``limit_m / min_cost_per_m`` of the
    group: each search runs on that small subgraph, exactly, instead of the whole network.

    Parameters
    ----------
    net
        The prepared network.
    origins, destinations
        Attached points; walks go from origins to destinations.
    limit_m
        Largest walk kept, in metres (in the network's cost unit).
    chunk_size
        Largest number of destinations searched together.

    Returns
    -------
    origin, destination, walk_m
        Positions in ``origins`` and ``destinations`` and the shortest walk, one entry per pair within the limit,
        sorted by origin then destination.
    """
    chains = net.chains
    to_a, to_b = chain_end_costs(chains, origins, leaving=True)
    o_a, o_b = chain_ends(chains, origins)
    o_live = origins.snapped
    parts_o, parts_d, parts_w = [], [], []
    local = np.full(chains.n_junctions, -1, dtype=np.int64)
    for positions, nodes, dist in _bounded_searches(net, destinations, limit_m=limit_m, chunk_size=chunk_size):
        local[nodes] = np.arange(len(nodes))
        la, lb = local[o_a], local[o_b]  # -1: outside the subgraph (or unattached), which reads the sink: inf
        local[nodes] = -1
        near = np.flatnonzero(o_live & ((la >= 0) | (lb >= 0)))
        if len(near) == 0:
            continue
        walk = np.minimum(to_a[near] + dist[:, la[near]], to_b[near] + dist[:, lb[near]])
        d_rows, o_cols = np.nonzero(walk <= limit_m)
        parts_o.append(near[o_cols])
        parts_d.append(positions[d_rows])
        parts_w.append(walk[d_rows, o_cols])
    o, d, direct = same_chain_walks(chains, origins, destinations)
    keep = direct <= limit_m
    parts_o.append(o[keep])
    parts_d.append(d[keep])
    parts_w.append(direct[keep])
    # keep the shortest walk of each pair (network and direct walks may both be listed)
    return min_per_pair(np.concatenate(parts_o), np.concatenate(parts_d), np.concatenate(parts_w))


def _bounded_searches(
    net: PreparedNetwork, destinations: Attachment, *, limit_m: float, chunk_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Bounded backwards searches from groups of destinations, each on the junction subgraph it can reach.

    Yields ``(positions, junctions, costs)``: destination positions, the junctions of the subgraph (sorted), and
    ``len(positions) × (len(junctions) + len(positions) + 1)`` walking costs (``inf`` beyond the limit) whose
    first columns are those junctions and whose last column is never reached.
    """
    snapped = np.flatnonzero(destinations.snapped)
    if len(snapped) == 0:
        return
    chains = net.chains
    # no distance bound (min_cost_per_m == 0): one subgraph of every junction
    radius = limit_m / net.min_cost_per_m * (1 + 1e-9) + 1e-6 if net.min_cost_per_m > 0 else np.inf
    xy = joining_points_xy(net, destinations)
    from_a, from_b = chain_end_costs(chains, destinations, leaving=False)
    d_a, d_b = chain_ends(chains, destinations)
    junction_xy = chains.junction_xy
    by_x = np.argsort(junction_xy[:, 0], kind="stable")
    sorted_x = junction_xy[by_x, 0]
    local = np.full(chains.n_junctions, -1, dtype=np.int64)
    for positions in _spatial_groups(xy, snapped, cell_m=max(GROUP_CELL_RADII * radius, 1.0), chunk_size=chunk_size):
        lo = xy[positions].min(axis=0) - radius
        hi = xy[positions].max(axis=0) + radius
        band = by_x[np.searchsorted(sorted_x, lo[0], side="left") : np.searchsorted(sorted_x, hi[0], side="right")]
        band_y = junction_xy[band, 1]
        nodes = np.sort(band[(band_y >= lo[1]) & (band_y <= hi[1])])
        m, k = len(nodes), len(positions)
        local[nodes] = np.arange(m)
        ends = np.column_stack([local[d_a[positions]], local[d_b[positions]]])
        data, indices, indptr = _induced_subgraph(chains.cost_reverse, nodes, local)
        local[nodes] = -1
        graph = _csr_with_virtual_rows(
            data, indices, indptr, ends, np.column_stack([from_a[positions], from_b[positions]]), sink=True
        )
        yield positions, nodes, dijkstra(graph, directed=True, indices=m + np.arange(k), limit=limit_m)
