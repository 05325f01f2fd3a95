"""Reading compounds and services from the files planners have, and the errors for bad ones."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.layers import read_branches, read_compounds, read_layer, read_services
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
    with pytest.raises(InputError, match="no longitude/latitude"):
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
    with pytest.raises(InputError, match="could not be read"):
        read_compounds(tmp_path / "junk.geojson")
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
