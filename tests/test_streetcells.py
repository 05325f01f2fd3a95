"""Street cells: the Voronoi partition of a real street network is a valid coverage that every street runs through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.reach.streetcells import StreetCells, coverage_union_groups

_ROOT = Path(__file__).resolve().parents[1]
SHARED = next(
    (p / "shared" / "data" for p in (_ROOT.parent, _ROOT.parent.parent) if (p / "shared" / "data").is_dir()),
    _ROOT.parent / "shared" / "data",
)


@pytest.mark.slow
@pytest.mark.shared
def test_cells_of_a_real_network_tile_it_and_follow_every_street():
    path = SHARED / "osm" / "nanjing_xinjiekou.osm.bz2"
    if not path.exists():
        pytest.skip(f"shared OSM extract {path} is absent")
    from lifecircle.geo.network.osm import network_from_osm

    net = prepare_network(network_from_osm(path))
    cells = StreetCells.build(net, catchment_m=45.0, spacing_m=10.0)
    # a valid coverage: no overlaps, neighbours share edges vertex for vertex (the coverage union relies on it)
    assert shapely.is_valid(cells.cells).all()
    assert shapely.is_empty(shapely.coverage_invalid_edges(cells.cells)).all()
    # every node lies in its own cell
    node_cells = cells.cells[cells.node_cell]
    assert shapely.covers(node_cells, shapely.points(net.node_xy)).all()
    # the passes of each segment cover it end to end, without gaps
    seg = np.repeat(np.arange(len(net.segment_u)), np.diff(cells.segment_ptr))
    assert (np.diff(cells.segment_ptr) > 0).all()
    first = cells.segment_ptr[:-1]
    last = cells.segment_ptr[1:] - 1
    assert cells.pass_start[first] == pytest.approx(0.0, abs=1e-9)
    assert cells.pass_end[last] == pytest.approx(1.0, abs=1e-9)
    running = np.maximum.accumulate(cells.pass_end + seg * 2.0) - seg * 2.0
    same = seg[1:] == seg[:-1]
    assert (cells.pass_start[1:][same] <= running[:-1][same] + 1e-9).all()
    # the union of all cells within the catchment is the band around the streets
    every = coverage_union_groups(cells.cells, np.zeros(len(cells.cells), dtype=np.int64), 1)[0]
    band = shapely.intersection(every, cells.catchment)
    assert band.area == pytest.approx(cells.catchment.area, rel=1e-6)
    # each street lies in the cells it is said to run through
    lines = net.segment_lines[seg]
    inside = shapely.length(shapely.intersection(lines, cells.cells[cells.pass_cell]))
    claimed = (cells.pass_end - cells.pass_start) * shapely.length(lines)
    assert inside == pytest.approx(claimed, abs=1e-6)


def test_unique_rows_equals_numpy_unique():
    from lifecircle.geo.reach.sorting import unique_rows

    rng = np.random.default_rng(3)
    xy = np.round(rng.uniform(-50, 50, (5000, 2)), 1)
    xy = np.concatenate([xy, xy[:2000], [[0.0, -0.0], [-0.0, 0.0]]])
    distinct, inverse = unique_rows(xy)
    expected, expected_inverse = np.unique(xy, axis=0, return_inverse=True)
    assert np.array_equal(distinct, expected) and np.array_equal(inverse, expected_inverse.ravel())
    assert np.array_equal(distinct[inverse], xy)


def _geos_passes(lines: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The passes of ``lines`` through ``cells`` the plain way: GEOS intersection of each line with each cell it
    meets, then the first and last fraction along the line of the piece inside."""
    seg, cell = shapely.STRtree(cells).query(lines, predicate="intersects")
    coords, which = shapely.get_coordinates(shapely.intersection(lines[seg], cells[cell]), return_index=True)
    along = shapely.line_locate_point(lines[seg[which]], shapely.points(coords), normalized=True)
    start, end = np.full(len(seg), np.inf), np.full(len(seg), -np.inf)
    np.minimum.at(start, which, along)
    np.maximum.at(end, which, along)
    keep = end - start > 1e-9
    order = np.lexsort((start[keep], seg[keep]))
    return seg[keep][order], cell[keep][order], start[keep][order], end[keep][order]


@pytest.mark.slow
@pytest.mark.shared
def test_passes_clipped_in_numpy_equal_geos_on_a_real_network():
    path = SHARED / "osm" / "nanjing_xinjiekou.osm.bz2"
    if not path.exists():
        pytest.skip(f"shared OSM extract {path} is absent")
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.linecut import SegmentVertices
    from lifecircle.geo.reach.streetcells import _passes

    net = prepare_network(network_from_osm(path))
    cells = StreetCells.build(net, catchment_m=45.0, spacing_m=10.0).cells
    # the segments (two vertices each) and the streets merged end to end (bent lines of many vertices)
    merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(net.segment_lines)))
    merged = merged[~shapely.is_closed(merged)]  # GEOS locates a closed line's last point at its start (0, not 1)
    for lines in (net.segment_lines, merged):
        seg, cell, start, end = _passes(lines, SegmentVertices.from_lines(lines), cells, shapely.STRtree(cells))
        ref_seg, ref_cell, ref_start, ref_end = _geos_passes(lines, cells)
        assert np.array_equal(seg, ref_seg) and np.array_equal(cell, ref_cell)
        length = shapely.length(lines)[seg]
        assert np.abs(start - ref_start) * length == pytest.approx(0.0, abs=1e-6)
        assert np.abs(end - ref_end) * length == pytest.approx(0.0, abs=1e-6)


def test_passes_through_a_concave_cell_run_from_first_entry_to_last_exit():
    from lifecircle.geo.reach.linecut import SegmentVertices
    from lifecircle.geo.reach.streetcells import _passes

    # a U-shaped cell and a square: the line enters the U twice, the square once; a line along the square's edge
    u_cell = shapely.Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)])
    square = shapely.box(40, 0, 50, 10)
    cells = np.array([u_cell, square], dtype=object)
    lines = shapely.linestrings([[(-10, 20), (60, 20)], [(-10, 5), (45, 5)], [(40, -5), (40, 20)]])
    seg, cell, start, end = _passes(lines, SegmentVertices.from_lines(lines), cells, shapely.STRtree(cells))
    ref = _geos_passes(lines, cells)
    assert np.array_equal(seg, ref[0]) and np.array_equal(cell, ref[1])
    assert start == pytest.approx(ref[2]) and end == pytest.approx(ref[3])
    assert list(zip(seg.tolist(), cell.tolist(), strict=True)) == [(0, 0), (1, 0), (1, 1), (2, 1)]
    assert (start[0], end[0]) == pytest.approx((10 / 70, 40 / 70))
