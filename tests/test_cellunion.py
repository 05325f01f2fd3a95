"""Unions of street cells by cancelling shared edges equal GEOS's coverage union, pinches and holes included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from lifecircle.geo.reach.cellunion import CellRings

_ROOT = Path(__file__).resolve().parents[1]
SHARED = next(
    (p / "shared" / "data" for p in (_ROOT.parent, _ROOT.parent.parent) if (p / "shared" / "data").is_dir()),
    _ROOT.parent / "shared" / "data",
)


def _squares(n: int) -> np.ndarray:
    """An ``n × n`` grid of unit squares, row by row, alternately wound both ways (the union must not care)."""
    x, y = np.meshgrid(np.arange(n), np.arange(n))
    boxes = shapely.box(x.ravel(), y.ravel(), x.ravel() + 1, y.ravel() + 1, ccw=True)
    boxes[::2] = shapely.reverse(boxes[::2])
    return boxes


def _assert_same(mine: np.ndarray, cells: np.ndarray, chosen: list[np.ndarray], *, sliver_m2: float = 0.0) -> None:
    """Each union equals GEOS's: the same land (to ``sliver_m2``), valid, the same parts and holes larger than it."""
    for got, pick in zip(mine, chosen, strict=True):
        want = shapely.coverage_union_all(cells[pick])
        assert shapely.is_valid(got), shapely.is_valid_reason(got)
        assert shapely.area(shapely.symmetric_difference(got, want)) <= max(sliver_m2, 1e-9)

        def pieces(g: shapely.Geometry) -> tuple[int, int]:
            parts = shapely.get_parts(g)
            rings = shapely.polygons(shapely.get_rings(parts))  # shells and holes
            return int((shapely.area(parts) > sliver_m2).sum()), int((shapely.area(rings) > sliver_m2).sum())

        assert pieces(got) == pieces(want)


@pytest.mark.parametrize(
    "picture",
    [
        # two squares touching at a corner: two shells through one vertex
        ["#.", ".#"],
        # a checkerboard: every corner a pinch
        ["#.#.", ".#.#", "#.#.", ".#.#"],
        # a hole touching the shell at a corner
        ["###", "#.#", "##.", "..."],
        # two holes touching each other at a corner
        ["####", "#.##", "##.#", "####"],
        # a ring of squares around an island: a shell inside the hole of another
        ["#####", "#...#", "#.#.#", "#...#", "#####"],
    ],
)
def test_union_of_a_grid_picture_equals_geos(picture):
    n = len(picture)
    cells = _squares(n)
    pick = np.array([r * n + c for r, row in enumerate(picture) for c, ch in enumerate(row) if ch == "#"])
    rings = CellRings.of(cells, grid_m=1e-6)
    mine, failed = rings.union(pick, np.zeros(len(pick), dtype=np.int64), 2)
    assert not failed.any()
    _assert_same(mine[:1], cells, [pick])
    assert shapely.is_empty(mine[1])  # a group without cells


def test_edges_that_do_not_close_are_reported_not_drawn():
    cells = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0.5, 2, 1.5)])  # a T-junction: not a coverage
    rings = CellRings.of(cells, grid_m=1e-6)
    mine, failed = rings.union(np.array([0, 1, 0]), np.array([0, 0, 1]), 2)
    assert failed.tolist() == [True, False]
    assert shapely.is_empty(mine[0])
    assert shapely.equals(mine[1], cells[0])


@pytest.mark.slow
@pytest.mark.shared
def test_union_of_real_street_cells_equals_geos_coverage_union():
    path = SHARED / "osm" / "nanjing_xinjiekou.osm.bz2"
    if not path.exists():
        pytest.skip(f"shared OSM extract {path} is absent")
    from lifecircle.geo.network.barriers import barriers_for
    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.streetcells import StreetCells

    net = prepare_network(network_from_osm(path))
    cells = StreetCells.build(net, catchment_m=45.0, barriers=barriers_for(path))  # cut at the river and railway
    centres = shapely.get_coordinates(shapely.centroid(cells.cells))
    rng = np.random.default_rng(7)
    chosen = []
    for k, centre in enumerate(centres[rng.choice(len(centres), 5, replace=False)]):
        near = np.flatnonzero(np.hypot(*(centres - centre).T) < 300 + 250 * k)
        chosen.append(near[rng.random(len(near)) < 0.85])  # holes, islands and pinches
    group = np.repeat(np.arange(len(chosen)), [len(c) for c in chosen])
    mine, failed = cells.rings.union(np.concatenate(chosen), group, len(chosen))
    assert not failed.any()
    _assert_same(mine, cells.cells, chosen, sliver_m2=1.0)  # cells' vertices a few millimetres apart are one
