"""GB 50180-2018 presets, user standard files, per-compound compliance (also on a real Beijing extract)."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecircle.errors import InputError
from lifecircle.planning import compliance as cp
from lifecircle.planning import standards as st

_REPO = Path(__file__).resolve().parents[1]
_SHARED = _REPO.parent / "shared" / "data"
if not _SHARED.is_dir() and os.environ.get("LIFECIRCLE_SHARED_DATA"):
    _SHARED = Path(os.environ["LIFECIRCLE_SHARED_DATA"])
PRESET = _REPO / "lifecircle" / "data" / "standards" / "gb50180.toml"


# ---- presets ---------------------------------------------------------------------------------------------


def test_presets_and_distances():
    assert st.list_standards() == ["gb50180-15", "gb50180-10", "gb50180-5"]
    s15, s10, s5 = (st.load_standard(k) for k in ("gb50180-15", "GB50180-10", " gb50180-5 "))
    assert (s15.walk_m, s15.walk_m_range) == (1000.0, (800.0, 1000.0))
    assert (s10.walk_m, s5.walk_m) == (500.0, 300.0)
    assert s15.name == "GB 50180-2018" and s10.label == "十分钟生活圈居住区"
    assert s5.facility("kindergarten").name == "幼儿园" and s5.facility("kindergarten").required
    assert s10.facility("primary_school").clause.startswith("GB 50180-2018 附录B")
    assert s15.facility("middle_school").osm == ("amenity=school",)
    with pytest.raises(InputError, match=r"no facility 'school'.*primary_school"):
        s10.facility("school")


def test_presets_are_honest_about_verification():
    text = PRESET.read_text(encoding="utf-8")
    assert "WITHOUT access to the standard text" in text
    for key in st.list_standards():
        s = st.load_standard(key)
        assert not s.fully_verified  # flip only after checking the text, then update this test
        assert all(f.clause for f in s.facilities)
        assert len(s.required) >= 5


def test_preset_is_shipped_as_package_data():
    pyproject = st.tomllib.loads((_REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["lifecircle.data"]
    data_dir = _REPO / "lifecircle" / "data"
    assert any(PRESET in data_dir.glob(g) for g in globs)  # setuptools globs do not recurse


def test_unknown_preset_names_the_choices():
    with pytest.raises(InputError, match=r"Unknown standard 'gb50180-20'.*gb50180-15, gb50180-10, gb50180-5"):
        st.load_standard("gb50180-20")


# ---- user files ------------------------------------------------------------------------------------------


def _user_file(tmp_path, text: str, name: str = "mine.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


MINIMAL = """
[standard]
name = "东区十分钟生活圈导则"

[levels.dongqu-10]
label = "十分钟生活圈"
walk_m = 600
walk_m_range = [500, 800]
clause = "导则 3.1"
verified = true

[[levels.dongqu-10.facilities]]
key = "convenience_point"
name = "便民服务点"
clause = "导则 表3"
required = true
verified = true

[[levels.dongqu-10.facilities]]
key = "kindergarten"
name = "幼儿园"
clause = "导则 表3"
required = true
verified = true
walk_m = 300
"""


def test_user_file_loads(tmp_path):
    p = _user_file(tmp_path, MINIMAL)
    s = st.load_standard(p)
    assert s.key == "dongqu-10" and s.walk_m == 600 and s.fully_verified
    assert s.facility("kindergarten").walk_m == 300 and s.facility("convenience_point").walk_m is None
    assert st.load_standard(f"{p}#dongqu-10") == s
    assert st.load_standard(str(p), level="dongqu-10") == s


def test_a_copy_of_the_preset_is_a_valid_user_file(tmp_path):
    p = _user_file(tmp_path, PRESET.read_text(encoding="utf-8"), "copy.toml")
    with pytest.raises(InputError, match=r"several levels .*#<level>"):
        st.load_standard(p)
    assert st.load_standard(f"{p}#gb50180-5").facilities == st.load_standard("gb50180-5").facilities
    with pytest.raises(InputError, match="no level 'gb50180-1'; its levels are gb50180-15"):
        st.load_standard(f"{p}#gb50180-1")


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("walk_m = 600", 'walk_m = "600m"', r"levels\.dongqu-10\.walk_m must be a positive number of metres"),
        (
            "walk_m = 600",
            "walk_m = 900",
            r"levels\.dongqu-10\.walk_m must be within walk_m_range \[500\.0, 800\.0\]",
        ),
        ("walk_m_range = [500, 800]", "walk_m_range = [800, 500]", r"walk_m_range must be \[low, high\]"),
        ("verified = true\n\n[[", "verifed = true\n\n[[", r"unknown key levels\.dongqu-10\.verifed"),
        (
            "required = true\nverified = true\nwalk_m",
            "required = 1\nverified = true\nwalk_m",
            r"facilities\[1\]\.required must be true or false",
        ),
        ('key = "kindergarten"', 'key = "convenience_point"', r"'convenience_point' appears twice"),
        (
            'key = "kindergarten"',
            'key = "Kinder Garten"',
            r"facilities\[1\]\.key must be a snake_case identifier",
        ),
        ('name = "幼儿园"\n', "", r"facilities\[1\] lacks the required key 'name'"),
        ("walk_m = 300", "walk_m = -300", r"facilities\[1\]\.walk_m must be a positive number"),
        ('name = "东区十分钟生活圈导则"', "title = 'x'", r"standard lacks the required key 'name'"),
        ("[levels.dongqu-10]", "[levels.dongqu-10\n", r"not valid TOML"),
    ],
)
def test_invalid_user_files_name_key_and_form(tmp_path, old, new, pattern):
    assert old in MINIMAL
    p = _user_file(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(InputError, match=pattern) as info:
        st.load_standard(p)
    assert str(p) in str(info.value)


def test_missing_file_and_no_levels(tmp_path):
    with pytest.raises(InputError, match=r"nope\.toml does not exist"):
        st.load_standard(tmp_path / "nope.toml")
    p = _user_file(tmp_path, '[standard]\nname = "x"\n')
    with pytest.raises(InputError, match=r"at least one \[levels.<key>\]"):
        st.load_standard(p)


# ---- compliance on a hand-made table ---------------------------------------------------------------------


def _table(rows):
    df = pd.DataFrame(rows, columns=["compound_id", "category", "walk_m"])
    df["walk_min"] = df["walk_m"] / 75.0
    df["covered"] = df["walk_m"] <= 750
    return df


def test_compliance_semantics(tmp_path):
    s = st.load_standard(_user_file(tmp_path, MINIMAL))  # level 600 m, kindergarten 300 m
    table = _table(
        [
            ("C1", "all", 100.0), ("C1", "便民服务点", 590.0), ("C1", "幼儿园", 290.0),
            ("C2", "all", 100.0), ("C2", "便民服务点", 610.0), ("C2", "超市", 100.0), ("C2", "幼儿园", 310.0),
            ("C3", "all", np.nan), ("C3", "便民服务点", np.nan), ("C3", "幼儿园", np.nan),
        ]
    )  # fmt: skip
    out = cp.compliance(table, s, {"convenience_point": ["便民服务点", "超市"], "kindergarten": "幼儿园"})
    assert list(out.index) == ["C1", "C2", "C3"] and out.index.name == "compound_id"
    assert out.loc["C1", "missing"] == "" and bool(out.loc["C1", "compliant"])
    # 超市 at 100 m stands in for 便民服务点; the kindergarten at 310 m misses its own 300 m radius
    assert out.loc["C2", "missing"] == "kindergarten" and out.loc["C2", "missing_names"] == "幼儿园"
    assert out.loc["C3", "missing"] == "convenience_point; kindergarten" and out.loc["C3", "n_met"] == 0
    assert out.loc["C3", "missing_names"] == "便民服务点、幼儿园"
    assert not out.loc["C3", "compliant"] and out["compliant"].dtype == "boolean"
    assert (out["standard"] == "dongqu-10").all() and (out["walk_m"] == 600).all()

    partial = cp.compliance(table, s, {"kindergarten": "幼儿园"})
    assert list(partial["not_assessed"]) == ["convenience_point"] * 3
    assert pd.isna(partial.loc["C1", "compliant"])  # nothing missing, but not everything assessed
    assert not partial.loc["C2", "compliant"]
    assert list(partial["n_assessed"]) == [1, 1, 1] and list(partial["n_checked"]) == [2, 2, 2]


def test_compliance_inputs_are_checked(tmp_path, caplog):
    s = st.load_standard(_user_file(tmp_path, MINIMAL))
    table = _table([("C1", "all", 100.0), ("C1", "幼儿园", 100.0)])
    with pytest.raises(InputError, match=r"'school'.*not a facility of dongqu-10.*convenience_point, kindergarten"):
        cp.compliance(table, s, {"school": "学校"})
    with pytest.raises(InputError, match="lacks column"):
        cp.compliance(table.drop(columns="walk_m"), s, {})
    with pytest.raises(InputError, match=r"category_map\['kindergarten'\] must be a category name"):
        cp.compliance(table, s, {"kindergarten": 3})
    with pytest.raises(InputError, match="computed up to 450 m but dongqu-10 checks 600 m"):
        cp.compliance(table, s, {"convenience_point": "便民服务点"}, coverage_limit_m=450)
    with caplog.at_level(logging.WARNING, logger="lifecircle.planning.compliance"):
        out = cp.compliance(table, s, {"convenience_point": "便民服务点", "kindergarten": "幼儿园"})
    assert "'便民服务点'" in caplog.text and out.loc["C1", "missing"] == "convenience_point"


def test_recommended_facilities_only_on_request():
    s5 = st.load_standard("gb50180-5")
    table = _table([("C1", "all", 50.0), ("C1", "clinic", 900.0)])
    base = cp.compliance(table, s5, {"community_health_station": "clinic"})
    assert "community_health_station" not in base.loc["C1", "missing"]  # △, not checked by default
    assert base.loc["C1", "n_checked"] == len(s5.required)
    more = cp.compliance(table, s5, {"community_health_station": "clinic"}, include_recommended=True)
    assert "community_health_station" in more.loc["C1", "missing"]


# ---- compliance on a real Beijing extract ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.shared
def test_compliance_on_beijing_extract():
    """Coverage table built here with networkx on OSM (compound centroid / service nearest nodes)."""
    ox = pytest.importorskip("osmnx")
    nx = pytest.importorskip("networkx")
    path = _SHARED / "osm" / "beijing_haidian_cau_xueyuanlu.osm.bz2"
    if not path.exists():
        pytest.skip(f"shared test data {path} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ox.project_graph(ox.graph_from_xml(path, retain_all=False))
        feats = ox.features_from_xml(path, tags={"landuse": "residential", "amenity": True, "shop": True})
    feats = feats.to_crs(graph.graph["crs"])
    walk = graph.to_undirected()
    compounds = feats[feats["landuse"].eq("residential") & feats.geom_type.isin(["Polygon", "MultiPolygon"])]
    compounds = compounds.set_axis([f"R{i}" for i in range(len(compounds))])
    services = feats[feats["amenity"].notna() | feats["shop"].notna()]
    services = services.assign(category=services["amenity"].fillna(services["shop"]))
    c_nodes = ox.distance.nearest_nodes(graph, compounds.centroid.x, compounds.centroid.y)
    pts = services.representative_point()
    s_nodes = pd.Series(ox.distance.nearest_nodes(graph, pts.x, pts.y), index=services.index)
    rows = []
    for cat in ["kindergarten", "supermarket", "convenience", "pharmacy", "toilets", "school", "restaurant"]:
        sources = set(s_nodes[services["category"].to_numpy() == cat])
        dist = nx.multi_source_dijkstra_path_length(walk, sources, weight="length") if sources else {}
        rows += [(cid, cat, dist.get(n, np.nan)) for cid, n in zip(compounds.index, c_nodes, strict=True)]
    table = _table(rows)

    s5 = st.load_standard("gb50180-5")
    cmap = {
        "kindergarten": "kindergarten",
        "neighbourhood_shops": ["supermarket", "convenience", "pharmacy"],
        "public_toilet": "toilets",
    }
    out = cp.compliance(table, s5, cmap)
    assert len(out) == len(compounds) == 10
    wide = table.pivot(index="compound_id", columns="category", values="walk_m").reindex(out.index)
    lacks_kg = ~(wide["kindergarten"] <= 300)
    lacks_shop = ~(wide[["supermarket", "convenience", "pharmacy"]].min(axis=1) <= 300)
    assert (out["missing"].str.contains("kindergarten") == lacks_kg).all()
    assert (out["missing"].str.contains("neighbourhood_shops") == lacks_shop).all()
    # a real spread: some compounds have a kindergarten within 300 m, some do not; shops are common
    assert 0 < lacks_kg.sum() < len(out) and lacks_shop.sum() < lacks_kg.sum()
    assert out["compliant"].isna().all() or not out["compliant"].all()  # most △/▲ items are not mapped
    assert (out["n_assessed"] == 3).all() and (out["n_checked"] == len(s5.required)).all()

    s10 = st.load_standard("gb50180-10")
    out10 = cp.compliance(table, s10, {"primary_school": "school"})
    assert (out10["missing"].eq("primary_school") == ~(wide["school"] <= 500)).all()
