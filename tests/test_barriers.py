"""Barriers: served areas and isochrones stop at water, railways and motorways, except where a street crosses."""

from __future__ import annotations

import bz2

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.network.barriers import Barriers, barriers_from_layer, barriers_from_osm
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.reach.isochrones import isochrones
from lifecircle.geo.reach.streetcells import StreetCells
from tests.test_isochrones import CRS, SHARED, chain, graph, services_at

# a street along the south bank of a 20 m river (y = 10..30), open land north of it; one street crosses by a bridge
RIVER = shapely.box(-2000, 10, 2000, 30)


def _bank_street(bridge_at: float | None = None):
    xs = np.arange(-1000, 1001, 50)
    nodes, edges = chain("s", [(x, 0) for x in xs])
    if bridge_at is not None:
        foot = next(k for k, p in nodes.items() if p == (bridge_at, 0))
        nodes.update({"b1": (bridge_at, 60), "b2": (bridge_at, 150)})
        edges += [(foot, "b1"), ("b1", "b2")]
    return graph(nodes, edges)


def _water(*areas, lines=()) -> Barriers:
    return Barriers(
        areas=np.array(list(areas), dtype=object), lines=np.array(list(lines), dtype=object), crs=pyproj.CRS(CRS)
    )


def test_catchment_stops_at_the_river_bank():
    G = _bank_street()
    services = services_at((0, -2))
    plain = isochrones(G, services, minutes=[5]).per_service.geometry.iloc[0]
    cut = isochrones(G, services, minutes=[5], barriers=_water(RIVER)).per_service.geometry.iloc[0]
    far_bank = shapely.box(-2000, 30, 2000, 100)
    assert plain.intersection(far_bank).area > 15 * 400  # today: ~15 m of the far bank claimed along the street
    assert cut.intersection(far_bank).area < 1e-6
    assert cut.intersection(RIVER).area < 1e-6
    # the near bank is untouched: the same land south of the river
    near = shapely.box(-2000, -100, 2000, 10)
    assert cut.intersection(near).area == pytest.approx(plain.intersection(near).area, rel=1e-6)


def test_a_street_crossing_the_river_takes_the_far_bank_it_reaches():
    G = _bank_street(bridge_at=0)
    services = services_at((0, -2))
    cut = isochrones(G, services, minutes=[5], barriers=_water(RIVER)).per_service.geometry.iloc[0]
    assert cut.contains(shapely.Point(20, 100))  # beside the street north of the bridge
    assert not cut.intersects(shapely.Point(300, 35))  # far bank away from the bridge: across the water
    assert cut.intersection(RIVER).area < 1e-6


def test_railway_without_crossing_cuts_the_land_and_a_level_crossing_does_not():
    rail = shapely.LineString([(-2000, 20), (2000, 20)])
    G = _bank_street(bridge_at=0)  # the "bridge" is now a level crossing of the railway
    services = services_at((-600, -2))
    cut = isochrones(G, services, minutes=[10], barriers=_water(lines=[rail])).per_service.geometry.iloc[0]
    plain = isochrones(G, services, minutes=[10]).per_service.geometry.iloc[0]
    assert plain.contains(shapely.Point(-600, 30))
    assert not cut.contains(shapely.Point(-600, 30))  # beyond the railway, no crossing here
    assert cut.contains(shapely.Point(10, 100))  # beyond it, along the street that crosses


def test_cells_with_barriers_stay_a_valid_coverage():
    G = _bank_street(bridge_at=0)
    net = prepare_network(G)
    cells = StreetCells.build(
        net, catchment_m=45, barriers=_water(RIVER, lines=[shapely.LineString([(500, -99), (500, 99)])])
    )
    assert shapely.is_valid(cells.cells).all()
    assert shapely.coverage_is_valid(cells.cells[~shapely.is_empty(cells.cells)])
    assert shapely.intersection(shapely.union_all(cells.cells), RIVER).area < 1e-6


def test_service_far_from_the_street_lies_inside_its_own_polygon():
    G = _bank_street()
    services = services_at((0, -120), (300, -60))  # 120 m and 60 m from the street: beyond the 45 m catchment
    result = isochrones(G, services, minutes=[5, 10])
    polys = result.per_service.geometry.to_numpy().reshape(2, 2)
    assert shapely.contains_xy(polys[0], 0, -120).all()
    assert shapely.contains_xy(polys[1], 300, -60).all()
    # the access path's land belongs to the area, land beside it not reached stays out
    assert shapely.contains_xy(polys[0], 0, -80).all()
    assert not shapely.contains_xy(polys[0, 0], 200, -100)
    # served area of the category holds both services too
    served = result.served_area.geometry.to_numpy()
    assert shapely.contains_xy(served, 0, -120).all() and shapely.contains_xy(served, 300, -60).all()


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="32.0000" lon="118.7800"/><node id="2" lat="32.0000" lon="118.7810"/>
  <node id="3" lat="32.0010" lon="118.7810"/><node id="4" lat="32.0010" lon="118.7800"/>
  <node id="5" lat="32.0020" lon="118.7800"/><node id="6" lat="32.0020" lon="118.7900"/>
  <node id="7" lat="32.0030" lon="118.7800"/><node id="8" lat="32.0030" lon="118.7900"/>
  <node id="9" lat="32.0040" lon="118.7800"/><node id="10" lat="32.0040" lon="118.7900"/>
  <node id="11" lat="32.0050" lon="118.7800"/><node id="12" lat="32.0050" lon="118.7900"/>
  <way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="natural" v="water"/><tag k="name" v="碧池"/></way>
  <way id="101"><nd ref="5"/><nd ref="6"/><tag k="railway" v="rail"/></way>
  <way id="102"><nd ref="7"/><nd ref="8"/><tag k="railway" v="rail"/><tag k="bridge" v="viaduct"/></way>
  <way id="103"><nd ref="9"/><nd ref="10"/><tag k="highway" v="motorway"/></way>
  <way id="104"><nd ref="11"/><nd ref="12"/><tag k="waterway" v="river"/><tag k="name" v="珍珠河"/></way>
  <way id="105"><nd ref="11"/><nd ref="12"/><tag k="waterway" v="stream"/></way>
  <way id="106"><nd ref="9"/><nd ref="10"/><tag k="highway" v="residential"/></way>
</osm>
"""


def test_barriers_read_from_osm(tmp_path):
    path = tmp_path / "tiny.osm.bz2"
    path.write_bytes(bz2.compress(OSM_XML.encode()))
    barriers = barriers_from_osm(path)
    assert barriers.crs.to_epsg() == 4326
    assert len(barriers.areas) == 1 and barriers.areas[0].area == pytest.approx(0.001 * 0.001)
    ys = sorted(round(line.coords[0][1], 4) for line in barriers.lines)
    assert ys == [32.002, 32.004, 32.005]  # rail, motorway, river; not the viaduct, the stream or the street


def test_barriers_from_a_layer(tmp_path):
    layer = gpd.GeoDataFrame(
        {"kind": ["lake", "rail"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.LineString([(0, 20), (50, 20)])],
        crs=CRS,
    )
    layer.to_file(tmp_path / "b.gpkg")
    barriers = barriers_from_layer(tmp_path / "b.gpkg")
    assert len(barriers.areas) == 1 and len(barriers.lines) == 1
    layer.iloc[:1].set_crs(None, allow_override=True).to_file(tmp_path / "nocrs.shp")  # no .prj
    with pytest.raises(InputError, match="no coordinate reference system"):
        barriers_from_layer(tmp_path / "nocrs.shp")
    with pytest.raises(InputError, match="does not exist"):
        barriers_from_layer(tmp_path / "missing.gpkg")
    gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=CRS).to_file(tmp_path / "pts.gpkg")
    with pytest.raises(InputError, match="no polygon or line"):
        barriers_from_layer(tmp_path / "pts.gpkg")


def _strips_across(polys: np.ndarray, cut: np.ndarray, streets: np.ndarray, *, touch_m: float = 1.5):
    """Pieces of the polygons, once the barriers are taken out, farther than ``touch_m`` from every street
    (independent of how the cells are cut: plain shapely on the outputs)."""
    land = shapely.difference(polys, shapely.union_all(cut))
    parts = shapely.get_parts(land)
    parts = parts[shapely.area(parts) > 1.0]
    tree = shapely.STRtree(streets)
    near, _ = tree.query(parts, predicate="dwithin", distance=touch_m)
    lonely = np.setdiff1d(np.arange(len(parts)), near)
    return len(lonely), float(shapely.area(parts[lonely]).sum())


@pytest.mark.slow
@pytest.mark.shared
def test_nanjing_served_areas_cross_no_water():
    path = SHARED / "osm" / "nanjing_xinjiekou.osm.bz2"
    if not path.exists():
        pytest.skip(f"shared OSM extract {path} is absent")
    from lifecircle.geo.network.osm import network_from_osm

    net = prepare_network(network_from_osm(path))
    barriers = barriers_from_osm(path)
    assert len(barriers.areas) >= 1 and len(barriers.lines) >= 3  # the pond and river areas, 珍珠河, 内秦淮河
    rng = np.random.default_rng(11)
    seg = rng.integers(0, len(net.segment_u), 60)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(net.segment_lines[seg], 0.5, normalized=True))
    services = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=net.crs, index=[f"S{i}" for i in range(60)])
    cut = barriers.to_crs(net.crs).land_cut()
    before = isochrones(net, services, minutes=[5, 10], category_column=None)
    after = isochrones(net, services, minutes=[5, 10], category_column=None, barriers=barriers)
    polys = lambda r: np.concatenate([r.per_service.geometry.to_numpy(), r.served_area.geometry.to_numpy()])  # noqa: E731
    n_before, _ = _strips_across(polys(before), cut, net.segment_lines)
    n_after, area_after = _strips_across(polys(after), cut, net.segment_lines)
    assert n_before > 0  # the check can fail: without barriers the rivers are crossed
    assert n_after == 0, area_after


@pytest.mark.slow
@pytest.mark.shared
def test_isochrones_command_reads_osm_barriers_and_a_barrier_layer(tmp_path):
    path = SHARED / "osm" / "nanjing_xinjiekou.osm.bz2"
    if not path.exists():
        pytest.skip(f"shared OSM extract {path} is absent")
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.planning.cli import main

    net = prepare_network(network_from_osm(path))
    water = barriers_from_osm(path).to_crs(net.crs)
    # services on the streets nearest to the rivers (珍珠河, 内秦淮河)
    near = np.argsort(shapely.distance(net.segment_lines, shapely.union_all(water.lines)))[:6]
    xy = shapely.get_coordinates(shapely.line_interpolate_point(net.segment_lines[near], 0.5, normalized=True))
    services = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(len(xy))], "name": "x", "category": "clinic"},
        geometry=shapely.points(xy),
        crs=net.crs,
    ).to_crs("EPSG:4326")
    services.to_file(tmp_path / "services.geojson")
    # an office's own barrier: the walled land beside the first service, 3 m clear of every street
    streets = shapely.union_all(net.segment_lines)
    wall = shapely.difference(shapely.box(*(xy[0] - 80), *(xy[0] + 80)), shapely.buffer(streets, 3.0))
    gpd.GeoDataFrame(geometry=[wall], crs=net.crs).to_file(tmp_path / "wall.gpkg")
    out = tmp_path / "iso"
    args = ["isochrones", "--network", str(path), "--services", str(tmp_path / "services.geojson")]
    assert main([*args, "--minutes", "10", "--barriers", str(tmp_path / "wall.gpkg"), "--out", str(out)]) == 0
    served = gpd.read_file(out / "isochrones.gpkg", layer="served_area").to_crs(net.crs)
    cut = shapely.union_all(water.land_cut())
    for geom in served.geometry:
        assert shapely.intersection(geom, cut).area < 1.0
        assert shapely.intersection(geom, wall).area < 1.0
    n, area = _strips_across(served.geometry.to_numpy(), water.land_cut(), net.segment_lines)
    assert n == 0, area


def test_a_small_pond_inside_a_block_stays_a_hole():
    # a 100 m x 100 m block of streets whose middle holds a 20 m x 20 m pond, far below the 5,000 m² hole threshold
    nodes = {"a": (0, 0), "b": (100, 0), "c": (100, 100), "d": (0, 100)}
    G = graph(nodes, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")])
    pond = shapely.box(40, 40, 60, 60)
    services = services_at((0, -1))
    plain = isochrones(G, services, minutes=[5]).per_service.geometry.iloc[0]
    walled = isochrones(G, services, minutes=[5], barriers=_water(pond)).per_service.geometry.iloc[0]
    assert plain.contains(shapely.Point(50, 50))  # the whole block, pond included
    assert not walled.intersects(shapely.Point(50, 50)) and walled.intersection(pond).area < 1e-6
    assert walled.contains(shapely.Point(30, 50)) and walled.contains(shapely.Point(70, 50))


def test_barriers_for_a_study(tmp_path):
    from lifecircle.geo.network.barriers import barriers_for

    osm = tmp_path / "tiny.osm.bz2"
    osm.write_bytes(bz2.compress(OSM_XML.encode()))
    layer = tmp_path / "wall.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)], crs=CRS).to_file(layer)
    from_osm = barriers_for(osm)
    assert len(from_osm.areas) == 1 and len(from_osm.lines) == 3
    both = barriers_for(osm, layer)
    assert len(both.areas) == 2 and both.crs.to_epsg() == 4326  # the layer joined, in the OSM file's CRS
    assert barriers_for("place:Nanjing") is None and barriers_for(None) is None
    assert len(barriers_for("place:Nanjing", layer).areas) == 1
    graphml = tmp_path / "net.graphml"
    graphml.write_text("<graphml/>")
    assert barriers_for(graphml) is None  # a GraphML network carries no water
