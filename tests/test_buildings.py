"""Buildings (楼栋): walks from each building against an independent networkx computation on a real district."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.walk import Walk, prepared
from lifecircle.planning.buildings import building_coverage, building_summary, read_buildings
from tests.test_coverage import _networkx_reference, _real_layers


@pytest.fixture(scope="module")
def cau_buildings(cau_osm, tmp_path_factory):
    """OSM buildings of Xueyuan Road (some inside residential compounds, some not) written as a GeoPackage."""
    compounds, services = _real_layers(cau_osm)
    found = ox.features_from_xml(cau_osm, tags={"building": True})
    found = found[found.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    inner = shapely.point_on_surface(found.geometry.to_numpy())
    in_compound = shapely.contains(compounds.union_all(), inner)
    rng = np.random.default_rng(5)
    pick = np.concatenate(
        [
            rng.choice(np.flatnonzero(in_compound), min(120, in_compound.sum()), replace=False),
            np.flatnonzero(~in_compound)[:30],
        ]
    )
    layer = gpd.GeoDataFrame(
        {"id": [f"B{i}" for i in range(len(pick))]}, geometry=found.geometry.to_numpy()[pick], crs=4326
    )
    path = tmp_path_factory.mktemp("buildings") / "楼栋.gpkg"
    layer.to_file(path)
    return path, compounds, services, layer


@pytest.mark.slow
def test_building_walks_match_networkx(cau_osm, cau_buildings):
    path, compounds, services, layer = cau_buildings
    buildings = read_buildings(path, compounds)
    G = network_from_osm(cau_osm)
    walk = Walk(limit_min=5)
    net = prepared(G, walk)
    table = building_coverage(net, buildings, services, walk=walk, max_snap_m=10_000)
    assert list(table.columns) == ["building_id", "compound_id", "category", "walk_m", "covered"]
    crs = net.crs
    origin_pts = gpd.GeoSeries(shapely.point_on_surface(layer.geometry.to_numpy()), crs=4326).to_crs(crs).to_numpy()
    service_pts = services.to_crs(crs).geometry.to_numpy()
    nearest, _ = _networkx_reference(G, crs, origin_pts, service_pts, walk.limit_m)
    rows = table[table["category"] == "all"].set_index("building_id")
    compared = 0
    for k, bid in enumerate(layer["id"]):
        expected = nearest.get(f"o{k}", np.inf)
        got = rows.loc[bid, "walk_m"]
        if np.isinf(expected):
            assert np.isnan(got)
            continue
        assert got == pytest.approx(expected, abs=0.06)  # written to 0.1 m
        assert bool(rows.loc[bid, "covered"]) == (expected <= walk.limit_m)
        compared += 1
    assert compared >= 0.9 * len(layer) and 0 < rows["covered"].sum() < len(rows)


def test_compound_by_location_or_column(cau_buildings, caplog, tmp_path):
    path, compounds, _, layer = cau_buildings
    with caplog.at_level(logging.WARNING, logger="lifecircle"):  # a CLI test before may have quietened it
        buildings = read_buildings(path, compounds)
    inner = shapely.point_on_surface(layer.geometry.to_numpy())
    for k, bid in enumerate(layer["id"]):
        holders = [cid for cid, geom in compounds.geometry.items() if geom.contains(inner[k])]
        got = buildings.loc[bid, "compound_id"]
        assert (got in holders) if holders else pd.isna(got), (bid, got, holders)
    assert buildings["compound_id"].isna().sum() == 30
    assert "30 buildings belong to no compound (kept, compound empty)" in caplog.text
    named = layer.assign(小区=[compounds.index[0]] * len(layer))
    named.to_file(tmp_path / "named.gpkg")
    assert (read_buildings(tmp_path / "named.gpkg", compounds)["compound_id"] == compounds.index[0]).all()
    named.assign(小区="没有这个小区").to_file(tmp_path / "bad.gpkg")
    with pytest.raises(InputError, match="names compounds not in the compound layer"):
        read_buildings(tmp_path / "bad.gpkg", compounds)


def test_summary_names_compounds_whose_answer_changes():
    table = pd.DataFrame(
        {
            "building_id": ["a", "b", "c", "d"],
            "compound_id": ["X", "X", "Y", None],
            "category": "all",
            "walk_m": [100.0, 900.0, 50.0, 10.0],
            "covered": [True, False, True, True],
        }
    )
    at_compound = pd.DataFrame({"compound_id": ["X", "Y"], "category": "all", "covered": [True, True]})
    entry = building_summary(table, at_compound)["all"]
    assert entry == {
        "buildings": 4,
        "buildings_covered": 3,
        "compounds_with_uncovered_buildings": 1,
        "examples": ["X"],
    }


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
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["buildings"]
    first = next(iter(summary.values()))
    assert first["buildings"] == len(layer)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>楼栋</h2>" in page or "<h2>Buildings</h2>" in page
