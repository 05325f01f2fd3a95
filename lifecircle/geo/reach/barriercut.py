"""Street cells cut at barriers: the land of a street stops at the water's edge, the railway and the motorway.

A street cell is the land nearer to one street vertex than to any other. Where water or a railway runs through the
cell, the land beyond it is nearer to the street as the crow flies but not on foot. Each cell touching a barrier
loses the barrier's own area and every piece of land the barrier cuts off from the cell's street: a piece is kept
when it lies within :data:`TOUCH_M` of the street running through the cell (the street on a bridge or at a level
crossing touches land on both sides, so both are kept), or — for a street drawn a few metres inside the water —
when it is as near as the nearest piece. What is cut off is left to no street: a strip across a river is not
served from this bank.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

TOUCH_M = 1.0  # a piece of land this near the cell's street is on its side of the barrier
_NEAR_MARGIN_M = 0.01  # a cell this far inside the buffered site's inner radius needs no clipping
TILE_M = 200.0  # barriers are cut into tiles this large first: a lake or a canal crosses thousands of cells


def cut_cells_at_barriers(
    cells: np.ndarray,
    sites: np.ndarray,
    street_pieces: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    cut: np.ndarray,
    *,
    reach_m: float,
    grid_m: float,
) -> tuple[np.ndarray, int]:
    """Cells without the barriers and without the land the barriers cut off from their street.

    Parameters
    ----------
    cells
        ``(n,)`` street cells (polygons tiling the network's extent), metric CRS.
    sites
        ``(n, 2)`` the street vertex of each cell.
    street_pieces
        Given cells, the stretches of street running through them (LineStrings) and the cell of each.
    cut
        Polygons nobody walks across (:meth:`lifecircle.geo.network.barriers.Barriers.land_cut`), same CRS.
    reach_m
        A cell meeting a barrier keeps only its land within this distance of its street (the catchment width and
        a little more): land farther out never shows in a served area, and a piece across the water must not
        count as joined to the street through land beyond the catchment (around the end of a pond).
    grid_m
        The cut cells' coordinates are snapped to this grid, like the cells themselves.

    Returns
    -------
    (numpy.ndarray, int)
        The cut cells (a copy; cells clear of every barrier unchanged) and the number of pieces of land dropped.
    """
    out = cells.copy()
    if len(cut) == 0 or len(cells) == 0:
        return out, 0
    cut = _tiled(cut, TILE_M)
    barrier_idx, hit_cell = shapely.STRtree(cells).query(cut, predicate="intersects")
    if len(hit_cell) == 0:
        return out, 0
    hit, local = np.unique(hit_cell, return_inverse=True)
    local = local.ravel()
    order = np.argsort(local, kind="stable")
    blockers = _union_per_group(cut[barrier_idx[order]], local[order], len(hit))
    # the street through each cell (the site itself where no stretch is known), and the cell's land near it
    street = _streets_of(hit, *street_pieces(hit), sites)
    near = _near_street(cells[hit], street, sites[hit], reach_m)
    rest = shapely.difference(near, blockers)
    parts, owner = shapely.get_parts(rest, return_index=True)
    polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    parts, owner = parts[polygon], owner[polygon]
    dist = shapely.distance(parts, street[owner])
    dist[np.isnan(dist)] = 0.0  # no street known in the cell: keep its land as it was
    nearest = np.full(len(hit), np.inf)
    np.minimum.at(nearest, owner, dist)
    keep = dist <= np.maximum(nearest[owner], 0.0) + TOUCH_M
    kept = np.array([shapely.Polygon()] * len(hit), dtype=object)
    order = np.argsort(owner[keep], kind="stable")
    if keep.any():
        shapely.multipolygons(parts[keep][order], indices=owner[keep][order], out=kept)
        single = shapely.get_num_geometries(kept) == 1
        kept[single] = shapely.get_geometry(kept[single], 0)
    kept = shapely.set_precision(kept, grid_m, mode="pointwise")
    kept[shapely.is_empty(kept)] = shapely.Polygon()  # a cell wholly under water: an empty polygon, not a ring
    out[hit] = kept
    out = _renoded(out, hit, 2.5 * grid_m)
    dropped = int((~keep).sum())
    log.info("barriers: %d street cells cut, %d pieces of land across a barrier dropped", len(hit), dropped)
    return out, dropped


def _near_street(cells: np.ndarray, street: np.ndarray, sites: np.ndarray, reach_m: float) -> np.ndarray:
    """The land of each cell within ``reach_m`` of its street (``street``: its stretches and site, buffered with 4
    segments per quarter circle).

    A cell whose corners all lie within the buffered site's inner radius is wholly near its street (a cell is
    convex, the polygon around the site holds the disc of radius ``reach_m * cos(pi / 16)``): it is kept as it is,
    without buffering its street.
    """
    xy, owner = shapely.get_coordinates(cells, return_index=True)
    far = np.zeros(len(cells))
    np.maximum.at(far, owner, np.hypot(*(xy - sites[owner]).T))
    inner = reach_m * np.cos(np.pi / 16) - _NEAR_MARGIN_M
    whole = (far < inner) & np.isfinite(sites).all(axis=1) & (shapely.get_num_interior_rings(cells) == 0)
    out = cells.copy()
    rest = np.flatnonzero(~whole)
    out[rest] = shapely.intersection(cells[rest], shapely.buffer(street[rest], reach_m, quad_segs=4))
    return out


def _renoded(cells: np.ndarray, changed: np.ndarray, tol_m: float) -> np.ndarray:
    """Cells around the ``changed`` ones sharing their edges vertex for vertex again (coverage union needs it).

    Neighbours get the changed cells' new vertices on their shared edges (snapped within ``tol_m``); then vertices
    of all these cells closer than ``tol_m`` become one, a vertex of an unchanged cell winning (its other
    neighbours keep matching it).
    """
    changed = changed[~shapely.is_empty(cells[changed])]
    if len(changed) == 0:
        return cells
    src, nbr = shapely.STRtree(cells).query(cells[changed], predicate="dwithin", distance=tol_m)
    src = changed[src]
    pair = src != nbr
    src, nbr = src[pair], nbr[pair]
    coords, which = shapely.get_coordinates(cells[changed], return_index=True)
    points = shapely.multipoints(coords, indices=which)
    position = np.full(len(cells), -1)
    position[changed] = np.arange(len(changed))
    order = np.argsort(nbr, kind="stable")
    targets, first = np.unique(nbr[order], return_index=True)
    group = np.repeat(np.arange(len(targets)), np.diff(np.r_[first, len(order)]))
    out = cells.copy()
    out[targets] = shapely.snap(
        cells[targets], _union_per_group(points[position[src[order]]], group, len(targets)), tol_m
    )
    affected = np.union1d(targets, changed)
    fixed = np.ones(len(cells), dtype=bool)
    fixed[changed] = False
    out[affected] = _merged_vertices(out[affected], fixed[affected], tol_m)
    return out


def _merged_vertices(cells: np.ndarray, fixed: np.ndarray, tol_m: float) -> np.ndarray:
    """Vertices closer than ``tol_m`` made one (a vertex of a ``fixed`` cell first), then polygons made valid."""
    coords, which = shapely.get_coordinates(cells, return_index=True)
    distinct, inverse = np.unique(coords, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = len(distinct)
    pinned = np.zeros(n, dtype=bool)
    pinned[inverse[fixed[which]]] = True
    pairs = cKDTree(distinct).query_pairs(tol_m, output_type="ndarray")
    if len(pairs) == 0:
        return cells
    graph = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    rank = np.where(pinned, 0, n) + np.arange(n)
    best = np.full(label.max() + 1, 2 * n)
    np.minimum.at(best, label, rank)
    rep = best % n
    out = shapely.remove_repeated_points(shapely.set_coordinates(cells.copy(), distinct[rep[label[inverse]]]))
    bad = np.flatnonzero(~shapely.is_valid(out))
    if len(bad):  # a sliver folded by the merge: its polygonal parts
        parts, owner = shapely.get_parts(shapely.make_valid(out[bad]), return_index=True)
        poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        fixed_geoms = np.array([shapely.Polygon()] * len(bad), dtype=object)
        if poly.any():
            shapely.multipolygons(parts[poly], indices=owner[poly], out=fixed_geoms)
            single = shapely.get_num_geometries(fixed_geoms) == 1
            fixed_geoms[single] = shapely.get_geometry(fixed_geoms[single], 0)
        out[bad] = fixed_geoms
    return out


def _tiled(polys: np.ndarray, tile_m: float) -> np.ndarray:
    """The polygons cut along a square grid of ``tile_m``, so each cell meets only small pieces of them."""
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    xs = np.arange(x0, x1 + tile_m, tile_m)
    ys = np.arange(y0, y1 + tile_m, tile_m)
    gx, gy = np.meshgrid(xs[:-1], ys[:-1]) if len(xs) > 1 and len(ys) > 1 else (np.array([x0]), np.array([y0]))
    tiles = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + tile_m, gy.ravel() + tile_m)
    which, tile = shapely.STRtree(tiles).query(polys, predicate="intersects")
    parts = shapely.get_parts(shapely.intersection(polys[which], tiles[tile]))
    polygon = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    return parts[polygon]


def _union_per_group(polys: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Union of the polygons of each group (``group`` sorted)."""
    counts = np.bincount(group, minlength=n_groups)
    rank = np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((n_groups, int(counts.max())), None, dtype=object)
    table[group, rank] = polys
    return shapely.union_all(table, axis=1)


def _streets_of(hit: np.ndarray, pieces: np.ndarray, piece_cell: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Per cell of ``hit``: the stretches of street through it, with its site (one geometry collection each)."""
    position = np.full(int(max(hit.max(), piece_cell.max(initial=0))) + 1, -1)
    position[hit] = np.arange(len(hit))
    mine = position[piece_cell] if len(piece_cell) else np.zeros(0, dtype=np.int64)
    take = np.flatnonzero(mine >= 0)
    located = np.flatnonzero(np.isfinite(sites[hit]).all(axis=1))
    geoms = np.concatenate([pieces[take], shapely.points(sites[hit][located])])
    owner = np.concatenate([mine[take], located])
    order = np.argsort(owner, kind="stable")
    out = np.array([None] * len(hit), dtype=object)
    shapely.geometrycollections(geoms[order], indices=owner[order], out=out)
    return out
