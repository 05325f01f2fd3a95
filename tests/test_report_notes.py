"""Every data-quality and siting note lifecircle writes reads in Chinese in a Chinese report.

The notes are made by the real readers, the analysis and the siting planner from flawed inputs (not typed in
here), so a reworded note that the Chinese table no longer knows makes this test fail.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from conftest import METRIC_CRS, make_graph, points, squares

from lifecircle.geo.inputs.layers import read_compounds, read_services
from lifecircle.geo.validate import quality_notes
from lifecircle.planning.analysis import analyze
from lifecircle.planning.report import write_report
from lifecircle.planning.report_notes import note_in
from lifecircle.planning.siting.options import SitingOptions
from lifecircle.planning.siting.planner import plan_sites

_FILE = re.compile(r"[\w.-]+\.(?:geojson|csv|gpkg|shp|xlsx)|--[\w-]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH = re.compile(r"\b(?:features|rows|compounds|services|candidates|street|walkable|unreachable|were|are)\b")


def _assert_chinese(notes):
    assert notes
    for note in notes:
        zh = note_in(note, "zh")
        words = _FILE.sub("", zh)  # file names and command-line options stay as they are
        assert zh != note and _CJK.search(zh) and not _ENGLISH.search(words), (note, zh)
        assert note_in(note, "en") == note


@pytest.fixture
def flawed_layers(tmp_path):
    bowtie = shapely.Polygon([(116.30, 39.99), (116.31, 40.00), (116.31, 39.99), (116.30, 40.00)])
    compounds = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "name": ["甲", "乙", "丙"]},
        geometry=[shapely.box(116.32, 39.98, 116.321, 39.981), bowtie, None],
        crs=4326,
    )
    compounds.to_file(tmp_path / "compounds.geojson")
    pd.DataFrame(
        {"name": ["药店", "超市", "诊所"], "类别": ["药店", "", "诊所"], "经度": [116.33, 116.34, None],
         "纬度": [39.98, 39.99, None]}
    ).to_csv(tmp_path / "services.csv", index=False, encoding="utf-8")  # fmt: skip
    areas = gpd.GeoDataFrame(
        {"name": ["市场"], "category": ["市场"]}, geometry=[shapely.box(116.35, 39.98, 116.351, 39.981)], crs=4326
    )
    areas.to_file(tmp_path / "markets.geojson")
    return tmp_path


def test_reader_notes_read_in_chinese(flawed_layers):
    notes = [
        *quality_notes(read_compounds(flawed_layers / "compounds.geojson")),
        *quality_notes(read_services(flawed_layers / "services.csv")),
        *quality_notes(read_services(flawed_layers / "markets.geojson")),
    ]
    assert len(notes) >= 5  # no geometry, repaired polygon, rows without coordinates, no category, areas
    _assert_chinese(notes)


def test_network_and_siting_notes_read_in_chinese(tmp_path):
    G = make_graph({0: (0, 0), 1: (1000, 0)}, [(0, 1)])
    compounds = squares([(100, 30), (500, 30), (500, 5000)], ids=["A", "B", "far"], half_m=10, households=[1, 2, 3])
    services = points([(0, 5), (0, 4000)], ids=["s1", "lost"], category=["超市", "超市"])
    analysis = analyze(G, compounds, services, max_walk_min=3)
    network_notes = [n for n in analysis.summary["data_quality"] if "m from any walkable street" in n]
    assert len(network_notes) == 2  # the compound and the service off the network
    _assert_chinese(network_notes)
    candidates = points([(500, 10), (3000, 3000)], ids=["n1", "n2"], crs=METRIC_CRS)
    plan = plan_sites(G, compounds, services, options=SitingOptions(add=1), candidates=candidates)
    assert len(plan.summary["notes"]) >= 2  # a compound no candidate reaches (or set aside), a candidate dropped
    _assert_chinese(plan.summary["notes"])
    # in the report: the siting plan and its notes in words, no key of siting.json
    out = tmp_path / "out"
    out.mkdir()
    summary = {**analysis.summary, "lang": "zh"}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, default=str), encoding="utf-8")
    (out / "siting.json").write_text(json.dumps(plan.summary, ensure_ascii=False, default=str), encoding="utf-8")
    html_path, xlsx_path = write_report(out)
    html_text = html_path.read_text(encoding="utf-8")
    assert "选址模型" in html_text and "最大覆盖" in html_text and "已证明最优" in html_text
    assert "model_option" not in html_text and "1 个未覆盖小区步行 10 分钟内没有候选地址" in html_text
    assert "距最近的可步行道路超过 300 米，记为无法步行到达" in html_text
    book = openpyxl.load_workbook(xlsx_path)
    assert "选址方案" in book.sheetnames and book["数据质量提示"]["A2"].value.startswith("1 个小区距最近")
