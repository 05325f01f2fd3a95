"""GCJ-02/BD-09 shift detection on real OSM streets: shifted layers are named, correct ones give no false alarm.

Compounds are the real street blocks of each extract, shrunk by 5–15 m as cadastral compound walls stand back from
the street centrelines (the case that used to be called "shifted like GCJ-02"); services are the extract's own
amenities and shops, and the same moved onto the pavement beside their street.
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import shared_file

from lifecircle.errors import InputError
from lifecircle.geo.inputs import chinese_crs as cc
from lifecircle.geo.inputs.shift_check import detect_gcj02_shift
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm

EXTRACTS = [
    "beijing_haidian_wudaokou_tsinghua.osm.bz2",
    "nanjing_xinjiekou.osm.bz2",
    "beijing_haidian_cau_xueyuanlu.osm.bz2",
]


class Place:
    """Street centrelines (metric), set-back compounds, amenities and pavement services of one extract."""

    def __init__(self, extract: str) -> None:
        net = prepare_network(network_from_osm(shared_file(f"osm/{extract}")))
        self.streets = gpd.GeoSeries(net.segment_lines, crs=net.crs)
        faces = gpd.GeoSeries(
            list(shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.unary_union(net.segment_lines))))),
            crs=net.crs,
        )
        blocks = faces[(faces.area > 10_000) & (faces.area < 500_000)]
        rng = np.random.default_rng(7)
        walls = blocks.buffer(-rng.uniform(5.0, 15.0, len(blocks)))
        self.compounds = walls[~walls.is_empty].to_crs("EPSG:4326")
        self.compounds_8m = blocks.buffer(-8.0).to_crs("EPSG:4326")  # walls 8 m from the centrelines, as in issue 16
        self.centres = self.compounds.to_crs(net.crs).centroid.to_crs("EPSG:4326")
        self.amenities = _amenities(shared_file(f"osm/{extract}"))
        self.pavement = _on_pavement(self.amenities, net.segment_lines, net.crs, rng)


def _amenities(path) -> gpd.GeoSeries:
    ox = pytest.importorskip("osmnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = ox.features_from_xml(path, tags={"amenity": True, "shop": True})
    return gpd.GeoSeries(shapely.point_on_surface(feats.geometry.to_numpy()), crs=feats.crs)


def _on_pavement(points: gpd.GeoSeries, lines: np.ndarray, crs, rng) -> gpd.GeoSeries:
    """Each point moved onto the pavement of its nearest street: 4–12 m from the centreline."""
    xy = points.to_crs(crs).to_numpy()
    nearest = lines[shapely.STRtree(lines).query_nearest(xy, all_matches=False)[1]]
    foot = shapely.line_interpolate_point(nearest, shapely.line_locate_point(nearest, xy))
    angle, r = rng.uniform(0, 2 * np.pi, len(xy)), rng.uniform(4.0, 12.0, len(xy))
    moved = shapely.points(shapely.get_x(foot) + r * np.cos(angle), shapely.get_y(foot) + r * np.sin(angle))
    return gpd.GeoSeries(moved, crs=crs).to_crs("EPSG:4326")


def _as_if(layer: gpd.GeoSeries, func) -> gpd.GeoSeries:
    """The layer's coordinates replaced by GCJ-02 (or BD-09) ones, still labelled WGS84, as a ledger from Amap is."""
    moved = shapely.transform(layer.to_numpy(), lambda xy: np.column_stack(func(xy[:, 0], xy[:, 1])))
    return gpd.GeoSeries(moved, crs="EPSG:4326")


@pytest.fixture(scope="module", params=EXTRACTS)
def place(request) -> Place:
    return Place(request.param)


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("walls", ["compounds", "compounds_8m"])
def test_set_back_compounds_give_no_warning(place, walls, caplog):
    compounds = getattr(place, walls)
    assert len(compounds) >= 20
    with caplog.at_level(logging.WARNING):
        diag = detect_gcj02_shift(compounds, place.streets, name="compounds")
    assert not diag.shifted, diag.message
    assert diag.fit_given_m < 1.0  # the walls stand within the set-back allowance of their streets
    assert diag.fit_if_gcj02_m > 10 * max(diag.fit_given_m, 1.0)
    assert "shifted like" not in caplog.text


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize(("system", "func"), [("gcj02", cc.wgs84_to_gcj02), ("bd09", cc.wgs84_to_bd09)])
def test_shifted_compounds_are_named_with_their_system(place, system, func, caplog):
    with caplog.at_level(logging.WARNING, logger="lifecircle.geo.inputs.shift_check"):
        diag = detect_gcj02_shift(_as_if(place.compounds, func), place.streets, name="compounds")
    assert diag.suspected == system, diag.message
    assert diag.share_closer > 0.9
    assert getattr(diag, f"fit_if_{system}_m") < 0.5 * diag.null_fit_m  # no other move fits as well
    assert f"--compounds-coord-system {system}" in caplog.text


@pytest.mark.shared
def test_compound_centres_give_no_warning(place):
    # centres lie deep inside blocks: any 500 m jump lands nearer some street, which is no evidence of a shift
    diag = detect_gcj02_shift(place.centres, place.streets, name="compounds")
    assert not diag.shifted, diag.message


@pytest.mark.shared
def test_services_on_pavements_give_no_warning_until_shifted(place):
    ok = detect_gcj02_shift(place.pavement, place.streets, name="services")
    assert not ok.shifted, ok.message
    assert ok.median_given_m < 12.5
    for system, func in (("gcj02", cc.wgs84_to_gcj02), ("bd09", cc.wgs84_to_bd09)):
        diag = detect_gcj02_shift(_as_if(place.pavement, func), place.streets, name="services")
        assert diag.suspected == system, diag.message
        assert getattr(diag, f"median_if_{system}_m") == pytest.approx(ok.median_given_m, abs=0.5)


@pytest.mark.shared
def test_amenities_as_mapped_give_no_warning(place):
    diag = detect_gcj02_shift(place.amenities, place.streets, name="services")
    assert not diag.shifted, diag.message


@pytest.mark.shared
def test_same_answer_on_every_run(place):
    a = detect_gcj02_shift(_as_if(place.compounds, cc.wgs84_to_gcj02), place.streets, max_samples=500)
    b = detect_gcj02_shift(_as_if(place.compounds, cc.wgs84_to_gcj02), place.streets, max_samples=500)
    assert a == b and a.n_samples == 500


def test_shift_check_needs_enough_features_in_china():
    streets = gpd.GeoSeries([shapely.LineString([(-112.0, 33.4), (-112.0, 33.5)])], crs="EPSG:4326")
    pts = gpd.GeoSeries(gpd.points_from_xy(np.full(30, -112.0001), np.linspace(33.4, 33.5, 30)), crs="EPSG:4326")
    diag = detect_gcj02_shift(pts, streets)
    assert diag.suspected is None and diag.n_points == 0 and "skipped" in diag.message
    with pytest.raises(InputError, match="CRS"):
        detect_gcj02_shift(gpd.GeoSeries(pts.to_numpy()), streets)


def test_every_geometry_type_is_sampled_along_its_edges():
    streets = gpd.GeoSeries([shapely.LineString([(116.30, 39.90), (116.31, 39.90)])], crs="EPSG:4326")
    box = shapely.box(116.301, 39.9001, 116.302, 39.9006)
    layer = gpd.GeoSeries(
        [
            shapely.Point(116.305, 39.9001),
            shapely.GeometryCollection([box, shapely.Point(116.303, 39.9001)]),  # what make_valid may leave
            shapely.MultiPolygon([box, shapely.box(116.303, 39.9001, 116.304, 39.9004)]),
            shapely.LineString([(116.306, 39.9001), (116.307, 39.9001)]),
        ]
        * 3,
        crs="EPSG:4326",
    )
    diag = detect_gcj02_shift(layer, streets)
    assert diag.n_points == 12 and diag.n_samples > 12 * 10 and not diag.shifted
