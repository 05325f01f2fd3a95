"""Reading compounds and services from the files planners have, and the errors for bad ones."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.inputs import chinese_crs
from lifecircle.geo.inputs.layers import COORD_SYSTEM_KEY, read_branches, read_compounds, read_layer, read_services
from lifecircle.geo.validate import quality_notes

LON, LAT = 116.30, 39.90


def _compounds_wgs84() -> gpd.GeoDataFrame:
    boxes = [shapely.box(LON + i * 0.002, LAT, LON + i * 0.002 + 0.001, LAT + 0.001) for i in range(3)]
    return gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "名称": ["阳光小区", "炳草岗小区", "金海湾"], "户数": [300, 120, 80]},
        geometry=boxes,
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".parquet"])
def test_vector_formats(tmp_path, suffix):
    path = tmp_path / f"compounds{suffix}"
    gdf = _compounds_wgs84()
    if suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path, encoding="utf-8") if suffix == ".shp" else gdf.to_file(path)
    got = read_compounds(path)
    assert list(got.index) == ["A", "B", "C"] and got.index.name == "compound_id"
    assert list(got["name"]) == ["阳光小区", "炳草岗小区", "金海湾"]
    assert got.crs.to_epsg() == 4326
    if suffix in (".geojson", ".gpkg"):  # --encoding gbk given for a shapefile beside: UTF-8 formats ignore it
        assert list(read_compounds(path, encoding="gbk")["name"]) == ["阳光小区", "炳草岗小区", "金海湾"]


def test_gbk_shapefile_without_cpg(tmp_path):
    path = tmp_path / "gbk.shp"
    _compounds_wgs84().to_file(path, encoding="gbk")
    (tmp_path / "gbk.cpg").unlink(missing_ok=True)
    got = read_compounds(path, encoding="gbk")
    assert got.loc["B", "name"] == "炳草岗小区"


def test_csv_with_chinese_coordinate_columns(tmp_path):
    df = pd.DataFrame(
        {
            "编号": ["s1", "s2"],
            "名称": ["便民服务点", "卫生站"],
            "类别": ["便民", "医疗"],
            "经度": [LON, LON + 0.01],
            "纬度": [LAT, LAT],
        }
    )
    for encoding in ("utf-8", "utf-8-sig", "gbk"):
        path = tmp_path / f"services-{encoding}.csv"
        df.to_csv(path, index=False, encoding=encoding)
        with pytest.warns(UserWarning, match="WGS84"):
            got = read_services(path)
        assert list(got.index) == ["s1", "s2"]
        assert list(got["category"]) == ["便民", "医疗"]
        assert got.geometry.iloc[1].x == pytest.approx(LON + 0.01)


def test_xlsx_ledger(tmp_path):
    path = tmp_path / "ledger.xlsx"
    pd.DataFrame({"id": [1, 2], "name": ["a", "b"], "lng": [LON, LON], "lat": [LAT, LAT + 0.001]}).to_excel(
        path, index=False
    )
    got = read_services(path, crs="EPSG:4326")
    assert list(got.index) == ["1", "2"] and set(got["category"]) == {"service"}


def test_swapped_coordinates(tmp_path):
    path = tmp_path / "swapped.csv"
    pd.DataFrame({"lon": [LAT, LAT], "lat": [LON, LON + 1]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="swapped"):
        read_services(path)


def test_missing_coordinate_columns(tmp_path):
    path = tmp_path / "nocoords.csv"
    pd.DataFrame({"a": [1]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="longitude column"):
        read_services(path)


def test_missing_crs_projected_coordinates(tmp_path):
    path = tmp_path / "nocrs.geojson"
    gdf = _compounds_wgs84().to_crs(32650)
    gdf.to_file(path)
    text = path.read_text().replace('"crs"', '"crs_removed"')
    path.write_text(text)
    with pytest.raises(InputError, match="--crs"):
        read_compounds(path)
    got = read_compounds(path, crs="EPSG:32650")
    assert got.crs.to_epsg() == 32650


def test_bad_layers(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_compounds(tmp_path / "nothing.gpkg")
    pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(LON, LAT)], crs=4326)
    pts.to_file(tmp_path / "pts.geojson")
    with pytest.raises(InputError, match="compounds must be"):
        read_compounds(tmp_path / "pts.geojson")
    dup = _compounds_wgs84()
    dup.loc[2, "id"] = "A"
    dup.to_file(tmp_path / "dup.geojson")
    with pytest.raises(InputError, match="duplicate ids"):
        read_compounds(tmp_path / "dup.geojson")
    _compounds_wgs84().iloc[:0].to_file(tmp_path / "empty.gpkg")
    with pytest.raises(InputError, match="empty"):
        read_compounds(tmp_path / "empty.gpkg")
    (tmp_path / "junk.geojson").write_text("{not json")
    with pytest.raises(InputError, match=r"junk\.geojson is not a readable \.geojson file: it is empty, damaged"):
        read_compounds(tmp_path / "junk.geojson")
    (tmp_path / "zero.gpkg").write_bytes(b"")
    with pytest.raises(InputError, match=r"zero\.gpkg is not a readable \.gpkg file"):
        read_compounds(tmp_path / "zero.gpkg")
    (tmp_path / "zero.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match="is not an Excel workbook"):
        read_services(tmp_path / "zero.xlsx")
    (tmp_path / "x.dwg").write_text("x")
    with pytest.raises(InputError, match="unknown file format"):
        read_layer(tmp_path / "x.dwg")
    with pytest.raises(InputError, match="no column 'code'"):
        read_compounds(tmp_path / "dup.geojson", id_column="code")


def test_invalid_polygon_repaired_and_noted(tmp_path):
    bowtie = shapely.Polygon([(LON, LAT), (LON + 0.001, LAT + 0.001), (LON + 0.001, LAT), (LON, LAT + 0.001)])
    gdf = _compounds_wgs84()
    gdf.loc[1, "geometry"] = bowtie
    gdf.to_file(tmp_path / "bowtie.geojson")
    got = read_compounds(tmp_path / "bowtie.geojson")
    assert got.geometry.is_valid.all()
    assert got.loc["B"].geometry.area > 0
    notes = quality_notes(got)
    assert any("repaired" in n and "B" in n for n in notes)


def test_polygon_services_become_points(tmp_path):
    _compounds_wgs84().to_file(tmp_path / "areas.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = read_branches(tmp_path / "areas.geojson")
    assert (got.geom_type == "Point").all()
    assert any("point inside" in n for n in quality_notes(got))


# ---- Chinese data realities: encodings, coordinate systems, swapped columns --------------------------------


def test_gbk_shapefile_detected_without_cpg_or_encoding(tmp_path):
    path = tmp_path / "gbk.shp"
    _compounds_wgs84().to_file(path, encoding="gbk")
    for sidecar in tmp_path.glob("gbk.cpg"):
        sidecar.unlink()
    got = read_compounds(path)
    assert list(got["name"]) == ["阳光小区", "炳草岗小区", "金海湾"]


def _ledger(lon, lat, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {"编号": ["s1", "s2", "s3"], "名称": ["便民服务点", "超市", "卫生站"], "经度": lon, "纬度": lat, **extra}
    )


WGS_LON = np.array([116.3500, 116.3561, 116.3620])
WGS_LAT = np.array([39.9900, 39.9952, 40.0010])


@pytest.mark.parametrize(
    ("system", "forward"),
    [("gcj02", chinese_crs.wgs84_to_gcj02), ("bd09", chinese_crs.wgs84_to_bd09), ("amap", chinese_crs.wgs84_to_gcj02)],
)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_declared_chinese_systems_are_converted_to_wgs84(tmp_path, system, forward, suffix):
    lon, lat = forward(WGS_LON, WGS_LAT)
    assert np.hypot(lon - WGS_LON, lat - WGS_LAT).min() > 1e-3  # really shifted (hundreds of metres)
    path = tmp_path / f"ledger{suffix}"
    df = _ledger(lon, lat)
    df.to_csv(path, index=False, encoding="gbk") if suffix == ".csv" else df.to_excel(path, index=False)
    got = read_services(path, coord_system=system)
    assert got.crs.to_epsg() == 4326
    assert got.attrs[COORD_SYSTEM_KEY] == chinese_crs.normalize_coord_system(system)
    assert np.allclose(got.geometry.x, WGS_LON, atol=1e-7) and np.allclose(got.geometry.y, WGS_LAT, atol=1e-7)
    assert list(got["name"]) == ["便民服务点", "超市", "卫生站"]


def test_gcj02_polygons_converted(tmp_path):
    wgs = _compounds_wgs84()
    gcj = chinese_crs.from_wgs84(wgs, "gcj02")
    gcj.to_file(tmp_path / "gcj.geojson")
    got = read_compounds(tmp_path / "gcj.geojson", coord_system="gcj02")
    back = got.geometry.to_crs(32650).reset_index(drop=True)
    offset = back.centroid.distance(wgs.geometry.to_crs(32650).centroid)
    assert offset.max() < 0.01  # metres
    assert (
        chinese_crs.from_wgs84(got, "gcj02")
        .geometry.reset_index(drop=True)
        .geom_equals_exact(gcj.geometry, tolerance=1e-9)
        .all()
    )


def test_cgcs2000_relabelled_and_wgs84_untouched(tmp_path):
    wgs = _compounds_wgs84()
    wgs.set_crs(4490, allow_override=True).to_file(tmp_path / "cgcs.gpkg")
    got = read_compounds(tmp_path / "cgcs.gpkg", coord_system="cgcs2000")
    assert got.crs.to_epsg() == 4326 and got.attrs[COORD_SYSTEM_KEY] == "cgcs2000"
    assert np.allclose(got.geometry.bounds.to_numpy(), wgs.geometry.bounds.to_numpy())
    wgs.to_file(tmp_path / "wgs.gpkg")
    plain = read_compounds(tmp_path / "wgs.gpkg")
    assert plain.attrs[COORD_SYSTEM_KEY] == "wgs84"
    assert np.allclose(plain.geometry.bounds.to_numpy(), wgs.geometry.bounds.to_numpy())
    with pytest.raises(InputError, match="Unknown coordinate system"):
        read_compounds(tmp_path / "wgs.gpkg", coord_system="beijing54")


def test_column_names_hint_the_system(tmp_path):
    lon, lat = chinese_crs.wgs84_to_gcj02(WGS_LON, WGS_LAT)
    df = pd.DataFrame({"id": ["a", "b", "c"], "高德经度": lon, "高德纬度": lat})
    df.to_csv(tmp_path / "amap.csv", index=False)
    got = read_services(tmp_path / "amap.csv")  # no declaration: the column names say GCJ-02
    assert got.attrs[COORD_SYSTEM_KEY] == "gcj02"
    assert np.allclose(got.geometry.x, WGS_LON, atol=1e-7)
    declared = read_services(tmp_path / "amap.csv", coord_system="wgs84")  # user insists: kept, but noted
    assert np.allclose(declared.geometry.x, lon)
    assert any("named for gcj02" in n for n in quality_notes(declared))


def test_swapped_columns_fixed_and_reported(tmp_path):
    path = tmp_path / "swapped.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "lng": WGS_LAT, "lat": WGS_LON}).to_csv(path, index=False)
    with pytest.raises(InputError, match="swapped"):
        read_services(path, coord_system="wgs84")
    got = read_services(path, coord_system="wgs84", on_swap="fix")
    assert np.allclose(got.geometry.x, WGS_LON) and np.allclose(got.geometry.y, WGS_LAT)
    assert any("swapped" in n for n in quality_notes(got))


def test_ledger_title_row_and_missing_coordinates(tmp_path):
    path = tmp_path / "ledger.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["学院路街道便民服务点台账"])
    sheet.append(["序号", "名称", "类别", "经度", "纬度"])
    sheet.append([1, "甲超市", "超市", WGS_LON[0], WGS_LAT[0]])
    sheet.append([2, "乙便民点", "便民服务点", None, None])
    sheet.append([3, "丙卫生站", "卫生站", WGS_LON[2], WGS_LAT[2]])
    book.save(path)
    got = read_services(path, coord_system="wgs84")
    assert list(got.index) == ["1", "3"] and list(got["category"]) == ["超市", "卫生站"]
    assert any("1 rows without coordinates" in n for n in quality_notes(got))


def test_row_numbers_in_messages_are_those_a_spreadsheet_shows(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["学院路街道便民服务点台账"])  # row 1: title; row 2: header; data from row 3
    sheet.append(["名称", "经度", "纬度"])
    sheet.append(["甲超市", WGS_LON[0], WGS_LAT[0]])
    sheet.append(["乙便民点", "东经116度", WGS_LAT[1]])
    book.save(tmp_path / "ledger.xlsx")
    with pytest.raises(InputError, match=r"row 4: '东经116度'"):
        read_services(tmp_path / "ledger.xlsx", coord_system="wgs84")
    pd.DataFrame({"名称": ["甲", "乙"], "经度": ["东经116度", WGS_LON[1]], "纬度": WGS_LAT[:2]}).to_csv(
        tmp_path / "ledger.csv", index=False
    )
    with pytest.raises(InputError, match=r"row 2: '东经116度'"):  # the first line under the header
        read_services(tmp_path / "ledger.csv", coord_system="wgs84")


def test_reserved_and_blank_categories(tmp_path):
    path = tmp_path / "svc.csv"
    df = pd.DataFrame({"id": ["a", "b", "c"], "category": ["shop", "", None], "lon": [LON] * 3, "lat": [LAT] * 3})
    df.to_csv(path, index=False)
    got = read_services(path, crs="EPSG:4326")
    assert list(got["category"]) == ["shop", "uncategorised", "uncategorised"]
    assert any("2 services have no category" in n for n in quality_notes(got))
    df.assign(category=["shop", " All ", "x"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"'all'.*rename"):
        read_services(path, crs="EPSG:4326")


def test_layer_without_any_geometry(tmp_path):
    gdf = _compounds_wgs84()
    gdf["geometry"] = None
    gdf.to_file(tmp_path / "null.gpkg")
    with pytest.raises(InputError, match="no feature has a geometry"):
        read_compounds(tmp_path / "null.gpkg")
