"""Capacity (供需) and opening-hours (三延) deliverables: the map's layers, the workbook's sheets, the report's week
chart and services.gpkg's demand and load, checked against the folder's own CSVs recomputed independently (pandas),
on the shipped Chinese demo (which runs adequacy and hours) and on hostile names."""

from __future__ import annotations

import json
import re
import shutil

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import points, squares

from lifecircle.data.demo import XUEYUAN_NORMS
from lifecircle.geo.walk import Walk
from lifecircle.maps import coverage_map
from lifecircle.maps.beyond_layers import BeyondLayers
from lifecircle.planning.adequacy import category_norms, crowded_table
from lifecircle.planning.report import regenerate_report

WINDOWS = {"weekday_day": 50, "weekday_evening": 15, "weekend": 26}


def test_crowded_is_covered_and_below_the_norm_by_hand():
    ratios = pd.DataFrame(
        {"compound_id": ["a", "b", "c", "a", "b", "c"], "category": ["医疗"] * 3 + ["便民"] * 3,
         "access_ratio": [0.05, 0.2, 0.0, 0.01, 0.02, 0.03]}
    )  # fmt: skip
    coverage = pd.DataFrame(
        {"compound_id": ["a", "b", "c", "a", "b", "c"], "category": ["医疗"] * 3 + ["便民"] * 3,
         "covered": [True, True, False, True, True, True]}
    )  # fmt: skip
    judged = crowded_table(ratios, coverage, {"医疗": 0.1, "便民": None})
    # a: covered, 0.05 < 0.1: crowded; b: 0.2 >= 0.1; c: not covered (no service, not "crowded"); 便民: no norm
    assert judged["crowded"].tolist()[:3] == [True, False, False]
    assert judged["crowded"][3:].isna().all()
    summary = {"adequacy": {"categories": {"医疗": {"norm": 0.1}, "便民": {"norm": None}}}}
    assert category_norms(summary) == {"医疗": 0.1, "便民": None}


def test_layers_escape_hostile_names_and_hours_text():
    evil = '</script><img src=x onerror="alert(1)">{{7*7}}'
    compounds = squares([(0, 0), (200, 0)], ids=["c1", "c2"], half_m=20.0)
    compounds["name"] = [evil, "甲"]
    services = points([(50, 0), (260, 0)], ids=["s1", "s2"], category=[evil, "便民"])
    table = pd.DataFrame(
        {"compound_id": ["c1", "c2"], "category": ["all", "all"], "walk_m": [50.0, 60.0],
         "nearest_service_id": ["s1", "s2"], "services_within": [1, 1], "covered": [True, True]}
    )  # fmt: skip
    windows = pd.DataFrame(
        {"compound_id": ["c1", "c2"], "category": [evil, evil],
         **{f"{w}_h": [n, 0] for w, n in WINDOWS.items()}, **{f"{w}_h_known": [0, 0] for w in WINDOWS}}
    )  # fmt: skip
    beyond = BeyondLayers(
        crowded=pd.DataFrame({"compound_id": ["c1"], "category": [evil], "access_ratio": [0.01], "norm": [0.1]}),
        overloaded=pd.DataFrame(
            {"capacity": [1.0], "demand_within": [500.0], "load": [500.0], "norm": [0.1]}, index=["s1"]
        ),
        windows=windows,
        window_hours=WINDOWS,
        hours_unknown=pd.Series([evil], index=["s2"]),
    )
    html = coverage_map(compounds, services, table, walk=Walk(), lang="zh", beyond=beyond).get_root().render()
    assert "<img" not in html and "{{7*7}}" not in html and 'onerror="' not in html
    for name in ("覆盖但供给不足的小区", "超负荷服务点", "工作日晚间（18–21 时）", "营业时间不明的服务点"):
        assert name in html
    english = coverage_map(compounds, services, table, walk=Walk(), lang="en", beyond=beyond).get_root().render()
    for name in ("Capacity: covered but crowded compounds", "Hours: weekday evening (18–21)", "hours unknown"):
        assert name in english and name not in html
    compounds.index = [1, 2]  # ids of another type than the tables' text: matched as text
    table["compound_id"] = [1, 2]
    windows["compound_id"] = ["1", "2"]
    again = coverage_map(compounds, services, table, walk=Walk(), lang="en", beyond=beyond).get_root().render()
    assert again.count('"full":[1,0]') == 3  # in each window: compound 1's one category throughout, 2 never


# ------------------------------------------------------------------------------------------- on the demo


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    from lifecircle.planning.cli import main

    out = tmp_path_factory.mktemp("beyond") / "demo"
    assert main(["-q", "demo", "--out", str(out)]) == 0
    return out


def _expected(out):
    """Crowded compounds and overloaded services recomputed from the folder's files with the demo's norms."""
    ratios = pd.read_csv(out / "adequacy.csv", dtype={"compound_id": str})
    coverage = pd.read_csv(out / "coverage.csv", dtype={"compound_id": str})
    both = ratios.merge(coverage[["compound_id", "category", "covered"]], on=["compound_id", "category"])
    norm = both["category"].map(XUEYUAN_NORMS)
    crowded = both[both["covered"].astype(bool) & (both["access_ratio"] < norm)]
    services = gpd.read_file(out / "services.gpkg").set_index("service_id")
    services.index = services.index.astype(str)
    supply = services["capacity"] / services["demand_within"]
    overloaded = services.index[(supply < services["category"].map(XUEYUAN_NORMS)).to_numpy()]
    return crowded, services, set(overloaded)


@pytest.mark.slow
def test_demo_outputs_capacity_and_hours(demo_out):
    crowded, services, overloaded = _expected(demo_out)
    summary = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    entry = summary["adequacy"]["categories"]
    assert entry["医疗卫生"]["crowded_compounds"] == (crowded["category"] == "医疗卫生").sum() > 0
    assert sum(e.get("overloaded_services", 0) for e in entry.values()) == len(overloaded) > 0
    # services.gpkg: demand within the catchment and load per service, overloaded only where a norm applies
    assert {"capacity", "demand_within", "load", "overloaded"} <= set(services.columns)
    np.testing.assert_allclose(services["load"], services["demand_within"] / services["capacity"], atol=1e-3)
    judged = services["category"].isin(list(XUEYUAN_NORMS))
    assert services.loc[~judged, "norm"].isna().all() and not services.loc[~judged, "overloaded"].any()
    assert set(services.index[services["overloaded"].fillna(False).astype(bool)]) == overloaded
    assert summary["opening_hours"]["windows"] == WINDOWS and summary["opening_hours"]["not_understood"] == ["30"]
    page = (demo_out / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r"<h2>([^<]*)</h2>", page)
    assert "供需（2SFCA）" in sections and any(s.startswith("营业时间（每周）") for s in sections)
    assert any(s.startswith("楼栋") for s in sections) and summary["buildings"]["buildings"] > 0  # the three
    heatmap = re.search(r"<svg[^>]*>.*?</svg>", page, flags=re.S).group(0)
    assert heatmap.count("<rect") == 4 * 168 + 11 and "<script" not in heatmap  # 4 categories, legend


@pytest.mark.slow
def test_demo_workbook_sheets_read_back(demo_out, tmp_path):
    book = openpyxl.load_workbook(demo_out / "report.xlsx")
    names = book.sheetnames
    assert names.index("供需（小区）") < names.index("营业时间（小区）") < names.index("参数")
    rows = list(book["供需（小区）"].iter_rows(values_only=True))
    assert rows[0] == ("小区编号", "小区名称", "类别", "可达比（每千户）", "步行阈值内有服务", "标准（每千户）",
                       "覆盖但供给不足")  # fmt: skip
    ratios = pd.read_csv(demo_out / "adequacy.csv", dtype={"compound_id": str})
    assert len(rows) - 1 == len(ratios)
    crowded, _, _ = _expected(demo_out)
    crowded_keys = set(zip(crowded["compound_id"], crowded["category"], strict=True))
    for (cid, _name, cat, ratio, _cov, norm, flag), (_, ref) in zip(rows[1:], ratios.iterrows(), strict=True):
        assert (cid, cat) == (ref["compound_id"], ref["category"])
        assert ratio == pytest.approx(ref["access_ratio"] * 1000, rel=1e-9, abs=1e-9)
        expected = "未设标准" if cat not in XUEYUAN_NORMS else ("是" if (cid, cat) in crowded_keys else "否")
        assert flag == expected and (norm is None) == (cat not in XUEYUAN_NORMS)
    sheet = book["营业时间（小区）"]
    hours = pd.read_csv(demo_out / "coverage_hours.csv", dtype={"compound_id": str})
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == len(hours)
    assert [v[3] for v in values] == hours["hours_covered"].tolist()
    assert [v[7] for v in values] == hours["weekday_evening_h"].tolist()
    assert sheet.cell(row=2, column=5).number_format == "0.0%"
    assert [v[4] for v in values] == pytest.approx((hours["hours_covered"] / 168).tolist())
    services = list(book["供需（服务点）"].iter_rows(values_only=True))
    assert services[0][-1] == "超负荷" and {r[-1] for r in services[1:]} == {"是", "否", "未设标准"}

    english = tmp_path / "en"
    shutil.copytree(demo_out, english)
    regenerate_report(english, lang="en")
    book = openpyxl.load_workbook(english / "report.xlsx")
    assert {"Capacity (compounds)", "Capacity (services)", "Opening hours (compounds)"} <= set(book.sheetnames)
    flags = {r[-1] for r in book["Capacity (compounds)"].iter_rows(min_row=2, values_only=True)}
    assert flags == {"yes", "no", "no norm"}
    page = (english / "report.html").read_text(encoding="utf-8")
    assert "Opening hours (week)" in page and "Weekday evening (18–21), lowest" in page


@pytest.mark.slow
def test_demo_map_layers_in_a_browser(demo_out, browser):
    crowded, services, overloaded = _expected(demo_out)
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors, blocked = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else (
        blocked.append(r.request.url), r.abort()))  # fmt: skip
    page.goto((demo_out / "map.html").as_uri())
    page.wait_for_function("window.LC && window.LC.last")
    hidden = page.evaluate("['crowded','overloaded','hours_unknown'].map(k => LC.last.map.hasLayer(LC.last.groups[k]))")
    assert hidden == [False, False, False]  # chosen by the reader: the map opens as before
    shown = page.evaluate(
        """() => { const G = LC.last.groups, m = LC.last.map, ids = g => { m.addLayer(g);
             return g.getLayers().flatMap(l => l.getLayers ? l.getLayers().map(f => f.feature.properties.id)
                                                           : [l._lcId]); };
           return { crowded: ids(G.crowded), overloaded: ids(G.overloaded), unknown: ids(G.hours_unknown) }; }"""
    )
    assert sorted(shown["crowded"]) == sorted(set(crowded["compound_id"]))
    assert set(shown["overloaded"]) == overloaded
    assert shown["unknown"] == ["30"]  # 以门店公告为准: shown, never silently open or closed
    sid, text = page.evaluate(
        "() => { const mk = LC.last.groups.overloaded.getLayers()[0]; mk.openPopup();"
        " return [mk._lcId, mk.getPopup().getElement().textContent]; }"
    )
    load = float(services.loc[sid, "load"])
    assert services.loc[sid, "name"] in text and "超负荷" in text and f"{load:.3g}" in text
    hours = pd.read_csv(demo_out / "coverage_hours.csv", dtype={"compound_id": str})
    hours = hours[hours["category"] != "all"]
    for window, length in WINDOWS.items():
        texts = page.evaluate(
            """(w) => { const g = LC.last.groups.hours[w]; LC.last.map.addLayer(g); const out = {};
                 const gj = g.getLayers()[0];
                 gj.getLayers().forEach(f => { f.fire("click", { latlng: f.getBounds().getCenter() }, true);
                   out[f.feature.properties.id] = gj.getPopup().getElement().querySelector(".lc-status")
                     .textContent; }); LC.last.map.closePopup(); return out; }""",
            window,
        )
        full = (hours[f"{window}_h"] >= length).groupby(hours["compound_id"]).sum()
        assert {k: v.split(" 类")[0] for k, v in texts.items()} == {c: f"{n} / 4" for c, n in full.items()}
    assert page.evaluate("document.querySelectorAll('.lc-hours-legend').length") == 1
    assert errors == [] and all("tile" in u or "basemaps" in u for u in blocked), blocked
    report = browser.new_page()
    report.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "about:")) else r.abort())
    report.goto((demo_out / "report.html").as_uri())
    box = report.evaluate("(() => { const r = document.querySelector('figure.lc-week svg').getBoundingClientRect();"
                          " return [r.width, r.height]; })()")  # fmt: skip
    assert box[0] > 300 and box[1] > 400  # the week's heatmap drawn, offline
    page.close()
    report.close()
