"""Hills: DEM sampling, Tobler effort different uphill and downhill, steps, and what slope does to coverage."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
import rasterio
from rasterio.transform import from_origin

from lifecircle.errors import InputError
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.reach.coverage import coverage
from lifecircle.geo.walk import Walk
from lifecircle.geo.walkers.terrain import apply_terrain, sample_dem, slope_comparison, tobler_factor, tobler_kmh
from tests.walking_graphs import CRS, graph_from_polylines, points, squares


def _write_dem(path, z, west, north, cell, crs=CRS):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=z.shape[0],
        width=z.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(west, north, cell, cell),
        nodata=-9999.0,
    ) as dst:
        dst.write(z.astype("float32"), 1)
    return path


def _plane_dem(tmp_path):
    """z = 50 + 0.1·(x − 1000): a 10 % slope rising eastwards; 10 m cells from x=900, y=1300 down to 900."""
    cell = 10.0
    xs = 900 + cell / 2 + cell * np.arange(40)
    z = np.tile(50 + 0.1 * (xs - 1000), (40, 1))
    return _write_dem(tmp_path / "plane.tif", z, 900, 1300, cell)


def _ab():
    # A (1000, 1000) → B (1100, 1000) climbs 10 m; B → C (1100, 1100) runs along the contour
    return graph_from_polylines([([(1000, 1000), (1100, 1000), (1100, 1100)], {"highway": "footway"})])


def _edge(G, x0, y0, x1, y1):
    ids = {(d["x"], d["y"]): n for n, d in G.nodes(data=True)}
    return next(iter(G.get_edge_data(ids[(x0, y0)], ids[(x1, y1)]).values()))


def test_tobler_by_hand():
    assert tobler_kmh(0.0) == pytest.approx(6 * math.exp(-0.175))
    assert tobler_kmh(-0.05) == pytest.approx(6.0)
    assert tobler_factor(0.0) == pytest.approx(1.0)
    assert tobler_factor(0.10) == pytest.approx(math.exp(-0.35))  # 0.7047
    assert tobler_factor(-0.10) == pytest.approx(1.0)  # |−0.10 + 0.05| = 0.05


def test_uphill_and_downhill_differ(tmp_path):
    G = apply_terrain(_ab(), _plane_dem(tmp_path))
    up, down = _edge(G, 1000, 1000, 1100, 1000), _edge(G, 1100, 1000, 1000, 1000)
    assert up["rise_m"] == pytest.approx(10.0, abs=1e-3) and down["rise_m"] == pytest.approx(-10.0, abs=1e-3)
    assert up["effort_m"] == pytest.approx(100 / math.exp(-0.35), rel=1e-4)  # 141.91 m
    assert down["effort_m"] == pytest.approx(100.0, rel=1e-4)
    assert _edge(G, 1100, 1000, 1100, 1100)["effort_m"] == pytest.approx(100.0, rel=1e-4)
    ids = {(d["x"], d["y"]): n for n, d in G.nodes(data=True)}
    assert G.nodes[ids[(1100, 1100)]]["elevation"] == pytest.approx(60.0, abs=1e-3)
    assert "effort_m" not in _edge(_ab(), 1000, 1000, 1100, 1000)  # input untouched

    # coverage follows the direction: the compound west walks up to B, the compound east walks down to A
    compounds = squares({"west": (1000, 980), "east": (1100, 980)}, 5)
    services = points({"at_B": (1100, 1000), "at_A": (1000, 1000)}, category=["b", "a"])
    table = coverage(prepare_network(G, weight="effort_m"), compounds, services, max_walk_min=10).table
    walk = table.set_index(["compound_id", "category"])["walk_m"]
    assert walk[("west", "b")] == pytest.approx(20 + 141.907, rel=1e-4)
    assert walk[("east", "a")] == pytest.approx(20 + 100.0, rel=1e-4)


def test_long_edges_are_sampled_over_a_crest(tmp_path):
    # a tent-shaped ridge across the edge: 0 m at x=1000 and 1100, 10 m at x=1050 (grades ±20 %)
    cell = 5.0
    xs = 900 + cell * np.arange(61)  # pixel centres on multiples of 5 m
    z = np.tile(np.clip(10 - 0.2 * np.abs(xs - 1050), 0, None), (61, 1))
    dem = _write_dem(tmp_path / "ridge.tif", z, 900 - cell / 2, 1150 + cell / 2, cell)
    sampled = _edge(apply_terrain(_ab(), dem, sample_m=25), 1000, 1000, 1100, 1000)
    expected = 2 * 25 / math.exp(-3.5 * 0.20) + 2 * 25 / math.exp(-3.5 * 0.10)  # 171.64
    assert sampled["effort_m"] == pytest.approx(expected, rel=1e-4)
    assert sampled["rise_m"] == pytest.approx(0.0, abs=1e-4)
    coarse = _edge(apply_terrain(_ab(), dem, sample_m=500), 1000, 1000, 1100, 1000)
    assert coarse["effort_m"] == pytest.approx(100.0, rel=1e-4)  # ends alone see no hill


def test_dem_in_another_crs(tmp_path):
    # a WGS84 DEM rising 1 m per 0.0001° of longitude, around the UTM 50N test network
    to_lonlat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_lonlat.transform(1050, 1050)
    cell = 0.0001
    west, north = lon0 - 0.01, lat0 + 0.01
    cols = west + cell * (np.arange(200) + 0.5)
    z = np.tile(1000 + (cols - lon0) / cell, (200, 1))
    dem = _write_dem(tmp_path / "wgs84.tif", z, west, north, cell, crs="EPSG:4326")
    xs, ys = np.array([1000.0, 1100.0]), np.array([1000.0, 1100.0])
    lon, _ = to_lonlat.transform(xs, ys)
    np.testing.assert_allclose(sample_dem(dem, xs, ys, CRS), 1000 + (lon - lon0) / cell, atol=1e-3)


def test_steps_penalty_and_uncovered_dem(tmp_path):
    G = graph_from_polylines([([(1000, 1000), (1100, 1000)], {"highway": "steps"})])
    dem = _plane_dem(tmp_path)
    H, weight = Walk(dem=dem, steps_factor=2.0).cost_graph(G)  # what coverage walks on
    up = _edge(H, 1000, 1000, 1100, 1000)
    assert "walk_s" not in up  # one edge cost, the walk's: no time attribute beside it
    assert up["effort_m"] == pytest.approx(141.907, rel=1e-4)  # the slope alone
    assert up[weight] == pytest.approx(2.0 * 141.907, rel=1e-4)  # steps twice as long on top
    walk = Walk(dem=dem, steps_factor=2.0, limit_min=10)
    compounds = squares({"below": (1000, 980)}, 5)
    services = points({"above": (1100, 1000)}, category=["b"])
    table = coverage(G, compounds, services, walk=walk).table
    up_min = table.set_index("category").loc["b", "walk_min"]
    assert up_min == pytest.approx((20 + 2.0 * 141.907) / 75, rel=1e-3)  # 4.5 km/h = 75 m/min
    far = graph_from_polylines([([(5000, 5000), (5100, 5000)], {"highway": "footway"})])
    with pytest.raises(InputError, match="does not cover"):
        apply_terrain(far, _plane_dem(tmp_path))
    for bad in (0.5, 0, float("nan"), float("inf")):
        with pytest.raises(InputError, match="multiplier of steps"):
            Walk(dem=_plane_dem(tmp_path), steps_factor=bad)


def test_slope_comparison_reports_lost_coverage(tmp_path):
    G = apply_terrain(_ab(), _plane_dem(tmp_path))
    compounds = squares({"west": (1000, 980), "east": (1100, 1080)}, 5)
    services = points({"at_B": (1100, 1000)}, category=["b"])
    # 2 min at 75 m/min is 150 m: west needs 20 + 100 m flat but 20 + 141.9 m uphill; east's 80 m is level
    result = slope_comparison(G, compounds, services, max_walk_min=2.0)
    assert result.diff.loc["west", "change"] == "lost"
    assert result.diff.loc["west", "delta_min"] == pytest.approx(41.907 / 75, rel=1e-3)
    assert result.diff.loc["east", "change"] == "same_covered"
    assert result.summary["lost"] == 1 and result.summary["gained"] == 0
