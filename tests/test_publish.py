import json
import re
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import pandas as pd
import pytest
from _maps_fixtures import XSS_NAME, approx_coverage_table, osm_beijing, synthetic_district, with_status

from lifecircle.errors import InputError
from lifecircle.maps import publish_site

_EXTERNAL_TAG = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def write_analysis(folder: Path, comp, svc, *, minutes=10.0, speed_kmh=4.5, summary_extra=None):
    folder.mkdir(parents=True)
    table = approx_coverage_table(comp, svc, minutes=minutes, speed_kmh=speed_kmh)
    comp = with_status(comp, table)
    comp.reset_index().to_file(folder / "compounds.gpkg", layer="compounds")
    svc.reset_index().to_file(folder / "services.gpkg", layer="services")
    table.to_csv(folder / "coverage.csv", index=False)
    summary = {
        "max_walk_min": minutes,
        "speed_kmh": speed_kmh,
        "data_date": "2026-02-01",
        "n_compounds": len(comp),
        **(summary_extra or {}),
    }
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    return comp, table


def _links(index: Path):
    return re.findall(r'href="([^"#][^"]*)"', index.read_text(encoding="utf-8"))


@pytest.fixture
def two_analyses(tmp_path):
    c1, s1 = synthetic_district(20, 6, seed=1)
    c1.iloc[0, c1.columns.get_loc("name")] = XSS_NAME
    c2, s2 = synthetic_district(12, 6, seed=2)
    a = tmp_path / "in" / "东区 2026"
    b = tmp_path / "in" / "west"
    extra = {"title": "<b>东区</b>", "parameters": {"max_snap_m": 300}}
    comp1, t1 = write_analysis(a, c1, s1, summary_extra=extra)
    write_analysis(b, c2, s2, minutes=15)
    return tmp_path, [a, b], comp1, t1


@pytest.mark.slow
def test_site_has_index_maps_and_downloads(two_analyses):
    tmp, dirs, *_ = two_analyses
    index = publish_site(dirs, tmp / "site")
    assert index == tmp / "site" / "index.html"
    links = _links(index)
    for link in links:  # every relative link resolves (file:// and static hosts alike)
        assert not link.startswith(("http:", "https:", "/")), link
        assert (index.parent / unquote(link)).is_file(), link
    maps = sorted(p.relative_to(index.parent).as_posix() for p in index.parent.rglob("*.html"))
    # one overview + one per category (3) per analysis
    assert len(maps) == 1 + 2 * 4 and sum("map-" in m for m in maps) == 6
    for m in index.parent.rglob("*.html"):
        assert not _EXTERNAL_TAG.search(m.read_text(encoding="utf-8")), m
    # downloads are byte-identical copies
    slug_dirs = sorted(p for p in index.parent.iterdir() if p.is_dir())
    assert len(slug_dirs) == 2
    for d in slug_dirs:
        src = dirs[0] if "west" not in d.name else dirs[1]
        for f in ("coverage.csv", "compounds.gpkg", "services.gpkg", "summary.json"):
            assert (d / "data" / f).read_bytes() == (src / f).read_bytes()
    text = index.read_text(encoding="utf-8")
    assert "<b>东区</b>" not in text and "&lt;b&gt;东区&lt;/b&gt;" in text
    assert {d.name for d in slug_dirs} == {"东区 2026", "west"}  # folders keep their own names
    assert not list(tmp.glob(".site*"))  # no temporary folders left


def _visible_text(html_text: str) -> str:
    body = re.sub(r"<style>.*?</style>", "", html_text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.slow
def test_index_is_for_people_not_a_key_dump(two_analyses):
    tmp, dirs, *_ = two_analyses
    index = publish_site(dirs, tmp / "site", lang="zh")
    text = _visible_text(index.read_text(encoding="utf-8"))
    for dump in ("parameters.", "max_snap_m", "None", "{", "}", "n_compounds", "speed_kmh", "representative_point"):
        assert dump not in text, dump
    assert "步行 10 分钟（约 750 米）内可达即为覆盖" in text and "步行 15 分钟（约 1125 米）内可达即为覆盖" in text
    assert "步行速度每小时 4.5 公里" in text and "距可步行道路超过 300 米的小区记为无法步行到达" in text
    assert "数据日期：2026-02-01" in text and "发布日期：" in text and "全部服务" in text
    assert "总览地图" in text and "分类地图" in text and "数据下载" in text and "OpenStreetMap 贡献者" in text


@pytest.mark.slow
def test_index_coverage_table_matches_the_analysis(two_analyses):
    tmp, dirs, comp1, t1 = two_analyses
    index = publish_site(dirs[:1], tmp / "one", lang="en")
    text = index.read_text(encoding="utf-8")
    n = len(comp1)
    for cat in ("clinic", "grocery", "kindergarten"):
        covered = int(t1[(t1["category"] == cat)]["covered"].sum())
        pop = int(comp1.loc[t1[(t1["category"] == cat) & t1["covered"]]["compound_id"], "population"].sum())
        assert re.search(
            rf"<td>{cat}</td><td class=\"num\">10</td><td class=\"num\">{covered} / {n}</td>"
            rf"<td class=\"num\">[0-9.]+%</td><td class=\"num\">[0-9.]+%</td><td class=\"num\">{pop:,}</td>",
            text,
        ), cat
    assert "Covered means within 10 minutes on foot (about 750 m)" in text and "Data of 2026-02-01" in text
    assert "OpenStreetMap contributors" in text


@pytest.mark.slow
def test_republish_replaces_a_site_but_never_a_foreign_folder(two_analyses):
    tmp, dirs, *_ = two_analyses
    site = tmp / "site"
    publish_site(dirs, site)
    (site / "stale.txt").write_text("old")
    publish_site(dirs[1], site, offline=False)
    assert not (site / "stale.txt").exists()
    assert len(list(site.rglob("*.html"))) == 1 + 4
    online = (next(site.glob("*/map.html"))).read_text(encoding="utf-8")
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in online
    foreign = tmp / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a lifecircle site"):
        publish_site(dirs, foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_bad_analysis_folders_are_input_errors(two_analyses):
    tmp, dirs, *_ = two_analyses
    (dirs[1] / "services.gpkg").unlink()
    with pytest.raises(InputError, match=r"services\.gpkg"):
        publish_site(dirs, tmp / "site")
    assert not (tmp / "site").exists()
    s = json.loads((dirs[0] / "summary.json").read_text(encoding="utf-8"))
    del s["max_walk_min"]
    (dirs[0] / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    with pytest.raises(InputError, match="max_walk_min"):
        publish_site(dirs[0], tmp / "site")
    (dirs[0] / "summary.json").write_text(json.dumps({**s, "max_walk_min": 10}), encoding="utf-8")
    (dirs[0] / "coverage.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"coverage\.csv is damaged"):
        publish_site(dirs[0], tmp / "site")
    with pytest.raises(InputError, match="does not exist"):
        publish_site(tmp / "nowhere", tmp / "new" / "site")
    assert not (tmp / "new").exists()


@pytest.mark.slow
def test_publish_real_osm_analysis(tmp_path):
    data = osm_beijing()
    if data is None:
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    comp, svc = data
    write_analysis(tmp_path / "cau", comp, svc)
    index = publish_site(tmp_path / "cau", tmp_path / "site")
    text = index.read_text(encoding="utf-8")
    assert '<html lang="zh">' in text and "分类覆盖" in text
    cats = sorted(svc["category"].unique())
    assert len(list((tmp_path / "site" / "cau").glob("map-*.html"))) == len(cats)
    table = pd.read_csv(tmp_path / "site" / "cau" / "data" / "coverage.csv")
    assert set(table["category"]) == {"all", *cats}


@pytest.mark.slow
def test_index_has_streets_and_the_report(two_analyses):
    tmp, dirs, *_ = two_analyses
    a = dirs[0]
    pd.DataFrame(
        {"街道": ["学院路街道", "(none)"], "compounds": [12, 8], "share_all": [0.75, 0.5], "share_clinic": [0.5, 0.25],
         "compounds_without_branch": [3, 1], "worst_compound_name": [XSS_NAME, "西园"]}
    ).to_csv(a / "rollup_street.csv", index=False, encoding="utf-8-sig")  # fmt: skip
    (a / "report.html").write_text("<!DOCTYPE html><title>report</title><p>报告</p>", encoding="utf-8")
    index = publish_site(a, tmp / "site")
    html_text = index.read_text(encoding="utf-8")
    assert (
        "分街道覆盖" in html_text and "学院路街道" in html_text and "75.0%" in html_text and "（未填写）" in html_text
    )
    assert XSS_NAME not in html_text and "全部服务覆盖率" in html_text and "clinic覆盖率" in html_text
    assert 'href="%E4%B8%9C%E5%8C%BA%202026/report.html"' in html_text
    assert (tmp / "site" / "东区 2026" / "report.html").read_text(encoding="utf-8").endswith("<p>报告</p>")


@pytest.mark.slow
def test_publish_never_follows_a_symlink_nor_copies_foreign_files(two_analyses, tmp_path):
    tmp, dirs, *_ = two_analyses
    a = dirs[0]
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2", encoding="utf-8")
    (a / "rollup_street.csv").symlink_to(secret)  # named like an output, pointing out of the folder
    (a / "leak.csv").symlink_to(secret)
    (a / "sites.gpkg").symlink_to("/etc/passwd")
    (a / "mine.csv").write_text("a,b\n1,2\n", encoding="utf-8")  # the user's own file, not lifecircle's
    index = publish_site(a, tmp / "site")
    site = index.parent
    published = [p for p in site.rglob("*") if p.is_file()]
    assert not any("hunter2" in p.read_bytes().decode("utf-8", "replace") for p in published)
    assert not any(p.is_symlink() for p in site.rglob("*"))
    names = {p.name for p in (site / "东区 2026" / "data").iterdir()}
    assert names == {"coverage.csv", "compounds.gpkg", "services.gpkg", "summary.json"}
    text = index.read_text(encoding="utf-8")
    assert "leak.csv" not in text and "mine.csv" not in text and "分街道覆盖" not in text
    assert "rollup_street.csv" in text  # said to be left out, not published
    # a required file that is a link is refused, nothing written
    (a / "coverage.csv").rename(a / "real.csv")
    (a / "coverage.csv").symlink_to(a / "real.csv")
    with pytest.raises(InputError, match="symbolic link"):
        publish_site(a, tmp / "site2")
    assert not (tmp / "site2").exists()


@pytest.mark.slow
def test_publish_copies_only_what_the_manifest_lists_unchanged(two_analyses):
    from lifecircle import folder
    from lifecircle.folder import Manifest
    from lifecircle.planning.outputs import file_sha256

    tmp, dirs, *_ = two_analyses
    a = dirs[0]
    files = {f: file_sha256(a / f) for f in ("coverage.csv", "compounds.gpkg", "services.gpkg", "summary.json")}
    (a / "report.xlsx").write_bytes(b"PK\x03\x04 not the workbook lifecircle wrote")
    files["report.xlsx"] = "0" * 64  # recorded hash of the workbook lifecircle wrote; the file changed since
    (a / "rollup_grid.csv").write_text("网格,compounds\n", encoding="utf-8")  # not in the manifest
    (a / folder.MANIFEST).write_text(json.dumps(Manifest(jobs={"analyze": files}).to_json()), encoding="utf-8")
    index = publish_site(a, tmp / "site")
    names = {p.name for p in (index.parent / "东区 2026" / "data").iterdir()}
    assert names == {"coverage.csv", "compounds.gpkg", "services.gpkg", "summary.json"}


@pytest.mark.slow
def test_the_analysis_own_map_is_the_overview(two_analyses):
    from lifecircle.geo.walk import Walk
    from lifecircle.maps import coverage_map, save_map

    tmp, dirs, comp1, t1 = two_analyses
    a = dirs[0]
    svc = gpd.read_file(a / "services.gpkg").set_index("service_id")
    m = coverage_map(comp1, svc, t1, walk=Walk(limit_min=10), title="学院路 with its streets")
    save_map(m, a / "map.html", online=True)  # written for the web: the site inlines Leaflet
    index = publish_site(a, tmp / "site")
    published = (index.parent / "东区 2026" / "map.html").read_text(encoding="utf-8")
    assert "学院路 with its streets" in published and not _EXTERNAL_TAG.search(published)
    (a / "map.html").unlink()
    (a / "map.html").symlink_to(tmp / "site" / "index.html")  # a link is never the overview
    index = publish_site(a, tmp / "site2")
    assert "学院路 with its streets" not in (index.parent / "东区 2026" / "map.html").read_text(encoding="utf-8")
