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
from lifecircle.planning.analyze_job import MapOptions, write_analysis
from lifecircle.planning.cli import main
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
    analysis = analyze(G, compounds, services, max_walk_min=10, standard=load_standard("gb50180-5"))
    out = tmp_path / "out"
    write_analysis(analysis, out, inputs={}, map_options=MapOptions(lang="zh"))
    return analysis, out


def test_report_numbers_tables_and_escaping(analysed):
    analysis, out = analysed
    html = (out / "report.html").read_text(encoding="utf-8")
    # headline: A, B, D within 10 minutes of a service (135, 135, 535 m), C is 1035 m away
    assert "3 (75.0%)" in html and "650" in html  # compounds covered (share), households
    assert XSS not in html and html.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") >= 2
    assert REPORT_LABELS["rollup_street"]["zh"] in html and "学院路街道" in html
    assert 'src="map.html"' in html
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
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
    # workbook: one sheet per table, the street table with its numbers
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert {"parameters", "categories", "status", "street", "community", "standard", "compliance"} <= set(
        book.sheetnames
    )
    street = pd.read_excel(out / "report.xlsx", sheet_name="street").set_index("街道")
    assert street.loc["学院路街道", "compounds"] == 2 and street.loc[XSS, "worst_compound_name"] == XSS
    assert street.loc[XSS, "share_all"] == 0.5


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
    assert "sites" in openpyxl.load_workbook(out / "report.xlsx").sheetnames
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
    assert "holds no coverage.csv" in capsys.readouterr().err
    assert (out / "report.html").read_bytes() == before
    coverage.write_bytes(good)
    assert main(["-q", "report", str(out)]) == 0


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
