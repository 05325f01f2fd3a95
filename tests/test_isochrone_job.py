"""The isochrones job: real OSM network and a services file in, isochrone files out, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from lifecircle.planning.inputs import LayerSpec
from lifecircle.planning.jobs.isochrones import run_isochrones
from lifecircle.planning.options import IsochroneOptions
from lifecircle.planning.study import Study

_ROOT = Path(__file__).resolve().parents[1]
SHARED = next(
    (p / "shared" / "data" for p in (_ROOT.parent, _ROOT.parent.parent) if (p / "shared" / "data").is_dir()),
    _ROOT.parent / "shared" / "data",
)
OSM = SHARED / "osm" / "beijing_haidian_cau_xueyuanlu.osm.bz2"


def isochrone_study(services: Path, out: Path, *, minutes, rings: bool = False) -> Study:
    """The isochrones job's study: the CAU extract, services with a 类别 column, 4.5 km/h, 45 m catchment."""
    return Study(
        network=str(OSM),
        compounds=None,
        services=LayerSpec(services),
        category_column="类别",
        speed_kmh=4.5,
        isochrones=IsochroneOptions(minutes=tuple(minutes), catchment_m=45, rings=rings),
        isochrones_dir=out,
    )


@pytest.mark.slow
@pytest.mark.shared
def test_run_isochrones_writes_layers_and_geojson(tmp_path):
    if not OSM.exists():
        pytest.skip(f"shared OSM extract {OSM} is absent")
    from lifecircle.geo.network.osm import network_from_osm

    G = network_from_osm(OSM)
    xs = [d["x"] for _, d in G.nodes(data=True)]
    ys = [d["y"] for _, d in G.nodes(data=True)]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    services = gpd.GeoDataFrame(
        {
            "id": ["h1", "k1", "k2"],
            "name": ["社区卫生服务中心", "幼儿园甲", "幼儿园乙"],
            "类别": ["卫生", "幼儿园", "幼儿园"],
        },
        geometry=[shapely.Point(cx, cy), shapely.Point(cx + 0.002, cy), shapely.Point(cx, cy + 0.002)],
        crs="EPSG:4326",
    )
    services_path = tmp_path / "services.geojson"
    services.to_file(services_path)
    out = tmp_path / "out"
    result, written = run_isochrones(isochrone_study(services_path, out, minutes=[5, 10], rings=True))
    assert sorted(p.name for p in written) == sorted(
        [
            "isochrones.gpkg",
            "isochrones_served_area.geojson",
            "isochrones_rings.geojson",
            "map.html",
        ]
    )
    page = (out / "map.html").read_text(encoding="utf-8")  # its own map: served areas per break, the services
    assert all(
        f"{c}：{m} 分钟" in page or json.dumps(f"{c}：{m} 分钟")[1:-1] in page
        for c in ("卫生", "幼儿园")
        for m in (5, 10)
    )
    assert '<script src="http' not in page  # opens offline
    assert [name for name, _ in pyogrio.list_layers(out / "isochrones.gpkg")] == ["per_service", "served_area", "rings"]
    per = gpd.read_file(out / "isochrones.gpkg", layer="per_service")
    assert set(per["service_id"]) == {"h1", "k1", "k2"} and set(per["category"]) == {"卫生", "幼儿园"}
    assert (per["area_m2"] > 0).all() and (per["street_m"] > 0).all()
    served = gpd.read_file(out / "isochrones_served_area.geojson")
    assert served.crs.to_epsg() == 4326
    assert list(served["category"].unique()) == ["all", "卫生", "幼儿园"]
    lonlat = shapely.get_coordinates(served.geometry.to_numpy())  # 6 decimals (~0.1 m), not 15
    assert np.array_equal(lonlat, np.round(lonlat, 6)) and not np.array_equal(lonlat, np.round(lonlat, 5))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind
    # a second run into the existing folder replaces the files
    # a second run into the existing folder replaces the files, and drops the rings it no longer makes
    (out / "notes.txt").write_text("kept")
    run_isochrones(isochrone_study(services_path, out, minutes=[5]))
    assert len(gpd.read_file(out / "isochrones.gpkg", layer="per_service")) == 3
    assert not (out / "isochrones_rings.geojson").exists()
    assert (out / "notes.txt").read_text() == "kept"
    assert result.params["minutes"] == [5.0, 10.0]
