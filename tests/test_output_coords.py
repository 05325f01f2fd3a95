"""``--output-coord-system`` for ``site`` and ``isochrones``: layers written in GCJ-02 overlay Amap (here: equal to
the WGS84 run's layers converted independently, and shifted by the hundreds of metres GCJ-02 moves Beijing)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_graph, points, squares

from lifecircle.geo.inputs.chinese_crs import from_wgs84
from lifecircle.planning.cli import main
from lifecircle.planning.jobs.site import write_site_plan
from lifecircle.planning.siting.options import SitingOptions
from lifecircle.planning.siting.planner import plan_sites

X0, Y0 = 442_000.0, 4_428_000.0  # Haidian, Beijing, in UTM 50N


def _shift_m(a: gpd.GeoSeries, b: gpd.GeoSeries) -> np.ndarray:
    crs = a.estimate_utm_crs()
    return shapely.distance(a.to_crs(crs).to_numpy(), b.set_crs(4326, allow_override=True).to_crs(crs).to_numpy())


@pytest.fixture
def beijing_plan():
    nodes = {0: (X0 - 600, Y0), 1: (X0, Y0), 2: (X0 + 600, Y0), 3: (X0, Y0 - 600), 4: (X0, Y0 + 600)}
    G = make_graph(nodes, [(0, 1, {"name": "中山路"}), (1, 2, {"name": "中山路"}), (3, 1), (1, 4)])
    compounds = squares([(X0 + 500, Y0 + 30), (X0 + 30, Y0 - 500)], ids=["A", "B"], half_m=5, households=[1, 2])
    services = points([(X0 - 590, Y0)], ids=["s1"], category=["超市"])
    return plan_sites(G, compounds, services, options=SitingOptions(add=1, candidate_spacing_m=50))


@pytest.mark.slow
def test_site_plan_in_gcj02(beijing_plan, tmp_path):
    write_site_plan(beijing_plan, tmp_path / "wgs")
    write_site_plan(beijing_plan, tmp_path / "gcj", output_coord_system="gcj02")
    wgs = gpd.read_file(tmp_path / "wgs" / "sites.gpkg", layer="sites")
    gcj = gpd.read_file(tmp_path / "gcj" / "sites.gpkg", layer="sites")
    expected = from_wgs84(wgs, "gcj02")
    assert np.allclose(shapely.get_coordinates(gcj.geometry), shapely.get_coordinates(expected.geometry), atol=1e-9)
    assert ((_shift_m(wgs.geometry, gcj.geometry) > 100) & (_shift_m(wgs.geometry, gcj.geometry) < 1000)).all()
    csv = pd.read_csv(tmp_path / "gcj" / "sites.csv", encoding="utf-8-sig")
    assert np.allclose(csv[["lon", "lat"]], shapely.get_coordinates(gcj.geometry), atol=1e-6)
    siting = json.loads((tmp_path / "gcj" / "siting.json").read_text(encoding="utf-8"))
    assert siting["output_coord_system"] == "gcj02"
    for layer in ("catchments",):
        a = gpd.read_file(tmp_path / "wgs" / "sites.gpkg", layer=layer)
        b = gpd.read_file(tmp_path / "gcj" / "sites.gpkg", layer=layer)
        assert shapely.equals_exact(from_wgs84(a, "gcj02").geometry.to_numpy(), b.geometry.to_numpy(), 1e-9).all()


@pytest.mark.slow
def test_isochrones_cli_in_gcj02(cau_osm, tmp_path):
    services = gpd.GeoDataFrame(
        {"id": ["s1", "s2"], "name": ["药店", "超市"], "category": ["药店", "超市"]},
        geometry=shapely.points([(116.3525, 39.9990), (116.3560, 40.0030)]),
        crs=4326,
    )
    services.to_file(tmp_path / "services.geojson")
    args = ["-q", "isochrones", "--network", str(cau_osm), "--services", str(tmp_path / "services.geojson"),
            "--minutes", "5"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "wgs")]) == 0
    assert main([*args, "--out", str(tmp_path / "gcj"), "--output-coord-system", "gcj02"]) == 0
    # the GeoJSON holds 6 decimals (each file rounded on its own); the GeoPackage's per-service layer full ones
    for name, layer, tol in (("isochrones_served_area.geojson", None, 2e-6), ("isochrones.gpkg", "per_service", 1e-7)):
        wgs = gpd.read_file(tmp_path / "wgs" / name, layer=layer).to_crs(4326)
        gcj = gpd.read_file(tmp_path / "gcj" / name, layer=layer)
        assert len(wgs) == len(gcj) > 0
        expected = from_wgs84(wgs, "gcj02").geometry.to_numpy()
        assert shapely.equals_exact(expected, gcj.geometry.to_numpy(), tol).all()
        moved = _shift_m(wgs.geometry.representative_point(), gcj.geometry.representative_point())
        assert ((moved > 100) & (moved < 1000)).all()
