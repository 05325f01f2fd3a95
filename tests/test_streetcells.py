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
    from lifecircle.geo.reach.streetcells import unique_rows

    rng = np.random.default_rng(3)
    xy = np.round(rng.uniform(-50, 50, (5000, 2)), 1)
    xy = np.concatenate([xy, xy[:2000], [[0.0, -0.0], [-0.0, 0.0]]])
    distinct, inverse = unique_rows(xy)
    expected, expected_inverse = np.unique(xy, axis=0, return_inverse=True)
    assert np.array_equal(distinct, expected) and np.array_equal(inverse, expected_inverse.ravel())
    assert np.array_equal(distinct[inverse], xy)
