"""Gated compounds: private roads only for their own residents, gates, the open-blocks scenario."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from lifecircle.geo.reach.coverage import coverage
from lifecircle.geo.walkers.gated import gated_coverage, open_blocks_comparison, public_graph
from lifecircle.geo.walkers.gates import gates_from_osm
from tests.walking_graphs import CRS, graph_from_polylines, points

PUBLIC = {"highway": "residential", "private": False}
PRIVATE = {"highway": "service", "access": "private", "private": True}


def _town():
    """Two public streets 400 m apart joined only at x=0 and x=1000; compound A's private road joins them at x=500.

    Compound A (x 400–600, y 0–400) holds the private road; compound B lies north of the north street; the
    service stands 10 m south of the south street at x=500.
    """
    G = graph_from_polylines(
        [
            ([(0, 0), (500, 0), (1000, 0)], PUBLIC),
            ([(0, 400), (500, 400), (1000, 400)], PUBLIC),
            ([(0, 0), (0, 400)], PUBLIC),
            ([(1000, 0), (1000, 400)], PUBLIC),
            ([(500, 0), (500, 200), (500, 400)], PRIVATE),
        ]
    )
    compounds = gpd.GeoDataFrame(
        {"name": ["A", "B"]},
        geometry=[shapely.box(400, 0, 600, 400), shapely.box(450, 420, 550, 500)],
        crs=CRS,
        index=["A", "B"],
    )
    services = points({"s1": (500, -10)}, category=["clinic"])
    return G, compounds, services


def _walk(result, compound_id):
    t = result.table
    return float(t[(t.compound_id == compound_id) & (t.category == "all")]["walk_m"].iloc[0])


def test_private_road_is_no_shortcut_for_other_compounds():
    G, compounds, services = _town()
    result = gated_coverage(G, compounds, services, max_walk_min=10)
    # A walks its own road 200 m south to the street, then 10 m to the service
    assert _walk(result, "A") == pytest.approx(210.0)
    # B (inner point (500, 460): 60 m to the north street) must go round: 500 + 400 + 500 m, then 10 m
    assert _walk(result, "B") == pytest.approx(60 + 1400 + 10)
    covered = result.table.set_index("compound_id").query("category == 'all'")["covered"]
    assert covered["A"] and not covered["B"]  # 10 min at 4.5 km/h is 750 m


def test_open_blocks_makes_the_road_public_and_reports_the_change():
    G, compounds, services = _town()
    comparison = open_blocks_comparison(G, compounds, services, max_walk_min=10)
    assert _walk(comparison.after, "B") == pytest.approx(60 + 400 + 10)
    diff = comparison.diff
    assert diff.loc["B", "delta_min"] == pytest.approx(-1000 / 75.0)
    assert diff.loc["B", "change"] == "gained"
    assert diff.loc["A", "change"] == "same_covered"
    assert comparison.summary["gained"] == 1 and comparison.summary["lost"] == 0


def test_gates_decide_where_residents_leave():
    G, compounds, services = _town()
    gates = points({"g1": (500, 400)}, compound_id=["A"])  # A's only gate opens to the north street
    result = gated_coverage(G, compounds, services, gates=gates, max_walk_min=30)
    # 200 m north inside A to the gate, then round by the public streets
    assert _walk(result, "A") == pytest.approx(200 + 1400 + 10)
    assert _walk(result, "B") == pytest.approx(60 + 1400 + 10)
    # B has no mapped roads: with its only gate on its far side (520, 500), residents walk a straight line from
    # the inner point (500, 460) to it, 100 m back to the street, then east round by x=1000
    gates = points({"g1": (500, 400), "g2": (520, 500)}, compound_id=["A", "B"])
    result = gated_coverage(G, compounds, services, gates=gates, max_walk_min=30)
    assert _walk(result, "B") == pytest.approx(np.hypot(20, 40) + 100 + 480 + 400 + 500 + 10)


def test_without_private_roads_the_core_result_is_unchanged():
    G, compounds, services = _town()
    public = public_graph(G)
    assert not any(d.get("private") for _, _, d in public.edges(data=True))
    core = coverage(public, compounds, services, max_walk_min=30)
    gated = gated_coverage(public, compounds, services, max_walk_min=30)
    np.testing.assert_allclose(gated.table["walk_m"], core.table["walk_m"])


def test_gates_from_osm_keeps_boundary_gates_only(tmp_path):
    # compound square 0.002° wide near lon 116.3, lat 40; one gate on its south edge, one building entrance inside
    osm = tmp_path / "gates.osm"
    osm.write_text(
        """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="40.0000" lon="116.3010" version="1"><tag k="barrier" v="gate"/></node>
  <node id="2" lat="40.0010" lon="116.3010" version="1"><tag k="entrance" v="main"/></node>
  <node id="3" lat="40.0000" lon="116.3015" version="1"><tag k="barrier" v="gate"/><tag k="access" v="no"/></node>
  <node id="4" lat="40.0005" lon="116.3000" version="1"><tag k="barrier" v="bollard"/></node>
</osm>
""",
        encoding="utf-8",
    )
    everything = gates_from_osm(osm)
    assert sorted(everything.index) == ["osm1", "osm2"]
    compounds = gpd.GeoDataFrame(
        {"name": ["小区"]}, geometry=[shapely.box(116.300, 40.000, 116.302, 40.002)], crs="EPSG:4326", index=["c1"]
    )
    on_boundary = gates_from_osm(osm, compounds)
    assert list(on_boundary.index) == ["osm1"]
    assert list(on_boundary["compound_id"]) == ["c1"]
