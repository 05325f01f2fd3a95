"""The command line: the analyze contract, the demo, and one-line errors with nothing written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

from lifecircle.planning.cli import main

CONTRACT_COLUMNS = ["compound_id", "category", "walk_m", "walk_min", "nearest_service_id", "services_within", "covered"]


@pytest.fixture(scope="module")
def cau_inputs(tmp_path_factory, cau_osm):
    folder = tmp_path_factory.mktemp("cau")
    features = ox.features_from_xml(cau_osm, tags={"landuse": "residential", "amenity": True, "shop": True})
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    compounds = features[polygonal & (features.get("landuse") == "residential")].reset_index()
    compounds = gpd.GeoDataFrame(
        {
            "id": [f"c{i}" for i in range(len(compounds))],
            "名称": compounds["name"].fillna("无名小区"),
            "households": np.arange(len(compounds)) * 10 + 100,
        },
        geometry=compounds.geometry.to_numpy(),
        crs=4326,
    )
    compounds.to_file(folder / "compounds.gpkg")
    pts = features[features.geom_type == "Point"].reset_index()
    services = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(len(pts))],
            "name": pts["name"].fillna("").to_numpy(),
            "类别": np.where(pts["amenity"].notna(), "设施", "商店"),
            "经度": pts.geometry.x,
            "纬度": pts.geometry.y,
        }
    )
    services.to_csv(folder / "services.csv", index=False, encoding="utf-8-sig")
    compounds.boundary.to_frame("geometry").to_file(folder / "lines.geojson")
    return {
        "network": cau_osm,
        "compounds": folder / "compounds.gpkg",
        "services": folder / "services.csv",
        "lines": folder / "lines.geojson",
    }


def _analyze(inputs, out, *extra):
    return main(
        [
            "-q",
            "analyze",
            "--network",
            str(inputs["network"]),
            "--compounds",
            str(inputs["compounds"]),
            "--services",
            str(inputs["services"]),
            "--out",
            str(out),
            *extra,
        ]
    )


@pytest.mark.slow
def test_analyze_contract(cau_inputs, tmp_path, capsys):
    out = tmp_path / "result"
    assert _analyze(cau_inputs, out, "--minutes", "5", "--speed-kmh", "4") == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        [
            "coverage.csv",
            "compounds.gpkg",
            "services.gpkg",
            "served_area.gpkg",
            "streets.gpkg",
            "summary.json",
            "map.html",
            "report.html",
            "report.xlsx",
        ]
    )
    raw = (out / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert list(table.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert set(table["category"]) == {"all", "设施", "商店"}
    n = len(gpd.read_file(cau_inputs["compounds"]))
    assert len(table) == 3 * n
    # the share of each compound's area inside the served area of its category
    assert table["area_share"].dropna().between(0, 1).all()
    # empty exactly for the compounds nobody walks to (status unreachable)
    lost = table.loc[(table["category"] == "all") & (table["reach"] != "ok"), "compound_id"]
    assert (table["area_share"].isna() == table["compound_id"].isin(lost)).all()
    assert (table.loc[table["covered"], "area_share"] > 0).mean() > 0.5
    served = gpd.read_file(out / "served_area.gpkg")
    assert set(served["category"]) == {"all", "设施", "商店"} and (served["break_min"] == 5).all()
    assert served.crs.to_epsg() == 4326
    unreachable = table[table["walk_m"].isna()]
    assert not unreachable["covered"].any()
    assert (table["covered"] == (table["walk_min"] <= 5)).all()
    compounds = gpd.read_file(out / "compounds.gpkg")
    assert {"compound_id", "status", "has_branch", "walk_min_all", "covered_all", "name"} <= set(compounds.columns)
    assert set(compounds["status"]) <= {"covered", "no_service", "unreachable"}  # no branch data given
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["max_walk_min"] == 5 and summary["parameters"]["speed_kmh"] == 4
    assert summary["categories"]["all"]["compounds_covered"] == int(table[table.category == "all"]["covered"].sum())
    assert len(summary["inputs"]["network"]["sha256"]) == 64
    assert summary["households"] == float(gpd.read_file(cau_inputs["compounds"])["households"].sum())
    assert "<html" in (out / "map.html").read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"compounds": "missing.gpkg"}, "does not exist"),
        ({"services": "lines"}, "services must be Point"),
        ({"compounds": "services"}, "compounds must be"),
        ({"network": "empty"}, "no walkable way"),
    ],
)
@pytest.mark.slow
def test_bad_input_one_line_exit_2_nothing_written(cau_inputs, tmp_path, capsys, change, message):
    from conftest import INPUT_DATA

    inputs = dict(cau_inputs)
    for key, value in change.items():
        if value == "empty":
            inputs[key] = INPUT_DATA / "no_walkable.osm"
        elif value in cau_inputs:
            inputs[key] = cau_inputs[value]
        else:
            inputs[key] = tmp_path / value
    out = tmp_path / "never"
    assert _analyze(inputs, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lifecircle: error:") and message in err[0]
    assert not out.exists()
    assert not any(p.name.startswith(".never") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_warnings_are_one_line_and_quiet_silences_them(cau_inputs, tmp_path, capsys):
    args = [
        "analyze",
        "--network",
        str(cau_inputs["network"]),
        "--compounds",
        str(cau_inputs["compounds"]),
        "--services",
        str(cau_inputs["services"]),
        "--no-served-area",
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "lifecircle: warning: services.csv does not declare a coordinate reference system" in err
    assert "UserWarning" not in err
    assert main(["-q", *args, "--out", str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_output_folder_that_is_a_file(cau_inputs, tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("keep me")
    assert _analyze(cau_inputs, target) == 2
    assert "is an existing file" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_output_folder_below_a_file_is_refused_before_any_work(cau_inputs, tmp_path, capsys):
    (tmp_path / "afile").write_text("keep me")
    assert _analyze({**cau_inputs, "network": tmp_path / "never-read.osm"}, tmp_path / "afile" / "sub") == 2
    assert "afile is a file, not a folder" in capsys.readouterr().err  # said before the network is read


@pytest.mark.slow
def test_an_input_in_the_output_folder_is_never_overwritten(cau_inputs, tmp_path, capsys):
    import shutil

    out = tmp_path / "work"
    out.mkdir()
    compounds = out / "compounds.gpkg"  # the name of an output file
    shutil.copy(cau_inputs["compounds"], compounds)
    before = compounds.read_bytes()
    assert _analyze({**cau_inputs, "compounds": compounds}, out, "--no-served-area") == 2
    assert "holds files lifecircle did not write (compounds.gpkg)" in capsys.readouterr().err
    assert _analyze({**cau_inputs, "compounds": compounds}, out, "--no-served-area", "--force") == 2
    assert "would overwrite the input file" in capsys.readouterr().err
    assert compounds.read_bytes() == before
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["compounds.gpkg"]


@pytest.mark.slow
def test_study_area_or_compounds_off_the_network(cau_inputs, tmp_path, capsys):
    far = gpd.GeoDataFrame(geometry=[shapely.box(121.4, 31.2, 121.5, 31.3)], crs=4326)  # Shanghai, not Beijing
    far.to_file(tmp_path / "area.geojson")
    assert _analyze(cau_inputs, tmp_path / "a", "--study-area", str(tmp_path / "area.geojson")) == 2
    assert "does not cover the study area area.geojson" in capsys.readouterr().err
    far.assign(id=["c1"]).to_file(tmp_path / "far.geojson")
    assert _analyze({**cau_inputs, "compounds": tmp_path / "far.geojson"}, tmp_path / "b") == 2
    assert "None of the 1 compounds lies within 300 m of a walkable street" in capsys.readouterr().err
    assert _analyze(cau_inputs, tmp_path / "c", "--max-snap-m", "-1") == 2
    assert "snap limit" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        _analyze(cau_inputs, tmp_path / "c", "--minutes", "inf")
    assert exit_info.value.code == 2 and "'inf' is not a positive number" in capsys.readouterr().err
    far_services = far.assign(id=["s1"], geometry=[shapely.Point(121.45, 31.25)])
    far_services.to_file(tmp_path / "far_services.geojson")
    iso = ["isochrones", "--network", str(cau_inputs["network"]), "--services", str(tmp_path / "far_services.geojson")]
    assert main(["--quiet", *iso, "--out", str(tmp_path / "c")]) == 2
    assert "None of the 1 services lies within 300 m" in capsys.readouterr().err
    assert not any(tmp_path.glob("[abc]"))


@pytest.mark.slow
def test_layer_and_sheet_named_per_input(cau_inputs, tmp_path, capsys):
    compounds = gpd.read_file(cau_inputs["compounds"])
    both = tmp_path / "both.gpkg"
    compounds.set_geometry(compounds.representative_point()).to_file(both, layer="gates")  # first layer
    compounds.to_file(both, layer="小区")
    services = pd.read_csv(cau_inputs["services"], encoding="utf-8-sig")
    ledger = tmp_path / "ledger.xlsx"
    with pd.ExcelWriter(ledger) as writer:
        pd.DataFrame({"说明": ["网点台账见下一页"]}).to_excel(writer, sheet_name="说明", index=False)
        services.to_excel(writer, sheet_name="网点", index=False)
    inputs = {**cau_inputs, "compounds": both, "services": ledger}
    assert (
        _analyze(inputs, tmp_path / "a", "--no-served-area", "--layer", "compounds=小区", "--sheet", "services=网点")
        == 0
    )
    expected = pd.read_csv(tmp_path / "a" / "coverage.csv")
    assert _analyze(cau_inputs, tmp_path / "b", "--no-served-area") == 0
    pd.testing.assert_frame_equal(expected, pd.read_csv(tmp_path / "b" / "coverage.csv"))
    # not named: the first layer is read, with a warning that lists the others
    capsys.readouterr()
    args = ["analyze", "--network", str(cau_inputs["network"]), "--compounds", str(both)]
    assert main([*args, "--services", str(cau_inputs["services"]), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "both.gpkg holds 2 layers (gates, 小区); reading the first, 'gates'" in err
    assert "holds Point geometries but compounds must be" in err
    assert _analyze(inputs, tmp_path / "d", "--layer", "compound=小区") == 2
    assert "--layer takes ROLE=NAME" in capsys.readouterr().err


def test_failed_run_keeps_previous_outputs(cau_inputs, tmp_path):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "coverage.csv").write_text("old")
    assert _analyze({**cau_inputs, "services": tmp_path / "nope.csv"}, out) == 2
    assert (out / "coverage.csv").read_text() == "old"


@pytest.mark.slow
def test_demo_helsinki_subprocess(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "lifecircle", "demo", "--city", "helsinki", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "compounds" in proc.stdout and "convenience" in proc.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["compounds"] >= 20 and summary["compounds_without_branch"] is not None
    assert set(summary["categories"]) >= {"all", "convenience", "health", "community"}


@pytest.mark.slow
def test_publish_site_from_two_analyses(cau_inputs, tmp_path):
    five, ten = tmp_path / "five", tmp_path / "ten"
    assert _analyze(cau_inputs, five, "--minutes", "5", "--offline") == 0
    assert _analyze(cau_inputs, ten, "--minutes", "10") == 0
    offline_html = (five / "map.html").read_text(encoding="utf-8")
    assert '<script src="http' not in offline_html and 'rel="stylesheet" href="http' not in offline_html
    site = tmp_path / "site"
    assert main(["-q", "publish", str(five), str(ten), "--out", str(site)]) == 0
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<script src="http' not in index
    htmls = list(site.rglob("*.html"))
    assert len(htmls) >= 1 + 2 * 3  # index plus one map per category per analysis
    assert list(site.rglob("coverage.csv"))
    # a public site tells nothing of the publisher's folders, and offers no bookkeeping files
    folders = {str(tmp_path), *(str(Path(p).resolve().parent) for p in cau_inputs.values())}
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as book:
                    data = b"".join(book.read(name) for name in book.namelist())
            leaked = [f for f in folders if f.encode() in data]
            assert not leaked, f"{path.name} holds the local folder {leaked[0]}"
    assert not list(site.rglob(".lifecircle-analyze.json"))


@pytest.mark.slow
def test_map_options_reach_the_map(cau_inputs, tmp_path):
    out = tmp_path / "amap"
    assert _analyze(cau_inputs, out, "--basemap", "amap", "--lang", "en") == 0
    text = (out / "map.html").read_text(encoding="utf-8")
    assert "autonavi" in text or "amap" in text.lower()


def test_tianditu_without_key_fails_before_any_work(cau_inputs, tmp_path, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the network was read before the map options were checked")

    monkeypatch.setattr("lifecircle.planning.jobs.analyze.build_walking", no_work)
    assert _analyze(cau_inputs, tmp_path / "a" / "b", "--basemap", "tianditu") == 2
    assert "needs tianditu_key" in capsys.readouterr().err and not (tmp_path / "a").exists()


def test_online_network_offline_is_one_clear_error(cau_inputs, tmp_path, capsys, monkeypatch):
    def no_internet(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(ox, "graph_from_bbox", no_internet)
    monkeypatch.setattr(ox, "graph_from_place", no_internet)
    calls = []
    real_from_bbox = __import__("lifecircle.geo.network.osm", fromlist=["x"]).network_from_bbox

    def spy(bbox, **kwargs):
        calls.append(bbox)
        return real_from_bbox(bbox, cache_dir=tmp_path / "cache", **kwargs)

    monkeypatch.setattr("lifecircle.planning.inputs.network_from_bbox", spy)
    for network in ("auto", "place:攀枝花市东区", "bbox:116.3,39.9,116.4,40.0"):
        code = _analyze({**cau_inputs, "network": network}, tmp_path / "out")
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "offline, pass an .osm" in err[0]
    ((west, south, east, north),) = calls  # 'auto' asked for the layers' bounding box plus a margin
    compounds = gpd.read_file(cau_inputs["compounds"])
    cw, cs, ce, cn = compounds.total_bounds
    assert west < cw and south < cs and east > ce and north > cn
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_analyze_with_standard_distance_and_gcj02_output(cau_inputs, tmp_path):
    out = tmp_path / "std"
    assert (
        _analyze(
            cau_inputs, out, "--standard", "gb50180-10", "--coord-system", "wgs84", "--output-coord-system", "gcj02"
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["max_walk_m"] == pytest.approx(500.0)  # the standard's distance, not 10 minutes
    assert summary["standard"]["key"] == "gb50180-10" and summary["output_coord_system"] == "gcj02"
    compliance = pd.read_csv(out / "compliance.csv", encoding="utf-8-sig")
    assert len(compliance) == len(gpd.read_file(cau_inputs["compounds"]))
    # no category is named like a facility: nothing is assessed, so nothing is called compliant
    assert compliance["compliant"].isna().all() and (compliance["n_assessed"] == 0).all()
    assert (out / "report.html").is_file() and (out / "report.xlsx").is_file()
    assert _analyze(cau_inputs, tmp_path / "bad", "--standard", "gb50180-99") == 2
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_isochrones_command(cau_inputs, tmp_path, capsys):
    out = tmp_path / "iso"
    code = main(
        [
            "isochrones",
            "--network",
            str(cau_inputs["network"]),
            "--services",
            str(cau_inputs["services"]),
            "--minutes",
            "5,10",
            "--category-column",
            "类别",
            "--rings",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "设施" in printed and "km²" in printed
    served = gpd.read_file(out / "isochrones.gpkg", layer="served_area")
    assert set(served["category"]) == {"all", "设施", "商店"} and set(served["break_min"]) == {5, 10}
    assert (served.set_index(["category", "break_min"])["area_m2"].xs("all", level=0).diff().dropna() > 0).all()


@pytest.mark.slow
def test_isochrones_read_services_like_analyze(cau_inputs, tmp_path, capsys):
    table = pd.read_csv(cau_inputs["services"], encoding="utf-8-sig").head(5)
    pts = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["经度"], table["纬度"]), crs=4326).to_crs(32650)
    pts.drop(columns=["经度", "纬度"]).rename(columns={"id": "编码"}).to_file(tmp_path / "网点.shp", encoding="utf-8")
    (tmp_path / "网点.prj").unlink()  # projected metres and no CRS: the user must say which
    iso = ["-q", "isochrones", "--network", str(cau_inputs["network"]), "--services", str(tmp_path / "网点.shp")]
    assert main([*iso, "--out", str(tmp_path / "no_crs"), "--minutes", "5"]) == 2
    assert "--crs" in capsys.readouterr().err and not (tmp_path / "no_crs").exists()
    out = tmp_path / "with_crs"
    args = ["--crs", "EPSG:32650", "--id-column", "编码", "--category-column", "类别", "--minutes", "5"]
    assert main([*iso, *args, "--out", str(out)]) == 0
    per_service = gpd.read_file(out / "isochrones.gpkg", layer="per_service")
    assert set(per_service["service_id"]) == set(table["id"])


@pytest.mark.parametrize("minutes", ["5,-1", "0,5", "nan", "inf", "5,", "5,,10", "ten"])
def test_isochrone_breaks_must_be_positive_numbers(minutes, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["isochrones", "--network", "n", "--services", "s", "--minutes", minutes])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "positive minutes" in err and len(err.strip().splitlines()) == 1  # one line, not the whole usage


@pytest.mark.slow
def test_rerun_replaces_its_own_outputs_only(cau_inputs, tmp_path):
    out = tmp_path / "again"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _analyze(cau_inputs, out, "--profiles", "adult,elderly", "--force") == 0  # a folder with the user's file
    assert (out / "coverage_by_profile.csv").is_file()
    assert _analyze(cau_inputs, out) == 0  # no profiles this time: the stale table goes
    assert not (out / "coverage_by_profile.csv").exists()
    assert (out / "notes.txt").read_text() == "mine" and (out / "coverage.csv").is_file()


@pytest.mark.slow
def test_coordinate_system_of_one_layer(cau_inputs, tmp_path):
    from lifecircle.geo.inputs.chinese_crs import wgs84_to_gcj02

    ledger = pd.read_csv(cau_inputs["services"], encoding="utf-8-sig")
    ledger["经度"], ledger["纬度"] = wgs84_to_gcj02(ledger["经度"].to_numpy(), ledger["纬度"].to_numpy())
    shifted = tmp_path / "gcj.csv"
    ledger.to_csv(shifted, index=False, encoding="utf-8-sig")
    plain, gcj = tmp_path / "plain", tmp_path / "gcj"
    assert _analyze(cau_inputs, plain, "--no-served-area") == 0
    # only the services are GCJ-02; the compounds (from OSM) stay WGS84
    assert (
        _analyze({**cau_inputs, "services": shifted}, gcj, "--no-served-area", "--services-coord-system", "gcj02") == 0
    )
    a = pd.read_csv(plain / "coverage.csv", encoding="utf-8-sig")
    b = pd.read_csv(gcj / "coverage.csv", encoding="utf-8-sig")
    np.testing.assert_allclose(a["walk_m"], b["walk_m"], atol=0.5)
    assert (a["covered"] == b["covered"]).all()


@pytest.mark.slow
def test_study_area_outline_on_the_map(cau_inputs, tmp_path, capsys):
    compounds = gpd.read_file(cau_inputs["compounds"])
    area = gpd.GeoDataFrame({"name": ["学院路街道"]}, geometry=[compounds.union_all().convex_hull], crs=compounds.crs)
    area.to_file(tmp_path / "area.geojson")
    out = tmp_path / "with-area"
    assert _analyze(cau_inputs, out, "--no-served-area", "--study-area", str(tmp_path / "area.geojson")) == 0
    html = (out / "map.html").read_text(encoding="utf-8")
    blob = json.loads(re.search(r"var (\w+)_data = (.+);\n", html).group(2))
    assert blob.get("study")
    assert _analyze(cau_inputs, tmp_path / "bad", "--study-area", str(cau_inputs["services"])) == 2
    assert "study area must be" in capsys.readouterr().err
