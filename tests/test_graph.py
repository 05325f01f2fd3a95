"""Preparing graphs: projection, parallel edges (minimum, not sum), segments, components."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_graph

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm


def test_parallel_edges_keep_the_minimum():
    G = make_graph({1: (0, 0), 2: (100, 0)}, [(1, 2, {"length": 100.0}), (1, 2, {"length": 60.0})])
    net = prepare_network(G)
    i, j = (np.flatnonzero(net.node_ids == n)[0] for n in (1, 2))
    assert net.cost[i, j] == pytest.approx(60.0)  # nx.to_scipy_sparse_array would give 160
    assert len(net.segment_u) == 1
    assert net.segment_cost_uv[0] == pytest.approx(60.0)


def test_one_way_segment_has_infinite_reverse_cost():
    G = make_graph({1: (0, 0), 2: (100, 0)}, [(1, 2)], both_ways=False)
    net = prepare_network(G)
    assert np.isfinite(net.segment_cost_uv[0]) != np.isfinite(net.segment_cost_vu[0])


def test_projects_wgs84_network_to_utm(walk_rules_osm):
    G = network_from_osm(walk_rules_osm)
    net = prepare_network(G)
    assert net.crs.to_epsg() == 32650
    # segment lines are in metres and agree with great-circle lengths to well under 1 %
    lengths = np.array([net.segment_lines[k].length for k in range(len(net.segment_u))])
    assert np.allclose(lengths, net.segment_cost_uv, rtol=0.01)
    # the island is its own component; the stubs of the clipped way hang on the main one
    assert len(np.unique(net.component)) == 2


def test_input_graph_not_modified(walk_rules_osm):
    G = network_from_osm(walk_rules_osm)
    before = (G.number_of_nodes(), G.number_of_edges(), dict(G.nodes[1]))
    prepare_network(G)
    assert (G.number_of_nodes(), G.number_of_edges(), dict(G.nodes[1])) == before


def test_bad_graphs():
    G = make_graph({1: (0, 0), 2: (1, 0)}, [(1, 2)])
    del G.graph["crs"]
    with pytest.raises(InputError, match="CRS"):
        prepare_network(G)
    with pytest.raises(NetworkError, match="no edges"):
        prepare_network(make_graph({1: (0, 0)}, []))
    G = make_graph({1: (0, 0), 2: (1, 0)}, [(1, 2, {"length": -5.0})])
    with pytest.raises(NetworkError, match="negative"):
        prepare_network(G)
