"""The work behind :func:`lifecircle.geo.reach.isochrones.isochrones`: polygons per chunk of services and per category.

What every worker needs is one frozen :class:`IsochroneWork`, inherited by forked worker processes once (never
pickled per task). A chunk of services gives its reached stretches of street
(:func:`~lifecircle.geo.reach.streetreach.reach_from_costs`), then a polygon per service and break in the chosen
shape; a category gives its served area from its least walk to every node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.linecut import SegmentVertices
from lifecircle.geo.reach.shapes import ShapeOptions, clip_to_catchment, fill_small_holes, group_union, reach_shapes
from lifecircle.geo.reach.streetcells import StreetCells, union_cells
from lifecircle.geo.reach.streetreach import reach_from_costs, segment_length_m
from lifecircle.geo.routing.paths import destination_node_costs
from lifecircle.geo.routing.snapping import Attachment


@dataclass(frozen=True, eq=False)
class IsochroneWork:
    """What every worker needs, shared once (inherited through fork, never pickled per task)."""

    net: PreparedNetwork
    vertices: SegmentVertices
    attachment: Attachment  # all services
    service_xy: np.ndarray  # service points, metric CRS
    category_code: np.ndarray  # category index of each service
    n_categories: int
    limits_m: np.ndarray
    options: ShapeOptions
    cells: StreetCells | None = None  # the street partition of the "voronoi" shape


_WORK: IsochroneWork | None = None  # set only inside worker processes


def init_worker(work: IsochroneWork) -> None:
    """Keep the shared work in a worker process (``ProcessPoolExecutor`` initializer)."""
    global _WORK
    _WORK = work


def _connectors(points_xy: np.ndarray, joins_xy: np.ndarray, reach_fraction: np.ndarray) -> np.ndarray:
    """Straight access lines from each service towards its joining point, cut at the reached fraction."""
    end = points_xy + (joins_xy - points_xy) * reach_fraction[:, None]
    return shapely.linestrings(np.stack([points_xy, end], axis=1))


def _connector_pieces(
    work: IsochroneWork, members: np.ndarray, member_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Access lines of services ``members`` for every limit: (row, limit index, line, cut short by the limit)."""
    att = work.attachment.take(members)
    live = np.flatnonzero(att.snapped & (att.access_m > 0))
    if len(live) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=object), np.zeros(0, dtype=bool)
    joins = shapely.get_coordinates(
        shapely.line_interpolate_point(work.net.segment_lines[att.segment[live]], att.fraction[live], normalized=True)
    )
    rows, ks, lines, cut = [], [], [], []
    for k, limit in enumerate(work.limits_m):
        frac = np.minimum(limit / att.access_m[live], 1.0)
        rows.append(member_row[live])
        ks.append(np.full(len(live), k))
        lines.append(_connectors(work.service_xy[members[live]], joins, frac))
        cut.append(frac < 1.0)
    return np.concatenate(rows), np.concatenate(ks), np.concatenate(lines), np.concatenate(cut)


def _shapes_for(
    work: IsochroneWork,
    reach: tuple[np.ndarray, ...],
    members: np.ndarray,
    member_row: np.ndarray,
    n_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Polygons and reached street metres per (row, limit) from reached stretches and the members' access lines."""
    row, k, seg, t0, t1 = reach
    n_lim = len(work.limits_m)
    street = np.bincount(
        row * n_lim + k, weights=(t1 - t0) * segment_length_m(work.net)[seg], minlength=n_rows * n_lim
    ).reshape(n_rows, n_lim)
    connectors = _connector_pieces(work, members, member_row)
    if work.options.shape == "voronoi":
        return _cell_shapes(work, reach, connectors, n_rows), street
    return _line_shapes(work, reach, connectors, n_rows), street


def _cell_shapes(work: IsochroneWork, reach: tuple[np.ndarray, ...], connectors: tuple, n_rows: int) -> np.ndarray:
    """ "voronoi" polygons: the street cells wholly reached (their union by cancelling shared edges) and the partly
    reached cells trimmed square across the street at the cut, within the catchment band; and the access lines'
    catchment within the cells they cross, whole (a service far from the street lies inside its own polygon).
    """
    row, k, seg, t0, t1 = reach
    cells = work.cells
    net = work.net
    width = cells.catchment_m
    opts = work.options
    polys = np.empty((n_rows, len(work.limits_m)), dtype=object)
    for b in range(len(work.limits_m)):
        at = np.flatnonzero(k == b)
        r, s, a0, a1 = row[at], seg[at], t0[at], t1[at]
        from_u, from_v = a0 <= 0.0, a1 >= 1.0
        node_row = np.concatenate([r[from_u], r[from_v]])
        node = np.concatenate([net.segment_u[s[from_u]], net.segment_v[s[from_v]]])
        w_row, w_cell, p_stretch, p_cell = cells.reached_cells(r, s, a0, a1, node_row, node)
        union = union_cells(cells, w_cell, w_row, n_rows)
        # partly reached cells: the part of the cell alongside the reached stretch, square across at its cut ends
        used, inverse = np.unique(p_stretch, return_inverse=True)
        lines = work.vertices.cut(s[used], a0[used], a1[used])
        slabs = shapely.buffer(lines, 2.0 * width, cap_style="flat", quad_segs=opts.quad_segs)
        part = shapely.intersection(cells.cells[p_cell], slabs[inverse.ravel()])
        access, access_row, access_land = _access_areas(work, connectors, b, n_rows)
        whole = group_union(np.concatenate([part, access]), np.concatenate([r[p_stretch], access_row]), n_rows, union)
        shaped = clip_to_catchment(whole, cells.catchment, also=access_land)
        min_hole = opts.min_hole_m2
        polys[:, b] = (
            fill_small_holes(shaped, min_hole_m2=min_hole, barriers=cells.barrier_tree) if min_hole > 0 else shaped
        )
    return polys


def _access_areas(
    work: IsochroneWork, connectors: tuple, b: int, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The land of the services' access lines at break ``b``: ``(pieces, row of each, land per row)``.

    An access line's land is its catchment within the cells it crosses (flat where the limit cuts it, with the
    service itself inside), and its catchment outside the cells' frame. ``land per row`` is each row's access
    catchment as a whole, kept when the polygon is clipped to the band along the streets.
    """
    c_row, c_k, c_lines, c_cut = connectors
    cells = work.cells
    width, quad_segs = cells.catchment_m, work.options.quad_segs
    cb = np.flatnonzero(c_k == b)
    lines, cut = c_lines[cb], c_cut[cb]
    conn = np.empty(len(cb), dtype=object)
    conn[~cut] = shapely.buffer(lines[~cut], width, quad_segs=quad_segs)
    service_disc = shapely.buffer(shapely.get_point(lines[cut], 0), width, quad_segs=quad_segs)
    conn[cut] = shapely.union(shapely.buffer(lines[cut], width, cap_style="flat", quad_segs=quad_segs), service_disc)
    ci, hit = cells.tree.query(lines, predicate="intersects")
    inside = shapely.intersection(cells.cells[hit], conn[ci])
    pieces, rows = inside, c_row[cb][ci]
    if cells.frame is not None:  # a service beyond the cells' frame: its access land there too
        pieces, rows = (
            np.concatenate([inside, shapely.difference(conn, cells.frame)]),
            np.concatenate([rows, c_row[cb]]),
        )
    land = group_union(conn, c_row[cb], n_rows)
    return pieces, rows, land


def _line_shapes(work: IsochroneWork, reach: tuple[np.ndarray, ...], connectors: tuple, n_rows: int) -> np.ndarray:
    """ "buffer" and "concave" polygons from the reached pieces of street and the access lines.

    Breaks are built smallest first; a larger break unions only the pieces it adds to the smaller break's polygon
    (a segment wholly reached within a smaller limit is wholly reached within a larger one).
    """
    row, k, seg, t0, t1 = reach
    n_lim = len(work.limits_m)
    c_row, c_k, c_lines, c_cut = connectors
    nested = work.options.shape == "buffer"
    n_seg = len(work.net.segment_u)
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
        lines = work.vertices.cut(seg[idx], t0[idx], t1[idx])
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
            options=work.options,
        )
        previous = polys[:, b]
    return polys


def service_task(positions: np.ndarray, work: IsochroneWork | None = None) -> tuple:
    """Isochrones of a chunk of services, plus each category's least walk to any of them (for served areas)."""
    work = work or _WORK
    att = work.attachment.take(positions)
    best = np.full((work.n_categories, work.net.n_nodes), np.inf)
    polys = np.empty((len(positions), len(work.limits_m)), dtype=object)
    street = np.zeros((len(positions), len(work.limits_m)))
    for local, cost in destination_node_costs(work.net, att, limit_m=float(work.limits_m.max()), chunk_size=len(att)):
        rows = np.arange(len(local))
        reach = reach_from_costs(work.net, cost, work.limits_m, rows, att.take(local))
        polys[local], street[local] = _shapes_for(work, reach, positions[local], rows, len(local))
        codes = work.category_code[positions[local]]
        for c in np.unique(codes):
            best[c] = np.fmin(best[c], cost[codes == c].min(axis=0))
    return positions, polys, street, best


def category_task(c: int, best: np.ndarray, work: IsochroneWork | None = None) -> tuple[int, np.ndarray, np.ndarray]:
    """Served area of category ``c`` (code ``-1``: every service) from its least walk to every node."""
    work = work or _WORK
    members = np.flatnonzero(work.category_code == c) if c >= 0 else np.arange(len(work.category_code))
    rows = np.zeros(len(members), dtype=np.int64)
    reach = reach_from_costs(work.net, best[None, :], work.limits_m, rows, work.attachment.take(members))
    polys, street = _shapes_for(work, reach, members, rows, 1)
    return c, polys[0], street[0]
