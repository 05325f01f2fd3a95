"""Unions of street cells by cancelling their shared edges, in NumPy.

The street cells tile the plane and neighbours share their edges vertex for vertex (they are snapped to one grid),
so the union of a set of cells is bounded by exactly the edges that belong to one chosen cell only: every edge two
chosen cells share cancels. Each cell's rings are turned so the cell lies on the left of every edge; the edges
left after cancelling then chain head to tail into the rings of the union (counter-clockwise shells, clockwise
holes), and each hole goes to the smallest shell of its group around it. This is what GEOS's coverage union does,
as array operations over all groups at once: a served area of a hundred thousand cells in a fraction of a second.

Where two pieces of the union touch at one vertex only, the rings are split there (each in-edge continues with the
next out-edge clockwise around the vertex), as in a valid OGC geometry. Edges that do not chain into valid rings (cells
not matching edge for edge) make :meth:`CellRings.union` report those groups, and the caller falls back to GEOS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, depth_first_order
from scipy.spatial import cKDTree

from lifecircle.geo.reach.sorting import in_sorted, sorted_unique

GAP_GRIDS = 10  # a gap in a boundary this many grid steps wide is closed


@dataclass(frozen=True, eq=False)
class CellRings:
    """Every cell's boundary as directed edges between distinct vertices, the cell on the left of each.

    Attributes
    ----------
    xy
        ``(n_vertices, 2)`` distinct vertex coordinates.
    tail, head
        ``(n_edges,)`` the vertex each edge starts and ends at, cell by cell.
    cell_ptr
        ``(n_cells + 1,)`` the edges of cell ``i`` are ``cell_ptr[i]:cell_ptr[i + 1]``.
    gap_m
        Gaps this wide in a union's boundary (cells snapped a few millimetres apart) are closed.
    """

    xy: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    cell_ptr: np.ndarray
    gap_m: float = 0.0

    @classmethod
    def of(cls, cells: np.ndarray, *, grid_m: float) -> CellRings:
        """The directed edges of ``cells`` (Polygons or MultiPolygons; empty ones have none).

        Vertices closer than half of ``grid_m`` (the grid the cells are snapped to) are one vertex; gaps of up to
        :data:`GAP_GRIDS` grid steps in a union's boundary are closed.
        """
        coords, ring, ring_cell, exterior = _rings_of(cells)
        xy, vertex = _grid_vertices(coords, grid_m)
        step = np.flatnonzero(ring[1:] == ring[:-1])
        a, b = coords[step] - coords.min(axis=0), coords[step + 1] - coords.min(axis=0)
        cross = a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]
        twice_area = np.bincount(ring[step], weights=cross, minlength=len(exterior))
        j = step[vertex[step] != vertex[step + 1]]
        r = ring[j]
        flip = (twice_area[r] > 0) != exterior[r]  # the cell on the left: shells counter-clockwise, holes clockwise
        tail = np.where(flip, vertex[j + 1], vertex[j])
        head = np.where(flip, vertex[j], vertex[j + 1])
        by_cell = np.argsort(ring_cell[r], kind="stable")
        tail, head = tail[by_cell], head[by_cell]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(ring_cell[r], minlength=len(cells)))])
        return cls(xy=xy, tail=tail, head=head, cell_ptr=ptr.astype(np.int64), gap_m=GAP_GRIDS * grid_m)

    def union(self, cell: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """Union of the cells of each group.

        Parameters
        ----------
        cell, group
            Distinct ``(group, cell)`` pairs: cell ``cell[i]`` belongs to group ``group[i]``.
        n_groups
            Groups are ``0 .. n_groups - 1``.

        Returns
        -------
        (polys, failed)
            ``(n_groups,)`` Polygon or MultiPolygon per group (empty for a group without cells); and the groups
            whose edges did not chain into rings or made an invalid polygon (cells not matching edge for edge; their
            entry is empty: union them another way).
        """
        out = np.array([shapely.Polygon()] * n_groups, dtype=object)
        by_group = np.argsort(group, kind="stable")
        tail, head, g = self._boundary(np.asarray(cell, dtype=np.int64)[by_group], np.asarray(group)[by_group])
        failed = np.zeros(n_groups, dtype=bool)
        if len(tail) == 0:
            return out, failed
        tail, head, g = _close_gaps(self.xy, tail, head, g, self.gap_m)
        succ, bad = _successors(self.xy, tail, head, g, len(self.xy))
        failed[np.unique(g[bad])] = True
        keep = ~failed[g]
        if not keep.all():
            succ, tail, head, g = _drop_edges(succ, keep), tail[keep], head[keep], g[keep]
        if len(tail) == 0:
            return out, failed
        ring, order = _split_self_touching(succ, g * np.int64(len(self.xy)) + head)
        polys, poly_group = _polygons(self.xy, tail, head, g, ring, order)
        counts = np.bincount(poly_group, minlength=n_groups)
        single = counts[poly_group] == 1
        out[poly_group[single]] = polys[single]
        several = np.flatnonzero(counts > 1)
        if len(several):
            many = ~single
            out[several] = shapely.multipolygons(polys[many], indices=np.searchsorted(several, poly_group[many]))
        invalid = ~shapely.is_valid(out)  # cells meeting at a T-junction chain into rings that overlap
        out[invalid] = shapely.Polygon()
        return out, failed | invalid

    def _boundary(self, cell: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The directed edges of each group's cells that no other cell of the group shares."""
        lo, hi = self.cell_ptr[cell], self.cell_ptr[cell + 1]
        counts = hi - lo
        e = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        g = np.repeat(np.asarray(group, dtype=np.int64), counts)
        return _cancel(self.tail[e], self.head[e], g, len(self.xy))


def _cancel(
    tail: np.ndarray, head: np.ndarray, g: np.ndarray, n_vertices: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges (in their order) that no other edge of their group runs along, either way."""
    total = len(tail)
    lo_v, hi_v = np.minimum(tail, head), np.maximum(tail, head)
    n = n_vertices
    if total == 0 or (int(g.max()) + 1) * n * n < 2**62:  # one integer key per undirected edge of a group
        key = (g * np.int64(n) + lo_v) * np.int64(n) + hi_v
        order = np.argsort(key, kind="stable")
        same = key[order][1:] == key[order][:-1]
    else:
        order = np.lexsort((hi_v, lo_v, g))
        same = (np.diff(g[order]) == 0) & (np.diff(lo_v[order]) == 0) & (np.diff(hi_v[order]) == 0)
    alone = np.ones(total, dtype=bool)
    alone[1:] &= ~same
    alone[:-1] &= ~same
    kept = np.sort(order[alone])
    return tail[kept], head[kept], g[kept]


def _rings_of(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The coordinates of every ring of ``cells``: ``(coords, ring of each coordinate, cell of each ring, whether
    each ring is a shell)``. A cell of one ring (nearly all of them) is read whole; only cells with holes or
    several parts are taken apart."""
    simple = (shapely.get_type_id(cells) == shapely.GeometryType.POLYGON) & (shapely.get_num_interior_rings(cells) == 0)
    one = np.flatnonzero(simple)
    xy_one, at_one = shapely.get_coordinates(cells[one], return_index=True)
    many = np.flatnonzero(~simple)
    parts, part_cell = shapely.get_parts(cells[many], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy_many, at_many = shapely.get_coordinates(rings, return_index=True)
    shell_many = np.r_[True, ring_part[1:] != ring_part[:-1]] if len(ring_part) else np.zeros(0, dtype=bool)
    coords = np.concatenate([xy_one, xy_many])
    ring = np.concatenate([at_one, len(one) + at_many])
    ring_cell = np.concatenate([one, many[part_cell[ring_part]]])
    exterior = np.concatenate([np.ones(len(one), dtype=bool), shell_many])
    return coords, ring, ring_cell, exterior


def _grid_vertices(coords: np.ndarray, grid_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct vertices of ``coords`` (points on one ``grid_m`` grid point are one) and the vertex of each row."""
    cell = np.round((coords - coords.min(axis=0)) / grid_m).astype(np.int64)
    key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    vertex = np.empty(len(key), dtype=np.int64)
    vertex[order] = np.cumsum(new) - 1
    return coords[order[new]], vertex


def _close_gaps(
    xy: np.ndarray, tail: np.ndarray, head: np.ndarray, g: np.ndarray, gap_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The boundary edges with each gap closed: a vertex more edges of a group end at than start from is moved onto
    the nearest vertex (of the group, within ``gap_m``) more edges start from than end at, and edges that then run
    along each other cancel.

    Two cells snapped a few millimetres apart at a corner leave such a gap (the sliver between them is neither
    cell's); only the vertices at gaps move, by millimetres.
    """
    n = np.int64(len(xy))
    ends = np.r_[g * n + head, g * n + tail]
    keys = sorted_unique(ends)
    balance = np.bincount(
        np.searchsorted(keys, ends), weights=np.r_[np.ones(len(head)), -np.ones(len(tail))], minlength=len(keys)
    )
    gap_from, gap_to = keys[balance > 0], keys[balance < 0]  # more edges end at / start from
    if len(gap_from) == 0 or len(gap_to) == 0:
        return tail, head, g
    k = min(4, len(gap_to))
    dist, near = cKDTree(xy[gap_to % n]).query(xy[gap_from % n], k=k, distance_upper_bound=gap_m)
    dist, near = dist.reshape(len(gap_from), k), near.reshape(len(gap_from), k)
    same_group = gap_to[np.minimum(near, len(gap_to) - 1)] // n == (gap_from // n)[:, None]
    ok = np.isfinite(dist) & same_group
    pick = np.argmax(ok, axis=1)  # the nearest of the group
    row = np.flatnonzero(ok[np.arange(len(gap_from)), pick])
    moved, onto = gap_from[row], gap_to[near[row, pick[row]]] % n

    def moved_onto(vertex: np.ndarray) -> np.ndarray:
        key = g * n + vertex
        at = np.minimum(np.searchsorted(moved, key), len(moved) - 1)
        return np.where(moved[at] == key, onto[at], vertex)

    tail, head = moved_onto(tail), moved_onto(head)
    real = tail != head
    return _cancel(tail[real], head[real], g[real], len(xy))


def _successors(
    xy: np.ndarray, tail: np.ndarray, head: np.ndarray, g: np.ndarray, n_vertices: int
) -> tuple[np.ndarray, np.ndarray]:
    """The edge each edge continues with along its ring, and which edges have none (or several, unresolved)."""
    n = np.int64(n_vertices)
    out_key, in_key = g * n + tail, g * n + head
    by_tail = np.argsort(out_key, kind="stable")
    sorted_out = out_key[by_tail]
    first = np.searchsorted(sorted_out, in_key, side="left")
    count = np.searchsorted(sorted_out, in_key, side="right") - first
    succ = np.full(len(tail), -1, dtype=np.int64)
    one = count == 1
    succ[one] = by_tail[first[one]]
    pinch = np.flatnonzero(count > 1)
    if len(pinch):
        succ[pinch] = _pinch_successors(xy, tail, head, in_key, out_key, pinch)
    bad = succ < 0
    # every edge must be the successor of exactly one edge
    hit = np.bincount(succ[~bad], minlength=len(tail))
    bad |= hit[np.maximum(succ, 0)] != 1
    bad[hit != 1] = True
    return succ, bad


def _pinch_successors(
    xy: np.ndarray, tail: np.ndarray, head: np.ndarray, in_key: np.ndarray, out_key: np.ndarray, pinch: np.ndarray
) -> np.ndarray:
    """Successors of edges ending at a vertex several rings touch: the next out-edge clockwise around the vertex
    (-1 where the edges around it do not alternate in and out)."""
    at = sorted_unique(in_key[pinch])
    ins = np.flatnonzero(in_sorted(in_key, at))
    outs = np.flatnonzero(in_sorted(out_key, at))
    vertex = np.concatenate([head[ins], tail[outs]])
    d = xy[np.concatenate([tail[ins], head[outs]])] - xy[vertex]
    angle = np.arctan2(d[:, 1], d[:, 0])
    key = np.concatenate([in_key[ins], out_key[outs]])
    edge = np.concatenate([ins, outs])
    is_in = np.r_[np.ones(len(ins), dtype=bool), np.zeros(len(outs), dtype=bool)]
    order = np.lexsort((angle, key))
    key, edge, is_in = key[order], edge[order], is_in[order]
    start = np.r_[True, key[1:] != key[:-1]]
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True])
    prev = np.arange(len(key)) - 1
    prev[start] = last  # around the vertex: clockwise from the smallest angle comes the largest
    succ = np.full(len(tail), -1, dtype=np.int64)
    take = is_in & ~is_in[prev]
    succ[edge[take]] = edge[prev[take]]
    return succ[pinch]


def _drop_edges(succ: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``succ`` renumbered for the kept edges (dropped groups form whole rings, so no kept edge points out)."""
    new = np.cumsum(keep) - 1
    return new[succ[keep]]


def _rings(succ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ring of each edge (rings numbered in the order of their smallest edge) and the edges in ring order.

    Each ring is a cycle of ``succ``. Cut before its smallest edge, each becomes a chain, and the last edge of
    each chain is linked to the first of the next: one path through every edge, which a depth-first walk (in C)
    follows in one pass.
    """
    n = len(succ)
    edge = np.arange(n)
    cycles = coo_array((np.ones(n), (edge, succ)), shape=(n, n))
    _, label = connected_components(cycles, directed=True, connection="weak")
    label_first = np.full(int(label.max()) + 1, n)
    np.minimum.at(label_first, label, edge)
    first = np.sort(label_first)
    ring = np.searchsorted(first, label_first[label])
    nxt = succ.copy()
    is_first = np.zeros(n, dtype=bool)
    is_first[first] = True
    last = np.flatnonzero(is_first[succ])  # the edge closing each ring
    last = last[np.argsort(ring[last])]
    nxt[last[:-1]] = first[1:]
    path = coo_array((np.ones(n - 1), (np.delete(edge, last[-1]), np.delete(nxt, last[-1]))), shape=(n, n)).tocsr()
    order = depth_first_order(path, int(first[0]), directed=True, return_predecessors=False)
    return ring, order


def _split_self_touching(succ: np.ndarray, in_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rings (as :func:`_rings`) that pass a vertex once each: a ring through a vertex twice is split there.

    Pairing each in-edge with the next out-edge clockwise keeps touching shells apart, but joins a hole to the
    shell it touches (and two touching holes) into one ring through the vertex twice, invalid in OGC terms.
    Swapping the successors of two edges of one ring splits it in two, and at a vertex of four edges the swap is
    the other non-crossing pairing: shell and hole, or two holes, touching at the vertex.
    """
    order = np.argsort(in_key, kind="stable")
    k = in_key[order]
    twice = np.r_[k[1:] == k[:-1], False] | np.r_[False, k[1:] == k[:-1]]
    candidates = order[twice]  # in-edges at vertices several rings pass
    ring, ring_order = _rings(succ)
    for _ in range(8):
        o = candidates[np.lexsort((ring[candidates], in_key[candidates]))]
        dup = (in_key[o][1:] == in_key[o][:-1]) & (ring[o][1:] == ring[o][:-1])
        start = np.flatnonzero(dup & ~np.r_[False, dup[:-1]])
        if len(start) == 0:
            break
        a, b = o[start], o[start + 1]
        succ[a], succ[b] = succ[b].copy(), succ[a].copy()
        ring, ring_order = _rings(succ)
    return ring, ring_order


def _polygons(
    xy: np.ndarray, tail: np.ndarray, head: np.ndarray, g: np.ndarray, ring: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Polygons from the rings (holes in the smallest shell of their group around them) and the group of each."""
    n_rings = int(ring.max()) + 1
    a, b = xy[tail], xy[head]
    da, db = a - xy.min(axis=0), b - xy.min(axis=0)  # near the origin: no cancellation in the cross products
    area = 0.5 * np.bincount(ring, weights=da[:, 0] * db[:, 1] - db[:, 0] * da[:, 1], minlength=n_rings)
    ring_group = np.zeros(n_rings, dtype=np.int64)
    ring_group[ring] = g
    linear = shapely.linearrings(a[order], indices=ring[order])
    shell = np.flatnonzero(area > 0)
    hole = np.flatnonzero(area < 0)
    owner = np.full(n_rings, -1, dtype=np.int64)
    owner[shell] = shell
    if len(hole):
        shells = shapely.polygons(linear[shell])
        first_edge = np.full(n_rings, len(ring))
        np.minimum.at(first_edge, ring, np.arange(len(ring)))
        mid = 0.5 * (a[first_edge[hole]] + b[first_edge[hole]])
        s, h = shapely.STRtree(shapely.points(mid)).query(shells, predicate="contains")  # shells prepared
        same = ring_group[hole[h]] == ring_group[shell[s]]
        h, s = h[same], s[same]
        best = np.lexsort((area[shell[s]], h))
        firsts = best[np.r_[True, h[best][1:] != h[best][:-1]]] if len(best) else best
        owner[hole[h[firsts]]] = shell[s[firsts]]
    used = owner >= 0  # a hole with no shell around it cannot happen in a valid union: left out
    idx = np.flatnonzero(used)
    by_poly = np.lexsort((area[idx] < 0, owner[idx]))
    idx = idx[by_poly]
    poly_of = np.searchsorted(shell, owner[idx])
    polys = shapely.polygons(linear[idx], indices=poly_of)
    return polys, ring_group[shell]
