import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _maps_fixtures import (
    SCRIPT_NAME,
    XSS_NAME,
    approx_coverage_table,
    osm_beijing,
    synthetic_district,
    with_status,
)

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import wgs84_to_gcj02
from lifecircle.geo.walk import Walk
from lifecircle.maps import _offline
from lifecircle.maps.coverage_map import CLUSTER_MIN, coverage_map, save_map

_DATA = re.compile(r"var (\w+)_data = (.+);\n")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_EXTERNAL_TAG = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def _html(m):
    return m.get_root().render()


def _data(m_or_html):
    text = m_or_html if isinstance(m_or_html, str) else _html(m_or_html)
    found = _DATA.findall(text)
    assert len(found) == 1
    return json.loads(found[0][1])


def _rings(geojson_geom):
    coords = geojson_geom["coordinates"]
    if geojson_geom["type"] == "Polygon":
        return coords
    return [ring for poly in coords for ring in poly]


@pytest.fixture(scope="module")
def case():
    comp, svc = synthetic_district(48, 9, seed=3)
    table = approx_coverage_table(comp, svc, minutes=10, speed_kmh=4.5)
    comp = with_status(comp, table)
    return comp, svc, table


def test_compounds_carry_status_and_table_values(case):
    comp, svc, table = case
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=10), data_date="2026-03")
    d = _data(m)
    c = d["compounds"]
    assert c["id"] == comp.index.tolist()
    assert c["status"] == comp["status"].tolist()
    assert c["cats"][0] == "all" and sorted(c["cats"][1:]) == sorted(svc["category"].unique())
    # popup minutes and nearest service per category equal the table's
    for k, cat in enumerate(c["cats"]):
        rows = table[table["category"] == cat].set_index("compound_id").loc[c["id"]]
        assert [r[k] for r in c["min"]] == pytest.approx(rows["walk_min"].round(1).tolist())
        assert [r[k] for r in c["near"]] == rows["nearest_service_id"].tolist()
        assert [r[k] for r in c["within"]] == rows["services_within"].tolist()
        assert [r[k] for r in c["cov"]] == rows["covered"].tolist()
    counts = comp["status"].value_counts()
    assert d["statusCounts"] == {k: int(v) for k, v in counts.items()}
    assert d["legendStatuses"] == ["covered", "no_service", "no_branch", "neither"]
    assert any("10" in s for s in d["statusLabels"].values())
    assert d["params"][0].endswith("10 分钟") and "4.5" in d["params"][1] and "2026-03" in d["params"][2]
    assert c["branch"] == comp["has_branch"].tolist()
    assert c["pop"] == comp["population"].tolist()


def test_service_reach_counts_compounds_and_residents_by_nearest(case):
    comp, svc, table = case
    d = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10)))
    s = d["services"]
    assert s["withinMode"] is False
    for k, sid in enumerate(s["id"]):
        cat = svc.loc[sid, "category"]
        mine = table[(table["category"] == cat) & table["covered"] & (table["nearest_service_id"] == sid)]
        assert s["nComp"][k] == len(mine)
        assert s["nPop"][k] == int(comp.loc[mine["compound_id"], "population"].sum())
    assert sum(s["nComp"]) > 0


def test_service_reach_uses_lists_of_services_within_when_given(case):
    comp, svc, table = case
    t = table.copy()
    limit = 10 * 4.5 * 1000 / 60
    crs = comp.estimate_utm_crs()
    dist = (
        shapely.distance(comp.geometry.to_crs(crs).to_numpy()[:, None], svc.geometry.to_crs(crs).to_numpy()[None, :])
        * 1.3
    )
    lists = {}
    for i, cid in enumerate(comp.index):
        for cat in t["category"].unique():
            cols = np.ones(len(svc), bool) if cat == "all" else (svc["category"] == cat).to_numpy()
            lists[(cid, cat)] = svc.index[cols & (dist[i] <= limit)].tolist()
    t["services_within"] = [lists[(c, k)] for c, k in zip(t["compound_id"], t["category"], strict=True)]
    d = _data(coverage_map(comp, svc, t, walk=Walk(limit_min=10)))
    assert d["services"]["withinMode"] is True
    expected = (dist <= limit).sum(axis=0)
    assert d["services"]["nComp"] == expected.tolist()
    # the popup count is the length of the list
    k = d["compounds"]["cats"].index("all")
    assert [r[k] for r in d["compounds"]["within"]] == (dist <= limit).sum(axis=1).tolist()


def test_any_crs_becomes_rounded_wgs84(case):
    comp, svc, table = case
    d = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10)))
    geom0 = d["compounds"]["geoms"][0]
    ring = np.array(_rings(geom0)[0])
    truth = comp.geometry.to_crs(4326).iloc[0]
    assert shapely.Polygon(ring).centroid.distance(truth.centroid) < 2e-5  # within ~2 m
    decimals = [len(str(v).split(".")[1]) for v in ring.ravel() if "." in str(v)]
    assert max(decimals) <= 5
    lat, lon = d["services"]["lat"][0], d["services"]["lon"][0]
    p = svc.geometry.to_crs(4326).iloc[0]
    assert abs(lat - p.y) < 1e-5 and abs(lon - p.x) < 1e-5


def test_inputs_are_not_modified(case):
    comp, svc, table = case
    before = (comp.copy(), svc.copy(), table.copy())
    coverage_map(comp, svc, table, walk=Walk(limit_min=10), basemap="amap")
    pd.testing.assert_frame_equal(comp, before[0])
    pd.testing.assert_frame_equal(svc, before[1])
    pd.testing.assert_frame_equal(table, before[2])


@pytest.mark.slow
def test_amap_shifts_every_overlay_to_gcj02(case):
    comp, svc, table = case
    served = gpd.GeoDataFrame({"category": ["clinic"]}, geometry=[comp.geometry.iloc[0].buffer(200)], crs=comp.crs)
    kw = {"walk": Walk(limit_min=10), "served_areas": served, "study_area": comp.dissolve().convex_hull}
    w = _data(coverage_map(comp, svc, table, basemap="osm", **kw))
    g = _data(coverage_map(comp, svc, table, basemap="amap", **kw))
    p = svc.geometry.to_crs(4326).iloc[0]
    gx, gy = wgs84_to_gcj02(np.array([p.x]), np.array([p.y]))
    assert g["services"]["lon"][0] == pytest.approx(gx[0], abs=1.1e-5)
    assert g["services"]["lat"][0] == pytest.approx(gy[0], abs=1.1e-5)
    # Beijing: the GCJ-02 offset is several hundred metres, the same for every layer
    for key in ("compounds", "served", "study"):
        a = {
            "compounds": lambda d: d["compounds"]["geoms"][0],
            "served": lambda d: d["served"][0]["geom"],
            "study": lambda d: d["study"]["features"][0]["geometry"],
        }[key]
        dx = np.array(_rings(a(g))[0][0]) - np.array(_rings(a(w))[0][0])
        assert 0.004 < dx[0] < 0.008 and 0.0005 < dx[1] < 0.003, key
    html_text = _html(coverage_map(comp, svc, table, basemap="amap", **kw))
    assert "autonavi.com" in html_text and "tile.openstreetmap.org" not in html_text


def test_user_strings_are_escaped_everywhere(case):
    comp, svc, table = case
    comp = comp.copy()
    svc = svc.copy()
    comp.iloc[0, comp.columns.get_loc("name")] = XSS_NAME
    comp.iloc[1, comp.columns.get_loc("name")] = SCRIPT_NAME
    svc.iloc[0, svc.columns.get_loc("name")] = XSS_NAME
    svc["category"] = svc["category"].replace({"clinic": "<b>clinic</b>&co"})
    t = table.replace({"category": {"clinic": "<b>clinic</b>&co"}})
    sites = gpd.GeoDataFrame({"rank": [1], "note": [SCRIPT_NAME]}, geometry=[svc.geometry.iloc[1]], crs=svc.crs)
    branches = gpd.GeoDataFrame({"name": [XSS_NAME]}, geometry=[svc.geometry.iloc[2]], crs=svc.crs)
    m = coverage_map(
        comp, svc, t, walk=Walk(limit_min=10), title=XSS_NAME, data_date=SCRIPT_NAME, sites=sites, branches=branches
    )
    text = _html(m)
    assert "<img src=x" not in text
    assert "</script><script>alert" not in text
    assert "<b>clinic" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # the <title>
    d = _data(text)  # and the data round-trips exactly
    assert d["compounds"]["name"][:2] == [XSS_NAME, SCRIPT_NAME]
    assert d["services"]["name"][0] == XSS_NAME
    assert "<b>clinic</b>&co" in d["catLabels"]
    assert d["title"] == XSS_NAME and SCRIPT_NAME in d["params"][-1]
    assert d["sites"]["values"][0] == [1, SCRIPT_NAME] and d["branches"]["name"] == [XSS_NAME]
    # the layer control shows names as HTML: they arrive HTML-escaped (inside a JSON string)
    assert "\\u0026lt;b\\u0026gt;clinic\\u0026lt;/b\\u0026gt;\\u0026amp;co" in text


def test_template_syntax_in_the_data_stays_text(case, tmp_path):
    """branca renders each element's output as a Jinja template once more: data must not reach it as code."""
    comp, svc, table = case
    pwned = tmp_path / "PWNED"
    rce = "{{ lipsum.__globals__['os'].popen('touch " + str(pwned) + "').read() }}"
    names = ["{{7*7}}", rce, "甲{#小区", "3号楼{{", "{% if 1 %}x{% endif %}"]
    comp = comp.copy()
    comp.iloc[: len(names), comp.columns.get_loc("name")] = names
    svc = svc.assign(category=svc["category"].replace({"clinic": "{{7*7}}"}))
    t = table.replace({"category": {"clinic": "{{7*7}}"}})
    sites = gpd.GeoDataFrame({"rank": [1], "note": [rce]}, geometry=[svc.geometry.iloc[1]], crs=svc.crs)
    m = coverage_map(comp, svc, t, walk=Walk(limit_min=10), title="研究{{7*7}}", sites=sites)
    text = _html(m)
    save_map(m, tmp_path / "map.html")
    assert not pwned.exists()
    d = _data(text)  # the names arrive exactly as given
    assert d["compounds"]["name"][: len(names)] == names and d["title"] == "研究{{7*7}}"
    assert "{{7*7}}" in d["catLabels"] and d["sites"]["values"][0] == [1, rce]
    assert "研究49" not in text and "{{" not in text and "{#" not in text and "{%" not in text
    assert "&#123;&#123;7*7&#125;&#125;" in text  # a layer-control name, as HTML


def test_runtime_never_uses_innerhtml():
    from lifecircle.maps._assets import RUNTIME_JS

    assert "innerHTML" not in RUNTIME_JS and "insertAdjacentHTML" not in RUNTIME_JS
    assert "document.write" not in RUNTIME_JS and "eval(" not in RUNTIME_JS


def test_english_map_takes_all_text_from_the_table(case):
    comp, svc, table = case
    comp = comp.assign(name=[f"Court {i}" for i in range(len(comp))])
    svc = svc.assign(name=[f"Shop {i}" for i in range(len(svc))])
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=12.5))
    text = _html(m)
    d = _data(text)
    assert d["lang"] == "en"
    assert not _CJK.search(text)  # no stray Chinese string outside the translation table
    assert "Threshold: 12.5 min walk" in d["params"]
    zh = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=12.5), lang="zh"))
    assert zh["labels"]["households"] == "户数"


def test_category_map_shows_that_category_only(case):
    comp, svc, table = case
    d = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10), category="clinic"))
    assert d["compounds"]["cats"] == ["clinic"]
    cats = {d["catLabels"][k] for k in d["services"]["cat"]}
    assert cats == {"clinic"} and len(d["services"]["id"]) == int((svc["category"] == "clinic").sum())
    cov = table[table["category"] == "clinic"].set_index("compound_id").loc[d["compounds"]["id"], "covered"]
    assert d["compounds"]["status"] == np.where(cov, "covered", "no_service").tolist()
    assert d["legendStatuses"] == ["covered", "no_service"]
    with pytest.raises(InputError, match="bakery"):
        coverage_map(comp, svc, table, walk=Walk(limit_min=10), category="bakery")


def test_status_derived_when_planning_columns_absent(case):
    comp, svc, table = case
    bare = comp.drop(columns=["status", "has_branch"])
    d = _data(coverage_map(bare, svc, table, walk=Walk(limit_min=10)))
    cov = table[table["category"] == "all"].set_index("compound_id").loc[bare.index, "covered"]
    assert d["compounds"]["status"] == np.where(cov, "covered", "no_service").tolist()
    assert d["compounds"]["branch"] is None


def test_no_branch_data_keeps_the_legend_to_coverage(case):
    comp, svc, table = case
    # what planning writes when no branch layer or attribute was given: status covered/no_service, has_branch NA
    cov = table[table["category"] == "all"].set_index("compound_id").loc[comp.index, "covered"].to_numpy(bool)
    unknown = comp.assign(has_branch=pd.NA, status=np.where(cov, "covered", "no_service"))
    d = _data(coverage_map(unknown, svc, table, walk=Walk(limit_min=10), lang="en"))
    assert d["legendStatuses"] == ["covered", "no_service"]
    assert d["statusLabels"]["covered"] == "Within 10 min walk"
    known = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10), lang="en"))
    assert known["legendStatuses"] == ["covered", "no_service", "no_branch", "neither"]
    assert "and a branch" in known["statusLabels"]["covered"]


def test_site_catchments_drawn_with_the_sites(case):
    comp, svc, table = case
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2]}, geometry=comp.geometry.representative_point().iloc[:2].to_numpy(), crs=comp.crs
    )
    areas = gpd.GeoDataFrame({"rank": [1, 2]}, geometry=comp.geometry.iloc[:2].to_numpy(), crs=comp.crs)
    d = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10), sites=sites, site_areas=areas))
    assert len(d["siteAreas"]) == 2 and d["siteAreas"][0]["type"] in ("Polygon", "MultiPolygon")
    with pytest.raises(InputError, match="site catchments"):
        coverage_map(comp, svc, table, walk=Walk(limit_min=10), sites=sites, site_areas=sites)


@pytest.mark.slow
def test_optional_layers_and_basemaps(case):
    comp, svc, table = case
    served = gpd.GeoDataFrame(
        {"category": ["clinic", "grocery"]},
        geometry=[comp.geometry.iloc[0].buffer(300), comp.geometry.iloc[5].buffer(300)],
        crs=comp.crs,
    )
    sites = gpd.GeoDataFrame(
        {"rank": [2, 1], "gain_pop": [1200.456, 800.0]},
        geometry=[svc.geometry.iloc[0], svc.geometry.iloc[1]],
        crs=svc.crs,
    ).to_crs(3857)
    m = coverage_map(
        comp,
        svc,
        table,
        walk=Walk(limit_min=10),
        served_areas=served,
        sites=sites,
        study_area=comp.dissolve().buffer(100),
        basemap="light",
        lang="en",
    )
    text = _html(m)
    d = _data(text)
    cat_idx = d["catLabels"].index
    assert [s["cat"] for s in d["served"]] == [cat_idx("clinic"), cat_idx("grocery")]
    assert d["sites"]["rank"] == [2, 1] and d["sites"]["values"][0] == [2, 1200.46]
    assert d["study"]["features"][0]["geometry"]["type"] == "Polygon"
    assert "Served area: clinic" in text and "Recommended sites" in text and "Study area" in text
    assert text.index("basemaps.cartocdn.com") < text.index("tile.openstreetmap.org")
    assert "OpenStreetMap" in d["attribution"] and "ODbL" in d["attribution"]
    t = _html(coverage_map(comp, svc, table, walk=Walk(limit_min=10), basemap="tianditu", tianditu_key="abc123def456"))
    assert "tianditu.gov.cn/vec_w" in t and "tk=abc123def456" in t
    with pytest.raises(InputError, match="tianditu_key"):
        coverage_map(comp, svc, table, walk=Walk(limit_min=10), basemap="tianditu")
    with pytest.raises(InputError, match="tianditu_key"):
        coverage_map(comp, svc, table, walk=Walk(limit_min=10), basemap="tianditu", tianditu_key='x";alert(1)//')
    with pytest.raises(InputError, match="google"):
        coverage_map(comp, svc, table, walk=Walk(limit_min=10), basemap="google")


def test_served_areas_that_reach_nothing_draw_nothing(case):
    comp, svc, table = case
    served = gpd.GeoDataFrame(
        {"category": ["clinic", "grocery"]}, geometry=[shapely.Polygon(), shapely.Polygon()], crs=comp.crs
    )
    d = _data(_html(coverage_map(comp, svc, table, walk=Walk(limit_min=10), served_areas=served)))
    assert [s["geom"] for s in d["served"]] == [None, None]


def test_bad_inputs_are_input_errors(case):
    comp, svc, table = case
    with pytest.raises(InputError, match="CRS"):
        coverage_map(comp.set_crs(None, allow_override=True), svc, table, walk=Walk(limit_min=10))
    with pytest.raises(InputError, match=r"services.*Point"):
        coverage_map(comp, comp.assign(category="x"), table, walk=Walk(limit_min=10))
    with pytest.raises(InputError, match="duplicate"):
        coverage_map(comp, svc, pd.concat([table, table.iloc[:1]]), walk=Walk(limit_min=10))
    with pytest.raises(InputError, match="minutes"):
        Walk(limit_min=0)
    with pytest.raises(InputError, match="Walk"):
        coverage_map(comp, svc, table, walk=10)
    with pytest.raises(InputError, match="category"):
        coverage_map(comp, svc.drop(columns="category"), table, walk=Walk(limit_min=10))


def test_save_is_offline_by_default_and_online_on_request(case, tmp_path):
    comp, svc, table = case
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=10))
    online = save_map(m, tmp_path / "online.html", online=True)
    offline = save_map(m, tmp_path / "offline.html")
    legacy = save_map(m, tmp_path / "legacy.html", offline=False)  # the old spelling of online=True
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in legacy.read_text(encoding="utf-8")
    legacy.unlink()
    on, off = online.read_text(encoding="utf-8"), offline.read_text(encoding="utf-8")
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in on
    assert "jquery" not in on.lower() and "bootstrap" not in on.lower()
    assert not _EXTERNAL_TAG.search(off)
    assert "Leaflet" in off and "L.version" not in on  # leaflet.js source is inlined only offline
    assert "url(images/" not in off and "data:image/png;base64," in off  # layer-control icon inlined
    assert _data(on) == _data(off)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offline.html", "online.html"]  # no temp files left
    with pytest.raises(InputError, match="does not exist"):
        save_map(m, tmp_path / "nope" / "x.html")


def test_many_services_cluster_and_offline_inlines_or_drops_the_plugin(tmp_path, monkeypatch):
    comp, svc = synthetic_district(30, 3 * (CLUSTER_MIN + 5), seed=5)
    table = approx_coverage_table(comp, svc)
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=10))
    assert _data(m)["cluster"] == [True, True, True]
    on = save_map(m, tmp_path / "on.html", online=True).read_text(encoding="utf-8")
    assert "leaflet.markercluster.js" in on
    off = save_map(m, tmp_path / "off.html").read_text(encoding="utf-8")
    assert not _EXTERNAL_TAG.search(off)
    if _offline.offline_support()["markercluster"]:
        assert "MarkerClusterGroup" in off
    # without the package the plugin is dropped and the map falls back to plain markers
    without = {k: v for k, v in _offline._known_assets().items() if "arker" not in k}
    monkeypatch.setattr(_offline, "_known_assets", lambda: without)
    off2 = save_map(m, tmp_path / "off2.html").read_text(encoding="utf-8")
    assert not _EXTERNAL_TAG.search(off2) and "MarkerClusterGroup" not in off2
    assert 'typeof L.markerClusterGroup === "function"' in off2


@pytest.mark.slow
def test_five_thousand_compounds_offline_stay_under_8_mb(tmp_path):
    comp, svc = synthetic_district(5000, 400, seed=7, vertices=40)
    table = approx_coverage_table(comp, svc, minutes=15, speed_kmh=4.5)
    comp = with_status(comp, table)
    served = svc.assign(geometry=svc.buffer(900)).dissolve("category").reset_index()[["category", "geometry"]]
    m = coverage_map(
        comp,
        svc,
        table,
        walk=Walk(limit_min=15),
        served_areas=served,
        study_area=comp.dissolve().convex_hull.buffer(200),
    )
    path = save_map(m, tmp_path / "big.html")
    size = path.stat().st_size
    print(f"5000 compounds x 40 vertices + 400 services, offline: {size / 1e6:.2f} MB")
    assert size < 8_000_000
    d = _data(path.read_text(encoding="utf-8"))
    assert len(d["compounds"]["geoms"]) == 5000


@pytest.mark.slow
def test_real_osm_compounds_in_chinese():
    data = osm_beijing()
    if data is None:
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    comp, svc = data
    table = approx_coverage_table(comp, svc, minutes=10, speed_kmh=4.5)
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=10))
    d = _data(m)
    assert d["lang"] == "zh" and len(d["compounds"]["geoms"]) == len(comp) == 10
    assert "富润家园" in d["compounds"]["name"]
    assert d["compounds"]["geoms"][0]["type"] in {"Polygon", "MultiPolygon"}
    b = d["bounds"]
    assert 39.9 < b[0][0] < b[1][0] < 40.1 and 116.2 < b[0][1] < b[1][1] < 116.5


# ------------------------------------------------------------------------------ per-category limits, statuses
def test_each_category_says_its_own_limit(case):
    comp, svc, table = case
    t = table.copy()
    clinic = t["category"] == "clinic"
    t.loc[clinic, "covered"] = t.loc[clinic, "walk_min"] <= 15
    d = _data(coverage_map(comp, svc, t, walk=Walk(limit_min=10, category_limit_min={"clinic": 15}), lang="zh"))
    cats = d["catLabels"]
    assert d["catMinutes"][cats.index("clinic")] == "15" and d["catMinutes"][cats.index("grocery")] == "10"
    c = d["compounds"]
    assert dict(zip(c["cats"], c["catMinutes"], strict=True)) == {
        "all": "10",
        "clinic": "15",
        "grocery": "10",
        "kindergarten": "10",
    }
    assert "分类阈值：clinic 15 分钟" in d["params"] and d["params"][0] == "步行阈值：10 分钟"
    assert d["labels"]["legend_category"].format(category="clinic", minutes=15, n=3) == "clinic 15 分钟（3）"
    one = _data(
        coverage_map(comp, svc, t, walk=Walk(limit_min=10, category_limit_min={"clinic": 15}), category="clinic")
    )
    assert one["params"][0] == "步行阈值：15 分钟" and one["statusLabels"]["covered"] == "15 分钟内可达"
    with pytest.raises(InputError, match="clinic"):
        coverage_map(comp, svc, t, walk=Walk(limit_min=10, category_limit_min={"clinic": -1}))


def test_unreachable_compounds_get_their_own_status(case):
    comp, svc, table = case
    marked = comp.assign(status=comp["status"].where(np.arange(len(comp)) != 2, "unreachable"))
    t = table.copy()
    off = (t["compound_id"] == comp.index[5]) & (t["category"] == "all")
    t.loc[off, "reach"] = "off_network"  # the table alone also says so
    d = _data(coverage_map(marked, svc, t, walk=Walk(limit_min=10), lang="zh"))
    status = d["compounds"]["status"]
    assert status[2] == "unreachable" and status[5] == "unreachable"
    assert d["legendStatuses"] == ["covered", "no_service", "no_branch", "neither", "unreachable"]
    assert d["statusLabels"]["unreachable"] == "无法步行到达" and d["statusCounts"]["unreachable"] == 2
    assert d["statusColors"]["unreachable"] != d["statusColors"]["unknown"]


def _lab(hex_color: str) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour."""
    rgb = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    f = np.cbrt(xyz / np.array([0.95047, 1.0, 1.08883]))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_category_colours_never_look_like_a_status():
    from lifecircle.maps.coverage_map import CATEGORY_COLORS, STATUS_COLORS

    status = [_lab(c) for c in STATUS_COLORS.values()]
    for color in CATEGORY_COLORS:
        assert min(np.linalg.norm(_lab(color) - s) for s in status) >= 30, color
    assert len(set(CATEGORY_COLORS)) == len(CATEGORY_COLORS)


def test_households_and_population_under_chinese_names(case):
    comp, svc, table = case
    zh = comp.rename(columns={"households": "户数", "population": "常住人口"})
    d = _data(coverage_map(zh, svc, table, walk=Walk(limit_min=10)))
    assert d["compounds"]["hh"] == comp["households"].tolist()
    assert d["compounds"]["pop"] == comp["population"].tolist()
    assert d["services"]["nHh"] is not None and sum(d["services"]["nHh"]) > 0


# ----------------------------------------------------------------------------------------------- streets
@pytest.fixture(scope="module")
def beijing_graph():
    from _maps_fixtures import OSM_BEIJING

    if not OSM_BEIJING.is_file():
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    from lifecircle.geo.network.osm import network_from_osm

    return network_from_osm(OSM_BEIJING)


def _decode(d):
    """The street layer back as WGS84 lines: (class, name, LineString) per part."""
    s = d["streets"]
    out = []
    for row in s["lines"]:
        for part in row[2:]:
            xy = np.cumsum(np.array(part, dtype=np.int64).reshape(-1, 2), axis=0) / s["scale"]
            out.append((row[0], None if row[1] < 0 else s["names"][row[1]], shapely.LineString(xy)))
    return out


@pytest.mark.slow
def test_street_layer_is_the_network_simplified_and_rounded(case, beijing_graph):
    from lifecircle.maps.streets import ROAD_CLASSES, road_class, street_edges

    comp, svc, table = case
    edges = street_edges(beijing_graph)
    assert len(edges) < beijing_graph.number_of_edges()  # each two-way street once
    d = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10), streets=edges))
    parts = _decode(d)
    drawn = shapely.union_all([g for _, _, g in parts])
    crs = edges.estimate_utm_crs()
    drawn_m = gpd.GeoSeries([drawn], crs=4326).to_crs(crs).iloc[0]
    truth = edges.to_crs(crs)
    # every street segment lies within 3 m of what is drawn (2 m simplification + ~1 m rounding), and back
    mids = truth.geometry.interpolate(0.5, normalized=True)
    assert float(mids.distance(drawn_m).max()) < 3.0
    assert shapely.hausdorff_distance(drawn_m, truth.union_all()) < 3.0
    # classes and names come from the OSM tags
    expected = truth.assign(cls=truth["highway"].map(road_class))
    for cls, name, line in parts[:: max(1, len(parts) // 200)]:
        line_m = gpd.GeoSeries([line], crs=4326).to_crs(crs).iloc[0]
        near = expected[expected.distance(line_m.interpolate(0.5, normalized=True)) < 3.0]
        assert ROAD_CLASSES[cls] in set(near["cls"]), name
        if name is not None:
            assert name in set(near["name"])
    names = {n for _, n, _ in parts if n}
    assert "学院路" in names and {c for c, _, _ in parts} == {0, 1, 2}
    # far smaller than the network's own GeoJSON
    assert len(json.dumps(d["streets"])) < 0.25 * len(truth.to_crs(4326).to_json())


@pytest.mark.slow
def test_streets_from_a_graph_or_a_prepared_network_and_names_stay_text(case, beijing_graph):
    from lifecircle.geo.network.graph import prepare_network

    comp, svc, table = case
    g = beijing_graph.copy()
    u, v, k = next(iter(g.edges(keys=True)))
    g.edges[u, v, k]["name"] = XSS_NAME
    text = _html(coverage_map(comp, svc, table, walk=Walk(limit_min=10), streets=g))
    assert "<img src=x" not in text and XSS_NAME in _data(text)["streets"]["names"]
    d = _data(coverage_map(comp, svc, table, walk=Walk(limit_min=10), streets=prepare_network(beijing_graph)))
    assert d["streets"]["names"] == [] and len(_decode(d)) > 100
    with pytest.raises(InputError, match="streets"):
        coverage_map(comp, svc, table, walk=Walk(limit_min=10), streets=comp)


def test_street_rows_stay_small_for_the_runtime_slices(beijing_graph):
    from lifecircle.maps.streets import ROW_POINTS, street_data, street_edges

    names, lines = street_data(street_edges(beijing_graph), gcj=False)
    rows = json.loads(lines)
    sizes = [sum(len(p) // 2 for p in r[2:]) for r in rows]
    longest_part = max(len(p) // 2 for r in rows for p in r[2:])
    assert max(sizes) <= max(ROW_POINTS, longest_part)
    assert all(-1 <= r[1] < len(names) and r[0] in (0, 1, 2) for r in rows)


def _polygons_one_by_one(ax, compounds):
    """The print map's compounds drawn compound by compound, part by part (the reference)."""
    from matplotlib.collections import PolyCollection

    from lifecircle.maps._style import STATUS_COLORS

    polys, colors = [], []
    for geom, st in zip(compounds.geometry.to_numpy(), compounds["status"].astype(str), strict=True):
        if geom is None or geom.is_empty:
            continue
        for part in shapely.get_parts(geom):
            polys.append(shapely.get_coordinates(part.exterior))
            colors.append(STATUS_COLORS.get(st, STATUS_COLORS["unknown"]))
    ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors=colors, linewidths=0.5, alpha=0.6))


def test_print_map_draws_every_part_of_every_compound_in_its_colour(tmp_path, monkeypatch):
    """The still map for print: multipolygons, holes, empty and missing geometries and an unknown status give
    the same picture as drawing compound by compound."""
    from lifecircle.maps import print_map

    hole = [(1e-3, 1e-3), (2e-3, 1e-3), (2e-3, 2e-3)]
    ring = shapely.Polygon([(0, 0), (0.004, 0), (0.004, 0.003), (0, 0.003)], [hole])
    two = shapely.MultiPolygon([shapely.box(0.006, 0, 0.007, 0.001), shapely.box(0.008, 0.002, 0.0095, 0.004)])
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["a", "b", "c", "d", "e"], "status": ["covered", "uncovered", "covered", "odd", "partial"]},
        geometry=[ring, two, shapely.Polygon(), None, shapely.box(0.001, 0.005, 0.003, 0.007)],
        crs=4326,
    )
    compounds.to_file(tmp_path / "compounds.gpkg", driver="GPKG")
    drawn = print_map.print_map_png(tmp_path)
    monkeypatch.setattr(print_map, "_polygons", _polygons_one_by_one)
    assert drawn is not None and drawn == print_map.print_map_png(tmp_path)
