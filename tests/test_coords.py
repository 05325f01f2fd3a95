"""Finding lon/lat columns in ledgers, and catching swapped or broken coordinates."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.inputs import coords

_REPO = Path(__file__).resolve().parents[1]
_SHARED = _REPO.parent / "shared" / "data"
if not _SHARED.is_dir() and os.environ.get("LIFECIRCLE_SHARED_DATA"):
    _SHARED = Path(os.environ["LIFECIRCLE_SHARED_DATA"])

# service points in Panzhihua East District and Beijing (lon, lat)
LON = [101.71234, 101.72345, 101.73456, 116.32651, 116.35112]
LAT = [26.55123, 26.56234, 26.57345, 39.99342, 39.98871]


def _ledger(lon_name="经度", lat_name="纬度", lon=LON, lat=LAT) -> pd.DataFrame:
    return pd.DataFrame(
        {"名称": [f"服务点{i}" for i in range(len(lon))], lon_name: lon, lat_name: lat},
        index=pd.Index([f"S{i}" for i in range(len(lon))], name="service_id"),
    )


@pytest.mark.parametrize(
    ("lon_name", "lat_name"),
    [
        ("lon", "lat"),
        ("LNG", "LAT"),
        ("Longitude", "Latitude"),
        ("经度", "纬度"),
        ("经度(GCJ02)", "纬度(GCJ02)"),
        ("经度（高德）", "纬度（高德）"),
        ("高德经度", "高德纬度"),
        ("gcj_lng", "gcj_lat"),
        ("LNG_WGS84", "LAT_WGS84"),
        ("X", "Y"),
        ("x坐标", "y坐标"),
        ("POINT_X", "POINT_Y"),
        (" 经度 ", "纬度\u3000"),
    ],
)
def test_detects_column_names(lon_name, lat_name):
    df = _ledger(lon_name, lat_name)
    assert coords.detect_lonlat_columns(df) == (lon_name, lat_name)


def test_exact_names_beat_qualified_and_xy():
    df = _ledger("lng", "lat").assign(x=1.0, y=2.0, 高德经度=0.0, 高德纬度=0.0, 经纬度="101.7,26.5")
    assert coords.detect_lonlat_columns(df) == ("lng", "lat")
    df2 = _ledger("高德经度", "高德纬度").assign(X=1.0, Y=2.0)
    assert coords.detect_lonlat_columns(df2) == ("高德经度", "高德纬度")


def test_ambiguous_and_missing_columns_are_input_errors():
    both = _ledger("经度(GCJ02)", "纬度(GCJ02)").assign(**{"经度(WGS84)": LON, "纬度(WGS84)": LAT})
    with pytest.raises(InputError, match=r"several longitude columns.*经度\(GCJ02\).*经度\(WGS84\).*lon_column"):
        coords.detect_lonlat_columns(both, source="台账.xlsx")
    assert coords.detect_lonlat_columns(both, lon_column="经度(WGS84)", lat_column="纬度(WGS84)") == (
        "经度(WGS84)",
        "纬度(WGS84)",
    )
    with pytest.raises(InputError, match=r"Cannot find a latitude column in 台账\.xlsx .*名称, 经度, 地址"):
        coords.detect_lonlat_columns(pd.DataFrame({"名称": [], "经度": [], "地址": []}), source="台账.xlsx")
    with pytest.raises(InputError, match=r"no column 'lon' \(lon_column\)"):
        coords.detect_lonlat_columns(_ledger(), lon_column="lon")


def test_coord_system_hints():
    assert coords.coord_system_hint("经度(GCJ02)") == "gcj02"
    assert coords.coord_system_hint("高德经度") == "gcj02"
    assert coords.coord_system_hint("bd_lng") == "bd09"
    assert coords.coord_system_hint("百度纬度") == "bd09"
    assert coords.coord_system_hint("LNG_WGS84") == "wgs84"
    assert coords.coord_system_hint("经度") is None
    assert coords.coord_system_hint("lon") is None


def test_clean_ledger_passes():
    check = coords.check_lonlat(_ledger(), "经度", "纬度")
    assert not check.swapped and check.share_in_china == 1.0
    assert check.swapped_rows == () and check.outside_china_rows == () and check.message == ""


def test_swapped_columns_in_china_raise_naming_columns():
    df = _ledger(lon=LAT, lat=LON)  # 经度 holds latitudes
    with pytest.raises(InputError, match=r"'经度' and '纬度' of 台账\.csv look swapped: '经度' holds 26\.55"):
        coords.check_lonlat(df, "经度", "纬度", source="台账.csv")


def test_swapped_columns_warn_mode(caplog):
    df = _ledger(lon=LAT, lat=LON)
    with caplog.at_level(logging.WARNING, logger="lifecircle.geo.inputs.coords"):
        check = coords.check_lonlat(df, "经度", "纬度", on_swap="warn")
    assert check.swapped and check.share_in_china == 1.0
    assert "look swapped" in caplog.text and "'经度'" in caplog.text


def test_swapped_outside_china_by_latitude_range():
    # Phoenix, Arizona: lat column holding -112 cannot be a latitude
    df = pd.DataFrame({"lon": [33.45, 33.50, 33.42], "lat": [-112.07, -112.10, -111.95]})
    with pytest.raises(InputError, match="look swapped"):
        coords.check_lonlat(df, "lon", "lat")
    ok = pd.DataFrame({"lon": [-112.07, -112.10], "lat": [33.45, 33.50]})
    assert not coords.check_lonlat(ok, "lon", "lat").swapped


def test_single_swapped_and_stray_rows_are_reported(caplog):
    lon, lat = list(LON), list(LAT)
    lon[1], lat[1] = lat[1], lon[1]  # one row typed the wrong way round
    lon[2] = 10.173456  # a dropped digit
    df = _ledger(lon=lon, lat=lat)
    with pytest.raises(InputError, match="rows S1 have longitude and latitude the wrong way round"):
        coords.check_lonlat(df, "经度", "纬度", source="台账")
    with caplog.at_level(logging.WARNING, logger="lifecircle.geo.inputs.coords"):
        check = coords.check_lonlat(df, "经度", "纬度", source="台账", on_swap="warn")
    assert not check.swapped
    assert check.swapped_rows == ("S1",) and check.outside_china_rows == ("S2",)
    assert "S1" in caplog.text and "S2" in caplog.text
    pts = coords.points_from_table(df, on_swap="fix")
    assert pts.geometry.x["S1"] == LON[1] and pts.geometry.y["S1"] == LAT[1]
    assert pts.geometry.x["S2"] == pytest.approx(10.173456)  # reported, not invented


def test_out_of_range_rows_name_the_rows():
    df = _ledger(lat=[LAT[0], 126.5, 95.0, *LAT[3:]])  # 126.5 with lon 101.7 is not a swap in China
    with pytest.raises(InputError, match=r"out of range.*rows S1, S2"):
        coords.check_lonlat(df, "经度", "纬度", on_swap="warn")


def test_projected_metres_and_text_values_are_input_errors():
    utm = pd.DataFrame({"X": [500123.4, 501234.5], "Y": [2937123.4, 2938234.5]})
    with pytest.raises(InputError, match=r"not degrees.*CRS"):
        coords.check_lonlat(utm, "X", "Y")
    text = _ledger().astype({"经度": object})
    text.loc["S3", "经度"] = "东经116度"
    with pytest.raises(InputError, match=r"'经度'.*1 value\(s\).*row 'S3': '东经116度'"):
        coords.check_lonlat(text, "经度", "纬度")
    empty = _ledger(lon=[np.nan] * 5)
    with pytest.raises(InputError, match="no row with both"):
        coords.check_lonlat(empty, "经度", "纬度")


def test_points_from_table_keeps_index_and_columns():
    df = _ledger("经度(GCJ02)", "纬度(GCJ02)").astype({"经度(GCJ02)": str})  # numbers stored as text
    before = df.copy()
    pts = coords.points_from_table(df, source="台账")
    pd.testing.assert_frame_equal(df, before)
    assert pts.crs.to_epsg() == 4326 and list(pts.index) == list(df.index)
    assert pts.index.name == "service_id" and "名称" in pts.columns
    np.testing.assert_allclose(pts.geometry.x, LON)
    np.testing.assert_allclose(pts.geometry.y, LAT)


def test_points_from_table_fix_and_missing():
    df = _ledger(lon=LAT, lat=LON)
    with pytest.raises(InputError, match="look swapped"):
        coords.points_from_table(df)
    fixed = coords.points_from_table(df, on_swap="fix")
    np.testing.assert_allclose(fixed.geometry.x, LON)
    holes = _ledger(lat=[LAT[0], np.nan, *LAT[2:]])
    with pytest.raises(InputError, match=r"1 row\(s\) without coordinates \(rows S1\)"):
        coords.points_from_table(holes)
    dropped = coords.points_from_table(holes, missing="drop")
    assert list(dropped.index) == ["S0", "S2", "S3", "S4"]


def test_real_boundary_vertices_as_ledger():
    path = _SHARED / "boundaries" / "510402_dongqu_wgs84_from_gcj02.geojson"
    if not path.exists():
        pytest.skip(f"shared test data {path} is absent")
    gpd = pytest.importorskip("geopandas")
    xy = shapely.get_coordinates(gpd.read_file(path).geometry.to_numpy())
    df = pd.DataFrame({"纬度": xy[:, 0], "经度": xy[:, 1]})  # header names swapped over the values
    with pytest.raises(InputError, match=r"'经度' holds 26.*'纬度' holds 101"):
        coords.points_from_table(df)
    pts = coords.points_from_table(df, on_swap="fix")
    assert pts.total_bounds[0] > 101.5 and pts.total_bounds[1] > 26.4
