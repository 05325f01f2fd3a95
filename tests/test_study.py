"""Study files: validation, template, overrides, and one end-to-end study on a real Beijing OSM extract with a
GCJ-02 Excel ledger and a GBK shapefile of compounds."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import openpyxl
import osmnx as ox
import pandas as pd
import pytest

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import wgs84_to_gcj02
from lifecircle.planning.cli import main
from lifecircle.planning.inputs import group_categories
from lifecircle.planning.jobs import run_study
from lifecircle.planning.jobs.analyze import run_analysis
from lifecircle.planning.study import TEMPLATE, Study, load_study, write_template

MINIMAL = """
[study]
name = "测试"
network = "net.osm"
[compounds]
path = "c.geojson"
[services]
path = "s.csv"
"""


def _files(folder):
    for name in ("net.osm", "c.geojson", "s.csv"):
        (folder / name).write_text("x")


def _study(folder, extra: str = "", base: str = MINIMAL):
    path = folder / "study.toml"
    path.write_text(base + extra, encoding="utf-8")
    return path


def test_minimal_study_defaults_and_paths(tmp_path):
    _files(tmp_path)
    study = load_study(_study(tmp_path))
    assert study.name == "测试" and study.network == str(tmp_path / "net.osm")
    assert study.compounds.path == tmp_path / "c.geojson" and study.out_dir == tmp_path / "lifecircle-out"
    assert study.max_walk_min is None and study.speed_kmh == 4.5 and study.output_coord_system == "wgs84"
    over = study.with_overrides(max_walk_min=15, out_dir="elsewhere", speed_kmh=None)
    assert over.max_walk_min == 15 and over.speed_kmh == 4.5 and str(over.out_dir) == "elsewhere"
    assert study.max_walk_min is None  # frozen, untouched


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[walk]\nminutes = -3\n", "walk.minutes must be a positive number"),
        ("[walk]\nminutes = 10\ndistance_m = 500\n", "not both"),
        ("[walk]\nspeed = 4\n", "unknown key walk.speed"),
        ('[output]\ncoord_system = "beijing54"\n', "output.coord_system must be"),
        ('[output]\nlang = "fr"\n', 'output.lang must be "zh" or "en"'),
        ('[categories]\n"便民" = 3\n', "categories.便民 must be a list of ledger values"),
        ('[categories]\n"甲" = ["超市"]\n"乙" = ["超市"]\n', "in both categories"),
        ('[thresholds]\n"医疗" = "15"\n', "thresholds.医疗 must be a positive number"),
        ('[standard]\nlevel = "gb50180-99"\n', "Unknown standard"),
        ('[standard.facilities]\nkindergarten = "幼儿园"\n', "needs standard.level"),
        ("[extras]\na = 1\n", "unknown key (top level).extras"),
        ('[walking]\nprofiles = ["astronaut"]\n', "Unknown walker profile 'astronaut'"),
        ("[walking]\nprofiles = 3\n", "walking.profiles must be a list of profile names"),
        ("[walking]\ncompound_roads = 1\n", "walking.compound_roads must be true or false"),
        ('[walking]\ndem = "hills.tif"\n', "walking.dem names 'hills.tif', which does not exist"),
        ("[walking]\nslope = true\n", "unknown key walking.slope"),
        ("[output]\ncatchment_m = 0\n", "output.catchment_m must be a positive number"),
        ('[standard]\nlevel = "gb50180-10"\n[standard.facilities]\nnosuch = "x"\n', "facilities names 'nosuch'"),
        ('[walking]\nprofiles = ["alien"]\n', "study.toml: walking.profiles: Unknown walker profile 'alien'"),
        ("[branches]\n", "branches.path must be a non-empty string"),  # an empty table is not "no branches"
        ("[gates]\n", "gates.path must be a non-empty string"),
    ],
)
def test_validation_names_key_and_form(tmp_path, extra, message):
    _files(tmp_path)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_study(_study(tmp_path, extra))


def test_missing_things(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_study(tmp_path / "none.toml")
    with pytest.raises(InputError, match="is a folder, not a study file"):
        load_study(tmp_path)
    _study(tmp_path)
    with pytest.raises(InputError, match=r"study\.network names 'net\.osm', which does not exist"):
        load_study(tmp_path / "study.toml")
    (tmp_path / "bad.toml").write_text("[study\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_study(tmp_path / "bad.toml")
    _files(tmp_path)
    (tmp_path / "nocomp.toml").write_text('[study]\nnetwork = "net.osm"\n[services]\npath = "s.csv"\n')
    with pytest.raises(InputError, match=r"the \[compounds\] table is missing"):
        load_study(tmp_path / "nocomp.toml")


def test_template_loads_and_init_refuses_to_overwrite(tmp_path):
    path = write_template(tmp_path / "study.toml")
    assert path.read_text(encoding="utf-8") == TEMPLATE
    study = load_study(path, check_files=False)
    assert study.services.coord_system == "gcj02" and study.categories["便民服务"] == ("便民服务点", "超市", "便利店")
    assert study.category_max_walk_min == {"医疗卫生": 15.0} and study.governance == {
        "street": "街道",
        "community": "社区",
    }
    with pytest.raises(InputError, match="already exists"):
        write_template(path)
    assert main(["init", str(path)]) == 2
    assert main(["-q", "init", str(tmp_path / "other.toml")]) == 0 and (tmp_path / "other.toml").exists()


# ---- end to end on real OSM data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cau_study(tmp_path_factory, cau_osm):
    """Compounds (GBK shapefile, 街道/社区) and a ledger of the extract's amenities, in WGS84 and in GCJ-02."""
    folder = tmp_path_factory.mktemp("cau_study")
    features = ox.features_from_xml(cau_osm, tags={"landuse": "residential", "amenity": True, "shop": True})
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    res = features[polygonal & (features.get("landuse") == "residential")].reset_index()
    n = len(res)
    compounds = gpd.GeoDataFrame(
        {
            "编号": [f"XQ{i:03d}" for i in range(n)],
            "小区名称": res["name"].fillna("无名小区").to_numpy(),
            "户数": (np.arange(n) * 37 % 400 + 120).astype(int),
            "街道": np.where(np.arange(n) % 2 == 0, "学院路街道", "东升镇"),
            "社区": [f"第{i % 3 + 1}社区" for i in range(n)],
        },
        geometry=res.geometry.to_numpy(),
        crs=4326,
    )
    shp = folder / "小区.shp"
    compounds.to_file(shp, encoding="gbk")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()  # as handed over: GBK text and no .cpg
    pts = features[features.geom_type == "Point"].reset_index()
    shop = pts.get("shop", pd.Series(None, index=pts.index))
    amenity = pts.get("amenity", pd.Series(None, index=pts.index))
    ledger_category = np.select(
        [
            shop.isin(["supermarket", "convenience"]).to_numpy(),
            shop.notna().to_numpy(),
            amenity.isin(["clinic", "hospital", "pharmacy", "doctors", "dentist"]).to_numpy(),
        ],
        ["超市", "便民服务点", "医疗"],
        default="其他设施",
    )
    lon, lat = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    for name, (x, y) in {"wgs84": (lon, lat), "gcj02": (glon, glat)}.items():
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "台账"
        sheet.append(["学院路街道服务设施台账"])  # a title row above the header, as ledgers have
        sheet.append(["序号", "设施名称", "类别", "经度", "纬度"])
        for i in range(len(pts)):
            sheet.append(
                [
                    f"FW{i:04d}",
                    str(pts["name"].iloc[i]) if pd.notna(pts["name"].iloc[i]) else "",
                    ledger_category[i],
                    float(x[i]),
                    float(y[i]),
                ]
            )
        book.save(folder / f"台账_{name}.xlsx")

    def write(name: str, ledger: str, system: str, extra: str = "") -> object:
        text = f"""
[study]
name = "学院路 <测试> 研究"
network = "{cau_osm}"
[compounds]
path = "小区.shp"
id_column = "编号"
name_column = "小区名称"
households_column = "户数"
street_column = "街道"
community_column = "社区"
[services]
path = "{ledger}"
name_column = "设施名称"
category_column = "类别"
coord_system = "{system}"
[walk]
minutes = 5
speed_kmh = 4.5
[categories]
"便民服务" = ["超市", "便民服务点"]
[thresholds]
"医疗" = 8
[output]
dir = "out_{name}"
lang = "zh"
{extra}
"""
        path = folder / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    area = folder / "范围.geojson"
    gpd.GeoDataFrame(geometry=[compounds.union_all().convex_hull.buffer(0.002)], crs=4326).to_file(area)
    return {
        "folder": folder,
        "n_compounds": n,
        "n_services": len(pts),
        "wgs84": write("wgs84", "台账_wgs84.xlsx", "wgs84"),
        "gcj02": write("gcj02", "台账_gcj02.xlsx", "gcj02", 'coord_system = "gcj02"'),
        "undeclared": write("undeclared", "台账_gcj02.xlsx", "wgs84"),
        "walking": write(
            "walking",
            "台账_wgs84.xlsx",
            "wgs84",
            'served_area = false\n[walking]\ncompound_roads = true\nprofiles = ["adult", "wheelchair"]',
        ),
        "area": area,
    }


@pytest.mark.slow
def test_end_to_end_gcj02_ledger_equals_wgs84_run(cau_study):
    reference = run_study(load_study(cau_study["wgs84"]), write=False)
    # the GCJ-02 study through the command line, written with GCJ-02 output geometries
    assert main(["-q", "run", str(cau_study["gcj02"])]) == 0
    out = cau_study["folder"] / "out_gcj02"
    shifted = run_study(load_study(cau_study["gcj02"]), write=False)

    # the GBK shapefile's Chinese text came through, and the grouped categories
    assert set(shifted.compounds["街道"]) == {"学院路街道", "东升镇"}
    assert len(shifted.compounds) == cau_study["n_compounds"] and len(shifted.services) == cau_study["n_services"]
    assert {"便民服务", "医疗", "其他设施"} <= set(shifted.services["category"])
    assert set(shifted.services.loc[shifted.services["category"] == "便民服务", "ledger_category"]) <= {
        "超市",
        "便民服务点",
    }

    # converted back, the GCJ-02 ledger gives the WGS84 results within a few metres
    a = reference.coverage.set_index(["compound_id", "category"]).sort_index()
    b = shifted.coverage.set_index(["compound_id", "category"]).sort_index()
    assert a.index.equals(b.index)
    both = a["walk_m"].notna() & b["walk_m"].notna()
    assert (a["walk_m"].isna() == b["walk_m"].isna()).all()
    diff = (a.loc[both, "walk_m"] - b.loc[both, "walk_m"]).abs()
    assert diff.max() < 3.0, diff.max()
    assert (a["covered"] == b["covered"]).mean() >= 0.99
    moved = shifted.services.geometry.to_crs(32650).distance(reference.services.geometry.to_crs(32650))
    assert moved.max() < 0.01  # metres

    # per-category thresholds: 医疗 at 8 minutes, others at 5
    t = shifted.coverage
    med = t[t["category"] == "医疗"]
    assert (med["covered"] == (med["walk_min"] <= 8)).all()
    other = t[t["category"] != "医疗"]
    assert (other["covered"] == (other["walk_min"] <= 5)).all()

    # written outputs: GCJ-02 geometries, roll-ups, report with the numbers
    written = gpd.read_file(out / "compounds.gpkg").set_index("compound_id")
    ref_geom = reference.compounds.geometry.to_crs(32650).centroid
    offset = written.geometry.to_crs(32650).centroid.distance(ref_geom.reindex(written.index))
    assert 100 < offset.min() and offset.max() < 1000  # the GCJ-02 shift in Beijing is some hundreds of metres
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["output_coord_system"] == "gcj02" and summary["coord_systems"]["services"] == "gcj02"
    assert summary["inputs"]["network"]["osm_date"]["date"].startswith("2026-")
    assert len(summary["inputs"]["study"]["sha256"]) == 64
    street = pd.read_csv(out / "rollup_street.csv", encoding="utf-8-sig").set_index("街道")
    assert street["compounds"].sum() == cau_study["n_compounds"]
    assert (
        street.loc["学院路街道", "households"]
        == shifted.compounds.loc[shifted.compounds["街道"] == "学院路街道", "households"].sum()
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    entry = summary["categories"]["all"]
    assert f"{entry['compounds_covered']:,} ({entry['compounds_share'] * 100:.1f}%)" in html
    assert "学院路 &lt;测试&gt; 研究" in html and "<测试>" not in html
    assert "学院路街道" in html and "data:image/png;base64," in html and '<iframe id="lc-map"' in html
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert {"小区清单", "分类覆盖", "分街道统计", "分社区统计", "参数", "数据版本"} <= set(
        book.sheetnames
    )  # a zh study


@pytest.mark.slow
def test_undeclared_gcj02_ledger_is_suspected(cau_study):
    result = run_study(load_study(cau_study["undeclared"]), write=False)
    check = result.summary["coordinate_checks"]["services"]
    assert check["suspected"] == "gcj02", check
    assert any("look shifted" in note and "gcj02" in note for note in result.summary["data_quality"])
    clean = run_study(load_study(cau_study["wgs84"]), write=False)
    assert clean.summary["coordinate_checks"]["services"]["suspected"] is None


@pytest.mark.slow
def test_study_takes_the_walking_options_of_analyze(cau_study, tmp_path):
    """A study file runs the same job as ``lifecircle analyze``: gated compounds and walker profiles included."""
    path = cau_study["walking"]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[compounds]", f'study_area = "{cau_study["area"].name}"\n[compounds]', 1), "utf-8")
    study = load_study(path)
    assert study.walking.compound_roads and study.walking.profiles == ("adult", "wheelchair")
    assert study.study_area == cau_study["area"] and not study.served_area
    assert main(["-q", "run", str(path)]) == 0
    out = cau_study["folder"] / "out_walking"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["walking"]["compound_roads"] is True
    assert summary["study_parameters"]["walking"]["profiles"] == ["adult", "wheelchair"]
    by_profile = pd.read_csv(out / "coverage_by_profile.csv", encoding="utf-8-sig")
    assert set(by_profile["profile"]) == {"adult", "wheelchair"}
    assert "area_share" not in gpd.read_file(out / "compounds.gpkg").columns  # served areas off
    # the same layers and options through analyze walk the same ("all": the study's category grouping aside)
    direct = run_analysis(
        Study(
            network=study.network,
            compounds=study.compounds,
            services=study.services,
            out_dir=tmp_path / "analyze",
            category_column=study.category_column,
            max_walk_min=5,
            walking=study.walking,
            served_area=False,
        )
    ).analysis
    mine = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig").query("category == 'all'")
    theirs = direct.coverage.table.query("category == 'all'")
    np.testing.assert_allclose(mine["walk_m"].to_numpy(), theirs["walk_m"].to_numpy(), atol=0.051)  # csv: 0.1 m


@pytest.mark.slow
def test_threshold_of_an_unknown_category_names_the_study_file(cau_study, capsys):
    text = cau_study["wgs84"].read_text(encoding="utf-8").replace('"医疗" = 8', '"无此类" = 8')
    path = cau_study["folder"] / "typo.toml"
    path.write_text(text.replace('dir = "out_wgs84"', 'dir = "out_typo"'), encoding="utf-8")
    assert main(["-q", "run", str(path)]) == 2
    assert "typo.toml: [thresholds] names category '无此类', which no service has" in capsys.readouterr().err
    assert not (cau_study["folder"] / "out_typo").exists()


def test_category_groups_naming_no_ledger_value_are_said(caplog):
    services = gpd.GeoDataFrame(
        {"category": ["超市", "便民服务点", "卫生站"]}, geometry=gpd.points_from_xy([0, 1, 2], [0, 1, 2]), crs=4326
    )
    with caplog.at_level(logging.WARNING, logger="lifecircle.planning.inputs"):
        grouped = group_categories(services, {"便民服务": ("超市", "便民服务点", "便利点"), "医疗": ("卫生站",)})
    assert list(grouped["category"]) == ["便民服务", "便民服务", "医疗"]
    assert "no service has (a typo?): 便民服务: '便利点'" in caplog.text


@pytest.mark.slow
def test_every_command_runs_from_one_study_file(cau_study, tmp_path):
    """analyze, site and isochrones --study read one file (flags override it); run does the steps it lists;
    the study's category groups and per-category thresholds reach siting and isochrones."""
    text = cau_study["wgs84"].read_text(encoding="utf-8").replace('dir = "out_wgs84"', 'dir = "out_all"')
    text += '\n[run]\nsteps = ["analysis", "siting", "isochrones"]\n[site]\ndir = "site_all"\nadd = 1\n'
    text += 'category = "医疗"\n[isochrones]\ndir = "iso_all"\nminutes = [5]\n'
    path = cau_study["folder"] / "all.toml"
    path.write_text(text, encoding="utf-8")
    folder = cau_study["folder"]

    assert main(["-q", "analyze", "--study", str(path), "--minutes", "7", "--out", str(tmp_path / "a")]) == 0
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["max_walk_min"] == 7 and "便民服务" in summary["categories"]
    assert summary["parameters"]["category_max_walk_min"] == {"医疗": 8.0}

    assert main(["-q", "site", "--study", str(path), "--out", str(tmp_path / "s")]) == 0
    siting = json.loads((tmp_path / "s" / "siting.json").read_text(encoding="utf-8"))
    assert siting["parameters"]["category"] == "医疗" and siting["parameters"]["minutes"] == 8  # its own limit
    assert main(["-q", "site", "--study", str(path), "--category", "便民服务", "--out", str(tmp_path / "g")]) == 0
    grouped = json.loads((tmp_path / "g" / "siting.json").read_text(encoding="utf-8"))
    assert grouped["parameters"]["category"] == "便民服务" and grouped["parameters"]["minutes"] == 5

    assert main(["-q", "isochrones", "--study", str(path), "--out", str(tmp_path / "i")]) == 0
    served = gpd.read_file(tmp_path / "i" / "isochrones.gpkg", layer="served_area")
    assert "便民服务" in set(served["category"]) and set(served["break_min"]) == {5.0}

    assert main(["-q", "run", str(path)]) == 0
    for name in ("out_all/coverage.csv", "site_all/siting.json", "iso_all/isochrones.gpkg"):
        assert (folder / name).is_file(), name
