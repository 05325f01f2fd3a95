"""The shape of an isochrone: options as one frozen value, and polygons from reached pieces of street.

The default shape (``"voronoi"``) is built from street cells in :mod:`lifecircle.geo.reach.isochrone_work`; this
module holds what every shape shares (the options, filling small holes, unions per group) and the two shapes kept
for comparison: plain buffers of the reached streets (``"buffer"``) and a concave hull (``"concave"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.reach.linecut import densify
from lifecircle.geo.reach.streetcells import DEFAULT_SPACING_M, grouped_table
from lifecircle.geo.validate import require_positive

DEFAULT_CATCHMENT_M = 45.0
MAX_CATCHMENT_M = 500.0  # a served area is land beside reached streets, not a disc around the district
DEFAULT_MIN_HOLE_M2 = 5_000.0
DEFAULT_QUAD_SEGS = 3
DEFAULT_CONCAVE_RATIO = 0.1
SHAPES = ("voronoi", "buffer", "concave")
LINE_SHAPES = ("buffer", "concave")


@dataclass(frozen=True)
class ShapeOptions:
    """How the reached streets become a polygon; checked when made.

    Attributes
    ----------
    shape
        ``"voronoi"`` (default): the land within ``catchment_m`` of the reached streets that is nearer to them than
        to any other street (Voronoi cells of the street vertices every ``spacing_m``), cut square across a street
        where the limit cuts it. ``"buffer"``: the reached streets buffered by ``catchment_m`` (takes in parallel
        paths and sidewalks that are not reached). ``"concave"``: concave hull of the reached streets. The last two
        are for comparison.
    catchment_m
        Half-width of the walking catchment around reached streets (the buffer distance), at most 500 m.
    min_hole_m2
        Holes smaller than this are filled; larger unreached holes are kept. 0 keeps every hole.
    quad_segs
        Segments per quarter circle in the buffers' round ends (3: round ends within 3.5% of the catchment width).
    concave_ratio
        ``shapely.concave_hull`` ratio of the concave shape.
    spacing_m
        ``"voronoi"`` only: streets are split into sites at most this far apart; the boundary between the land of
        two streets is placed within half of it.

    Raises
    ------
    InputError
        An unknown shape, or a width, hole size, ratio or spacing out of range.
    """

    shape: str = "voronoi"
    catchment_m: float = DEFAULT_CATCHMENT_M
    min_hole_m2: float = DEFAULT_MIN_HOLE_M2
    quad_segs: int = DEFAULT_QUAD_SEGS
    concave_ratio: float = DEFAULT_CONCAVE_RATIO
    spacing_m: float = DEFAULT_SPACING_M

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise InputError(f"Isochrone shape must be one of {', '.join(SHAPES)}, got {self.shape!r}.")
        catchment = require_positive(self.catchment_m, "The walking catchment width", "m", at_most=MAX_CATCHMENT_M)
        object.__setattr__(self, "catchment_m", catchment)
        hole = float(self.min_hole_m2)
        if not (math.isfinite(hole) and hole >= 0):
            raise InputError(f"The smallest hole kept must be 0 or more m², got {self.min_hole_m2} m².")
        object.__setattr__(self, "min_hole_m2", hole)
        object.__setattr__(self, "quad_segs", int(require_positive(self.quad_segs, "Segments per quarter circle", "")))
        ratio = float(self.concave_ratio)
        if not (0 <= ratio <= 1):
            raise InputError(f"The concave hull ratio must be between 0 and 1, got {self.concave_ratio}.")
        object.__setattr__(self, "concave_ratio", ratio)
        object.__setattr__(self, "spacing_m", require_positive(self.spacing_m, "The street cell spacing", "m"))


def fill_small_holes(
    polygons: np.ndarray, *, min_hole_m2: float, barriers: shapely.STRtree | None = None
) -> np.ndarray:
    """Fill the holes smaller than ``min_hole_m2`` in each (Multi)Polygon; larger holes are kept.

    Parts lying inside a filled hole are dropped (they are inside the filled shell). Holes holding some of the
    ``barriers`` (an STRtree of polygons: a pond, a walled block) stay holes, however small.
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
    if barriers is not None and small.any():
        candidate = np.flatnonzero(small)
        hole, hit = barriers.query(hole_polys[candidate], predicate="intersects")
        inside = shapely.area(shapely.intersection(hole_polys[candidate[hole]], barriers.geometries[hit])) > 1.0
        small[candidate[hole[inside]]] = False
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


def line_catchments(
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


def group_union(polys: np.ndarray, group: np.ndarray, n_groups: int, base: np.ndarray | None = None) -> np.ndarray:
    """Union of polygons per group (one padded 2-D ``union_all``), then with ``base[g]`` when given.

    ``base`` (a served area, thousands of times larger than the pieces) is joined once at the end: inside the
    cascaded union it would be unioned again at every level of the tree.
    """
    out, table, has = grouped_table(polys, group, n_groups)
    if has.any():
        out[has] = shapely.union_all(table[has], axis=1)
    if base is not None:
        both = has & ~shapely.is_empty(base)
        out[both] = shapely.union(out[both], base[both])
        out[~has] = base[~has]
    return out


def reach_shapes(
    lines: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    *,
    options: ShapeOptions = ShapeOptions(shape="buffer"),
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
    options
        ``shape="buffer"``: the pieces of each group are merged end to end, buffered by ``catchment_m`` (round
        ends) and unioned, then holes below ``min_hole_m2`` are filled. ``shape="concave"``: the concave hull of
        the pieces' vertices (densified every ``catchment_m``), for comparison only.
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
    if options.shape not in LINE_SHAPES:
        raise InputError(f"Line-based isochrone shapes are {', '.join(LINE_SHAPES)}, got {options.shape!r}.")
    group = np.asarray(group, dtype=np.int64)
    if options.shape == "concave":
        dense = densify(lines, options.catchment_m)
        coords, which = shapely.get_coordinates(dense, return_index=True)
        out = np.array([shapely.Polygon()] * n_groups, dtype=object)
        if len(coords):
            point_group = group[which]
            order = np.argsort(point_group, kind="stable")
            clouds = np.array([None] * n_groups, dtype=object)
            shapely.multipoints(coords[order], indices=point_group[order], out=clouds)
            present = np.unique(point_group)
            out[present] = shapely.concave_hull(clouds[present], ratio=options.concave_ratio, allow_holes=True)
        return out
    # merge the pieces of each group end to end: far fewer, longer lines to buffer and union
    order = np.argsort(group, kind="stable")
    multi = np.array([None] * n_groups, dtype=object)
    shapely.multilinestrings(lines[order], indices=group[order], out=multi)
    present = np.flatnonzero(~shapely.is_missing(multi))
    merged = shapely.line_merge(multi[present])
    parts, which = shapely.get_parts(merged, return_index=True)
    buffers, part = line_catchments(parts, cut_points, options.catchment_m, options.quad_segs)
    unions = group_union(buffers, present[which][part], n_groups, base)
    return fill_small_holes(unions, min_hole_m2=options.min_hole_m2) if options.min_hole_m2 > 0 else unions


def clip_to_catchment(polys: np.ndarray, catchment: shapely.Geometry, *, also: np.ndarray | None = None) -> np.ndarray:
    """Each polygon intersected with the land within catchment of any street (cut to its own bounding box first:
    the band of a whole network has tens of thousands of vertices), and with ``also[i]`` kept whole."""
    out = polys.copy()
    for i in np.flatnonzero(~shapely.is_empty(polys)):  # per polygon: clip_by_rect takes one rectangle
        local = shapely.clip_by_rect(catchment, *shapely.bounds(polys[i]))
        if also is not None and not shapely.is_empty(also[i]):
            local = shapely.union(local, also[i])
        out[i] = shapely.intersection(polys[i], local)
    return out
