"""Shortest walks between attached points: known answers on small graphs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from conftest import make_graph

from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.routing.paths import nearest_destination, pairs_within
from lifecircle.geo.routing.snapping import snap_points

# A street 0-1-2-3 along y=0, 100 m per block, plus a spur 1-4 north.
NODES = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (300, 0), 4: (100, 100)}
EDGES = [(0, 1), (1, 2), (2, 3), (1, 4)]


def _att(net, coords):
    return snap_points(net, shapely.points(np.asarray(coords, dtype=float)))


def test_walk_includes_access_and_partial_segments():
    net = prepare_network(make_graph(NODES, EDGES))
    origins = _att(net, [(50, 10)])  # 10 m off the street, half way along 0-1
    dests = _att(net, [(250, -20)])  # 20 m off, half way along 2-3
    walk, near = nearest_destination(net, origins, dests)
    assert walk[0] == pytest.approx(10 + 50 + 100 + 50 + 20)
    assert near[0] == 0


def test_same_segment_walk_is_direct():
    net = prepare_network(make_graph(NODES, EDGES))
    origins = _att(net, [(120, 5)])
    dests = _att(net, [(180, 5)])
    walk, _ = nearest_destination(net, origins, dests)
    assert walk[0] == pytest.approx(5 + 60 + 5)
    o, d, w = pairs_within(net, origins, dests, limit_m=100)
    assert list(o) == [0] and list(d) == [0] and w[0] == pytest.approx(70)


def test_nearest_of_several_and_pairs_within():
    net = prepare_network(make_graph(NODES, EDGES))
    origins = _att(net, [(100, 90), (10, 0)])
    dests = _att(net, [(300, 0), (0, 0), (150, 0)])
    walk, near = nearest_destination(net, origins, dests)
    assert walk.tolist() == pytest.approx([90 + 50, 10])
    assert near.tolist() == [2, 1]
    o, d, w = pairs_within(net, origins, dests, limit_m=150)
    got = {(int(a), int(b)): round(float(c), 6) for a, b, c in zip(o, d, w, strict=True)}
    assert got == {(0, 2): 140.0, (1, 1): 10.0, (1, 2): 140.0}


def test_one_way_footway_is_respected():
    # a directed graph where 1 -> 2 exists only one way, and a long detour 2 -> 5 -> 1
    nodes = {1: (0, 0), 2: (100, 0), 5: (50, 400)}
    G = make_graph(nodes, [(1, 2)], both_ways=False)
    G.add_edge(2, 5, length=450.0)
    G.add_edge(5, 1, length=450.0)
    net = prepare_network(G)
    at_1, at_2 = _att(net, [(0, 0)]), _att(net, [(100, 0)])
    forward, _ = nearest_destination(net, at_1, at_2)
    backward, _ = nearest_destination(net, at_2, at_1)
    assert forward[0] == pytest.approx(100)
    assert backward[0] == pytest.approx(900)


def test_island_and_unattached_points_are_unreachable():
    nodes = {**NODES, 10: (1000, 0), 11: (1100, 0)}
    net = prepare_network(make_graph(nodes, [*EDGES, (10, 11)]))
    origins = _att(net, [(1050, 0), (5000, 5000), (50, 0)])
    dests = _att(net, [(250, 0)])
    walk, near = nearest_destination(net, origins, dests)
    assert np.isinf(walk[0]) and near[0] == -1  # island
    assert np.isinf(walk[1]) and near[1] == -1  # off the network
    assert walk[2] == pytest.approx(200)
    o, _, _ = pairs_within(net, origins, dests, limit_m=10_000)
    assert list(o) == [2]


def test_parallel_edge_minimum_used_in_walks():
    G = make_graph({1: (0, 0), 2: (100, 0), 3: (200, 0)}, [(1, 2, {"length": 500.0}), (1, 2), (2, 3)])
    net = prepare_network(G)
    walk, _ = nearest_destination(net, _att(net, [(0, 0)]), _att(net, [(200, 0)]))
    assert walk[0] == pytest.approx(200)


def test_chunking_does_not_change_pairs():
    rng = np.random.default_rng(7)
    xs = np.arange(0, 1000, 100.0)
    nodes = {i * 10 + j: (x, y) for i, x in enumerate(xs) for j, y in enumerate(xs)}
    edges = [(i * 10 + j, i * 10 + j + 1) for i in range(10) for j in range(9)]
    edges += [(i * 10 + j, (i + 1) * 10 + j) for i in range(9) for j in range(10)]
    net = prepare_network(make_graph(nodes, edges))
    origins = _att(net, rng.uniform(0, 900, size=(40, 2)))
    dests = _att(net, rng.uniform(0, 900, size=(25, 2)))
    a = pairs_within(net, origins, dests, limit_m=400, chunk_size=3)
    b = pairs_within(net, origins, dests, limit_m=400, chunk_size=1000)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y)
    # the nearest destination agrees with the closest pair
    walk, _ = nearest_destination(net, origins, dests)
    o, _, w = a
    for k in range(len(origins)):
        if (o == k).any():
            assert walk[k] == pytest.approx(w[o == k].min())
        else:
            assert walk[k] > 400


@pytest.mark.slow
def test_subgraph_searches_equal_whole_network_searches(cau_osm):
    import dataclasses

    from lifecircle.geo.network.osm import network_from_osm

    net = prepare_network(network_from_osm(cau_osm))
    assert 0.99 < net.min_cost_per_m <= 1.0
    rng = np.random.default_rng(3)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    origins = _att(net, rng.uniform(lo, hi, size=(300, 2)))
    dests = _att(net, rng.uniform(lo, hi, size=(120, 2)))
    fast = pairs_within(net, origins, dests, limit_m=600, chunk_size=16)
    whole = pairs_within(dataclasses.replace(net, min_cost_per_m=0.0), origins, dests, limit_m=600)
    assert len(fast[0]) > 300
    for x, y in zip(fast, whole, strict=True):
        np.testing.assert_allclose(x, y)


def test_many_tiny_free_segments_do_not_escape_the_search_radius():
    # 667 segments of 9 cm that cost nothing (lengths 0 in the data) carry a walker 60 m east for free:
    # the straight-line bound of the bounded search must count them, or the pair 160 m apart is missed
    hops = [1, *range(1000, 1666), 100]
    nodes = {0: (-100.0, 0.0), 1: (0.0, 0.0), 2: (0.0, 100.0)}
    nodes |= {n: (0.09 * i, 0.0) for i, n in enumerate(hops) if i > 0}
    end_x = nodes[100][0]
    nodes |= {101: (end_x, 100.0), 102: (end_x + 100, 0.0)}
    edges = [(0, 1), (1, 2), (100, 101), (100, 102), *((a, b, {"length": 0.0}) for a, b in itertools.pairwise(hops))]
    net = prepare_network(make_graph(nodes, edges))
    dests = _att(net, [(-50, 0)])
    origins = _att(net, [(end_x + 50, 0)])
    walk, _ = nearest_destination(net, origins, dests)
    assert walk[0] == pytest.approx(100, abs=1e-3)
    o, d, w = pairs_within(net, origins, dests, limit_m=105)
    assert list(o) == [0] and list(d) == [0] and w[0] == pytest.approx(100, abs=1e-3)
