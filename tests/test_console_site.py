"""The terminal output of ``site`` and ``isochrones`` in the run's language."""

from pathlib import Path

import pandas as pd

from lifecircle.planning.console import format_site_plan, print_isochrones

SUMMARY = {
    "model": "max_coverage",
    "model_option": "mclp",
    "status": "time_limit",
    "gap": 0.0123,
    "sites": ["s1", "s2"],
    "compounds": {"total": 40, "covered_before": 30, "covered_after": 36, "unreachable": 2},
    "unreachable": ["c7", "c9"],
    "candidates": {"given": 12, "used": 10, "dropped": 2, "dropped_off_network": 1, "dropped_unconnected": 1},
    "parameters": {"minutes": 15, "max_snap_m": 300},
    "set_aside_unreachable": ["c3"],
    "notes": ["2 uncovered compounds have no candidate within 15 minutes on foot (c7, c9); they stay uncovered."],
}
SITES = pd.DataFrame({"rank": [1, 2], "name": ["中山路与汉中路交叉口附近", "学院路附近"], "new_compounds": [4, 2]})


def test_site_plan_in_chinese_has_chinese_headings_units_and_site_names():
    text = format_site_plan(SUMMARY, out_dir=Path("plan"), sites=SITES, lang="zh")
    first = text.splitlines()[0]
    assert first.startswith("最大覆盖（达到时限，差距 1.23%）：新增 2 处服务点；覆盖小区 30 → 36 个（共 40 个）")
    assert "2 个无法步行到达" in first and "结果已写入 plan/" in first
    assert "中山路与汉中路交叉口附近" in text and "新覆盖    4 个小区" in text and "第 2 处" in text
    assert "2 个未覆盖小区在步行 15 分钟内没有候选点（c7、c9）" in text
    assert "舍弃了 2 个候选点：1 个离可步行道路超过 300 米" in text and "结果未被证明最优" in text
    assert "1 个无法步行到达的小区" in text and "--include-unreachable" in text
    words = text.replace("--include-unreachable", "")  # the flag stays as typed
    english = [w for w in ("compounds", "sites", "gap", "unreachable", "covered", "minutes") if w in words]
    assert english == []


def test_site_plan_in_english_keeps_its_line_and_notes():
    text = format_site_plan(SUMMARY, out_dir=Path("plan"), sites=SITES, lang="en")
    assert text.splitlines()[0] == (
        "max_coverage (time_limit, gap 1.23%): 2 new sites; covered compounds 30 -> 36 of 40, 2 unreachable; "
        "results in plan"
    )
    assert "学院路附近" in text and SUMMARY["notes"][0] in text


def test_site_plan_aligns_chinese_site_names():
    lines = format_site_plan(SUMMARY, out_dir=Path("p"), sites=SITES, lang="zh").splitlines()[1:3]
    from lifecircle.planning.console import _width

    cut = [line.index("新覆盖") for line in lines]
    assert len({_width(line[:k]) for line, k in zip(lines, cut, strict=True)}) == 1


def test_nothing_to_do_is_said_in_chinese():
    done = {**SUMMARY, "status": "optimal", "sites": [], "unreachable": [], "set_aside_unreachable": []}
    done["compounds"] = {"total": 5, "covered_before": 5, "covered_after": 5, "unreachable": 0}
    done["candidates"] = {"used": 3, "dropped": 0}
    text = format_site_plan(done, out_dir=Path("p"), lang="zh")
    assert "所有小区都已被现有服务覆盖：无需新增服务点。" in text and "最优解" in text


def test_isochrones_in_chinese(capsys):
    table = pd.DataFrame({"category": ["all", "医疗卫生"], "break_min": [10, 15], "area_m2": [2.5e6, 1.0e6]})
    print_isochrones(table, [Path("out/isochrones.gpkg")], lang="zh")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("全部服务") and "10 分钟" in out[0] and "2.50 km²" in out[0]
    assert out[1].startswith("医疗卫生") and out[-1] == "已写入: out/isochrones.gpkg"
