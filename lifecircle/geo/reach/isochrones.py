"""Walking isochrones built from the streets actually reached, to the metre.

For every service point and time break, a bounded search back from the service (in C, via
:func:`lifecircle.geo.routing.paths.destination_node_costs`) gives the walk from every node to the service. A street
segment is reached from each end as far as the remaining time allows, so a segment half inside the limit is cut
at the exact metre, a segment reached from both ends keeps both pieces, and the service's own segment is walked
from the service's position (its straight-line access counted as in coverage). The polygon (default shape
``"voronoi"``) is the land within the walking catchment of the reached streets that is nearer to them than to any
other street — the cells of :class:`lifecircle.geo.reach.streetcells.StreetCells`, built once per network and joined by
a coverage union, cut square across a street where the limit cuts it — never a convex hull, with small holes
filled and large unreached holes kept. Plain buffers of the reached streets (``"buffer"``) and a concave hull
(``"concave"``) remain for comparison.

Outputs are GeoDataFrames in the network's metric CRS: one polygon per service and break, the dissolved served
area per category and break (computed once from the nearest-service walk of each category, not by unioning
per-service polygons), and optional non-overlapping rings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import WGS84, to_crs
from lifecircle.geo.network.graph import PreparedNetwork, prepare_network
from lifecircle.geo.reach.coverage import ALL, DEFAULT_SPEED_KMH, metres_per_minute
from lifecircle.geo.reach.linecut import SegmentVertices, densify
from lifecircle.geo.reach.streetcells import DEFAULT_SPACING_M, StreetCells, coverage_union_groups, grouped_table
from lifecircle.geo.routing.paths import destination_node_costs, node_costs_to_nearest
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M, Attachment, snap_points
from lifecircle.geo.validate import require_positive, require_some_on_network

log = logging.getLogger(__name__)

DEFAULT_MINUTES = (5.0, 10.0, 15.0)
DEFAULT_CATCHMENT_M = 45.0
MAX_CATCHMENT_M = 500.0  # a served area is land beside reached streets, not a disc around the district
DEFAULT_MIN_HOLE_M2 = 5_000.0
DEFAULT_QUAD_SEGS = 3
DEFAULT_CONCAVE_RATIO = 0.1
DEFAULT_CHUNK = 64
SHAPES = ("voronoi", "buffer", "concave")
LINE_SHAPES = ("buffer", "concave")
PER_SERVICE_COLUMNS = ["service_id", "category", "break_min", "area_m2", "street_m", "geometry"]
SERVED_COLUMNS = ["category", "break_min", "n_services", "area_m2", "street_m", "geometry"]
RING_COLUMNS = ["category", "break_min", "from_min", "to_min", "area_m2", "geometry"]
LAYERS = ("per_service", "served_area", "rings")


# --------------------------------------------------------------------------------------------------- reach


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


def _merge_intervals(key: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _reach_from_costs(
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
    du = node_cost[:, net.segment_u]
    dv = node_cost[:, net.segment_v]
    row, seg = np.nonzero(np.fmin(du, dv) <= limits_m.max())
    du, dv = du[row, seg], dv[row, seg]
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
    key, start, end = _merge_intervals(np.concatenate(keys), np.concatenate(starts), np.concatenate(ends))
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
        r, k, s, t0, t1 = _reach_from_costs(net, cost, limits, np.arange(len(positions)), sources.take(positions))
        parts.append((positions[r], k, s, t0, t1))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return StreetReach(empty, empty, empty, np.zeros(0), np.zeros(0), limits)
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return StreetReach(*cols, limits_m=limits)


# ------------------------------------------------------------------------------------------------ polygons


def _connectors(points_xy: np.ndarray, joins_xy: np.ndarray, reach_fraction: np.ndarray) -> np.ndarray:
    """Straight access lines from each service towards its joining point, cut at the reached fraction."""
    end = points_xy + (joins_xy - points_xy) * reach_fraction[:, None]
    return shapely.linestrings(np.stack([points_xy, end], axis=1))


def fill_small_holes(polygons: np.ndarray, *, min_hole_m2: float) -> np.ndarray:
    """Fill the holes smaller than ``min_hole_m2`` in each (Multi)Polygon; larger holes are kept.

    Parts lying inside a filled hole are dropped (they are inside the filled shell).
    """
    polygons = np.asarray(polygons, dtype=object)
    out = np.array([shapely.Polygon()] * len(polygons), dtype=object)
    if len(polygons) == 0:
        return out
    parts, owner = shapely.get_parts(polygons, return_index=True)
    if len(parts) == 0:
        return out
    n_holes = shapely.get_num_interior_rings(parts)
    hole_part = np.repeat(np.arange(len(parts)), n_holes)
    hole_rank = np.arange(len(hole_part)) - np.repeat(np.cumsum(n_holes) - n_holes, n_holes)
    holes = shapely.get_interior_ring(parts[hole_part], hole_rank)
    hole_polys = shapely.polygons(holes)
    small = shapely.area(hole_polys) < min_hole_m2
    keep_part = np.ones(len(parts), dtype=bool)
    if small.any():
        filled = hole_polys[small]
        tree = shapely.STRtree(filled)
        inner, hole_idx = tree.query(parts, predicate="within")
        same = owner[inner] == owner[hole_part[small][hole_idx]]
        keep_part[inner[same]] = False
    rings = np.concatenate([shapely.get_exterior_ring(parts), holes[~small]])
    ring_part = np.concatenate([np.arange(len(parts)), hole_part[~small]])
    is_hole = np.r_[np.zeros(len(parts), dtype=bool), np.ones((~small).sum(), dtype=bool)]
    order = np.lexsort((is_hole, ring_part))
    new_parts = shapely.polygons(rings[order], indices=ring_part[order])
    new_parts, owner = new_parts[keep_part], owner[keep_part]
    shapely.multipolygons(new_parts, indices=owner, out=out)
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _catchments(
    parts: np.ndarray, cut_points: np.ndarray | None, catchment_m: float, quad_segs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Buffers of reached lines: round at street ends and junctions, flat where a line is cut at the limit.

    Beyond a cut point the street goes on unreached, so the catchment stops square across the street there instead
    of reaching ``catchment_m`` further along it. Returns the buffers and the position of each one's line.
    """
    index = np.arange(len(parts))
    if cut_points is None or len(cut_points) == 0 or len(parts) == 0:
        return shapely.buffer(parts, catchment_m, quad_segs=quad_segs), index
    cuts = cut_points[:, 0] + 1j * cut_points[:, 1]
    first = shapely.get_coordinates(shapely.get_point(parts, 0))
    last = shapely.get_coordinates(shapely.get_point(parts, -1))
    cut_first = np.isin(first[:, 0] + 1j * first[:, 1], cuts)
    cut_last = np.isin(last[:, 0] + 1j * last[:, 1], cuts)
    flat = cut_first | cut_last
    buffers = np.empty(len(parts), dtype=object)
    buffers[~flat] = shapely.buffer(parts[~flat], catchment_m, quad_segs=quad_segs)
    buffers[flat] = shapely.buffer(parts[flat], catchment_m, quad_segs=quad_segs, cap_style="flat")
    # the uncut end of a cut line is a junction or a dead end: round there
    disc_at = np.concatenate([last[cut_first & ~cut_last], first[cut_last & ~cut_first]])
    disc_part = np.concatenate([index[cut_first & ~cut_last], index[cut_last & ~cut_first]])
    discs = shapely.buffer(shapely.points(disc_at), catchment_m, quad_segs=quad_segs)
    return np.concatenate([buffers, discs]), np.concatenate([index, disc_part])


def _group_union(polys: np.ndarray, group: np.ndarray, n_groups: int, base: np.ndarray | None = None) -> np.ndarray:
    """Union of polygons per group (plus ``base[g]`` when given), as one padded 2-D ``union_all``."""
    out, table, has = grouped_table(polys, group, n_groups, base)
    if has.any():
        out[has] = shapely.union_all(table[has], axis=1)
    return out


def reach_shapes(
    lines: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    *,
    shape: str = "buffer",
    catchment_m: float = DEFAULT_CATCHMENT_M,
    min_hole_m2: float = DEFAULT_MIN_HOLE_M2,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    concave_ratio: float = DEFAULT_CONCAVE_RATIO,
    base: np.ndarray | None = None,
    cut_points: np.ndarray | None = None,
) -> np.ndarray:
    """Polygons from reached street pieces, one per group.

    Parameters
    ----------
    lines
        Reached pieces of street (LineStrings, metric CRS).
    group
        Group (service and break) of each piece, ``0 <= group < n_groups``.
    shape
        ``"buffer"``: the pieces of each group are merged end to end, buffered by ``catchment_m`` (round ends) and
        unioned, then holes below ``min_hole_m2`` are filled. ``"concave"``: the concave hull of the pieces'
        vertices (densified every ``catchment_m``), for comparison only.
    base
        Optional polygons (one per group) already known to lie in the result, unioned in (``"buffer"`` only): the
        polygon of a smaller break, so a larger break only buffers what it adds.
    cut_points
        ``(k, 2)`` coordinates where streets are cut at the walking limit: line ends there get a flat cap (the
        street beyond is not reached), other ends a round one.

    Returns
    -------
    numpy.ndarray
        (Multi)Polygons, empty for groups without pieces.
    """
    if shape not in LINE_SHAPES:
        raise InputError(f"Line-based isochrone shapes are {', '.join(LINE_SHAPES)}, got {shape!r}.")
    group = np.asarray(group, dtype=np.int64)
    if shape == "concave":
        dense = densify(lines, catchment_m)
        coords, which = shapely.get_coordinates(dense, return_index=True)
        out = np.array([shapely.Polygon()] * n_groups, dtype=object)
        if len(coords):
            point_group = group[which]
            order = np.argsort(point_group, kind="stable")
            clouds = np.array([None] * n_groups, dtype=object)
            shapely.multipoints(coords[order], indices=point_group[order], out=clouds)
            present = np.unique(point_group)
            out[present] = shapely.concave_hull(clouds[present], ratio=concave_ratio, allow_holes=True)
        return out
    require_positive(catchment_m, "The walking catchment width", "m", at_most=MAX_CATCHMENT_M)
    # merge the pieces of each group end to end: far fewer, longer lines to buffer and union
    order = np.argsort(group, kind="stable")
    multi = np.array([None] * n_groups, dtype=object)
    shapely.multilinestrings(lines[order], indices=group[order], out=multi)
    present = np.flatnonzero(~shapely.is_missing(multi))
    merged = shapely.line_merge(multi[present])
    parts, which = shapely.get_parts(merged, return_index=True)
    buffers, part = _catchments(parts, cut_points, catchment_m, quad_segs)
    unions = _group_union(buffers, present[which][part], n_groups, base)
    return fill_small_holes(unions, min_hole_m2=min_hole_m2) if min_hole_m2 > 0 else unions


# --------------------------------------------------------------------------------------------------- driver


@dataclass(frozen=True, eq=False)
class _Job:
    """What every worker needs, shared once (inherited through fork, never pickled per task)."""

    net: PreparedNetwork
    vertices: SegmentVertices
    attachment: Attachment  # all services
    service_xy: np.ndarray  # service points, metric CRS
    category_code: np.ndarray  # category index of each service
    n_categories: int
    limits_m: np.ndarray
    shape_kw: dict
    cells: StreetCells | None = None  # the street partition of the "voronoi" shape


_JOB: _Job | None = None  # set only inside worker processes


def _init_worker(job: _Job) -> None:
    global _JOB
    _JOB = job


def _connector_pieces(
    job: _Job, members: np.ndarray, member_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Access lines of services ``members`` for every limit: (row, limit index, line, cut short by the limit)."""
    att = job.attachment.take(members)
    live = np.flatnonzero(att.snapped & (att.access_m > 0))
    if len(live) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=object), np.zeros(0, dtype=bool)
    joins = shapely.get_coordinates(
        shapely.line_interpolate_point(job.net.segment_lines[att.segment[live]], att.fraction[live], normalized=True)
    )
    rows, ks, lines, cut = [], [], [], []
    for k, limit in enumerate(job.limits_m):
        frac = np.minimum(limit / att.access_m[live], 1.0)
        rows.append(member_row[live])
        ks.append(np.full(len(live), k))
        lines.append(_connectors(job.service_xy[members[live]], joins, frac))
        cut.append(frac < 1.0)
    return np.concatenate(rows), np.concatenate(ks), np.concatenate(lines), np.concatenate(cut)


def _shapes_for(
    job: _Job,
    reach: tuple[np.ndarray, ...],
    members: np.ndarray,
    member_row: np.ndarray,
    n_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Polygons and reached street metres per (row, limit) from reached stretches and the members' access lines."""
    row, k, seg, t0, t1 = reach
    n_lim = len(job.limits_m)
    street = np.bincount(
        row * n_lim + k, weights=(t1 - t0) * segment_length_m(job.net)[seg], minlength=n_rows * n_lim
    ).reshape(n_rows, n_lim)
    connectors = _connector_pieces(job, members, member_row)
    if job.shape_kw["shape"] == "voronoi":
        return _cell_shapes(job, reach, connectors, n_rows), street
    return _line_shapes(job, reach, connectors, n_rows), street


def _clip_to_catchment(polys: np.ndarray, catchment: shapely.Geometry) -> np.ndarray:
    """Each polygon intersected with the land within catchment of any street (cut to its own bounding box first:
    the band of a whole network has tens of thousands of vertices)."""
    out = polys.copy()
    for i in np.flatnonzero(~shapely.is_empty(polys)):  # per polygon: clip_by_rect takes one rectangle
        local = shapely.clip_by_rect(catchment, *shapely.bounds(polys[i]))
        out[i] = shapely.intersection(polys[i], local)
    return out


def _cell_shapes(job: _Job, reach: tuple[np.ndarray, ...], connectors: tuple, n_rows: int) -> np.ndarray:
    """ "voronoi" polygons: the street cells wholly reached (coverage union), the partly reached cells trimmed
    square across the street at the cut, and the access lines' catchment within the cells they cross, all within
    the catchment band.

    Breaks are built smallest first: a cell wholly reached within a smaller limit is wholly reached within a larger
    one, so a larger break adds only its new cells to the smaller break's union.
    """
    row, k, seg, t0, t1 = reach
    c_row, c_k, c_lines, c_cut = connectors
    cells = job.cells
    net = job.net
    width = cells.catchment_m
    n_cells = len(cells.cells)
    kw = job.shape_kw
    polys = np.empty((n_rows, len(job.limits_m)), dtype=object)
    union = None
    union_keys = np.zeros(0, dtype=np.int64)
    for b in range(len(job.limits_m)):
        at = np.flatnonzero(k == b)
        r, s, a0, a1 = row[at], seg[at], t0[at], t1[at]
        from_u, from_v = a0 <= 0.0, a1 >= 1.0
        node_row = np.concatenate([r[from_u], r[from_v]])
        node = np.concatenate([net.segment_u[s[from_u]], net.segment_v[s[from_v]]])
        w_row, w_cell, p_stretch, p_cell = cells.reached_cells(r, s, a0, a1, node_row, node)
        keys = w_row * n_cells + w_cell
        new = ~np.isin(keys, union_keys, assume_unique=True) if len(union_keys) else np.ones(len(keys), dtype=bool)
        union = coverage_union_groups(cells.cells[w_cell[new]], w_row[new], n_rows, base=union)
        union_keys = keys
        # partly reached cells: the part of the cell alongside the reached stretch, square across at its cut ends
        used, inverse = np.unique(p_stretch, return_inverse=True)
        lines = job.vertices.cut(s[used], a0[used], a1[used])
        slabs = shapely.buffer(lines, 2.0 * width, cap_style="flat", quad_segs=kw["quad_segs"])
        part = shapely.intersection(cells.cells[p_cell], slabs[inverse.ravel()])
        # access lines: their catchment within the cells they cross (flat where the limit cuts them)
        cb = np.flatnonzero(c_k == b)
        conn = np.empty(len(cb), dtype=object)
        cut = c_cut[cb]
        conn[cut] = shapely.buffer(c_lines[cb][cut], width, cap_style="flat", quad_segs=kw["quad_segs"])
        conn[~cut] = shapely.buffer(c_lines[cb][~cut], width, quad_segs=kw["quad_segs"])
        ci, hit = cells.tree.query(c_lines[cb], predicate="intersects")
        conn_part = shapely.intersection(cells.cells[hit], conn[ci])
        extra = np.concatenate([part, conn_part])
        extra_row = np.concatenate([r[p_stretch], c_row[cb][ci]])
        whole = _group_union(extra, extra_row, n_rows, base=union)
        shaped = _clip_to_catchment(whole, cells.catchment)
        min_hole = kw["min_hole_m2"]
        polys[:, b] = fill_small_holes(shaped, min_hole_m2=min_hole) if min_hole > 0 else shaped
    return polys


def _line_shapes(job: _Job, reach: tuple[np.ndarray, ...], connectors: tuple, n_rows: int) -> np.ndarray:
    """ "buffer" and "concave" polygons from the reached pieces of street and the access lines.

    Breaks are built smallest first; a larger break unions only the pieces it adds to the smaller break's polygon
    (a segment wholly reached within a smaller limit is wholly reached within a larger one).
    """
    row, k, seg, t0, t1 = reach
    n_lim = len(job.limits_m)
    c_row, c_k, c_lines, c_cut = connectors
    nested = job.shape_kw["shape"] == "buffer"
    n_seg = len(job.net.segment_u)
    polys = np.empty((n_rows, n_lim), dtype=object)
    previous = None
    full_before = np.zeros(0, dtype=np.int64)
    for b in range(n_lim):
        at = k == b
        pair = row[at] * n_seg + seg[at]
        keep = ~np.isin(pair, full_before) if nested and b > 0 else np.ones(at.sum(), dtype=bool)
        if nested:
            full_before = pair[(t0[at] == 0.0) & (t1[at] == 1.0)]
        idx = np.flatnonzero(at)[keep]
        lines = job.vertices.cut(seg[idx], t0[idx], t1[idx])
        cb = c_k == b
        cut_points = np.concatenate(
            [
                shapely.get_coordinates(shapely.get_point(lines[t0[idx] > 0], 0)),
                shapely.get_coordinates(shapely.get_point(lines[t1[idx] < 1], -1)),
                shapely.get_coordinates(shapely.get_point(c_lines[cb & c_cut], -1)),
            ]
        )
        polys[:, b] = reach_shapes(
            np.concatenate([lines, c_lines[cb]]),
            np.concatenate([row[idx], c_row[cb]]),
            n_rows,
            base=previous if nested else None,
            cut_points=cut_points,
            **{key: v for key, v in job.shape_kw.items() if key != "spacing_m"},
        )
        previous = polys[:, b]
    return polys


def _service_task(positions: np.ndarray, job: _Job | None = None) -> tuple:
    """Isochrones of a chunk of services, plus each category's least walk to any of them (for served areas)."""
    job = job or _JOB
    att = job.attachment.take(positions)
    best = np.full((job.n_categories, job.net.n_nodes), np.inf)
    polys = np.empty((len(positions), len(job.limits_m)), dtype=object)
    street = np.zeros((len(positions), len(job.limits_m)))
    for local, cost in destination_node_costs(job.net, att, limit_m=float(job.limits_m.max()), chunk_size=len(att)):
        rows = np.arange(len(local))
        reach = _reach_from_costs(job.net, cost, job.limits_m, rows, att.take(local))
        polys[local], street[local] = _shapes_for(job, reach, positions[local], rows, len(local))
        codes = job.category_code[positions[local]]
        for c in np.unique(codes):
            best[c] = np.fmin(best[c], cost[codes == c].min(axis=0))
    return positions, polys, street, best


def _category_task(c: int, best: np.ndarray, job: _Job | None = None) -> tuple[int, np.ndarray, np.ndarray]:
    """Served area of category ``c`` (code ``-1``: every service) from its least walk to every node."""
    job = job or _JOB
    members = np.flatnonzero(job.category_code == c) if c >= 0 else np.arange(len(job.category_code))
    rows = np.zeros(len(members), dtype=np.int64)
    reach = _reach_from_costs(job.net, best[None, :], job.limits_m, rows, job.attachment.take(members))
    polys, street = _shapes_for(job, reach, members, rows, 1)
    return c, polys[0], street[0]


@dataclass(frozen=True, eq=False)
class IsochroneResult:
    """Walking isochrones of service points, in the network's metric CRS.

    Attributes
    ----------
    per_service
        One row per service and break: ``service_id, category, break_min, area_m2, street_m, geometry``
        (empty geometry for services off the network).
    served_area
        One row per category (``all`` first) and break: ``category, break_min, n_services, area_m2, street_m,
        geometry`` — the area within the break of the nearest service of the category.
    rings
        Non-overlapping bands of ``served_area`` (``from_min``–``to_min``) per category, or None when not asked.
    services_off_network
        Ids of services farther than the snap limit from every street (they reach nothing).
    params
        Parameters used.
    street_cells
        The street partition the ``"voronoi"`` shape used (None for other shapes): pass it back to
        :func:`isochrones` to draw more isochrones on the same network without building it again.
    """

    per_service: gpd.GeoDataFrame
    served_area: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame | None
    services_off_network: pd.Index
    params: dict = field(default_factory=dict)
    street_cells: StreetCells | None = field(default=None, repr=False)


def isochrones(
    network: nx.MultiDiGraph | PreparedNetwork,
    services: gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    category_column: str | None = "category",
    rings: bool = False,
    shape: str = "voronoi",
    min_hole_m2: float = DEFAULT_MIN_HOLE_M2,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    concave_ratio: float = DEFAULT_CONCAVE_RATIO,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
    per_service: bool = True,
    spacing_m: float = DEFAULT_SPACING_M,
    street_cells: StreetCells | None = None,
) -> IsochroneResult:
    """Walking isochrones of every service point at each time break, from the streets actually reached.

    Parameters
    ----------
    network
        The walking network (osmnx-style graph, or already prepared).
    services
        Service points indexed by service id (any CRS; not modified).
    minutes
        Time breaks in minutes.
    speed_kmh
        Walking speed.
    catchment_m
        Half-width of the walking catchment around reached streets (the buffer distance).
    category_column
        Column of ``services`` holding categories; None or absent: only ``all``.
    rings
        Also return non-overlapping bands between consecutive breaks of the served areas.
    shape
        ``"voronoi"`` (default): the land within ``catchment_m`` of the reached streets that is nearer to them than
        to any other street (Voronoi cells of the street vertices every ``spacing_m``), cut square across a street
        where the limit cuts it. ``"buffer"``: the reached streets buffered by ``catchment_m`` (takes in parallel
        paths and sidewalks that are not reached). ``"concave"``: concave hull of the reached streets. The last two
        are for comparison.
    min_hole_m2
        Holes smaller than this are filled; larger unreached holes are kept. 0 keeps every hole.
    max_snap_m
        Services farther than this from every street reach nothing.
    quad_segs
        Segments per quarter circle in the buffers' round ends (3: round ends within 3.5% of the catchment width).
    concave_ratio
        ``shapely.concave_hull`` ratio of the concave shape.
    chunk_size
        Services searched together; memory grows with ``chunk_size × n_nodes``.
    workers
        Processes working on chunks of services in parallel (1: in this process).
    spacing_m
        ``"voronoi"`` only: streets are split into sites at most this far apart; the boundary between the land of
        two streets is placed within half of it.
    street_cells
        ``"voronoi"`` only: the street partition of this network from an earlier call
        (``result.street_cells``), to reuse instead of building it again; it must have been built with
        the same ``catchment_m``.

    per_service
        False: only the served areas (one multi-source search per category instead of one search and one
        polygon per service); ``per_service`` of the result is then empty.

    Returns
    -------
    IsochroneResult

    Raises
    ------
    InputError
        A break, the catchment width or the shape is not valid.
    NetworkError
        No service lies within ``max_snap_m`` of a walkable street.
    """
    breaks = sorted({require_positive(m, "Each isochrone break", "minutes") for m in minutes})
    if not breaks:
        raise InputError("Isochrones need at least one time break in minutes.")
    if shape not in SHAPES:
        raise InputError(f"Isochrone shape must be one of {', '.join(SHAPES)}, got {shape!r}.")
    require_positive(catchment_m, "The walking catchment width", "m", at_most=MAX_CATCHMENT_M)
    if not services.index.is_unique:
        raise InputError("Service ids (the index of the services layer) are not unique.")
    net = network if isinstance(network, PreparedNetwork) else prepare_network(network)
    limits = np.asarray(breaks) * metres_per_minute(speed_kmh)

    services_m = to_crs(services, net.crs)
    points = services_m.geometry.to_numpy()
    att = snap_points(net, points, max_snap_m=max_snap_m)
    require_some_on_network(att.snapped, "services", max_snap_m)
    if category_column and category_column in services_m.columns:
        category = services_m[category_column].astype(str).to_numpy()
    else:
        category = np.full(len(services_m), ALL, dtype=object)
    cat_names, cat_code = np.unique(category, return_inverse=True)
    cat_names = [str(c) for c in cat_names]
    xy = np.full((len(points), 2), np.nan)
    present = ~(shapely.is_missing(points) | shapely.is_empty(points))
    xy[present] = shapely.get_coordinates(points[present])
    cells = None
    if shape == "voronoi":
        if street_cells is not None and not np.isclose(street_cells.catchment_m, catchment_m):
            raise InputError(
                f"The street cells given were built for a {street_cells.catchment_m} m catchment, not {catchment_m} m."
            )
        cells = street_cells or StreetCells.build(
            net, catchment_m=float(catchment_m), spacing_m=float(spacing_m), quad_segs=int(quad_segs)
        )
    job = _Job(
        net=net,
        vertices=SegmentVertices.from_lines(net.segment_lines),
        attachment=att,
        service_xy=xy,
        category_code=cat_code.astype(np.int64),
        n_categories=len(cat_names),
        limits_m=limits,
        shape_kw={
            "shape": shape,
            "catchment_m": float(catchment_m),
            "min_hole_m2": float(min_hole_m2),
            "quad_segs": int(quad_segs),
            "concave_ratio": float(concave_ratio),
        },
        cells=cells,
    )
    off = ~att.snapped
    if off.any():
        log.warning("%d of %d services are off the walking network and reach nothing", off.sum(), len(off))

    snapped = np.flatnonzero(att.snapped)
    tasks = [snapped[i : i + chunk_size] for i in range(0, len(snapped), chunk_size)]
    polys = np.array([shapely.Polygon()] * (len(points) * len(limits)), dtype=object).reshape(len(points), -1)
    street = np.zeros((len(points), len(limits)))
    best = np.full((len(cat_names), net.n_nodes), np.inf)
    served: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    # one category: its served area is also the `all` one, computed once
    category_jobs = [*range(len(cat_names)), -1] if len(cat_names) > 1 else [-1]

    def collect(result: tuple) -> None:
        positions, p, s, b = result
        polys[positions], street[positions] = p, s
        np.fmin(best, b, out=best)

    if not per_service:
        for c in range(len(cat_names)):
            best[c], _ = node_costs_to_nearest(
                net, att.take(np.flatnonzero(cat_code == c)), limit_m=float(limits.max())
            )
        every = best.min(axis=0)
        for c in category_jobs:
            _, p, s = _category_task(c, every if c < 0 else best[c], job)
            served[c] = (p, s)
    elif workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("fork"), initializer=_init_worker, initargs=(job,)
        ) as pool:
            for result in pool.map(_service_task, tasks):
                collect(result)
            every = best.min(axis=0) if len(cat_names) else best
            futures = [pool.submit(_category_task, c, every if c < 0 else best[c]) for c in category_jobs]
            for future in futures:
                c, p, s = future.result()
                served[c] = (p, s)
    else:
        for task in tasks:
            collect(_service_task(task, job))
        every = best.min(axis=0)
        for c in category_jobs:
            _, p, s = _category_task(c, every if c < 0 else best[c], job)
            served[c] = (p, s)

    if len(cat_names) == 1 and cat_names != [ALL]:
        served[0] = served[-1]
    per_service_frame = _per_service_frame(services_m.index, category, breaks, polys, street, net)
    if not per_service:
        per_service_frame = per_service_frame.iloc[:0]
    served_area = _served_frame(served, cat_names, cat_code, att, breaks, net)
    ring_frame = make_rings(served_area) if rings else None
    log.info(
        "isochrones: %d services x %d breaks, %d categories, shape %s, catchment %.0f m",
        len(points),
        len(breaks),
        len(cat_names),
        shape,
        catchment_m,
    )
    return IsochroneResult(
        per_service=per_service_frame,
        served_area=served_area,
        rings=ring_frame,
        services_off_network=services.index[off],
        params={
            "minutes": breaks,
            "speed_kmh": float(speed_kmh),
            "limits_m": [float(x) for x in limits],
            "catchment_m": float(catchment_m),
            "min_hole_m2": float(min_hole_m2),
            "shape": shape,
            "max_snap_m": float(max_snap_m),
            "crs": net.crs.to_string(),
            **({"spacing_m": cells.spacing_m} if cells is not None else {}),
        },
        street_cells=cells,
    )


def _per_service_frame(
    ids: pd.Index,
    category: np.ndarray,
    breaks: list[float],
    polys: np.ndarray,
    street: np.ndarray,
    net: PreparedNetwork,
) -> gpd.GeoDataFrame:
    n_lim = len(breaks)
    geoms = polys.ravel()
    return gpd.GeoDataFrame(
        {
            "service_id": np.repeat(ids.astype(str).to_numpy(), n_lim),
            "category": np.repeat(category, n_lim),
            "break_min": np.tile(breaks, len(ids)),
            "area_m2": shapely.area(geoms),
            "street_m": street.ravel(),
        },
        geometry=gpd.GeoSeries(geoms, crs=net.crs),
    )[PER_SERVICE_COLUMNS]


def _served_frame(
    served: dict[int, tuple[np.ndarray, np.ndarray]],
    cat_names: list[str],
    cat_code: np.ndarray,
    att: Attachment,
    breaks: list[float],
    net: PreparedNetwork,
) -> gpd.GeoDataFrame:
    rows = []
    for c in sorted(served, key=lambda c: (c >= 0, c)):  # `all` (-1) first
        polys, street = served[c]
        name = ALL if c < 0 else cat_names[c]
        count = int(att.snapped.sum()) if c < 0 else int((att.snapped & (cat_code == c)).sum())
        rows.append(
            pd.DataFrame(
                {"category": name, "break_min": breaks, "n_services": count, "street_m": street, "geometry": polys}
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=net.crs)
    gdf["area_m2"] = shapely.area(gdf.geometry.to_numpy())
    return gdf[SERVED_COLUMNS]


def make_rings(served_area: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Non-overlapping bands between consecutive breaks of each category's served area (0–5, 5–10, 10–15...)."""
    frame = served_area.sort_values(["category", "break_min"], kind="stable")
    cat = frame["category"].to_numpy()
    geoms = frame.geometry.to_numpy()
    first = np.r_[True, cat[1:] != cat[:-1]]
    inner = np.r_[[None], geoms[:-1]]
    inner[first] = None
    bands = geoms.copy()
    has_inner = ~first
    bands[has_inner] = shapely.difference(geoms[has_inner], inner[has_inner].astype(object))
    from_min = np.r_[0.0, frame["break_min"].to_numpy()[:-1]]
    from_min[first] = 0.0
    out = gpd.GeoDataFrame(
        {
            "category": cat,
            "break_min": frame["break_min"].to_numpy(),
            "from_min": from_min,
            "to_min": frame["break_min"].to_numpy(),
            "area_m2": shapely.area(bands),
        },
        geometry=gpd.GeoSeries(bands, crs=served_area.crs),
    )
    order = {name: i for i, name in enumerate(dict.fromkeys(served_area["category"]))}
    out["_o"] = out["category"].map(order)
    return out.sort_values(["_o", "break_min"], kind="stable").drop(columns="_o").reset_index(drop=True)[RING_COLUMNS]


# ----------------------------------------------------------------------------------------- coverage by area


def area_share(compounds: gpd.GeoDataFrame, served_area: gpd.GeoDataFrame, *, break_min: float) -> pd.DataFrame:
    """Share of each compound's area inside each category's served area at one break.

    Parameters
    ----------
    compounds
        Compound polygons indexed by compound id (any CRS; not modified).
    served_area
        ``IsochroneResult.served_area``.
    break_min
        The break (minutes) to measure; it must be one of the served area's breaks.

    Returns
    -------
    pandas.DataFrame
        Columns ``compound_id, category, area_share`` (0 to 1), one row per compound and category, categories in
        served-area order (``all`` first). Compounds of no area get NaN.
    """
    at = served_area[np.isclose(served_area["break_min"].to_numpy(dtype=float), float(break_min))]
    if at.empty:
        raise InputError(
            f"The served area has no {break_min}-minute break; it has {sorted(set(served_area['break_min']))}."
        )
    comp = to_crs(compounds, served_area.crs).geometry.to_numpy()
    comp_area = shapely.area(comp)
    parts = []
    for category, geom in zip(at["category"], at.geometry.to_numpy(), strict=True):
        shapely.prepare(geom)
        inside = np.zeros(len(comp))
        hits = np.flatnonzero(shapely.intersects(geom, comp))
        if len(hits):
            whole = shapely.contains(geom, comp[hits])
            inside[hits[whole]] = comp_area[hits[whole]]
            part = hits[~whole]
            inside[part] = shapely.area(shapely.intersection(comp[part], geom))
        share = np.divide(inside, comp_area, out=np.full(len(comp), np.nan), where=comp_area > 0)
        parts.append(
            pd.DataFrame({"compound_id": compounds.index.astype(str), "category": category, "area_share": share})
        )
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------------------------- writing


def write_isochrones(result: IsochroneResult, out_dir: str | os.PathLike, *, stem: str = "isochrones") -> list:
    """Write ``<stem>.gpkg`` (layers ``per_service``, ``served_area``, ``rings``; metric CRS) and one GeoJSON per
    layer in WGS84 (``<stem>_<layer>.geojson``), each file written to a temporary name first, then renamed.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layers = {"per_service": result.per_service, "served_area": result.served_area}
    if result.rings is not None:
        layers["rings"] = result.rings
    written = []
    gpkg = out / f"{stem}.gpkg"
    tmp = out / f".{stem}.tmp.gpkg"
    tmp.unlink(missing_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(tmp, layer=name, driver="GPKG", promote_to_multi=True)
    os.replace(tmp, gpkg)
    written.append(gpkg)
    for name, gdf in layers.items():
        path = out / f"{stem}_{name}.geojson"
        tmp = out / f".{stem}_{name}.tmp.geojson"
        tmp.unlink(missing_ok=True)
        gdf.to_crs(WGS84).to_file(tmp, driver="GeoJSON")
        os.replace(tmp, path)
        written.append(path)
    return written
