"""GCJ-02 / BD-09 conversions against the Panzhihua East District reference, and shift detection on OSM."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecircle.errors import InputError
from lifecircle.geo.inputs import chinese_crs as cc

_REPO = Path(__file__).resolve().parents[1]
_SHARED = _REPO.parent / "shared" / "data"
if not _SHARED.is_dir() and os.environ.get("LIFECIRCLE_SHARED_DATA"):
    _SHARED = Path(os.environ["LIFECIRCLE_SHARED_DATA"])
BOUNDARIES = _SHARED / "boundaries"
OSM = _SHARED / "osm"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data {path} is absent (see CONTRACT.md; or set LIFECIRCLE_SHARED_DATA)")
    return path


@pytest.fixture(scope="module")
def dongqu():
    gcj = gpd.read_file(_need(BOUNDARIES / "510402_dongqu_gcj02_cnmaps.geojson"))
    wgs = gpd.read_file(_need(BOUNDARIES / "510402_dongqu_wgs84_from_gcj02.geojson"))
    return gcj, wgs


def _vertex_offsets_m(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> np.ndarray:
    """Distance in metres between corresponding vertices of two layers, measured in UTM."""
    utm = b.estimate_utm_crs()
    ca = shapely.get_coordinates(a.to_crs(utm).geometry.to_numpy())
    cb = shapely.get_coordinates(b.to_crs(utm).geometry.to_numpy())
    assert ca.shape == cb.shape
    return np.hypot(*(ca - cb).T)


# ---- reference boundary ------------------------------------------------------------------------------------


def test_gcj02_reference_boundary_converts_to_wgs84_within_1m(dongqu):
    gcj, wgs = dongqu
    converted = cc.to_wgs84(gcj, "gcj02")
    off = _vertex_offsets_m(converted, wgs)
    assert off.max() < 1.0, f"max vertex offset {off.max():.3f} m"
    # the data really are shifted by the ~425 m the reference documents: the test can fail
    raw = _vertex_offsets_m(gcj.set_crs("EPSG:4326", allow_override=True), wgs)
    assert 350 < raw.mean() < 500
    # the area of the reference polygon (165.68 km2) is kept
    area_km2 = converted.to_crs(converted.estimate_utm_crs()).area.sum() / 1e6
    assert area_km2 == pytest.approx(165.68, abs=0.05)
    assert converted.crs.to_epsg() == 4326
    assert gcj.geometry.iloc[0].equals(gpd.read_file(BOUNDARIES / "510402_dongqu_gcj02_cnmaps.geojson").geometry[0])


def test_reference_wgs84_goes_back_to_published_gcj02(dongqu):
    gcj, wgs = dongqu
    back = cc.from_wgs84(wgs, "amap")
    assert _vertex_offsets_m(back, gcj.set_crs("EPSG:4326", allow_override=True)).max() < 1.0


def test_gcj02_round_trip_below_1cm(dongqu):
    gcj, _ = dongqu
    rt = cc.from_wgs84(cc.to_wgs84(gcj, "mars"), "gaode")
    assert _vertex_offsets_m(rt, gcj).max() < 0.01


def test_iterative_inverse_beats_one_step_approximation(dongqu):
    gcj, _ = dongqu
    lon, lat = shapely.get_coordinates(gcj.geometry.to_numpy()).T
    wl, wt = cc.gcj02_to_wgs84(lon, lat)
    fl, ft = cc.wgs84_to_gcj02(wl, wt)
    assert np.abs(fl - lon).max() < 1e-9 and np.abs(ft - lat).max() < 1e-9
    # the common one-step approximation (gcj - delta(gcj)) misses by much more
    sl, st = cc.wgs84_to_gcj02(lon, lat)
    al, at = 2 * lon - sl, 2 * lat - st
    assert max(np.abs(al - wl).max(), np.abs(at - wt).max()) > 1e-7


def test_bd09_round_trips(dongqu):
    gcj, _ = dongqu
    lon, lat = shapely.get_coordinates(gcj.geometry.to_numpy()).T
    bl, bt = cc.gcj02_to_bd09(lon, lat)
    # BD-09 adds roughly 0.0065 / 0.006 degrees (~650 m) on top of GCJ-02
    assert 0.005 < np.median(bl - lon) < 0.008 and 0.004 < np.median(bt - lat) < 0.008
    gl, gt = cc.bd09_to_gcj02(bl, bt)
    assert np.abs(gl - lon).max() < 1e-9 and np.abs(gt - lat).max() < 1e-9
    wl, wt = cc.gcj02_to_wgs84(lon, lat)
    bl2, bt2 = cc.wgs84_to_bd09(wl, wt)
    np.testing.assert_allclose(bl2, bl, atol=1e-9)
    np.testing.assert_allclose(bt2, bt, atol=1e-9)
    wl2, wt2 = cc.bd09_to_wgs84(bl, bt)
    np.testing.assert_allclose(wl2, wl, atol=1e-9)
    np.testing.assert_allclose(wt2, wt, atol=1e-9)
    # via GeoDataFrames, metres
    rt = cc.to_wgs84(cc.from_wgs84(cc.to_wgs84(gcj, "gcj02"), "baidu"), "bd09")
    assert _vertex_offsets_m(rt, cc.to_wgs84(gcj, "gcj02")).max() < 0.01


def test_bd09_matches_public_one_step_inverse_to_decimetres():
    # Beijing, Tiananmen area in BD-09; the public one-step inverse and ours agree to ~1e-6 degrees
    bl, bt = np.array([116.404, 116.3]), np.array([39.915, 40.0])
    xpi = np.pi * 3000 / 180
    x, y = bl - 0.0065, bt - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * xpi)
    th = np.arctan2(y, x) - 0.000003 * np.cos(x * xpi)
    gl, gt = cc.bd09_to_gcj02(bl, bt)
    assert np.abs(gl - z * np.cos(th)).max() < 5e-6 and np.abs(gt - z * np.sin(th)).max() < 5e-6


def test_outside_china_and_nan_unchanged():
    lon = np.array([-112.07, 2.35, 139.76, np.nan, 116.4])
    lat = np.array([33.45, 48.85, 35.68, 30.0, 39.9])
    for func in (cc.wgs84_to_gcj02, cc.gcj02_to_wgs84, cc.gcj02_to_bd09, cc.bd09_to_gcj02, cc.bd09_to_wgs84):
        ol, ot = func(lon, lat)
        np.testing.assert_array_equal(ol[:3], lon[:3])
        np.testing.assert_array_equal(ot[:3], lat[:3])
        assert np.isnan(ol[3])
        assert ol[4] != lon[4]  # Beijing moves
    # inputs are not modified and scalars work
    assert lon[4] == 116.4
    sl, _ = cc.wgs84_to_gcj02(116.4, 39.9)
    assert sl.shape == () and 0.005 < float(sl) - 116.4 < 0.007


_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # the out_of_china box (west, south, east, north)


@st.composite
def _near_box_edge(draw):
    """A point within ~0.02 degrees of an edge of China's box (where the forward formula stops shifting)."""
    edge = draw(st.sampled_from(["west", "south", "east", "north"]))
    along = draw(st.floats(0.0, 1.0))
    across = draw(st.floats(-0.02, 0.02))
    west, south, east, north = _BOX
    if edge in ("west", "east"):
        return (west if edge == "west" else east) + across, south + along * (north - south)
    return west + along * (east - west), (south if edge == "south" else north) + across


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_near_box_edge())
def test_gcj02_inverse_is_a_preimage_in_the_box_or_the_identity(point):
    lon, lat = point
    wl, wt = cc.gcj02_to_wgs84(lon, lat)
    if bool(cc.out_of_china(lon, lat)):
        assert (float(wl), float(wt)) == (lon, lat)  # identity outside the box
        return
    if (float(wl), float(wt)) == (lon, lat):
        return  # no WGS84 point inside the box maps here: the identity, as outside
    assert not bool(cc.out_of_china(wl, wt)), "the inverse left the box: the forward formula would not move it back"
    gl, gt = cc.wgs84_to_gcj02(wl, wt)
    assert abs(float(gl) - lon) < 1e-9 and abs(float(gt) - lat) < 1e-9


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_near_box_edge())
def test_wgs84_round_trip_near_the_box_edge(point):
    lon, lat = point
    gl, gt = cc.wgs84_to_gcj02(lon, lat)
    if bool(cc.out_of_china(gl, gt)) and not bool(cc.out_of_china(lon, lat)):
        return  # the image left the box (east and north edges): the forward formula is not one-to-one there
    wl, wt = cc.gcj02_to_wgs84(gl, gt)
    assert abs(float(wl) - lon) < 1e-9 and abs(float(wt) - lat) < 1e-9


def test_all_geometry_types_and_z_kept():
    geoms = [
        shapely.Point(116.40, 39.90, 50.0),
        shapely.LineString([(116.40, 39.90), (116.41, 39.91)]),
        shapely.MultiPoint([(121.47, 31.23), (121.48, 31.24)]),
        shapely.Polygon([(118.78, 32.04), (118.79, 32.04), (118.79, 32.05)], holes=[]),
        shapely.GeometryCollection([shapely.Point(113.3, 23.1), shapely.LineString([(113.3, 23.1), (113.4, 23.2)])]),
        None,
    ]
    gdf = gpd.GeoDataFrame({"name": ["点", "线", "多点", "面", "集合", "空"]}, geometry=geoms, crs="EPSG:4326")
    out = cc.from_wgs84(gdf, "gcj02")
    assert list(out.geom_type[:5]) == list(gdf.geom_type[:5])
    assert out.geometry.iloc[5] is None
    assert out.geometry.iloc[0].has_z and out.geometry.iloc[0].z == 50.0
    back = cc.to_wgs84(out, "gcj02")
    assert _vertex_offsets_m(back.iloc[:5], gdf.iloc[:5]).max() < 0.01
    assert _vertex_offsets_m(out.iloc[:5], gdf.iloc[:5]).min() > 100
    assert gdf.geometry.iloc[1].coords[0] == (116.40, 39.90)  # input untouched


def test_coord_system_names():
    assert cc.normalize_coord_system("Amap") == "gcj02"
    assert cc.normalize_coord_system("tencent") == "gcj02"
    assert cc.normalize_coord_system("BD-09") == "bd09"
    assert cc.normalize_coord_system("EPSG:4490") == "cgcs2000"
    with pytest.raises(InputError, match="'gcj2'"):
        cc.normalize_coord_system("gcj2")


def test_wgs84_and_cgcs2000_pass_through():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(101.7, 26.55)], crs="EPSG:4490")
    out = cc.to_wgs84(gdf, "cgcs2000")
    assert out.crs.to_epsg() == 4326 and out.geometry.iloc[0].equals(gdf.geometry.iloc[0])
    utm = gdf.to_crs("EPSG:32647")
    back = cc.to_wgs84(utm, "wgs84")
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[0].distance(gdf.geometry.iloc[0]) < 1e-7
    nocrs = cc.to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(101.7, 26.55)]), "wgs84")
    assert nocrs.crs.to_epsg() == 4326
    assert cc.from_wgs84(out, "EPSG:4490").crs.to_epsg() == 4490


def test_projected_layer_declared_gcj02_is_refused():
    utm = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 2900000)], crs="EPSG:32647")
    with pytest.raises(InputError, match="projected"):
        cc.to_wgs84(utm, "gcj02", name="compounds.shp")
    nocrs = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 2900000)])
    with pytest.raises(InputError, match="not longitude/latitude"):
        cc.to_wgs84(nocrs, "bd09")
    with pytest.raises(InputError, match="'wgs1984'"):
        cc.to_wgs84(nocrs, "wgs1984")
