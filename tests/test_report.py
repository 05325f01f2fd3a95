"""report.html and report.xlsx: numbers, tables per street, standard compliance, escaping, siting plan, CLI."""

from __future__ import annotations

import base64
import json
import re

import openpyxl
import pandas as pd
import pytest
from conftest import make_graph, points, squares

from lifecircle.errors import InputError
from lifecircle.planning.analysis import analyze
from lifecircle.planning.cli import main
from lifecircle.planning.jobs.analyze import write_analysis
from lifecircle.planning.options import MapOptions
from lifecircle.planning.report import REPORT_LABELS, regenerate_report, write_report
from lifecircle.planning.standards import load_standard

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def analysed(tmp_path):
    G = make_graph({0: (0, 0), 1: (1000, 0), 2: (2000, 0)}, [(0, 1), (1, 2)])
    compounds = squares(
        [(100, 30), (1900, 30), (1000, 30), (500, 30)],
        ids=["A", "B", "C", "D"],
        half_m=20,
        households=[100, 300, 50, 200],
        街道=["学院路街道", "学院路街道", XSS, XSS],
        社区=["一社区", "二社区", "二社区", "二社区"],
    )
    compounds.loc["C", "name"] = XSS
    services = points([(0, 5), (2000, 5)], ids=["s1", "s2"], category=["幼儿园", "卫生站"])
    analysis = analyze(
        G,
        compounds,
        services,
        max_walk_min=10,
        category_max_walk_min={"卫生站": 15},
        standard=load_standard("gb50180-5"),
    )
    out = tmp_path / "out"
    write_analysis(analysis, out, inputs={}, map_options=MapOptions(lang="zh"))
    return analysis, out


@pytest.mark.slow
def test_report_numbers_tables_and_escaping(analysed):
    analysis, out = analysed
    html = (out / "report.html").read_text(encoding="utf-8")
    # headline: A, B, D within 10 minutes of a service (135, 135, 535 m), C is 1035 m away
    assert "3 (75.0%)" in html and "650" in html  # compounds covered (share), households
    assert XSS not in html and html.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") >= 2
    assert REPORT_LABELS["rollup_street"]["zh"] in html and "学院路街道" in html
    # the map travels inside the report (no iframe to the neighbouring file)
    assert 'src="map.html"' not in html and '<iframe id="lc-map"' in html and "srcdoc=" in html
    assert "全部服务" in html and "75.0%" in html  # the category "all" and shares in words
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    # standard: kindergarten (幼儿园) within 300 m only for A (135 m); the rest of the checklist is not mapped
    assert "GB 50180-2018" in html
    comp = pd.read_csv(out / "compliance.csv", encoding="utf-8-sig", keep_default_na=False).set_index("compound_id")
    assert "kindergarten" not in comp.loc["A", "missing"].split("; ")
    assert all("kindergarten" in comp.loc[c, "missing"].split("; ") for c in "BCD")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["standard"]["missing_counts"]["kindergarten"] == 3
    assert summary["standard"]["category_map"] == {"kindergarten": ["幼儿园"]}
    assert analysis.compounds.loc["D", "standard_compliant"] == False  # noqa: E712


def _rows(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows()]


@pytest.mark.slow
def test_workbook_is_in_chinese_with_named_compounds_and_percent_cells(analysed):
    _, out = analysed
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames == ["小区清单", "分类覆盖", "小区状态", "分街道统计", "分社区统计", "规划标准", "标准核查",
                               "参数", "数据版本", "数据质量提示", "说明"]  # fmt: skip
    compounds = book["小区清单"]
    head = [c.value for c in compounds[1]]
    assert head[:6] == ["编号", "名称", "街道", "社区", "户数", "状态"]
    assert head[6:9] == ["全部服务步行（分钟）", "全部服务是否覆盖（10 分钟）", "全部服务最近设施"]
    assert {"幼儿园步行（分钟）", "幼儿园是否覆盖（10 分钟）", "幼儿园最近设施", "卫生站最近设施"} <= set(head)
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in _rows(compounds)[1:]}
    # walks on the line network: A-s1 135 m (1.8 min), C 1035 m from both (13.8 min)
    assert rows["A"]["全部服务步行（分钟）"] == pytest.approx(1.8) and rows["A"]["全部服务是否覆盖（10 分钟）"] == "是"
    assert rows["A"]["状态"] == "已覆盖" and rows["A"]["户数"] == 100 and rows["A"]["幼儿园最近设施"] == "s1"
    assert (
        rows["C"]["状态"] == "无服务" and rows["C"]["全部服务是否覆盖（10 分钟）"] == "否" and rows["C"]["名称"] == XSS
    )
    assert rows["C"]["卫生站是否覆盖（15 分钟）"] == "是"  # 1035 m: within the clinics' own 15 minutes
    assert compounds.freeze_panes == "C2" and compounds.auto_filter.ref == "A1:O5"
    assert compounds.cell(2, 7).number_format == "0.0" and compounds.cell(2, 5).number_format == "#,##0"
    name_col = compounds.column_dimensions["B"].width
    assert name_col >= len(XSS) and compounds.column_dimensions["C"].width >= 2 * len("学院路街道")
    # shares are percentage cells holding fractions
    cats = book["分类覆盖"]
    assert [c.value for c in cats[1]][:4] == ["类别", "阈值（分钟）", "覆盖小区", "小区覆盖率"]
    assert cats["A2"].value == "全部服务" and cats["D2"].value == 0.75 and cats["D2"].number_format == "0.0%"
    limits = {r[0]: r[1] for r in _rows(cats)[1:]}
    assert limits == {"全部服务": 10, "卫生站": 15, "幼儿园": 10}
    street = {r[0]: r for r in _rows(book["分街道统计"])}
    assert street["街道"][:4] == ["街道", "小区数", "户数", "全部服务小区覆盖率"]
    assert street["学院路街道"][1:4] == [2, 400, 1] and street[XSS][3] == 0.5
    assert book["分街道统计"]["D2"].number_format == "0.0%" and book["分街道统计"].freeze_panes == "A2"
    statuses = [r[0] for r in _rows(book["小区状态"])]
    assert statuses[:5] == ["小区状态", "已覆盖", "无服务", "无支部", "两者皆无"]
    assert set(statuses[5:]) <= {"无法步行到达"}
    params = dict(_rows(book["参数"])[1:])
    assert params["步行阈值"] == "10 分钟（750 米）" and params["步行速度"] == "每小时 4.5 公里"
    assert params["出发点"] == "小区内一点"
    assert _rows(book["规划标准"])[1] == ["幼儿园", 3]
    compliance = {r[0]: r for r in _rows(book["标准核查"])}
    assert compliance["编号"][:4] == ["编号", "名称", "是否达标", "缺少的设施"]
    assert compliance["B"][2:4] == ["否", "幼儿园"]
    # no formula anywhere, even from a name such as <img ...>
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)


@pytest.mark.slow
def test_coverage_csv_names_compounds_and_services(analysed):
    _, out = analysed
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype=str).set_index(["compound_id", "category"])
    assert {"compound_name", "nearest_service_name"} <= set(table.columns)
    assert (
        table.loc[("C", "all"), "compound_name"] == XSS and table.loc[("A", "幼儿园"), "nearest_service_name"] == "s1"
    )
    assert table.loc[("A", "all"), "covered"] == "True"  # machine-readable columns stay as they were


@pytest.mark.slow
def test_regenerate_with_siting_plan_and_english(analysed, tmp_path):
    _, out = analysed
    pd.DataFrame({"site_id": ["N1"], "name": [XSS], "compounds_gained": [2]}).to_csv(
        out / "sites.csv", index=False, encoding="utf-8-sig"
    )
    (out / "siting.json").write_text(json.dumps({"solver": "highs", "new_sites": 1}), encoding="utf-8")
    assert main(["-q", "report", str(out), "--lang", "en"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert REPORT_LABELS["siting"]["en"] in html and "N1" in html and "highs" in html and XSS not in html
    assert REPORT_LABELS["headline"]["en"] in html
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames[:3] == ["Compounds", "Coverage by category", "Compound status"]
    assert "Siting plan" in book.sheetnames and book["Compounds"]["A1"].value == "Id"
    assert book["Coverage by category"]["A2"].value == "Any service"
    # a staged folder can read the siting plan from the final folder
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "summary.json").write_text((out / "summary.json").read_text(encoding="utf-8"), encoding="utf-8")
    (out / "map.html").rename(tmp_path / "map.html")
    write_report(stage, lang="zh", source_dirs=[out])
    staged = (stage / "report.html").read_text(encoding="utf-8")
    assert "N1" in staged and REPORT_LABELS["no_map"]["zh"] in staged


def test_report_errors(tmp_path):
    with pytest.raises(InputError, match=r"no summary\.json"):
        regenerate_report(tmp_path)
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "missing").exists()


@pytest.mark.slow
def test_report_of_an_incomplete_or_damaged_folder_is_refused(analysed, capsys):
    _, out = analysed
    before = (out / "report.html").read_bytes()
    coverage = out / "coverage.csv"
    good = coverage.read_bytes()
    coverage.write_text("compound_id,category\n", encoding="utf-8")  # truncated to a foreign table
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "coverage.csv has no column 'walk_min'" in err and "summary.json" not in err
    coverage.write_bytes(b'compound_id,category,walk_min,covered\n"A,all,1')  # cut in the middle of a quote
    assert main(["report", str(out)]) == 2
    assert "coverage.csv is damaged" in capsys.readouterr().err
    coverage.unlink()
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err  # the folder check or the report's own: either names the missing file
    assert "holds no coverage.csv" in err or "lacks coverage.csv" in err
    assert (out / "report.html").read_bytes() == before
    coverage.write_bytes(good)
    assert main(["-q", "report", str(out)]) == 0


@pytest.mark.slow
def test_report_of_a_hand_edited_summary_is_refused(analysed, capsys):
    _, out = analysed
    summary_path = out / "summary.json"
    good = json.loads(summary_path.read_text(encoding="utf-8"))
    for edited, problem in (
        ([1, 2], "must hold a JSON object"),
        ({**good, "parameters": {**good["parameters"], "max_walk_min": "ten"}}, "is not a summary lifecircle wrote"),
        ({**good, "categories": [1, 2]}, "is not a summary lifecircle wrote"),
    ):
        summary_path.write_text(json.dumps(edited), encoding="utf-8")
        assert main(["report", str(out)]) == 2
        err = capsys.readouterr().err
        assert problem in err and "Traceback" not in err


@pytest.mark.slow
def test_hostile_ids_and_names_stay_data_in_csv_and_workbook(tmp_path):
    hyperlink = '=HYPERLINK("http://evil.example","click")'
    G = make_graph({0: (0, 0), 1: (1000, 0)}, [(0, 1)])
    ids = ["=1+2", "00007", "@SUM(A1)", "NA"]
    compounds = squares([(100, 30), (900, 30), (500, 30), (300, 30)], ids=ids, half_m=20)
    compounds["name"] = [hyperlink, "-1+2", "+86 10 1234", "None"]
    services = points([(0, 5)], ids=["-s1"], category=["=cmd|' /C calc'!A0"])
    out = tmp_path / "out"
    write_analysis(analyze(G, compounds, services, max_walk_min=10), out, inputs={}, map_options=MapOptions(lang="en"))
    raw = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    cells = [*raw.to_numpy().ravel(), *raw.columns]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]  # nothing a spreadsheet would run
    assert "'=1+2" in set(raw["compound_id"]) and "00007" in set(raw["compound_id"]) and "'-s1" in set(raw[
        "nearest_service_id"])  # fmt: skip
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    rows = {r[0]: r for r in _rows(book["Compounds"])}
    assert set(rows) == {"Id", "=1+2", "00007", "@SUM(A1)", "NA"}  # ids as written, read back through the CSV
    assert rows["NA"][1] == "None"  # text that looks like a missing value stays text
    assert rows["=1+2"][1] == hyperlink and rows["00007"][1] == "-1+2"
    head = rows["Id"]
    assert "=cmd|' /C calc'!A0: nearest service" in head
    assert rows["=1+2"][head.index("=cmd|' /C calc'!A0: nearest service")] == "-s1"
