"""Which stretches of street each service reaches within each walking limit, cut at the exact metre.

A bounded search back from each service (in C, via :func:`lifecircle.geo.routing.paths.destination_node_costs`)
gives the walk from every node to the service. A street segment is reached from each end as far as the remaining
time allows, so a segment half inside the limit is cut at the exact metre, a segment reached from both ends keeps
both pieces, and the service's own segment is walked from the service's position (its straight-line access
counted as in coverage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.routing.paths import destination_node_costs
from lifecircle.geo.routing.snapping import Attachment

DEFAULT_CHUNK = 64


@dataclass(frozen=True, eq=False)
class StreetReach:
    """Reached stretches of street segments, for a set of sources and walking limits.

    Each entry is one maximal stretch ``[start, end]`` (fractions of the segment from ``segment_u`` to
    ``segment_v``) of one segment reached from one source within one limit; stretches of the same segment, source
    and limit never overlap.

    Attributes
    ----------
    source
        Position of the source (service) in the attachment searched from.
    limit
        Index of the walking limit in ``limits_m``.
    segment, start, end
        The segment and the reached stretch of it.
    limits_m
        The walking limits in metres.
    """

    source: np.ndarray
    limit: np.ndarray
    segment: np.ndarray
    start: np.ndarray
    end: np.ndarray
    limits_m: np.ndarray

    def __len__(self) -> int:
        return len(self.segment)

    def street_m(self, net: PreparedNetwork) -> np.ndarray:
        """Walked metres of street in each stretch (segment walking length × reached fraction)."""
        return (self.end - self.start) * segment_length_m(net)[self.segment]


def segment_length_m(net: PreparedNetwork) -> np.ndarray:
    """Walking length of each street segment in metres (the cheaper open direction)."""
    return np.fmin(net.segment_cost_uv, net.segment_cost_vu)


def merge_intervals(key: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of intervals ``[start, end]`` (within ``[0, 1]``) sharing the same integer ``key``."""
    order = np.lexsort((start, key))
    key, start, end = key[order], start[order], end[order]
    # running maximum of the end within each key: keys are separated by offsets larger than any interval
    offset = (np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1) * 4.0
    reach = np.maximum.accumulate(end + offset) - offset
    new = np.ones(len(key), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (start[1:] > reach[:-1])
    firsts = np.flatnonzero(new)
    return key[firsts], start[firsts], np.maximum.reduceat(end, firsts) if len(firsts) else end[:0]


def _segments_near_reached(
    net: PreparedNetwork, node_cost: np.ndarray, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(row, segment)`` pairs, row by row in segment order, of the segments with an end node within ``limit_m``:
    from the reached nodes and the segments at each (a walk reaches a few percent of a city's nodes, so this beats
    gathering both ends of every segment for every row)."""
    n_seg = len(net.segment_u)
    r_node, node = np.nonzero(node_cost <= limit_m)
    ends = np.concatenate([net.segment_u, net.segment_v])
    by_node = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[by_node], np.arange(node_cost.shape[1] + 1))
    count = ptr[node + 1] - ptr[node]
    first = np.repeat(ptr[node] - np.cumsum(count) + count, count)
    seg = by_node[first + np.arange(int(count.sum()))] % n_seg
    pair = np.sort(np.repeat(r_node, count).astype(np.int64) * n_seg + seg)
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair  # distinct (np.unique hashes: slow)
    return pair // n_seg, pair % n_seg


def reach_from_costs(
    net: PreparedNetwork,
    node_cost: np.ndarray,
    limits_m: np.ndarray,
    direct_row: np.ndarray,
    direct: Attachment,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reached stretches for rows of node walking costs.

    ``node_cost[r, i]`` is the walk from node ``i`` to source row ``r``. ``direct`` are attached points from
    which row ``direct_row`` is also reached by walking along their own segment (the services themselves).
    Returns ``(row, limit, segment, start, end)``.
    """
    n_seg = len(net.segment_u)
    n_lim = len(limits_m)
    row, seg = _segments_near_reached(net, node_cost, float(limits_m.max()))
    du, dv = node_cost[row, net.segment_u[seg]], node_cost[row, net.segment_v[seg]]
    c_uv, c_vu = net.segment_cost_uv[seg], net.segment_cost_vu[seg]

    live = np.flatnonzero(direct.snapped)
    d_row = direct_row[live]
    d_seg, d_frac, d_access = direct.segment[live], direct.fraction[live], direct.access_m[live]
    d_uv, d_vu = net.segment_cost_uv[d_seg], net.segment_cost_vu[d_seg]

    keys, starts, ends = [], [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, limit in enumerate(limits_m):
            base = (row * n_lim + k) * n_seg + seg
            # from the u end: a point at fraction t walks t of the segment towards u (the v -> u direction)
            from_u = (limit - du) / c_vu
            ok = from_u > 0
            keys.append(base[ok])
            starts.append(np.zeros(ok.sum()))
            ends.append(np.minimum(from_u[ok], 1.0))
            from_v = (limit - dv) / c_uv
            ok = from_v > 0
            keys.append(base[ok])
            starts.append(np.maximum(1.0 - from_v[ok], 0.0))
            ends.append(np.ones(ok.sum()))
            # along the service's own segment, from its joining point
            spare = limit - d_access
            ok = spare > 0
            keys.append(((d_row * n_lim + k) * n_seg + d_seg)[ok])
            starts.append(np.maximum(d_frac - spare / d_uv, 0.0)[ok])
            ends.append(np.minimum(d_frac + spare / d_vu, 1.0)[ok])
    key, start, end = merge_intervals(np.concatenate(keys), np.concatenate(starts), np.concatenate(ends))
    keep = end > start
    key, start, end = key[keep], start[keep], end[keep]
    segment = key % n_seg
    rest = key // n_seg
    return rest // n_lim, rest % n_lim, segment, start, end


def street_reach(
    net: PreparedNetwork,
    sources: Attachment,
    *,
    limits_m: Sequence[float],
    chunk_size: int = DEFAULT_CHUNK,
) -> StreetReach:
    """Every stretch of street within each walking limit of each source, cut at the exact metre.

    Parameters
    ----------
    net
        The prepared network.
    sources
        Attached service points; the walk is measured towards them (as in coverage), their straight-line access
        included.
    limits_m
        Walking limits in metres.
    chunk_size
        Sources searched together (memory ``chunk_size × n_nodes`` floats).

    Returns
    -------
    StreetReach
    """
    limits = np.asarray(sorted(float(x) for x in limits_m))
    parts = []
    for positions, cost in destination_node_costs(net, sources, limit_m=float(limits.max()), chunk_size=chunk_size):
        r, k, s, t0, t1 = reach_from_costs(net, cost, limits, np.arange(len(positions)), sources.take(positions))
        parts.append((positions[r], k, s, t0, t1))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return StreetReach(empty, empty, empty, np.zeros(0), np.zeros(0), limits)
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return StreetReach(*cols, limits_m=limits)
