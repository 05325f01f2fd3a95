"""Walking options of an analysis, end to end: compound roads, open blocks, hills, profiles, local road layers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.walk import Walk
from lifecircle.planning.cli import main
from lifecircle.planning.walking import WalkingOptions, build_walking


@pytest.fixture(scope="module")
def layers(tmp_path_factory, cau_osm):
    folder = tmp_path_factory.mktemp("walking")
    features = ox.features_from_xml(cau_osm, tags={"landuse": "residential", "amenity": True})
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    compounds = features[polygonal & (features.get("landuse") == "residential")].reset_index()
    compounds = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(len(compounds))], "population": 1000, "pop_60plus": 250},
        geometry=compounds.geometry.to_numpy(),
        crs=4326,
    )
    compounds.to_file(folder / "compounds.gpkg")
    pts = features[features.geom_type == "Point"].reset_index()
    services = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(len(pts))], "category": np.where(pts.index % 2, "a", "b")},
        geometry=pts.geometry.to_numpy(),
        crs=4326,
    )
    services.to_file(folder / "services.gpkg")
    # a DEM rising 8 % eastwards over the whole extract (EPSG:4326, ~10 m pixels)
    G = network_from_osm(cau_osm)
    xs = np.array([d["x"] for _, d in G.nodes(data=True)])
    ys = np.array([d["y"] for _, d in G.nodes(data=True)])
    west, south, east, north = xs.min() - 0.01, ys.min() - 0.01, xs.max() + 0.01, ys.max() + 0.01
    res = 0.0001
    width, height = int((east - west) / res) + 1, int((north - south) / res) + 1
    x_m = np.arange(width) * res * 85_000
    dem = np.tile(0.08 * x_m, (height, 1)).astype("float32")
    with rasterio.open(
        folder / "dem.tif",
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(west, north, res, res),
    ) as dst:
        dst.write(dem, 1)
    # the OSM walking network as a plain road-centreline layer
    edges = ox.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True).reset_index()
    edges = edges[edges["u"] < edges["v"]][["highway", "geometry"]]
    edges.to_file(folder / "roads.geojson")
    return {
        "network": cau_osm,
        "compounds": folder / "compounds.gpkg",
        "services": folder / "services.gpkg",
        "dem": folder / "dem.tif",
        "roads": folder / "roads.geojson",
    }


def _coverage(out):
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    return table[table["category"] == "all"].set_index("compound_id")


@pytest.mark.slow
def test_everything_on(layers, tmp_path):
    plain, rich = tmp_path / "plain", tmp_path / "rich"
    assert (
        main(
            [
                "-q",
                "analyze",
                "--network",
                str(layers["network"]),
                "--compounds",
                str(layers["compounds"]),
                "--services",
                str(layers["services"]),
                "--out",
                str(plain),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "-q",
                "analyze",
                "--network",
                str(layers["network"]),
                "--compounds",
                str(layers["compounds"]),
                "--services",
                str(layers["services"]),
                "--out",
                str(rich),
                "--dem",
                str(layers["dem"]),
                "--profiles",
                "adult,elderly,wheelchair",
                "--compound-roads",
                "--open-blocks",
                "--gates-from-osm",
            ]
        )
        == 0
    )
    for name in ("open_blocks", "slope_effect", "coverage_by_profile", "profiles_summary"):
        assert (rich / f"{name}.csv").is_file(), name
    summary = json.loads((rich / "summary.json").read_text(encoding="utf-8"))
    walking = summary["walking"]
    assert walking["weight"] == "effort_m" and walking["compound_roads"] is True
    assert {"open_blocks", "slope", "profiles"} <= set(walking)
    profiles = pd.read_csv(rich / "profiles_summary.csv")
    by = profiles[profiles["category"] == "all"].set_index("profile")
    assert by.loc["elderly", "covered"] <= by.loc["adult", "covered"]
    assert by.loc["elderly", "population_column"] == "pop_60plus"
    # on an 8 % slope, walks that climb take longer; gentle descents (Tobler's optimum is -5 %) can be quicker
    slope = pd.read_csv(rich / "slope_effect.csv")
    assert (slope["delta_min"].dropna() > 0.1).any()
    assert (slope["delta_min"].abs().dropna() > 1e-3).mean() > 0.5


@pytest.mark.slow
def test_line_layer_network_matches_osm(layers, tmp_path):
    osm_out, lines_out = tmp_path / "osm", tmp_path / "lines"
    common = ["--compounds", str(layers["compounds"]), "--services", str(layers["services"])]
    assert main(["-q", "analyze", "--network", str(layers["network"]), *common, "--out", str(osm_out)]) == 0
    assert main(["-q", "analyze", "--network", str(layers["roads"]), *common, "--out", str(lines_out)]) == 0
    a, b = _coverage(osm_out), _coverage(lines_out)
    both = a["walk_m"].notna() & b["walk_m"].notna()
    assert both.sum() >= 5
    # same streets, noded again from lines: walks agree to within a few metres
    assert np.allclose(a.loc[both, "walk_m"], b.loc[both, "walk_m"], atol=5.0)
    merged = tmp_path / "merged"
    assert (
        main(
            [
                "-q",
                "analyze",
                "--network",
                str(layers["network"]),
                *common,
                "--out",
                str(merged),
                "--merge-lines",
                str(layers["roads"]),
            ]
        )
        == 0
    )
    sources = pd.read_csv(merged / "network_sources.csv")
    assert {"osm", "local added"} <= set(sources.iloc[:, 0])


@pytest.mark.slow
def test_gates_from_osm_needs_an_osm_file(layers, cau_osm):
    G = network_from_osm(cau_osm)
    compounds = gpd.read_file(layers["compounds"]).set_index("id")
    with pytest.raises(InputError, match="OSM extract"):
        build_walking(
            G,
            compounds,
            options=WalkingOptions(gates_from_osm=True),
            gates=None,
            walk=Walk(),
            max_snap_m=300,
            network_path=layers["roads"],
        )
