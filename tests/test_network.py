"""Walking networks from OSM files: osmnx walk rules, clipped extracts, bad files."""

from __future__ import annotations

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from conftest import INPUT_DATA, shared_file

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.network.osm import (
    WALK_TAGS,
    great_circle_m,
    load_network,
    network_from_graphml,
    network_from_osm,
    walkable_graph,
)
from lifecircle.geo.network.walkfilter import is_walkable


def _edge_pairs(G: nx.MultiDiGraph) -> set[tuple[int, int]]:
    return {(u, v) for u, v in G.edges()}


def test_walk_rules(walk_rules_osm):
    G = network_from_osm(walk_rules_osm)
    pairs = _edge_pairs(G)
    ways = {d["osmid"] for _, _, d in G.edges(data=True)}
    assert (1, 4) not in pairs and (4, 1) not in pairs, "motorway must not be walkable"
    assert 102 not in ways, "foot=no must not be walkable"
    assert 103 not in ways, "access=private is left out by default"
    assert 107 not in ways and 108 not in ways, "cycleway and construction are not walkable"
    assert 109 not in ways, "streets with separately mapped sidewalks are left out (osmnx)"
    # one-way street: walkable both ways
    assert (1, 7) in pairs and (7, 1) in pairs and (8, 4) in pairs and (4, 8) in pairs
    # every edge has its reverse
    assert all((v, u) in pairs for u, v in pairs)


def test_private_roads_kept_on_request(walk_rules_osm):
    G = network_from_osm(walk_rules_osm, include_private=True)
    private = {(u, v) for u, v, d in G.edges(data=True) if d.get("private")}
    assert (1, 6) in private and (6, 4) in private
    public = [d for _, _, d in G.edges(data=True) if d["osmid"] == 100]
    assert public and not any(d["private"] for d in public)


def test_clipped_way_is_split_at_missing_node(walk_rules_osm):
    G = network_from_osm(walk_rules_osm)
    pairs = _edge_pairs(G)
    assert (2, 30) in pairs  # the piece before the gap
    assert (31, 3) in pairs  # the piece after the gap
    assert 999 not in G
    assert (30, 31) not in pairs  # nothing bridges the gap


def test_lengths_are_great_circle_metres(walk_rules_osm):
    G = network_from_osm(walk_rules_osm)
    length = min(d["length"] for d in G.get_edge_data(1, 2).values())
    # 0.002 degrees of latitude
    assert length == pytest.approx(0.002 * np.pi / 180 * 6_371_009, rel=1e-9)
    assert ox.distance.great_circle(39.9, 116.3, 39.902, 116.3) == pytest.approx(length, rel=1e-9)


@pytest.mark.slow
def test_lengths_match_osmnx_on_real_extract(cau_osm):
    G = network_from_osm(cau_osm)
    ref = ox.graph_from_xml(cau_osm, simplify=False, retain_all=True)
    checked = 0
    for u, v, d in G.edges(data=True):
        if ref.has_edge(u, v):
            ours = d["length"]
            theirs = min(e["length"] for e in ref.get_edge_data(u, v).values())
            assert ours == pytest.approx(theirs, abs=0.01)
            checked += 1
    assert checked > G.number_of_edges() / 2  # osmnx adds no reverse edge to one-way streets


def test_walk_filter_is_osmnx_regex_semantics():
    assert is_walkable({"highway": "footway"})
    assert not is_walkable({"highway": "motorway_link"})  # "motor" matches anywhere, as in Overpass
    assert not is_walkable({"highway": "residential", "foot": "no"})
    assert not is_walkable({"highway": "residential", "area": "yes"})
    assert not is_walkable({"highway": "service", "service": "private"})
    assert is_walkable({"highway": "service", "service": "private"}, include_private=True)
    assert not is_walkable({"building": "yes"})


def test_great_circle_vectorised():
    d = great_circle_m(np.array([0.0, 39.9]), np.array([0.0, 116.3]), np.array([0.0, 39.9]), np.array([1.0, 116.3]))
    assert d[0] == pytest.approx(111_195, rel=1e-3) and d[1] == 0


def test_graphml_round_trip(tmp_path, walk_rules_osm):
    G = network_from_osm(walk_rules_osm)
    path = tmp_path / "walk.graphml"
    ox.save_graphml(G, path)
    H = network_from_graphml(path)
    assert H.number_of_edges() == G.number_of_edges()
    assert load_network(path).number_of_nodes() == G.number_of_nodes()


@pytest.mark.slow
def test_graphml_of_every_osm_way_gets_the_walk_filter(tmp_path, cau_osm, monkeypatch):
    # osmnx's graph_from_xml keeps every way (buildings, landuse, motorways) and one-way streets one way only
    monkeypatch.setattr(ox.settings, "useful_tags_way", [*ox.settings.useful_tags_way, *WALK_TAGS])
    everything = ox.graph_from_xml(cau_osm, simplify=False, retain_all=True)
    path = tmp_path / "all_ways.graphml"
    ox.save_graphml(everything, path)
    H = network_from_graphml(path)
    G = network_from_osm(cau_osm)
    assert everything.number_of_edges() > 2 * G.number_of_edges()
    assert _edge_pairs(H) == _edge_pairs(G)
    assert H.number_of_edges() == G.number_of_edges()


@pytest.mark.slow
@pytest.mark.shared
def test_graphml_without_foot_and_sidewalk_tags_is_refused(tmp_path, monkeypatch):
    """osmnx drops foot and sidewalk unless told: 151 ways of central Shanghai (重庆南路...) would be walked."""
    shanghai = shared_file("osm/shanghai_center_roads_only.osm.bz2")
    reference = _edge_pairs(network_from_osm(shanghai))
    default = ox.graph_from_xml(shanghai, simplify=False, retain_all=True)
    wrong = _edge_pairs(walkable_graph(default)) - reference
    assert len({d["osmid"] for u, v, d in default.edges(data=True) if (u, v) in wrong}) == 151
    ox.save_graphml(default, tmp_path / "default.graphml")
    with pytest.raises(InputError, match="no foot or sidewalk tags") as err:
        load_network(tmp_path / "default.graphml")
    assert "useful_tags_way" in str(err.value) and "OSM extract" in str(err.value) and "\n" not in str(err.value)

    monkeypatch.setattr(ox.settings, "useful_tags_way", [*ox.settings.useful_tags_way, *WALK_TAGS])
    kept = ox.graph_from_xml(shanghai, simplify=False, retain_all=True)  # saved and loaded: see the CAU test
    assert _edge_pairs(walkable_graph(kept)) == reference


def test_graphml_without_walkable_way_or_without_tags(tmp_path):
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for node, x in ((1, 116.30), (2, 116.31), (3, 116.32)):
        G.add_node(node, x=x, y=39.9)
    G.add_edge(1, 2, highway="motorway", length=850.0, oneway=True)
    G.add_edge(2, 3, building="yes", length=850.0)  # an outline, no highway tag
    path = tmp_path / "no_walk.graphml"
    ox.save_graphml(G, path)
    with pytest.raises(NetworkError, match=r"no_walk\.graphml holds no walkable way"):
        load_network(path)
    # a user's own network without OSM tags is taken whole
    own = nx.MultiDiGraph(crs="EPSG:4326")
    own.add_nodes_from(G.nodes(data=True))
    own.add_edge(1, 2, length=850.0)
    ox.save_graphml(own, tmp_path / "own.graphml")
    assert network_from_graphml(tmp_path / "own.graphml").number_of_edges() == 1


def test_bad_network_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_network(tmp_path / "missing.osm.pbf")
    with pytest.raises(InputError, match="could not be read as OSM"):
        network_from_osm(INPUT_DATA / "not_osm.osm")
    with pytest.raises(NetworkError, match="no walkable way"):
        network_from_osm(INPUT_DATA / "no_walkable.osm")
    with pytest.raises(InputError, match="unknown format"):
        other = tmp_path / "roads.txt"
        other.write_text("x")
        load_network(other)
    for text in ("bbox:1,2,3", "bbox:nan,nan,nan,nan", "bbox:116.36,40.01,116.34,39.99"):  # never downloaded
        with pytest.raises(InputError, match="west below east and south below north"):
            load_network(text)


def test_bbox_clip(walk_rules_osm):
    G = network_from_osm(walk_rules_osm, bbox=(116.299, 39.897, 116.305, 39.903))
    assert 20 not in G and 21 not in G
    with pytest.raises(NetworkError, match="bounding box"):
        network_from_osm(walk_rules_osm, bbox=(0, 0, 1, 1))
