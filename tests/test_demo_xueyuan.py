"""The Chinese demo: its office files round-trip through the public loaders, match the OSM extract they were made
from, are what ``scripts/build_demo_data.py`` makes, and ``lifecircle demo`` runs on them in Chinese."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely
from osmium.geom import WKBFactory

from lifecircle.data.demo import XUEYUAN_DIR, XUEYUAN_EXTRACT, xueyuan_inputs
from lifecircle.geo.inputs.encoding import shapefile_encoding
from lifecircle.geo.inputs.hours import parse_hours
from lifecircle.geo.inputs.layers import read_compounds, read_services
from lifecircle.planning.console import _width as display_width
from lifecircle.planning.console import format_summary

REPO = Path(__file__).resolve().parents[1]
OFFICE_CATEGORIES = {"社区服务中心", "便民服务点", "医疗卫生", "养老服务", "托育/幼儿园"}
EARTH_M_PER_DEG = 111_320.0


def _osm_features(ids: set[str]) -> dict[str, tuple[str | None, shapely.Geometry]]:
    """Name and geometry (areas as areas, nodes as points) of the given OSM ids, read independently with osmium."""
    wkb = WKBFactory()
    found = {}
    for obj in osmium.FileProcessor(str(XUEYUAN_EXTRACT)).with_areas():
        if obj.is_node():
            key, make = f"n{obj.id}", lambda o: shapely.Point(o.location.lon, o.location.lat)
        elif obj.is_area():
            key, make = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}", None
        else:
            continue
        if key in ids:
            geom = make(obj) if make else shapely.from_wkb(wkb.create_multipolygon(obj))
            found[key] = (obj.tags.get("name"), geom)
    return found


def _metres(a: shapely.Point, b: shapely.Point) -> float:
    dx = (a.x - b.x) * EARTH_M_PER_DEG * np.cos(np.radians(a.y))
    return float(np.hypot(dx, (a.y - b.y) * EARTH_M_PER_DEG))


def test_shipped_files_are_small_and_complete():
    inputs = xueyuan_inputs()
    shipped = [XUEYUAN_EXTRACT, *XUEYUAN_DIR.iterdir()]
    assert sum(p.stat().st_size for p in shipped) <= 2 * 1024 * 1024
    assert not (XUEYUAN_DIR / "xiaoqu.cpg").exists()  # an office's GBK shapefile: nothing says the encoding
    assert inputs.compounds.with_suffix(".dbf").exists()


def test_gbk_shapefile_names_intact():
    dbf = (XUEYUAN_DIR / "xiaoqu.dbf").read_bytes()
    assert "富润家园".encode("gbk") in dbf and "富润家园".encode() not in dbf
    assert shapefile_encoding(XUEYUAN_DIR / "xiaoqu.shp") in {"GB18030", "GBK"}
    compounds = read_compounds(xueyuan_inputs().compounds)
    assert len(compounds) == 10 and list(compounds.index) == [f"XQ{i:02d}" for i in range(1, 11)]
    osm = _osm_features(set(compounds["OSM"]))
    for cid, row in compounds.iterrows():
        name, geom = osm[row["OSM"]]
        assert row["name"] == (name or "未命名小区（近学清路）"), cid
        assert shapely.hausdorff_distance(row.geometry, geom) < 1e-7, cid  # same outline (within 1 cm)
    assert set(compounds["街道"]) == {"学院路街道"} and compounds["社区"].str.endswith("社区").all()
    assert compounds["户数"].dtype.kind == "i" and (compounds["户数"] > 0).all()


def test_ledger_title_row_skipped_and_gcj02_back_within_1m():
    services = read_services(xueyuan_inputs().services)
    raw = pd.read_excel(XUEYUAN_DIR / "fuwu_taizhang.xlsx", header=None)
    assert raw.iloc[0, 1:].isna().all() and "台账" in str(raw.iloc[0, 0])  # a title row above the header
    assert list(services.index) == [str(i) for i in range(1, len(raw) - 1)]  # every data row, ids from 序号
    assert services.attrs["lifecircle_coord_system"] == "gcj02" and services.crs.to_epsg() == 4326
    assert set(services["category"]) <= OFFICE_CATEGORIES
    assert {"便民服务点", "医疗卫生", "托育/幼儿园", "社区服务中心"} <= set(services["category"])
    ids = services["数据来源"].str.removeprefix("OSM ")
    osm = _osm_features(set(ids))
    assert len(osm) == len(services)
    worst = 0.0
    for sid, osm_id in ids.items():
        name, geom = osm[osm_id]
        expected = geom if geom.geom_type == "Point" else geom.representative_point()
        worst = max(worst, _metres(services.geometry[sid], expected))
        if name:
            assert services.loc[sid, "name"] == name
    assert worst < 1.0
    raw_lon = pd.to_numeric(raw.iloc[2:, 3]).to_numpy()
    # the ledger really holds GCJ-02: hundreds of metres from the WGS84 positions in Beijing
    assert np.all(np.abs(raw_lon - services.geometry.x.to_numpy()) * EARTH_M_PER_DEG * 0.77 > 300)
    hours = services["营业时间"]
    assert hours.notna().all() and services.loc[services["name"] == "石科院小卖部", "营业时间"].tolist() == [
        "周一至周六 08:00-18:00"  # OSM: Mo-Sa 08:00-18:00; the others illustrative, in the forms ledgers use
    ]
    understood = hours.map(lambda text: parse_hours(text) is not None)
    assert hours[~understood].tolist() == ["以门店公告为准"]  # one text that is not a time: hours unknown
    assert {"24小时", "全天", "工作日 9:00-17:00"} <= set(hours) and hours.str.contains("；").any()
    area = pd.to_numeric(services["建筑面积"])
    assert area.notna().all() and (area > 0).all()  # the capacity column (m²)


@pytest.mark.slow
def test_builder_script_makes_the_shipped_files(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_demo_data.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("xiaoqu.shp", "fuwu_taizhang.xlsx", "zhibu_mingdan.xlsx"):
        rebuilt, shipped = tmp_path / name, XUEYUAN_DIR / name
        if name.endswith(".shp"):
            assert (tmp_path / "xiaoqu.dbf").read_bytes() == (XUEYUAN_DIR / "xiaoqu.dbf").read_bytes()
            assert rebuilt.read_bytes() == shipped.read_bytes()
        else:
            pd.testing.assert_frame_equal(pd.read_excel(rebuilt, header=None), pd.read_excel(shipped, header=None))


def test_branch_list_spellings():
    table = pd.read_excel(XUEYUAN_DIR / "zhibu_mingdan.xlsx", header=1)
    assert list(table.columns) == ["序号", "支部名称", "所在小区"]
    compounds = set(read_compounds(xueyuan_inputs().compounds)["name"])
    named = set(table["所在小区"])
    assert {"清华东路２７号院", "静淑苑小区"} <= named  # near-variants the loader's normalisation must match
    assert named - compounds == {"清华东路２７号院", "静淑苑小区", "街道办事处机关"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "lifecircle", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path_factory.getbasetemp(),
    )
    assert proc.returncode == 0, proc.stderr
    return proc, out


@pytest.mark.slow
def test_demo_runs_in_chinese(demo_run):
    proc, out = demo_run
    assert "全部服务" in proc.stdout and "医疗卫生" in proc.stdout and "结果已写入" in proc.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["compounds"] == 10 and summary.get("lang") == "zh"
    assert set(summary["categories"]) - {"all"} == {"便民服务点", "医疗卫生", "托育/幼儿园", "社区服务中心"}
    assert summary["coord_systems"]["services"] == "gcj02" and summary["coord_systems"]["compounds"] == "wgs84"
    for name in ("map.html", "report.html", "report.xlsx", "coverage.csv"):
        assert (out / name).stat().st_size > 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "OpenStreetMap" in page and "富润家园" in page
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "医疗卫生" in report and "OpenStreetMap" in report and "ODbL" in report  # the data credited
    coverage = pd.read_csv(out / "coverage.csv")
    assert set(coverage["compound_id"]) == {f"XQ{i:02d}" for i in range(1, 11)}


@pytest.mark.slow
def test_chinese_summary_aligns_cjk(demo_run):
    summary = json.loads((demo_run[1] / "summary.json").read_text(encoding="utf-8"))
    text = format_summary(summary, lang="zh")
    lines = text.splitlines()
    assert lines[0].startswith("10 个小区，步行 10 分钟")
    table = [line for line in lines[2:] if line and "%" in line]
    assert table[0].startswith("全部服务")
    assert len({display_width(line) for line in [lines[2], *table]}) == 1  # every row as wide on a terminal
    english = format_summary(summary, lang="en")
    assert english.splitlines()[3].startswith("all ")


def test_demo_branches_matched_by_name_except_the_unknown(demo_run):
    _, out = demo_run
    compounds = gpd.read_file(out / "compounds.gpkg").set_index("compound_id")
    with_branch = set(compounds.index[compounds["has_branch"].astype(bool)])
    # the seven compounds the list names, two of them spelled 清华东路２７号院 and 静淑苑小区
    assert set(compounds.loc[sorted(with_branch), "name"]) == {
        "富润家园",
        "石科院生活区",
        "农大小区-北区",
        "清华东路27号院",
        "静淑苑",
        "中建壹品·学府公馆",
        "双泉嘉苑",
    }
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["compounds_without_branch"] == 3
    unmatched = [n for n in summary["data_quality"] if "zhibu_mingdan.xlsx" in n]
    assert len(unmatched) == 1 and "街道办事处机关" in unmatched[0] and "静淑苑" not in unmatched[0]


@pytest.mark.slow
def test_demo_equals_analyze_on_the_same_files(demo_run, tmp_path):
    """No shortcut: ``lifecircle analyze`` on the shipped files, as a user would type it, gives the demo's answers."""
    _, out = demo_run
    files = xueyuan_inputs()
    paths = [files.network, files.compounds, files.services, files.branches, tmp_path / "analyze", "2sfca", "建筑面积"]
    flags = ["--network", "--compounds", "--services", "--branches", "--out", "--adequacy", "--capacity-column"]
    args = [*(str(a) for pair in zip(flags, paths, strict=True) for a in pair), "--buildings-from-osm"]
    proc = subprocess.run(
        [sys.executable, "-m", "lifecircle", "-q", "analyze", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("coverage.csv", "adequacy.csv", "coverage_hours.csv", "buildings.csv"):
        assert (tmp_path / "analyze" / name).read_bytes() == (out / name).read_bytes(), name
    mine, theirs = (json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in (tmp_path / "analyze", out))
    assert mine["compounds_without_branch"] == theirs["compounds_without_branch"] == 3
    assert mine["categories"] == theirs["categories"]
