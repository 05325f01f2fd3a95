"""Local line layers: noding by level (bridges do not meet what they cross), merging with OSM and its report."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.network.lines import merge_networks, network_from_lines
from tests.walking_graphs import CRS, graph_from_polylines


def _node_at(G, x, y):
    found = [n for n, d in G.nodes(data=True) if abs(d["x"] - x) < 1e-6 and abs(d["y"] - y) < 1e-6]
    assert len(found) == 1, f"no single node at ({x}, {y})"
    return found[0]


def _layer(tmp_path, with_level: bool):
    """A street (level 0) crossed by a bridge (level 1) whose ramp ends meet two level-0 paths."""
    rows = {
        "geometry": [
            shapely.LineString([(0, 0), (200, 0)]),  # street
            shapely.LineString([(100, -100), (100, 100)]),  # bridge over the street at (100, 0)
            shapely.LineString([(100, 100), (200, 100)]),  # path meeting the bridge's north end
            shapely.LineString([(200, 0), (200, 100)]),  # path from the street's end to that path: a T-junction
        ],
        "name": ["街道", "天桥", "north path", "east path"],
    }
    if with_level:
        rows["z_level"] = [0, 1, 0, 0]
    path = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame(rows, crs=CRS).to_file(path, layer="roads")
    return path


def test_bridge_does_not_connect_where_it_crosses(tmp_path):
    G = network_from_lines(_layer(tmp_path, with_level=True), layer="roads", level_column="z_level")
    assert not any(abs(d["x"] - 100) < 1e-6 and abs(d["y"]) < 1e-6 for _, d in G.nodes(data=True))
    street_start, bridge_south = _node_at(G, 0, 0), _node_at(G, 100, -100)
    # from the bridge's south end the street is reached only over the bridge and round by the paths
    walk = nx.shortest_path_length(G, bridge_south, street_start, weight="length")
    assert walk == pytest.approx(200 + 100 + 100 + 200)
    assert G.number_of_edges() == 2 * 4  # four pieces, nothing split at the crossing
    names = {d["name"] for _, _, d in G.edges(data=True)}
    assert names == {"街道", "天桥", "north path", "east path"}


def test_without_levels_the_crossing_is_a_junction(tmp_path):
    G = network_from_lines(_layer(tmp_path, with_level=False), layer="roads")
    crossing = _node_at(G, 100, 0)
    assert G.degree(crossing) == 8  # four pieces meet there, each both ways
    walk = nx.shortest_path_length(G, _node_at(G, 100, -100), _node_at(G, 0, 0), weight="length")
    assert walk == pytest.approx(100 + 100)


def test_lines_in_degrees_get_metres(tmp_path):
    # 0.001° of latitude is about 111 m
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(116.3, 40.0), (116.3, 40.001)])], crs="EPSG:4326")
    G = network_from_lines(lines)
    (length,) = {d["length"] for _, _, d in G.edges(data=True)}
    assert length == pytest.approx(111.0, abs=0.5)
    assert G.graph["crs"].is_projected


def test_missing_level_column_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no level column 'deck'"):
        network_from_lines(_layer(tmp_path, with_level=True), layer="roads", level_column="deck")


def test_merge_adds_only_missing_paths_and_reports_them():
    osm = graph_from_polylines([([(0, 0), (300, 0)], {"highway": "residential"})])
    local = network_from_lines(
        gpd.GeoDataFrame(
            geometry=[
                shapely.LineString([(0, 2), (300, 2)]),  # the OSM street, digitised 2 m off: already there
                shapely.LineString([(150, 2), (150, 100)]),  # a footpath OSM lacks, starting on that street
                shapely.LineString([(150, 100), (250, 100)]),  # and its continuation
            ],
            crs=CRS,
        )
    )
    merged, report = merge_networks(osm, local, join_m=20)
    assert report.km("osm") == pytest.approx(0.3)
    assert report.km("local added") == pytest.approx(0.198)
    assert report.table.loc["local already in OSM", "segments"] == 2  # the street, split at the footpath
    assert report.table.loc["local added", "segments"] == 2
    # the footpath's foot joins the street 2 m away (street split there); its dead end at (250, 100) finds nothing
    assert report.table.loc["connections", "segments"] == 1
    assert report.km("connections") == pytest.approx(0.002)
    assert report.table.loc["connections", "nodes"] == 1
    start, end = _node_at(merged, 0, 0), _node_at(merged, 250, 100)
    assert nx.shortest_path_length(merged, start, end, weight="length") == pytest.approx(150 + 2 + 98 + 100)
    assert nx.shortest_path_length(merged, start, _node_at(merged, 300, 0), weight="length") == pytest.approx(300)
