"""Opening hours: Chinese ledger forms and OSM syntax against hand-opened services, --at and the weekly profile."""

from __future__ import annotations

import bz2
import datetime as dt
import json
import logging
import re

import geopandas as gpd
import pandas as pd
import pytest

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.geo.inputs.hours import (
    REFERENCE_MONDAY,
    parse_moment,
    read_hours,
    to_osm_hours,
    week_moments,
)

# text -> the hours a person reads in it: {weekday index: [(start_min, end_min), ...]}
WEEKDAYS = range(5)
EVERY = range(7)
HAND = {
    "8:00-20:00": {d: [(480, 1200)] for d in EVERY},
    "周一至周五 08:00-17:00": {d: [(480, 1020)] for d in WEEKDAYS},
    "每天 07:00-22:00": {d: [(420, 1320)] for d in EVERY},
    "24小时": {d: [(0, 1440)] for d in EVERY},
    "全天": {d: [(0, 1440)] for d in EVERY},
    "工作日 8:30-17:30；周末 9:00-12:00": {**{d: [(510, 1050)] for d in WEEKDAYS}, 5: [(540, 720)], 6: [(540, 720)]},
    "周一闭馆，周二至周日 9:00-17:00": {d: [(540, 1020)] for d in range(1, 7)},
    "周一至五 8:00-12:00、14:00-18:00": {d: [(480, 720), (840, 1080)] for d in WEEKDAYS},
    "8：00—20：00": {d: [(480, 1200)] for d in EVERY},
    "Mo-Sa 08:00-18:00": {d: [(480, 1080)] for d in range(6)},
    "Mo-Fr 10:00-22:00; Sa-Su 10:00-22:30": {
        **{d: [(600, 1320)] for d in WEEKDAYS},
        5: [(600, 1350)],
        6: [(600, 1350)],
    },
    "24/7": {d: [(0, 1440)] for d in EVERY},
}
MOMENTS = ["Sa 20:00", "周六 20:00", "We 09:00", "Mo 07:30", "Su 11:59", "Fr 17:15", "Tu 13:00", "Su 23:30"]


def _hand_open(text: str, moment: dt.datetime) -> bool:
    minute = moment.hour * 60 + moment.minute
    return any(a <= minute < b for a, b in HAND[text].get(moment.weekday(), []))


def test_ledger_forms_in_osm_syntax():
    assert to_osm_hours("周一至周五 08:00-17:00") == "Mo-Fr 08:00-17:00"
    assert to_osm_hours("每天 07:00-22:00") == "07:00-22:00"
    assert to_osm_hours("24小时") == to_osm_hours("全天") == "24/7"
    assert to_osm_hours("工作日 8:30-17:30；周末 9:00-12:00") == "Mo-Fr 08:30-17:30; Sa,Su 09:00-12:00"
    for text in ("营业中", "周八 8:00-9:00", "8点到20点", "周一至周五", "看情况"):
        assert to_osm_hours(text) is None


def test_states_match_hand_opened_services_at_several_moments(caplog):
    texts = [*HAND, "营业中 请电话", "", None]
    services = pd.DataFrame({"营业时间": texts}, index=[f"s{i}" for i in range(len(texts))])
    with caplog.at_level(logging.WARNING, logger="lifecircle"):
        hours = read_hours(services, "营业时间")
    bad = [r.getMessage() for r in caplog.records if "not understood" in r.getMessage()]
    assert bad == ["service s12: opening hours '营业中 请电话' not understood; counted as hours unknown"]
    assert any("2 services have no opening hours" in r.getMessage() for r in caplog.records)
    checked = 0
    for at in MOMENTS:
        states = hours.states(parse_moment(at))
        for sid, text in zip(services.index, texts, strict=True):
            if text in HAND:
                expected = "open" if _hand_open(text, parse_moment(at)) else "closed"
                assert states[sid] == expected, (at, text)
                checked += 1
            else:
                assert states[sid] == "unknown"  # never silently open or closed
    assert checked == len(MOMENTS) * len(HAND)


def test_moments():
    assert REFERENCE_MONDAY.weekday() == 0
    assert parse_moment("Sa 20:00") == parse_moment("周六 20:00") == dt.datetime(2026, 3, 7, 20, 0)
    assert parse_moment("星期日 8:05").weekday() == 6
    assert parse_moment("2026-12-05 20:00") == dt.datetime(2026, 12, 5, 20, 0)
    for bad in ("Xx 20:00", "Sa 25:00", "tonight", "周六"):
        with pytest.raises(InputError, match="not a moment"):
            parse_moment(bad)
    week = week_moments()
    assert len(week) == 168 and week[0] == dt.datetime(2026, 3, 2, 0, 30)


def test_real_osm_hours_against_a_hand_reading(cau_osm):
    """Every 'Mo-Su HH:MM-HH:MM[,HH:MM-HH:MM]' tag of the Xueyuan Road extract, read by hand, over the week."""
    raw = bz2.open(cau_osm, "rt", encoding="utf-8").read()
    texts = pd.Series(re.findall(r'<tag k="opening_hours" v="([^"]*)"', raw))  # nodes, ways and relations
    simple = texts[texts.str.fullmatch(r"Mo-Su \d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d)*")]
    assert len(simple) >= 40
    services = pd.DataFrame({"opening_hours": texts.to_numpy()}, index=[f"o{i}" for i in range(len(texts))])
    hours = read_hours(services, "opening_hours")
    moments = week_moments()
    states = hours.state_matrix(moments)
    for row, text in enumerate(services["opening_hours"]):
        if text not in set(simple):
            continue
        spans = [tuple(int(h) * 60 + int(m) for h, m in re.findall(r"(\d\d):(\d\d)", s)) for s in text[6:].split(",")]
        for col, moment in enumerate(moments):
            minute = moment.hour * 60 + moment.minute
            expected = any(a <= minute < b for a, b in spans)
            assert (states[row, col] == "open") == expected, (text, moment)


# ------------------------------------------------------------------------------------------- in analyze


@pytest.fixture(scope="module")
def hours_inputs(tmp_path_factory, cau_osm):
    from tests.test_cli import cau_inputs

    inputs = cau_inputs.__wrapped__(tmp_path_factory, cau_osm)
    services = pd.read_csv(inputs["services"])
    forms = [*HAND, "营业中 请电话"]
    services["营业时间"] = [forms[i % len(forms)] for i in range(len(services))]
    services.to_csv(inputs["services"], index=False, encoding="utf-8-sig")
    return inputs, services


def _args(inputs, out):
    args = ["-q", "analyze", "--network", str(inputs["network"]), "--compounds", str(inputs["compounds"])]
    return [*args, "--services", str(inputs["services"]), "--out", str(out), "--no-served-area", "--minutes", "8"]


@pytest.mark.slow
@pytest.mark.parametrize("at", ["Sa 20:00", "We 09:00"])
def test_at_counts_only_open_services(hours_inputs, tmp_path, cau_osm, at, capsys):
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.coverage import coverage
    from lifecircle.planning.cli import main

    inputs, services = hours_inputs
    out = tmp_path / "out"
    assert main([*_args(inputs, out)[1:], "--at", at]) == 0  # without -q: warnings shown
    assert "营业中 请电话" in capsys.readouterr().err  # the row's text is named (one line per row)
    moment = parse_moment(at)
    hand = services["营业时间"].map(lambda t: _hand_open(t, moment) if t in HAND else True)  # unknown: kept
    table = pd.read_csv(out / "coverage.csv", dtype={"compound_id": str})
    # independent: the coverage engine on the hand-opened services only
    compounds = gpd.read_file(inputs["compounds"]).set_index("id")
    compounds.index.name = "compound_id"
    pts = services[hand.to_numpy()]
    layer = gpd.GeoDataFrame(
        {"category": pts["类别"].to_numpy()},
        geometry=gpd.points_from_xy(pts["经度"], pts["纬度"]),
        index=pd.Index(pts["id"], name="service_id"),
        crs=4326,
    )
    ref = coverage(network_from_osm(cau_osm), compounds, layer, max_walk_min=8).table
    ref = ref[ref.category == "all"].set_index("compound_id")
    mine = table[table.category.isin(["all", "全部服务"])].set_index("compound_id")
    assert mine["covered"].reindex(ref.index).astype(bool).tolist() == ref["covered"].tolist()
    assert mine["services_within"].reindex(ref.index).tolist() == ref["services_within"].tolist()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["opening_hours"]
    assert summary["closed"] == int((~hand).sum()) > 0
    assert summary["unknown"] == int((~services["营业时间"].isin(list(HAND))).sum())
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"营业时间（{at}）" in page or f"Opening hours ({at})" in page
    layer_out = gpd.read_file(out / "services.gpkg").set_index("service_id")
    assert len(layer_out) == len(services)  # closed services are listed, serving nobody
    assert (layer_out.loc[~hand.to_numpy(), "compounds_served"] == 0).all()


@pytest.mark.slow
def test_weekly_profile(hours_inputs, tmp_path, cau_osm):
    from lifecircle.planning.cli import main

    inputs, services = hours_inputs
    out = tmp_path / "week"
    assert main(_args(inputs, out)) == 0
    profile = pd.read_csv(out / "coverage_hours.csv", dtype={"compound_id": str})
    coverage = pd.read_csv(out / "coverage.csv", dtype={"compound_id": str})
    assert list(profile.columns) == list(folder.COVERAGE_HOURS.columns)
    merged = profile.merge(coverage, on=["compound_id", "category"])
    assert len(merged) == len(profile) == len(coverage)
    # never covered at the limit: no hour; covered by a 24-hour or unknown-hours service at all hours
    assert (merged.loc[~merged["covered"].astype(bool), "hours_covered"] == 0).all()
    assert (merged["hours_covered_known"] <= merged["hours_covered"]).all()
    assert merged["hours_covered"].between(0, 168).all()
    assert ((merged["hours_covered"] > 0) & (merged["hours_covered"] < 168)).any()
    _windows_match_hand_reading(inputs, services, profile, cau_osm)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["opening_hours"]
    assert summary["windows"] == {"weekday_day": 50, "weekday_evening": 15, "weekend": 26}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "营业时间（每周）" in page and page.count("<rect") >= 168  # the week's table and its heatmap


def _windows_match_hand_reading(inputs, services, profile, cau_osm):
    """Window hours per compound against the hand reading of each service's hours on the engine's walk pairs."""
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.coverage import coverage

    compounds = gpd.read_file(inputs["compounds"]).set_index("id")
    compounds.index = compounds.index.astype(str)
    layer = gpd.GeoDataFrame(
        {"category": services["类别"].to_numpy()},
        geometry=gpd.points_from_xy(services["经度"], services["纬度"]),
        index=pd.Index(services["id"].astype(str), name="service_id"),
        crs=4326,
    )
    result = coverage(network_from_osm(cau_osm), compounds, layer, max_walk_min=8)
    pairs = result.pairs[result.pairs["walk_m"] <= result.params["max_walk_m"]]
    text = services.set_index(services["id"].astype(str))["营业时间"]
    windows = {"weekday_day": (range(5), 8, 18), "weekday_evening": (range(5), 18, 21), "weekend": (range(5, 7), 8, 21)}
    rows = profile[profile["category"] == profile["category"].iloc[0]].set_index("compound_id")
    checked = 0
    for compound, near in pairs.groupby("compound_id"):
        texts = text.reindex(near["service_id"].astype(str)).tolist()
        for window, (days, start, stop) in windows.items():
            moments = [dt.datetime.combine(REFERENCE_MONDAY + dt.timedelta(days=d), dt.time(h, 30))
                       for d in days for h in range(start, stop)]  # fmt: skip
            anyhow = sum(any(t not in HAND or _hand_open(t, m) for t in texts) for m in moments)
            known = sum(any(t in HAND and _hand_open(t, m) for t in texts) for m in moments)
            assert rows.loc[str(compound), f"{window}_h"] == anyhow, (compound, window)
            assert rows.loc[str(compound), f"{window}_h_known"] == known, (compound, window)
            checked += 1
    assert checked == 3 * pairs["compound_id"].nunique() >= 24
    alone = ~rows.index.isin(pairs["compound_id"].astype(str))  # no service within the limit: no hour in any window
    assert (rows.loc[alone, [f"{w}_h" for w in windows]] == 0).all().all()


@pytest.mark.slow
def test_at_without_hours_column_is_one_line(tmp_path, capsys, cau_osm, tmp_path_factory):
    from lifecircle.planning.cli import main
    from tests.test_cli import cau_inputs

    inputs = cau_inputs.__wrapped__(tmp_path_factory, cau_osm)
    assert main([*_args(inputs, tmp_path / "x"), "--at", "Sa 20:00"]) == 2
    err = capsys.readouterr().err
    assert "lifecircle: error: --at needs the services' opening hours" in err
    assert not (tmp_path / "x").exists()


def test_study_file_hours_table(tmp_path):
    from lifecircle.planning.study import load_study

    head = '[study]\nnetwork = "n.osm"\n[compounds]\npath = "c.gpkg"\n[services]\npath = "s.csv"\n'
    path = tmp_path / "study.toml"
    path.write_text(head + '[hours]\ncolumn = "营业时间"\nat = "周六 20:00"\n', encoding="utf-8")
    study = load_study(path, check_files=False)
    assert (study.hours.column, study.hours.at) == ("营业时间", "周六 20:00")
    assert study.with_overrides(hours={"at": "Mo 08:00"}).hours.column == "营业时间"
    path.write_text(head + '[hours]\nwhen = "Sa 20:00"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown key hours\.when"):
        load_study(path, check_files=False)
