"""The walking graph with its chains contracted: searches visit junctions only.

Most nodes of an unsimplified OSM walking network sit in the middle of a street, with exactly two neighbours
(five in six on real extracts). A *chain* is a run of segments through such nodes between two *junctions* (nodes
with another number of neighbours, or touching a one-way segment). Every walk that passes a chain's inner node
walks the whole chain, so shortest paths between junctions only need one edge per chain. Points attached to a
segment reach the two ends of its chain at costs read from prefix sums along the chain; two points on the same
chain may also walk straight along it (:func:`same_chain_walks`).

Chains with more than one segment are two-way throughout (a node touching a one-way segment is a junction), so the
prefix sums stay finite and a one-way segment is always a chain of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from lifecircle.geo.network.costs import min_csr, partial_cost
from lifecircle.geo.routing.attachment import Attachment


@dataclass(frozen=True, eq=False)
class ChainGraph:
    """Junction-to-junction walking costs, and where every street segment lies along its chain.

    "Forward" walks a chain from its end ``a`` towards its end ``b``.

    Attributes
    ----------
    junction_node
        Node position (in the prepared network) of each junction; junction ``j`` is row ``j`` of ``cost``.
    junction_xy
        Junction coordinates (the network's metric CRS).
    cost, cost_reverse
        Junction × junction CSR walking costs (minimum over parallel chains) and their transpose.
    chain_a, chain_b
        Junction at each end of each chain (equal for a loop).
    segment_chain
        Chain of each segment.
    segment_rank
        Position of each segment along its chain, from ``a``.
    segment_u_first
        True where the segment's ``u`` node is its end nearer ``a``.
    segment_fwd, segment_bwd
        Cost of walking the whole segment forward and backward.
    fwd_before, fwd_after
        Forward cost of the chain's segments before / after each segment.
    bwd_before, bwd_after
        Backward cost of the chain's segments before / after each segment.
    """

    junction_node: np.ndarray
    junction_xy: np.ndarray
    cost: sp.csr_array
    cost_reverse: sp.csr_array
    chain_a: np.ndarray
    chain_b: np.ndarray
    segment_chain: np.ndarray
    segment_rank: np.ndarray
    segment_u_first: np.ndarray
    segment_fwd: np.ndarray
    segment_bwd: np.ndarray
    fwd_before: np.ndarray
    fwd_after: np.ndarray
    bwd_before: np.ndarray
    bwd_after: np.ndarray

    @property
    def n_junctions(self) -> int:
        """Number of junctions (rows of ``cost``)."""
        return len(self.junction_node)


def build_chains(
    segment_u: np.ndarray,
    segment_v: np.ndarray,
    cost_uv: np.ndarray,
    cost_vu: np.ndarray,
    node_xy: np.ndarray,
    *,
    zero_cost: float,
) -> ChainGraph:
    """Contract the chains of a segment graph (see the module docstring).

    Parameters
    ----------
    segment_u, segment_v
        Node positions of each segment (one per undirected node pair, no self-loops).
    cost_uv, cost_vu
        Cost of walking each segment from ``u`` to ``v`` and back (``inf`` where closed).
    node_xy
        Node coordinates, shape ``(n, 2)``.
    zero_cost
        Smallest stored cost (sparse graphs drop explicit zeros).

    Returns
    -------
    ChainGraph
    """
    n = len(node_xy)
    degree = np.bincount(np.concatenate([segment_u, segment_v]), minlength=n)
    one_way = ~(np.isfinite(cost_uv) & np.isfinite(cost_vu))
    junction = degree != 2
    junction[segment_u[one_way]] = True
    junction[segment_v[one_way]] = True

    # cycles without any junction: their smallest node becomes one
    seg_chain, n_chains, links = _link_segments(segment_u, segment_v, junction)
    touches = junction[segment_u] | junction[segment_v]
    closed = np.ones(n_chains, dtype=bool)
    closed[seg_chain[touches]] = False
    if closed.any():
        ring = closed[seg_chain]
        smallest = np.full(n_chains, n, dtype=np.int64)
        np.minimum.at(smallest, seg_chain[ring], np.minimum(segment_u[ring], segment_v[ring]))
        junction[smallest[closed]] = True
        touches = junction[segment_u] | junction[segment_v]
        seg_chain, n_chains, links = _link_segments(segment_u, segment_v, junction)
    seg_rank, seg_u_first, chain_a_node, chain_b_node = _order_chains(
        segment_u, segment_v, seg_chain, n_chains, links, touches
    )
    ends = np.column_stack([chain_a_node, chain_b_node])

    junction_node = np.flatnonzero(junction)
    junction_id = np.full(n, -1, dtype=np.int64)
    junction_id[junction_node] = np.arange(len(junction_node))
    chain_a, chain_b = junction_id[ends[:, 0]], junction_id[ends[:, 1]]

    fwd = np.where(seg_u_first, cost_uv, cost_vu)
    bwd = np.where(seg_u_first, cost_vu, cost_uv)
    order = np.lexsort((seg_rank, seg_chain))
    fwd_before, fwd_after, fwd_total = _prefix_sums(seg_chain, order, fwd, len(ends))
    bwd_before, bwd_after, bwd_total = _prefix_sums(seg_chain, order, bwd, len(ends))

    rows = np.concatenate([chain_a, chain_b])
    cols = np.concatenate([chain_b, chain_a])
    costs = np.concatenate([fwd_total, bwd_total])
    keep = (rows != cols) & np.isfinite(costs)
    rows, cols, costs = rows[keep], cols[keep], np.maximum(costs[keep], zero_cost)
    m = len(junction_node)
    return ChainGraph(
        junction_node=junction_node,
        junction_xy=node_xy[junction_node],
        cost=min_csr(rows, cols, costs, m),
        cost_reverse=min_csr(cols, rows, costs, m),
        chain_a=chain_a,
        chain_b=chain_b,
        segment_chain=seg_chain,
        segment_rank=seg_rank,
        segment_u_first=seg_u_first,
        segment_fwd=fwd,
        segment_bwd=bwd,
        fwd_before=fwd_before,
        fwd_after=fwd_after,
        bwd_before=bwd_before,
        bwd_after=bwd_after,
    )


def _link_segments(
    segment_u: np.ndarray, segment_v: np.ndarray, junction: np.ndarray
) -> tuple[np.ndarray, int, np.ndarray]:
    """Chains as connected components of segments linked through inner nodes.

    Returns the chain label of each segment, the number of chains, and the links: rows ``(node, s1, s2)`` for
    every inner node and its two segments.
    """
    n_seg = len(segment_u)
    inc_node = np.concatenate([segment_u, segment_v])
    inc_seg = np.concatenate([np.arange(n_seg), np.arange(n_seg)])
    order = np.argsort(inc_node, kind="stable")
    inc_node, inc_seg = inc_node[order], inc_seg[order]
    first = np.flatnonzero(np.concatenate([[True], inc_node[1:] != inc_node[:-1]]))
    inner = ~junction[inc_node[first]]  # an inner node has exactly two segments
    links = np.column_stack([inc_node[first[inner]], inc_seg[first[inner]], inc_seg[first[inner] + 1]])
    graph = sp.csr_array((np.ones(len(links)), (links[:, 1], links[:, 2])), shape=(n_seg, n_seg))
    n_chains, label = connected_components(graph, directed=False)
    return label.astype(np.int64), int(n_chains), links


def _order_chains(
    segment_u: np.ndarray,
    segment_v: np.ndarray,
    chain: np.ndarray,
    n_chains: int,
    links: np.ndarray,
    touches: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rank the segments along each chain and orient them.

    Each chain starts at its lowest-numbered segment touching a junction; ranks are link counts from there (one
    multi-source breadth-first pass). Returns each segment's rank and whether its ``u`` is on the start side, and
    the start (``a``) and end (``b``) node of each chain.
    """
    n_seg = len(segment_u)
    start = np.full(n_chains, n_seg, dtype=np.int64)
    np.minimum.at(start, chain[touches], np.flatnonzero(touches))
    graph = sp.csr_array((np.ones(len(links)), (links[:, 1], links[:, 2])), shape=(n_seg, n_seg))
    rank = dijkstra(graph, directed=False, unweighted=True, indices=start, min_only=True).astype(np.int64)
    # the node a segment shares with the segment before it is its start side
    a_side = np.full(n_seg, -1, dtype=np.int64)
    node, s1, s2 = links[:, 0], links[:, 1], links[:, 2]
    later = np.where(rank[s1] > rank[s2], s1, s2)
    a_side[later] = node
    # a chain's first segment starts at its junction end: the end it does not share with the next segment
    first = start
    b_first = np.full(n_seg, -1, dtype=np.int64)
    earlier = np.where(rank[s1] > rank[s2], s2, s1)
    b_first[earlier] = node
    shared = b_first[first]
    a_side[first] = np.where(shared < 0, segment_u[first], segment_u[first] + segment_v[first] - shared)
    u_first = segment_u == a_side
    b_side = segment_u + segment_v - a_side
    last = np.zeros(n_chains, dtype=np.int64)
    top = np.full(n_chains, -1, dtype=np.int64)
    np.maximum.at(top, chain, rank)
    is_last = rank == top[chain]
    last[chain[is_last]] = np.flatnonzero(is_last)
    return rank, u_first, a_side[first], b_side[last]


def _prefix_sums(
    chain: np.ndarray, order: np.ndarray, cost: np.ndarray, n_chains: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per segment, the cost of its chain's segments before and after it; per chain, the total.

    ``order`` sorts the segments by chain, then rank.
    """
    c, w = chain[order], cost[order]
    total = np.bincount(c, weights=w, minlength=n_chains)  # inf for a one-way segment walked the closed way
    finite_w = np.where(np.isfinite(w), w, 0.0)  # inf only occurs on single-segment chains: nothing before/after
    running = np.cumsum(finite_w)
    chain_start = np.searchsorted(c, c, side="left")
    before_sorted = running - finite_w - (running[chain_start] - finite_w[chain_start])
    chain_sum = np.bincount(c, weights=finite_w, minlength=n_chains)
    after_sorted = chain_sum[c] - before_sorted - finite_w
    before = np.empty_like(cost)
    after = np.empty_like(cost)
    before[order], after[order] = before_sorted, np.maximum(after_sorted, 0.0)
    return before, after, total


def chain_end_costs(chains: ChainGraph, att: Attachment, *, leaving: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cost between each attached point and the junctions at both ends of its chain, access included.

    Parameters
    ----------
    chains
        The contracted graph.
    att
        Attached points.
    leaving
        True: from the point to the ends (origins); False: from the ends to the point (destinations).

    Returns
    -------
    (cost_a, cost_b)
        Costs to/from the chain's ``a`` and ``b`` junctions, ``inf`` for unattached points or closed directions.
    """
    seg = np.where(att.snapped, att.segment, 0)
    t_a = np.where(chains.segment_u_first[seg], att.fraction, 1.0 - att.fraction)  # share of the segment on the a side
    fwd, bwd = chains.segment_fwd[seg], chains.segment_bwd[seg]
    if leaving:  # point -> a walks backward, point -> b forward
        cost_a = chains.bwd_before[seg] + partial_cost(t_a, bwd)
        cost_b = partial_cost(1.0 - t_a, fwd) + chains.fwd_after[seg]
    else:  # a -> point walks forward, b -> point backward
        cost_a = chains.fwd_before[seg] + partial_cost(t_a, fwd)
        cost_b = partial_cost(1.0 - t_a, bwd) + chains.bwd_after[seg]
    cost_a = np.where(att.snapped, cost_a + att.access_m, np.inf)
    cost_b = np.where(att.snapped, cost_b + att.access_m, np.inf)
    return cost_a, cost_b


def chain_ends(chains: ChainGraph, att: Attachment) -> tuple[np.ndarray, np.ndarray]:
    """The junctions ``a`` and ``b`` of each attached point's chain (``-1`` for unattached points)."""
    chain = chains.segment_chain[np.where(att.snapped, att.segment, 0)]
    a = np.where(att.snapped, chains.chain_a[chain], -1)
    b = np.where(att.snapped, chains.chain_b[chain], -1)
    return a, b


def same_chain_walks(
    chains: ChainGraph, origins: Attachment, destinations: Attachment
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walks straight along a chain between origins and destinations on the same chain, through no junction.

    Returns
    -------
    origin, destination, walk_m
        Positions in ``origins`` and ``destinations`` and the walk (``inf`` where a one-way segment forbids it).
    """
    empty = np.zeros(0, dtype=np.int64)
    o_idx = np.flatnonzero(origins.snapped)
    d_idx = np.flatnonzero(destinations.snapped)
    if len(o_idx) == 0 or len(d_idx) == 0:
        return empty, empty, np.zeros(0)
    d_chain_all = chains.segment_chain[destinations.segment[d_idx]]
    d_sorted = d_idx[np.argsort(d_chain_all, kind="stable")]
    d_chain = chains.segment_chain[destinations.segment[d_sorted]]
    o_chain = chains.segment_chain[origins.segment[o_idx]]
    lo = np.searchsorted(d_chain, o_chain, side="left")
    hi = np.searchsorted(d_chain, o_chain, side="right")
    counts = hi - lo
    if counts.sum() == 0:
        return empty, empty, np.zeros(0)
    o_rep = np.repeat(o_idx, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    d_rep = d_sorted[np.repeat(lo, counts) + offsets]

    s_o, s_d = origins.segment[o_rep], destinations.segment[d_rep]
    t_o = np.where(chains.segment_u_first[s_o], origins.fraction[o_rep], 1.0 - origins.fraction[o_rep])
    t_d = np.where(chains.segment_u_first[s_d], destinations.fraction[d_rep], 1.0 - destinations.fraction[d_rep])
    same = s_o == s_d
    ahead = np.where(same, t_d >= t_o, chains.segment_rank[s_d] > chains.segment_rank[s_o])
    fwd_o, fwd_d = chains.segment_fwd[s_o], chains.segment_fwd[s_d]
    bwd_o, bwd_d = chains.segment_bwd[s_o], chains.segment_bwd[s_d]
    # different segments of one chain: the chain has several segments, so all its costs are finite
    between_fwd = chains.fwd_before[s_d] - chains.fwd_before[s_o] - fwd_o
    between_bwd = chains.bwd_before[s_o] - chains.bwd_before[s_d] - bwd_d
    with np.errstate(invalid="ignore"):  # both branches are computed; the one-way branch not taken may be NaN
        forward = np.where(
            same,
            partial_cost(t_d - t_o, fwd_o),
            partial_cost(1.0 - t_o, fwd_o) + between_fwd + partial_cost(t_d, fwd_d),
        )
        backward = np.where(
            same,
            partial_cost(t_o - t_d, bwd_o),
            partial_cost(t_o, bwd_o) + between_bwd + partial_cost(1.0 - t_d, bwd_d),
        )
    along = np.where(ahead, forward, backward)
    walk = origins.access_m[o_rep] + np.maximum(along, 0.0) + destinations.access_m[d_rep]
    return o_rep, d_rep, walk
