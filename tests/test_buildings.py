"""Buildings (楼栋): walks from each building, households within the limit and the worst building per compound,
against an independent networkx computation on real districts; groups, OSM buildings and bad input."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.walk import Walk, prepared
from lifecircle.planning.analysis import analyze
from lifecircle.planning.building_inputs import osm_buildings
from lifecircle.planning.buildings import building_coverage, read_buildings, with_buildings
from tests.test_coverage import _networkx_reference, _real_layers

EXTRACTS = ["osm/beijing_haidian_cau_xueyuanlu.osm.bz2", "osm/nanjing_xinjiekou.osm.bz2"]


def _district(osm_path, tmp_path_factory, *, n_inside=120, n_outside=30, seed=5):
    """OSM buildings of a real district (some inside residential compounds, some not), with random floors,
    written as a GeoPackage; the compounds carry households."""
    compounds, services = _real_layers(osm_path)
    compounds["households"] = np.arange(len(compounds)) * 37 + 120
    found = ox.features_from_xml(osm_path, tags={"building": True})
    found = found[found.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    inner = shapely.point_on_surface(found.geometry.to_numpy())
    in_compound = shapely.contains(compounds.union_all(), inner)
    rng = np.random.default_rng(seed)
    pick = np.concatenate(
        [
            rng.choice(np.flatnonzero(in_compound), min(n_inside, in_compound.sum()), replace=False),
            np.flatnonzero(~in_compound)[:n_outside],
        ]
    )
    levels = rng.integers(1, 30, len(pick)).astype(object)
    levels[::7] = None  # some without floors: counted as one
    layer = gpd.GeoDataFrame(
        {"id": [f"B{i}" for i in range(len(pick))], "building:levels": levels},
        geometry=found.geometry.to_numpy()[pick],
        crs=4326,
    )
    path = tmp_path_factory.mktemp("buildings") / "楼栋.gpkg"
    layer.to_file(path)
    return path, compounds, services, layer


@pytest.fixture(scope="module")
def cau_buildings(cau_osm, tmp_path_factory):
    return _district(cau_osm, tmp_path_factory)


def _reference(G, net, layer, services, limit_m):
    """Per building: the networkx walk to the nearest of ``services`` (inf: none), from a point inside it."""
    origin = gpd.GeoSeries(shapely.point_on_surface(layer.geometry.to_numpy()), crs=4326).to_crs(net.crs)
    nearest, _ = _networkx_reference(G, net.crs, origin.to_numpy(), services.to_crs(net.crs).geometry, limit_m)
    return np.array([nearest.get(f"o{k}", np.inf) for k in range(len(layer))])


def _expected_households(layer, owner, compounds):
    """Households per building, computed here: compound households × footprint × floors / the compound's sum."""
    area = layer.to_crs(layer.estimate_utm_crs()).area.to_numpy()
    floors = pd.to_numeric(layer["building:levels"], errors="coerce").fillna(1).to_numpy(dtype=float)
    weight = pd.Series(area * floors)
    total = weight.groupby(owner.to_numpy()).transform("sum").to_numpy()
    return (weight / total).to_numpy() * owner.map(compounds["households"]).to_numpy(dtype=float)


@pytest.mark.slow
@pytest.mark.parametrize("extract", EXTRACTS)
def test_building_walks_and_households_match_networkx(extract, tmp_path_factory):
    osm_path = shared_file(extract)
    path, compounds, services, layer = _district(osm_path, tmp_path_factory)
    buildings = read_buildings(path, compounds)
    G = network_from_osm(osm_path)
    walk = Walk(limit_min=5, category_limit_min={"shop": 3})
    net = prepared(G, walk)
    analysis = analyze(net, compounds, services, walk=walk, max_snap_m=10_000, served_area=False)
    analysis, table, features = with_buildings(analysis, net, buildings, services, walk=walk, max_snap_m=10_000)
    assert list(table.columns) == ["building_id", "compound_id", "category", "walk_m", "covered"]
    limits = {"all": walk.limit_m, "shop": walk.limit_m_of("shop")}
    expected = {c: _reference(G, net, layer, services[services.category == c] if c != "all" else services, 1)
                for c in limits}  # fmt: skip
    owner = buildings.buildings["compound_id"].reset_index(drop=True)
    households = _expected_households(layer, owner, compounds)
    coverage = analysis.coverage.table.set_index(["compound_id", "category"])
    compared = 0
    for category, limit in limits.items():
        rows = table[table["category"] == category].set_index("building_id")
        got = rows.loc[layer["id"], "walk_m"].to_numpy()
        want = expected[category]
        reached = np.isfinite(want)
        assert np.isnan(got[~reached]).all()
        np.testing.assert_allclose(got[reached], want[reached], atol=0.06)  # written to 0.1 m
        covered = want <= limit
        assert (rows.loc[layer["id"], "covered"].to_numpy() == covered).all()
        compared += reached.sum()
        assert analysis.summary["buildings"]["categories"][category]["buildings_unreachable"] == (~reached).sum()
        for cid in compounds.index:
            mine = (owner == cid).to_numpy()
            entry = coverage.loc[(cid, category)]
            if not mine.any():
                assert pd.isna(entry["households_within"]) and pd.isna(entry["worst_building_id"])
                continue
            assert entry["households_within"] == pytest.approx(households[mine & covered].sum(), abs=0.06)
            assert entry["buildings_not_covered"] == (mine & ~covered).sum()
            worst = np.where(np.isfinite(want), want, np.inf)[mine].max()
            if np.isfinite(worst):
                assert entry["worst_building_walk_m"] == pytest.approx(worst, abs=0.06)
            else:
                assert pd.isna(entry["worst_building_walk_m"])
    assert compared >= 0.9 * len(layer) * len(limits)
    assert 0 < table["covered"].sum() < len(table)
    summary = analysis.summary["buildings"]
    assert summary["households"]["method"] == "footprint_x_levels"
    assert summary["households"]["counted_as_one_floor"] == int(pd.isna(layer["building:levels"]).sum())
    assert summary["without_compound"]["count"] == owner.isna().sum() > 0
    assert set(features.columns) >= {"compound_id", "households", "walk_min_all", "covered_shop", "geometry"}


def test_compound_by_location_or_column(cau_buildings, caplog, tmp_path):
    path, compounds, _, layer = cau_buildings
    with caplog.at_level(logging.WARNING, logger="lifecircle"):  # a CLI test before may have quietened it
        buildings = read_buildings(path, compounds).buildings
    inner = shapely.point_on_surface(layer.geometry.to_numpy())
    for k, bid in enumerate(layer["id"]):
        holders = [cid for cid, geom in compounds.geometry.items() if geom.contains(inner[k])]
        got = buildings.loc[bid, "compound_id"]
        assert (got in holders) if holders else pd.isna(got), (bid, got, holders)
    assert buildings["compound_id"].isna().sum() == 30
    outside = ", ".join(buildings.index[buildings["compound_id"].isna().to_numpy()][:5])
    assert f"30 buildings lie in no compound (kept, compound empty): {outside} ..." in caplog.text
    named = layer.assign(小区=[compounds.index[0]] * len(layer))
    named.to_file(tmp_path / "named.gpkg")
    assert (read_buildings(tmp_path / "named.gpkg", compounds).buildings["compound_id"] == compounds.index[0]).all()
    named.assign(小区="没有这个小区").to_file(tmp_path / "bad.gpkg")
    with pytest.raises(InputError, match="names compounds not in the compound layer"):
        read_buildings(tmp_path / "bad.gpkg", compounds)


def test_households_from_the_building_column_and_bad_values(cau_buildings, tmp_path):
    _, compounds, _, layer = cau_buildings
    own = layer.assign(户数=np.arange(len(layer)) % 7 * 10)
    own.to_file(tmp_path / "own.gpkg")
    read = read_buildings(tmp_path / "own.gpkg", compounds)
    assert read.households == {"method": "column", "column": "户数", "blank": 0}
    assert (read.buildings["households"].to_numpy() == own["户数"].to_numpy()).all()
    bad = own.assign(户数=own["户数"].astype(str))
    bad.loc[3, "户数"] = "约60户"
    bad.loc[8, "户数"] = "-5"
    bad.to_file(tmp_path / "bad.gpkg")
    with pytest.raises(InputError) as info:
        read_buildings(tmp_path / "bad.gpkg", compounds)
    message = str(info.value)
    assert "\n" not in message and "'户数'" in message and "B3 ('约60户')" in message and "B8 ('-5')" in message


def test_groups_counted_per_compound(cau_osm, cau_buildings, tmp_path):
    _, compounds, services, layer = cau_buildings
    group = np.where(np.arange(len(layer)) % 3 == 0, "", "第一党小组").astype(object)
    group[1::9] = "无"
    layer.assign(楼栋党小组=group).to_file(tmp_path / "groups.gpkg")
    buildings = read_buildings(tmp_path / "groups.gpkg", compounds)
    assert buildings.group_column == "楼栋党小组"
    lacking = (group == "") | (group == "无")
    assert (~buildings.buildings["has_group"].to_numpy() == lacking).all()
    walk = Walk(limit_min=5)
    net = prepared(network_from_osm(cau_osm), walk)
    analysis = analyze(net, compounds, services, walk=walk, max_snap_m=10_000, served_area=False)
    analysis, _, _ = with_buildings(analysis, net, buildings, services, walk=walk, max_snap_m=10_000)
    owner = buildings.buildings["compound_id"]
    expected = pd.Series(lacking, index=owner.index).groupby(owner.to_numpy()).sum()
    rows = analysis.coverage.table[analysis.coverage.table["category"] == "all"].set_index("compound_id")
    for cid, count in expected.items():
        assert rows.loc[cid, "buildings_without_group"] == count
    groups = analysis.summary["buildings"]["groups"]
    assert groups["without_group"] == lacking.sum()
    listed = {item["compound_id"]: item["count"] for item in groups["by_compound"]}
    assert listed == {**{k: int(v) for k, v in expected.items() if v}, None: int(lacking[owner.isna()].sum())}
    with pytest.raises(InputError, match="has no column '党小组'"):
        read_buildings(tmp_path / "groups.gpkg", compounds, group_column="党小组")


def test_building_coverage_without_a_compound_keeps_every_building(cau_osm, cau_buildings):
    path, compounds, services, _ = cau_buildings
    buildings = read_buildings(path, compounds).buildings
    walk = Walk(limit_min=5)
    table = building_coverage(prepared(network_from_osm(cau_osm), walk), buildings, services, walk=walk, max_snap_m=1)
    assert len(table) == len(buildings) * table["category"].nunique()  # off the network: kept, not covered
    assert table["walk_m"].isna().sum() > 0 and not table.loc[table["walk_m"].isna(), "covered"].any()


@pytest.mark.slow
def test_osm_buildings_stand_in(cau_osm, cau_buildings):
    _, compounds, _, _ = cau_buildings
    layer = osm_buildings(cau_osm, compounds)
    found = ox.features_from_xml(cau_osm, tags={"building": True})
    found = found[found.geom_type.isin(["Polygon", "MultiPolygon"])]
    inner = shapely.point_on_surface(found.geometry.to_numpy())
    inside = shapely.contains(compounds.union_all(), inner)
    assert len(layer.buildings) == inside.sum() > 20
    assert layer.without_compound.empty and layer.buildings.index.str.match(r"^[wr]\d+$").all()
    assert layer.households["method"] == "footprint_x_levels" and layer.households["levels_column"] == "building:levels"
    per_compound = layer.buildings.groupby("compound_id")["households"].sum()
    np.testing.assert_allclose(per_compound, compounds["households"].reindex(per_compound.index))


@pytest.mark.slow
def test_cli_buildings(cau_osm, cau_buildings, tmp_path):
    from lifecircle.planning.cli import main
    from tests.test_cli import cau_inputs

    path, _, _, layer = cau_buildings

    class Factory:
        def mktemp(self, name):
            (tmp_path / name).mkdir()
            return tmp_path / name

    inputs = cau_inputs.__wrapped__(Factory(), cau_osm)
    out = tmp_path / "out"
    args = ["-q", "analyze", "--network", str(cau_osm), "--compounds", str(inputs["compounds"])]
    args += ["--services", str(inputs["services"]), "--out", str(out), "--no-served-area", "--minutes", "5"]
    assert main([*args, "--buildings", str(path)]) == 0
    table = pd.read_csv(out / "buildings.csv")
    assert list(table.columns) == ["building_id", "compound_id", "category", "walk_m", "covered"]
    assert table["building_id"].nunique() == len(layer)
    coverage = pd.read_csv(out / "coverage.csv")
    assert {"households_within", "worst_building_walk_m", "worst_building_walk_min"} <= set(coverage.columns)
    assert list(coverage.columns)[-2:] == ["compound_name", "nearest_service_name"]
    gpkg = gpd.read_file(out / "buildings.gpkg", layer="buildings")
    assert len(gpkg) == len(layer) and gpkg.crs.to_epsg() == 4326
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["buildings"]
    assert summary["buildings"] == len(layer) and summary["without_compound"]["count"] == 30
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "不在任何小区内的楼栋（30栋）" in page or "Buildings in no compound (30)" in page
    changed = [c for item in summary["categories"].values() for c in item["changed"]]
    if changed:
        assert changed[0]["worst_building_id"] in page
    assert main([*args, "--out", str(tmp_path / "osm"), "--buildings-from-osm"]) == 0
    assert (tmp_path / "osm" / "buildings.gpkg").is_file()


@pytest.mark.slow
def test_cli_bad_building_input_is_one_line(cau_osm, cau_buildings, tmp_path):
    path, compounds, _, layer = cau_buildings
    layer.assign(households="many").to_file(tmp_path / "b.gpkg")
    compounds.to_file(tmp_path / "c.gpkg")
    _, _, services, _ = cau_buildings
    services.to_file(tmp_path / "s.gpkg")
    base = [sys.executable, "-m", "lifecircle", "analyze", "--network", str(cau_osm), "--compounds"]
    base += [str(tmp_path / "c.gpkg"), "--services", str(tmp_path / "s.gpkg"), "--out", str(tmp_path / "o")]
    for extra, words in (
        (["--buildings", str(tmp_path / "b.gpkg")], "'households' must hold numbers"),
        (["--buildings", str(path), "--buildings-from-osm"], "not both"),
    ):
        run = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=300)
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 2 and lines[-1].startswith("lifecircle: error:") and words in lines[-1], run.stderr
        assert "Traceback" not in run.stderr


def test_study_keys_and_osm_needs_an_osm_network(tmp_path):
    from lifecircle.planning.building_inputs import study_buildings
    from lifecircle.planning.study import load_study

    for name in ("net.graphml", "c.geojson", "s.csv"):
        (tmp_path / name).write_text("x")
    text = '[study]\nnetwork = "net.graphml"\nbuilding_group_column = "党小组"\nbuildings_from_osm = true\n'
    text += '[compounds]\npath = "c.geojson"\n[services]\npath = "s.csv"\n'
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    study = load_study(tmp_path / "study.toml")
    assert study.building_group_column == "党小组" and study.buildings_from_osm is True
    with pytest.raises(InputError, match="is not an OSM file"):
        study_buildings(study, gpd.GeoDataFrame(geometry=[], crs=4326))
    (tmp_path / "study.toml").write_text(text.replace("true", '"yes"'), encoding="utf-8")
    with pytest.raises(InputError, match="buildings_from_osm"):
        load_study(tmp_path / "study.toml")


def test_report_tables_follow_the_language():
    from lifecircle.planning.report_buildings import building_tables

    changed = {"compound_id": "c1", "name": "<b>园</b>", "buildings_not_covered": 2, "worst_building_id": "B9"}
    entry = {
        "households": {"method": "footprint_x_levels", "compound_households": "户数", "counted_as_one_floor": 3},
        "without_compound": {"count": 1, "ids": ["B7"]},
        "categories": {
            "all": {
                "buildings": 9,
                "buildings_covered": 7,
                "compounds_with_uncovered_buildings": 1,
                "changed": [{**changed, "worst_building_walk_min": None}],
            },
            "health": {
                "buildings": 9,
                "buildings_covered": 6,
                "compounds_with_uncovered_buildings": 1,
                "changed": [{**changed, "worst_building_walk_min": 12.5}],
            },
        },
        "groups": {
            "column": "党小组",
            "without_group": 2,
            "by_compound": [{"compound_id": "c1", "count": 2, "ids": ["B1", "B2"]}],
        },
    }
    zh = {t.key: t for t in building_tables(entry, "zh")}
    en = {t.key: t for t in building_tables(entry, "en")}
    assert set(zh) == set(en) == {"buildings", "buildings_changed", "buildings_outside", "buildings_without_group"}
    assert "3栋无层数按1层计" in zh["buildings"].title and "footprint × floors" in en["buildings"].title
    assert zh["buildings_changed"].frame["最远楼栋步行（分钟）"].tolist() == ["无法步行到达", 12.5]
    assert en["buildings_changed"].frame["Its walk (min)"].tolist() == ["unreachable", 12.5]
    assert en["buildings_without_group"].frame.iloc[0].tolist() == ["c1", 2, "B1, B2"]
    assert building_tables({"households": {}}, "en") == []


def test_households_apportioned_by_footprint_and_floors_points_take_the_median():
    from lifecircle.planning.building_households import building_households

    compounds = gpd.GeoDataFrame(
        {"户数": [300, None]}, geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)], crs=32650
    )
    compounds.index = pd.Index(["A", "B"], name="compound_id")
    geometry = [
        shapely.box(0, 0, 10, 10),
        shapely.box(20, 0, 40, 10),
        shapely.Point(50, 50),
        shapely.box(210, 0, 220, 10),
    ]
    layer = pd.DataFrame({"层数": [6, None, 2, 3]})
    buildings = gpd.GeoDataFrame({"compound_id": ["A", "A", "A", "B"]}, geometry=geometry, crs=32650)
    households, method = building_households(buildings, layer, compounds, source="t")
    # floor areas: 100 m² x 6, 200 m² x 1 (no floors), median footprint 150 m² x 2 for the point
    weights = np.array([600.0, 200.0, 300.0])
    np.testing.assert_allclose(households.to_numpy()[:3], 300 * weights / weights.sum())
    assert np.isnan(households.iloc[3])  # compound B's households are unknown
    assert method == {
        "method": "footprint_x_levels",
        "levels_column": "层数",
        "counted_as_one_floor": 1,
        "points_with_median_footprint": 1,
        "compound_households": "户数",
    }
