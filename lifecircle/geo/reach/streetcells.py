"""The land nearest to each street: a Voronoi partition of the street network, built once per network.

A walking catchment drawn as a fixed-width band around the reached streets takes in sidewalks, parallel paths and
the first metres of every street leaving a junction at the limit, none of them reached. Here the catchment of a
street is the land *nearer to it than to any other street*, no farther than the catchment width: the Voronoi cells
of the street vertices, densified every few metres, intersected with the band around the whole network. A point
of the street network lies in the cells of its own street, so an isochrone made of the cells of its reached
stretches holds (almost) no unreached street.

The partition is computed once per network (:meth:`StreetCells.build`); an isochrone is then the *coverage union*
of the cells its stretches pass through — the cells tile the plane, so their union only drops shared edges, far
cheaper than unioning overlapping buffers. Cells cut by the walking limit are trimmed square across the street at
the exact cut point, so the shape ends where the reach ends, to the metre.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from lifecircle.geo.network.barriers import Barriers
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.barriercut import cut_cells_at_barriers
from lifecircle.geo.reach.cellunion import CellRings
from lifecircle.geo.reach.linecut import SegmentVertices, densify
from lifecircle.geo.reach.sorting import in_sorted, sorted_unique, unique_rows

log = logging.getLogger(__name__)

DEFAULT_SPACING_M = 10.0
GRID_M = 1e-3  # coordinates of the cells are snapped to this grid
MERGE_M = 0.5  # street vertices closer than this share one site (near-coincident sites give degenerate cells)
_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class StreetCells:
    """Voronoi cells of the densified street network, and which stretch of which segment runs through each.

    Attributes
    ----------
    catchment_m
        The catchment width the band ``catchment`` was built with.
    spacing_m
        Greatest distance between consecutive sites along a street.
    cells
        ``(n_cells,)`` Voronoi polygons of the distinct sites (street nodes and interior street vertices), not
        clipped to the catchment: together they tile the network's extent.
    node_cell
        ``(n_nodes,)`` the cell of each network node.
    segment_ptr
        ``(n_segments + 1,)`` offsets of each segment's entries in the ``pass_*`` arrays.
    pass_cell, pass_start, pass_end
        For each segment, every cell it runs through and the stretch ``[start, end]`` (fractions of the segment's
        length, from ``u``) inside that cell, ordered by segment.
    catchment
        The land within ``catchment_m`` of any street (the union of the buffered streets).
    tree
        STRtree over ``cells``.
    frame
        The rectangle the cells tile (land outside it belongs to no cell).
    barrier_tree
        STRtree of the barrier polygons the cells were cut with (None without barriers): a small hole of an
        isochrone holding one is not filled.
    rings
        The cells' edges for unions by cancelling shared edges (:class:`~lifecircle.geo.reach.cellunion.CellRings`).
    """

    catchment_m: float
    spacing_m: float
    cells: np.ndarray
    node_cell: np.ndarray
    segment_ptr: np.ndarray
    pass_cell: np.ndarray
    pass_start: np.ndarray
    pass_end: np.ndarray
    catchment: shapely.Geometry
    tree: shapely.STRtree
    frame: shapely.Geometry | None = None
    barrier_tree: shapely.STRtree | None = None
    rings: CellRings | None = None

    @classmethod
    def build(
        cls,
        net: PreparedNetwork,
        *,
        catchment_m: float,
        spacing_m: float = DEFAULT_SPACING_M,
        quad_segs: int = 3,
        barriers: Barriers | None = None,
    ) -> StreetCells:
        """Partition the land around ``net`` into the cells nearest to its street vertices.

        Parameters
        ----------
        net
            The prepared network.
        catchment_m
            Width of the band around the streets that bounds every isochrone.
        spacing_m
            Streets are densified so consecutive sites are at most this far apart; cuts between cells fall
            within half of it of the street's true nearest-street boundary.
        quad_segs
            Segments per quarter circle of the band's round ends.
        barriers
            Water, railways and motorways (any CRS): each cell loses them and the land they cut off from its
            street (:func:`lifecircle.geo.reach.barriercut.cut_cells_at_barriers`).
        """
        lines = net.segment_lines
        n_seg = len(lines)
        # GEOS releases the GIL: the band is drawn on a second core while the cells are built on this one (from its
        # own copy of the lines: shapely flips the writeable flag of the object arrays it is given while it works)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catchment-band") as pool:
            band = pool.submit(_catchment_band, lines.copy(), catchment_m, quad_segs)
            cells, node_cell, passes, barrier_tree, frame = _cells_and_passes(net, spacing_m, catchment_m, barriers)
            catchment = band.result()
        seg, cell, start, end = passes
        tree = shapely.STRtree(cells)
        segment_ptr = np.searchsorted(seg, np.arange(n_seg + 1))
        log.info(
            "street cells: %d sites every <= %.0f m, %d segment passes, catchment %.0f m",
            len(cells),
            spacing_m,
            len(seg),
            catchment_m,
        )
        return cls(
            catchment_m=float(catchment_m),
            spacing_m=float(spacing_m),
            cells=cells,
            node_cell=node_cell,
            segment_ptr=segment_ptr.astype(np.int64),
            pass_cell=cell.astype(np.int64),
            pass_start=start,
            pass_end=end,
            catchment=catchment,
            tree=tree,
            frame=frame,
            barrier_tree=barrier_tree,
            rings=CellRings.of(cells, grid_m=GRID_M),
        )

    def reached_cells(
        self,
        group: np.ndarray,
        segment: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        node_group: np.ndarray,
        node: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cells wholly and partly reached by stretches of street.

        A cell is wholly reached when the part of a segment running through it lies inside a reached stretch of
        that segment, or when it is the cell of a reached node; it is partly reached when a stretch ends inside it.

        Parameters
        ----------
        group, segment, start, end
            The reached stretches (fractions of segment length) and the group (polygon) of each.
        node_group, node
            Reached nodes and their groups.

        Returns
        -------
        (whole_group, whole_cell, part_stretch, part_cell)
            Unique ``(group, cell)`` pairs wholly reached; and for each partly reached cell (not wholly reached in
            the same group), the position of the stretch that ends in it.
        """
        n_cells = len(self.cells)
        lo, hi = self.segment_ptr[segment], self.segment_ptr[segment + 1]
        counts = hi - lo
        stretch = np.repeat(np.arange(len(segment)), counts)
        rank = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        p = lo[stretch] + rank
        a, b = self.pass_start[p], self.pass_end[p]
        t0, t1 = start[stretch], end[stretch]
        overlap = np.minimum(b, t1) - np.maximum(a, t0) > _EPS
        whole = overlap & (a >= t0 - _EPS) & (b <= t1 + _EPS)
        whole_key = sorted_unique(
            np.concatenate(
                [
                    group[stretch[whole]] * n_cells + self.pass_cell[p[whole]],
                    node_group * n_cells + self.node_cell[node],
                ]
            )
        )
        part = overlap & ~whole
        part_stretch, part_cell = stretch[part], self.pass_cell[p[part]]
        keep = ~in_sorted(group[part_stretch] * n_cells + part_cell, whole_key)
        return whole_key // n_cells, whole_key % n_cells, part_stretch[keep], part_cell[keep]


def _cells_and_passes(
    net: PreparedNetwork, spacing_m: float, catchment_m: float, barriers: Barriers | None
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...], shapely.STRtree | None, shapely.Geometry]:
    """The cells (cut at the barriers), the cell of each node, the segments' passes ``(segment, cell, start, end)``,
    the barriers' STRtree (None without barriers) and the frame the cells tile."""
    lines = net.segment_lines
    sites = _street_sites(net, spacing_m)
    unique, site_cell = _merge_close_points(sites, MERGE_M)
    pad = 2.0 * catchment_m + spacing_m
    lo, hi = unique.min(axis=0) - pad, unique.max(axis=0) + pad
    frame = shapely.box(lo[0], lo[1], hi[0], hi[1])
    cells = _snapped(_voronoi_cells(unique, frame))
    if len(cells) != len(unique) or not shapely.contains_xy(cells, unique[:, 0], unique[:, 1]).all():
        # GEOS merges sites closer than its own tolerance: find each site's cell instead of trusting the order
        tree = shapely.STRtree(cells)
        pts, found = tree.query(shapely.points(unique), predicate="intersects")
        order = np.full(len(unique), -1)
        order[pts[::-1]] = found[::-1]
        site_cell = order[site_cell]
    vertices = SegmentVertices.from_lines(lines)
    seg, cell, start, end = _passes(lines, vertices, cells, shapely.STRtree(cells))
    barrier_tree = None
    if barriers is not None and len(barriers):
        cut = barriers.to_crs(net.crs).land_cut()
        cell_site = np.full((len(cells), 2), np.nan)
        known = site_cell >= 0
        cell_site[site_cell[known]] = sites[known]

        def street_pieces(hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            take = np.flatnonzero(np.isin(cell, hit))
            return vertices.cut(seg[take], start[take], end[take]), cell[take]

        cells, _ = cut_cells_at_barriers(
            cells, cell_site, street_pieces, cut, reach_m=catchment_m + spacing_m, grid_m=GRID_M
        )
        barrier_tree = shapely.STRtree(cut)
    node_cell = site_cell[: net.n_nodes].astype(np.int64)
    return cells, node_cell, (seg, cell, start, end), barrier_tree, frame


def _catchment_band(lines: np.ndarray, catchment_m: float, quad_segs: int) -> shapely.Geometry:
    """The land within ``catchment_m`` of any street: the merged streets buffered one by one, then unioned."""
    merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(lines)))
    band = shapely.union_all(shapely.buffer(merged, catchment_m, quad_segs=quad_segs))
    shapely.prepare(band)
    return band


def _street_sites(net: PreparedNetwork, spacing_m: float) -> np.ndarray:
    """The network's nodes, then the inner vertices of its segments densified every ``spacing_m``."""
    lines = net.segment_lines
    dense = densify(lines, spacing_m)
    xy, owner = shapely.get_coordinates(dense, return_index=True)
    counts = np.bincount(owner, minlength=len(lines))
    first = np.concatenate([[0], np.cumsum(counts)])
    inner = np.ones(len(xy), dtype=bool)
    inner[first[:-1]] = False
    inner[first[1:] - 1] = False
    return np.concatenate([net.node_xy, xy[inner]])


def _voronoi_cells(sites: np.ndarray, frame: shapely.Geometry) -> np.ndarray:
    """Voronoi polygons of distinct ``sites`` in their order, extended to ``frame``."""
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True))
    odd = np.flatnonzero(shapely.get_type_id(cells) != shapely.GeometryType.POLYGON)
    if len(odd):
        # collinear sites can give a cell as a collection holding the polygon and a degenerate line
        parts, owner = shapely.get_parts(cells[odd], return_index=True)
        poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        fixed = np.array([shapely.Polygon()] * len(odd), dtype=object)
        fixed[owner[poly]] = parts[poly]  # a Voronoi cell is convex: one polygon
        cells[odd] = fixed
    return cells


def _snapped(cells: np.ndarray) -> np.ndarray:
    """Cells on a millimetre grid, neighbours sharing their vertices exactly (coverage union needs it)."""
    # co-circular sites (grids of streets) give Voronoi vertices computed twice with different rounding: round to
    # the grid as GEOS's pointwise precision reduction does (``floor(x * scale + 0.5) / scale``), in NumPy
    coords, owner = shapely.get_coordinates(cells, return_index=True)
    scale = float(round(1.0 / GRID_M))
    coords = np.floor(coords * scale + 0.5) / scale
    # a Voronoi vertex computed for several cells may round to neighbouring grid points: make them one
    points, which = _merge_close_points(coords, 2.5 * GRID_M)
    coords = points[which]
    cells = shapely.set_coordinates(cells.copy(), coords)
    repeated = (owner[1:] == owner[:-1]) & (coords[1:] == coords[:-1]).all(axis=1)
    twice = np.unique(owner[1:][repeated])
    cells[twice] = shapely.remove_repeated_points(cells[twice])
    bad = np.flatnonzero(~shapely.is_valid(cells))
    if len(bad):  # slivers between sites a few millimetres apart can fold when snapped: keep the largest part
        parts, owner = shapely.get_parts(shapely.make_valid(cells[bad]), return_index=True)
        area = np.where(shapely.get_type_id(parts) == shapely.GeometryType.POLYGON, shapely.area(parts), -1.0)
        order = np.lexsort((-area, owner))
        firsts = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        fixed = np.array([shapely.Polygon()] * len(bad), dtype=object)
        ok = area[firsts] > 0
        fixed[owner[firsts][ok]] = parts[firsts][ok]
        cells[bad] = fixed
    return cells


def _passes(
    lines: np.ndarray, vertices: SegmentVertices, cells: np.ndarray, tree: shapely.STRtree
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which cells each segment runs through, and where along it: ``(segment, cell, start, end)`` ordered by
    segment and start (fractions of the segment's length).

    Each straight piece of a segment is clipped to each convex cell its bounding box meets, in NumPy: the stretch
    inside is where the piece lies on the inner side of every edge of the cell (a cell left not quite convex by
    the millimetre snapping, a handful in a city, is intersected by GEOS instead).
    """
    piece_line, p0, p1, f0, f1 = _straight_pieces(lines, vertices)
    one_each = len(piece_line) == len(lines) and bool((piece_line == np.arange(len(lines))).all())
    probe = lines if one_each else shapely.linestrings(np.stack([p0, p1], axis=1))
    piece, cell = tree.query(probe, predicate=None)
    edges = _CellEdges.of(cells)
    lo, hi = np.zeros(len(piece)), np.zeros(len(piece))
    for s in range(0, len(piece), _CHUNK):
        at = slice(s, s + _CHUNK)
        lo[at], hi[at] = edges.clip(p0[piece[at]], p1[piece[at]], cell[at])
    odd = np.flatnonzero(edges.concave[cell])
    if len(odd):
        lo[odd], hi[odd] = _clip_by_geos(p0[piece[odd]], p1[piece[odd]], cells[cell[odd]])
    inside = hi - lo > 0
    piece, cell, lo, hi = piece[inside], cell[inside], lo[inside], hi[inside]
    span = f1[piece] - f0[piece]
    seg = piece_line[piece]
    # a segment through one cell in several straight pieces: its stretch there runs from the first to the last
    key = sorted_unique(seg * len(cells) + cell)
    which = np.searchsorted(key, seg * len(cells) + cell)
    start, end = np.full(len(key), np.inf), np.full(len(key), -np.inf)
    np.minimum.at(start, which, f0[piece] + lo * span)
    np.maximum.at(end, which, f0[piece] + hi * span)
    seg, cell = key // len(cells), key % len(cells)
    keep = end - start > _EPS  # not just touching
    seg, cell, start, end = seg[keep], cell[keep], start[keep], end[keep]
    order = np.lexsort((start, seg))
    return seg[order], cell[order], start[order], end[order]


_CHUNK = 200_000  # (piece, cell) pairs clipped at once: memory ~ 7 edges x 100 bytes each


def _straight_pieces(
    lines: np.ndarray, vertices: SegmentVertices
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The straight pieces of every line of non-zero length: ``(line, start xy, end xy, start and end fractions)``."""
    n = len(lines)
    counts = np.diff(vertices.first)
    frac = vertices.key - 2.0 * np.repeat(np.arange(n), counts)
    last = np.zeros(len(frac), dtype=bool)
    last[vertices.first[1:] - 1] = True
    j = np.flatnonzero(~last)
    line = np.repeat(np.arange(n), counts - 1)
    keep = (frac[j + 1] > frac[j]) & (shapely.length(lines)[line] > 0)
    j, line = j[keep], line[keep]
    return line, vertices.coords[j], vertices.coords[j + 1], frac[j], frac[j + 1]


@dataclass(frozen=True)
class _CellEdges:
    """The edges of every cell's ring, for clipping lines to the cells in NumPy."""

    start: np.ndarray  # (m, 2) first point of each edge, cell by cell
    vector: np.ndarray  # (m, 2) edge vectors, turned so the cell lies on their left
    first: np.ndarray  # (n_cells,) first edge of each cell
    count: np.ndarray  # (n_cells,) edges of each cell
    concave: np.ndarray  # (n_cells,) the cell is not convex (or has a hole)

    @classmethod
    def of(cls, cells: np.ndarray) -> _CellEdges:
        xy, owner = shapely.get_coordinates(cells, return_index=True)
        same = owner[1:] == owner[:-1]
        a, cell = xy[:-1][same], owner[:-1][same]
        v = xy[1:][same] - a
        count = np.bincount(cell, minlength=len(cells))
        first = np.cumsum(count) - count
        twice_area = np.bincount(cell, weights=a[:, 0] * v[:, 1] - a[:, 1] * v[:, 0], minlength=len(cells))
        sign = np.where(twice_area < 0, -1.0, 1.0)[cell]
        v = v * sign[:, None]
        nxt = np.arange(len(a)) + 1
        ends = count > 0
        nxt[(first + count - 1)[ends]] = first[ends]
        right_turn = sign * (v[:, 0] * v[nxt, 1] - v[:, 1] * v[nxt, 0]) < 0  # (turning v both ways keeps its sign)
        concave = np.bincount(cell, weights=right_turn, minlength=len(cells)) > 0
        concave |= shapely.get_num_interior_rings(cells) > 0
        return cls(start=a, vector=v, first=first, count=count, concave=concave)

    def clip(self, p0: np.ndarray, p1: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stretch ``[lo, hi]`` (fractions from ``p0``) of each straight piece inside its (convex) cell; empty
        when ``hi <= lo``."""
        if len(cell) == 0:
            return np.zeros(0), np.zeros(0)
        n = self.count[cell]
        offsets = np.cumsum(n) - n
        pair = np.repeat(np.arange(len(cell)), n)
        e = np.repeat(self.first[cell] - offsets, n) + np.arange(int(n.sum()))
        v, rel, d = self.vector[e], p0[pair] - self.start[e], (p1 - p0)[pair]
        c0 = v[:, 0] * rel[:, 1] - v[:, 1] * rel[:, 0]  # >= 0: the piece's start is inside this edge
        c1 = v[:, 0] * d[:, 1] - v[:, 1] * d[:, 0]  # > 0: the piece runs inwards
        with np.errstate(divide="ignore", invalid="ignore"):
            t = -c0 / c1
        lower = np.where(c1 > 0, t, np.where((c1 == 0) & (c0 < 0), np.inf, -np.inf))
        upper = np.where(c1 < 0, t, np.inf)
        lo = np.maximum(np.maximum.reduceat(lower, offsets), 0.0)
        hi = np.minimum(np.minimum.reduceat(upper, offsets), 1.0)
        return lo, hi


def _clip_by_geos(p0: np.ndarray, p1: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[lo, hi]`` of each straight piece ``p0 -> p1`` inside its cell (any polygon), by GEOS."""
    line = shapely.linestrings(np.stack([p0, p1], axis=1))
    coords, which = shapely.get_coordinates(shapely.intersection(line, cells), return_index=True)
    along = shapely.line_locate_point(line[which], shapely.points(coords), normalized=True)
    lo, hi = np.full(len(line), np.inf), np.full(len(line), -np.inf)
    np.minimum.at(lo, which, along)
    np.maximum.at(hi, which, along)
    return lo, hi


def _merge_close_points(xy: np.ndarray, tol_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct points, clusters closer than ``tol_m`` taken as one (their first member), and the point of each
    input."""
    distinct, inverse = unique_rows(xy)
    pairs = cKDTree(distinct).query_pairs(tol_m, output_type="ndarray")
    if len(pairs) == 0:
        return distinct, inverse
    n = len(distinct)
    graph = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, n)
    np.minimum.at(first, label, np.arange(n))
    return distinct[first], label[inverse]


def grouped_table(polys: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polygons laid out one row per group (padded with None) for row-wise unions.

    Returns
    -------
    out, table, has
        The result array to fill (empty polygons), the ``n_groups × max`` table, and which groups have any polygon.
    """
    out = np.array([shapely.Polygon()] * n_groups, dtype=object)
    if len(polys) == 0:
        return out, np.empty((n_groups, 0), dtype=object), np.zeros(n_groups, dtype=bool)
    order = np.argsort(group, kind="stable")
    polys, group = polys[order], group[order]
    counts = np.bincount(group, minlength=n_groups)
    rank = np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((n_groups, int(counts.max())), None, dtype=object)
    table[group, rank] = polys
    return out, table, counts > 0


def union_cells(cells: StreetCells, cell: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Union of the street cells ``cell`` per group (distinct pairs), by cancelling shared edges; groups whose edges
    do not chain into rings are unioned by GEOS."""
    if cells.rings is None:
        return coverage_union_groups(cells.cells[cell], group, n_groups)
    out, failed = cells.rings.union(cell, group, n_groups)
    if failed.any():
        log.warning("%d unions of street cells did not close into rings; unioned by GEOS", int(failed.sum()))
        redo = failed[group]
        out[failed] = coverage_union_groups(cells.cells[cell[redo]], group[redo], n_groups)[failed]
    return out


def coverage_union_groups(polys: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Coverage union of non-overlapping cells per group, by GEOS."""
    out, table, has = grouped_table(polys, group, n_groups)
    if not has.any():
        return out
    try:
        out[has] = shapely.coverage_union_all(table[has], axis=1)
    except shapely.errors.GEOSException as exc:  # cells not matching edge for edge: the general union is right too
        log.warning("coverage union failed (%s); falling back to the general union", exc)
        out[has] = shapely.union_all(table[has], axis=1)
    return out
