"""One walk: speed, limits per category and edge costs in one value; steps cost F × their length, CLI to coverage."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import flat_dem

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.walk import STEPS_COST, Walk, metres_per_minute
from lifecircle.planning.cli import main

STEPS_OSM = Path(__file__).resolve().parent / "input_data" / "steps_flight.osm"


@pytest.fixture(scope="module")
def flight(tmp_path_factory) -> dict:
    """A compound below a 300 m flight of steps and a service above it (the steps are the only way up)."""
    folder = tmp_path_factory.mktemp("flight")
    below = shapely.box(116.30095, 39.89985, 116.30105, 39.89993)  # ~8 m south of the lower street, at the steps
    compounds = gpd.GeoDataFrame({"id": ["c1"], "name": ["坡下小区"]}, geometry=[below], crs=4326)
    services = gpd.GeoDataFrame(
        {"id": ["s1"], "name": ["坡上卫生站"], "category": ["医疗"]},
        geometry=[shapely.Point(116.3010, 39.90278)],
        crs=4326,
    )
    compounds.to_file(folder / "compounds.geojson")
    services.to_file(folder / "services.geojson")
    G = network_from_osm(STEPS_OSM)
    steps_m = sum(d["length"] for u, v, d in G.edges(data=True) if d["highway"] == "steps" and u < v)
    return {"folder": folder, "steps_m": steps_m}


def _walk_min(flight: dict, out: Path, *extra: str) -> float:
    folder = flight["folder"]
    args = ["-q", "analyze", "--network", str(STEPS_OSM), "--compounds", str(folder / "compounds.geojson")]
    args += ["--services", str(folder / "services.geojson"), "--minutes", "30", "--no-served-area", "--out", str(out)]
    assert main([*args, *extra]) == 0
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    return float(table.loc[table["category"] == "all", "walk_min"].iloc[0])


@pytest.mark.slow
def test_steps_factor_makes_the_flight_take_longer_through_the_cli(flight, tmp_path):
    assert 295 < flight["steps_m"] < 305
    plain = _walk_min(flight, tmp_path / "default")
    one = _walk_min(flight, tmp_path / "one", "--steps-factor", "1")
    three = _walk_min(flight, tmp_path / "three", "--steps-factor", "3")
    assert plain == one  # the default prices steps as level ground, as before
    assert three >= 2 * one
    # the walk is the flight plus a few metres of street: only the flight's time triples
    flight_min = flight["steps_m"] / metres_per_minute(4.5)
    assert one == pytest.approx(flight_min, abs=0.5)
    assert three - one == pytest.approx(2 * flight_min, abs=0.02)


@pytest.mark.slow
def test_steps_factor_with_a_dem(flight, tmp_path):
    """On flat ground (a constant DEM) the steps cost the same F × their length as without one."""
    dem = flat_dem(tmp_path / "flat.tif")
    one = _walk_min(flight, tmp_path / "one", "--dem", str(dem))
    three = _walk_min(flight, tmp_path / "three", "--dem", str(dem), "--steps-factor", "3")
    assert three >= 2 * one
    assert three - one == pytest.approx(2 * flight["steps_m"] / metres_per_minute(4.5), abs=0.02)


def test_steps_factor_reaches_isochrones(flight, tmp_path):
    """A 6-minute isochrone from the upper street reaches down the flight at level cost, not at 3×."""
    folder = flight["folder"]
    args = ["-q", "isochrones", "--network", str(STEPS_OSM), "--services", str(folder / "services.geojson")]
    args += ["--minutes", "6"]
    areas = {}
    for factor in ("1", "3"):
        out = tmp_path / f"iso{factor}"
        assert main([*args, "--steps-factor", factor, "--out", str(out)]) == 0
        served = gpd.read_file(out / "isochrones.gpkg", layer="served_area")
        areas[factor] = float(served.to_crs(32650).area.sum())
    assert areas["3"] < 0.6 * areas["1"]


def test_walk_value():
    walk = Walk(speed_kmh=4.8, limit_min=10, category_limit_min={"医疗": 15}, category_limit_m={"幼儿园": 300})
    assert walk.metres_per_minute == 80.0 and walk.limit_m == 800.0 and walk.max_walk_min == 10
    assert walk.limit_m_of("医疗") == 1200.0 and walk.limit_min_of("医疗") == 15
    assert walk.limit_m_of("幼儿园") == 300.0 and walk.limit_min_of("幼儿园") == 3.75
    assert walk.limit_m_of("超市") == 800.0
    assert walk.with_limit(metres=500).max_walk_min == 6.25
    assert np.allclose(walk.minutes(np.array([80.0, 160.0])), [1.0, 2.0])
    with pytest.raises(InputError, match="at least 1"):
        Walk(steps_factor=0.5)
    with pytest.raises(InputError, match="Walking speed must be a positive number"):
        Walk(speed_kmh=0)
    with pytest.raises(InputError, match="threshold of '医疗'"):
        Walk(category_limit_min={"医疗": -1})


def test_cost_graph_prices_only_the_steps():
    G = network_from_osm(STEPS_OSM)
    same, weight = Walk().cost_graph(G)
    assert same is G and weight == "length"
    priced, weight = Walk(steps_factor=2.5).cost_graph(G)
    assert weight == STEPS_COST and priced is not G and STEPS_COST not in next(iter(G.edges(data=True)))[2]
    for _, _, d in priced.edges(data=True):
        assert d[STEPS_COST] == pytest.approx(d["length"] * (2.5 if d["highway"] == "steps" else 1.0))


def test_cli_refuses_a_steps_factor_below_one(capsys):
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--network", "x.osm", "--compounds", "c", "--services", "s", "--steps-factor", "0.5"])
    assert info.value.code == 2 and "below 1" in capsys.readouterr().err


@pytest.mark.slow
def test_road_lines_and_steps_reach_siting(flight, tmp_path):
    """A road-centreline layer is a network for site and isochrones too, and the steps factor reaches siting:
    the compound below the flight is within 5 minutes of the service at level cost, not at 3×."""
    import osmnx as ox

    edges = ox.graph_to_gdfs(network_from_osm(STEPS_OSM), nodes=False, fill_edge_geometry=True).reset_index()
    roads = tmp_path / "roads.geojson"
    edges[edges["u"] < edges["v"]][["highway", "geometry"]].to_file(roads)
    folder = flight["folder"]
    layers = ["--compounds", str(folder / "compounds.geojson"), "--services", str(folder / "services.geojson")]
    plans = {}
    for factor in ("1", "3"):
        out = tmp_path / f"site{factor}"
        args = ["-q", "site", "--network", str(roads), *layers, "--minutes", "5", "--add", "1"]
        assert main([*args, "--candidates-from", "compounds", "--steps-factor", factor, "--out", str(out)]) == 0
        plans[factor] = pd.read_csv(out / "before_after.csv", encoding="utf-8-sig").iloc[0]
    assert plans["1"]["outcome"] == "already_covered" and plans["1"]["walk_min_before"] < 5
    assert (
        plans["3"]["outcome"] == "newly_covered" and plans["3"]["walk_min_before"] > 2 * plans["1"]["walk_min_before"]
    )
    out = tmp_path / "iso"
    iso = ["-q", "isochrones", "--network", str(roads), "--services", str(folder / "services.geojson")]
    assert main([*iso, "--minutes", "5", "--steps-factor", "3", "--out", str(out)]) == 0
    assert (out / "isochrones.gpkg").is_file()


def test_help_states_the_walks_own_defaults():
    """``--help`` stays light (no geo import), so its defaults are written out; they must be the Walk's."""
    from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
    from lifecircle.geo.walk import DEFAULT_LIMIT_MIN, DEFAULT_SPEED_KMH, DEFAULT_STEPS_FACTOR
    from lifecircle.planning.cli import build_parser

    parser = build_parser()
    analyze = next(a for a in parser._subparsers._group_actions[0].choices.values() if a.prog.endswith("analyze"))
    helps = {a.dest: a.help for a in analyze._actions}
    assert f"(default {DEFAULT_SPEED_KMH:g})" in helps["speed_kmh"]
    assert f"(default {DEFAULT_LIMIT_MIN:g}," in helps["minutes"]
    assert f"(default {DEFAULT_MAX_SNAP_M:g})" in helps["max_snap_m"]
    assert f"(default {DEFAULT_STEPS_FACTOR:g})" in " ".join(helps["steps_factor"].split())
