"""Issue 16's closing check, at the command line on a real district (Wudaokou, Beijing, where the old shift check
cried "GCJ-02"): a GBK shapefile of compounds set back 8 m from the street centrelines, an XLSX service ledger in
GCJ-02 under a title row, and a branch list by compound name with near-variants and one unknown name."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from lifecircle.geo.inputs.chinese_crs import wgs84_to_gcj02
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.planning.cli import main


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    ox = pytest.importorskip("osmnx")
    osm = shared_file("osm/beijing_haidian_wudaokou_tsinghua.osm.bz2")
    folder = tmp_path_factory.mktemp("wudaokou")
    net = prepare_network(network_from_osm(osm))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.unary_union(net.segment_lines))))
    blocks = gpd.GeoSeries(faces, crs=net.crs)
    blocks = blocks[(blocks.area > 10_000) & (blocks.area < 500_000)].reset_index(drop=True)
    compounds = gpd.GeoDataFrame(
        {"名称": [f"学府{i + 1}号院" for i in range(len(blocks))], "户数": np.arange(len(blocks)) * 10 + 200},
        geometry=blocks.buffer(-8.0),
        crs=net.crs,
    ).to_crs("EPSG:4326")
    compounds.to_file(folder / "xiaoqu.shp", encoding="gb18030")  # GBK, no .cpg
    (folder / "xiaoqu.cpg").unlink(missing_ok=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = ox.features_from_xml(osm, tags={"amenity": ["restaurant", "cafe", "bank", "pharmacy", "clinic"]})
    pts = shapely.point_on_surface(feats.geometry.to_numpy())
    lon, lat = wgs84_to_gcj02(shapely.get_x(pts), shapely.get_y(pts))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["五道口街道便民服务点台账"])
    sheet.append(["名称", "类别", "高德经度", "高德纬度"])
    for name, kind, x, y in zip(
        feats.get("name", pd.Series(index=feats.index)), feats["amenity"], lon, lat, strict=True
    ):
        sheet.append([name if isinstance(name, str) else kind, kind, float(x), float(y)])
    book.save(folder / "fuwu_taizhang.xlsx")

    branches = pd.DataFrame(
        {
            "支部名称": ["一支部", "二支部", "三支部", "四支部", "五支部"],
            "所在小区": ["学府1号院", "学府2号院小区", " 学府３号院 ", "（学府4号院）", "不存在花园"],
        }
    )
    branches.to_excel(folder / "zhibu_mingdan.xlsx", index=False)
    return osm, folder, len(compounds)


@pytest.mark.slow
@pytest.mark.shared
def test_held_out_district_gives_no_false_alarm_and_names_the_unknown_branch(district, tmp_path):
    osm, folder, n = district
    out = tmp_path / "out"
    argv = ["analyze", "--network", str(osm), "--compounds", str(folder / "xiaoqu.shp")]
    argv += ["--services", str(folder / "fuwu_taizhang.xlsx"), "--branches", str(folder / "zhibu_mingdan.xlsx")]
    assert main([*argv, "--out", str(out), "--lang", "zh"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["coordinate_checks"]["compounds"]["suspected"] is None
    assert not any("shifted" in note for note in summary["data_quality"])
    assert summary["compounds_without_branch"] == n - 4  # every listed branch matched but the unknown one
    assert any("不存在花园" in note for note in summary["data_quality"])
    assert "不存在花园" in (out / "report.html").read_text(encoding="utf-8")
