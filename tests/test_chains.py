"""The contracted junction graph: walks between attached points equal walks on the whole graph (networkx)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import make_graph

from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.routing.paths import nearest_destination, pairs_within
from lifecircle.geo.routing.snapping import snap_points


def _reference_graph(net, origins, destinations) -> nx.DiGraph:
    """A directed networkx graph of every segment, split where points join it (independent of the chains)."""
    H = nx.DiGraph()
    joined: dict[int, list[tuple[float, str]]] = {}
    for kind, att in (("o", origins), ("d", destinations)):
        for k in np.flatnonzero(att.snapped):
            name = f"{kind}{k}"
            joined.setdefault(int(att.segment[k]), []).append((float(att.fraction[k]), f"{name}@"))
            if kind == "o":
                H.add_edge(name, f"{name}@", w=float(att.access_m[k]))
            else:
                H.add_edge(f"{name}@", name, w=float(att.access_m[k]))
    for s in range(len(net.segment_u)):
        u, v = int(net.segment_u[s]), int(net.segment_v[s])
        cuv, cvu = net.segment_cost_uv[s], net.segment_cost_vu[s]
        stops = [(0.0, u), *sorted(joined.get(s, [])), (1.0, v)]
        for (f1, a), (f2, b) in itertools.pairwise(stops):
            if f2 == f1:  # two stops at one place: no distance between them, whatever the direction
                H.add_edge(a, b, w=0.0)
                H.add_edge(b, a, w=0.0)
                continue
            if np.isfinite(cuv):
                H.add_edge(a, b, w=(f2 - f1) * cuv)
            if np.isfinite(cvu):
                H.add_edge(b, a, w=(f2 - f1) * cvu)
    return H


def _check_against_networkx(net, origins, destinations, limit_m):
    H = _reference_graph(net, origins, destinations)
    R = H.reverse(copy=False)
    targets = [f"d{k}" for k in np.flatnonzero(destinations.snapped)]
    nearest = nx.multi_source_dijkstra_path_length(R, targets, weight="w")
    walk, near = nearest_destination(net, origins, destinations)
    for k in range(len(origins)):
        expected = nearest.get(f"o{k}", np.inf)
        assert walk[k] == pytest.approx(expected, abs=1e-6), k
        if np.isfinite(expected):  # the named destination is one at that walk
            d = near[k]
            assert nx.dijkstra_path_length(H, f"o{k}", f"d{d}", weight="w") == pytest.approx(expected, abs=1e-6)
    expected_pairs = {}
    for target in targets:
        for node, w in nx.single_source_dijkstra_path_length(R, target, cutoff=limit_m, weight="w").items():
            if isinstance(node, str) and node.startswith("o") and not node.endswith("@"):
                expected_pairs[(int(node[1:]), int(target[1:]))] = w
    o, d, w = pairs_within(net, origins, destinations, limit_m=limit_m, chunk_size=7)
    got = {(int(a), int(b)): x for a, b, x in zip(o, d, w, strict=True)}
    assert got.keys() == expected_pairs.keys()
    for key, x in got.items():
        assert x == pytest.approx(expected_pairs[key], abs=1e-6)
    return len(got)


def test_real_network_walks_equal_networkx(cau_osm):
    net = prepare_network(network_from_osm(cau_osm))
    assert net.chains.n_junctions < net.n_nodes / 2  # the contraction does contract
    rng = np.random.default_rng(5)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    # many points on one chain: the same street walked straight along, both ways
    long_chain = np.argmax(np.bincount(net.chains.segment_chain))
    on_chain = np.flatnonzero(net.chains.segment_chain == long_chain)
    assert len(on_chain) >= 5
    mid = shapely.line_interpolate_point(net.segment_lines[on_chain], 0.3, normalized=True)
    origins = snap_points(net, np.concatenate([shapely.points(rng.uniform(lo, hi, size=(400, 2))), mid[::2]]))
    destinations = snap_points(net, np.concatenate([shapely.points(rng.uniform(lo, hi, size=(150, 2))), mid[1::2]]))
    assert _check_against_networkx(net, origins, destinations, limit_m=500) > 400


def test_real_network_with_uneven_costs_by_direction_equals_networkx(cau_osm):
    # as on a hillside: every street costs a different amount each way (1 to 1.6 times its length)
    G = network_from_osm(cau_osm)
    rng = np.random.default_rng(21)
    for _, _, data in G.edges(data=True):
        data["length"] *= rng.uniform(1.0, 1.6)
    net = prepare_network(G)
    assert (net.segment_cost_uv != net.segment_cost_vu).mean() > 0.9
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    origins = snap_points(net, shapely.points(rng.uniform(lo, hi, size=(300, 2))))
    destinations = snap_points(net, shapely.points(rng.uniform(lo, hi, size=(100, 2))))
    assert _check_against_networkx(net, origins, destinations, limit_m=600) > 200


def _odd_network():
    """Chains with one-way links, a loop on a junction, an isolated ring, uneven costs by direction."""
    nodes = {
        # a street 0-1-2-3-4 (inner nodes 1, 2, 3) with a one-way link 4 -> 5 and a two-way 5-6-0 back
        0: (0, 0),
        1: (100, 0),
        2: (200, 0),
        3: (300, 0),
        4: (400, 0),
        5: (400, 100),
        6: (200, 150),
        # a loop 4-7-8-4 hanging on junction 4
        7: (500, 50),
        8: (500, -50),
        # an island ring 10-11-12-13 with no junction at all
        10: (1000, 0),
        11: (1100, 0),
        12: (1100, 100),
        13: (1000, 100),
    }
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (5, 6), (6, 0), (4, 7), (7, 8), (8, 4)]
    edges += [(10, 11), (11, 12), (12, 13), (13, 10)]
    G = make_graph(nodes, edges)
    G.add_edge(4, 5, length=100.0)  # one way only
    # uphill costs more: 1 -> 2 costs 150, 2 -> 1 costs 100
    G[1][2][0]["length"] = 150.0
    return prepare_network(G)


def test_one_way_loops_and_islands_equal_networkx():
    net = _odd_network()
    chains = net.chains
    assert chains.n_junctions < net.n_nodes
    rng = np.random.default_rng(9)
    origins = snap_points(net, shapely.points(rng.uniform([-20, -60], [1120, 160], size=(120, 2))), max_snap_m=60)
    destinations = snap_points(net, shapely.points(rng.uniform([-20, -60], [1120, 160], size=(40, 2))), max_snap_m=60)
    assert origins.snapped.sum() > 60
    _check_against_networkx(net, origins, destinations, limit_m=700)


@pytest.mark.parametrize(("a", "b", "expected"), [((150, 0), (250, 0), 75 + 50), ((250, 0), (150, 0), 50 + 50)])
def test_walks_along_one_chain_use_the_cost_of_each_direction(a, b, expected):
    net = _odd_network()
    walk, _ = nearest_destination(net, snap_points(net, [shapely.Point(a)]), snap_points(net, [shapely.Point(b)]))
    assert walk[0] == pytest.approx(expected)


def test_chains_are_ordered_paths_between_junctions(cau_osm):
    for net in (_odd_network(), prepare_network(network_from_osm(cau_osm))):
        ch = net.chains
        u_first = ch.segment_u_first
        a_side = np.where(u_first, net.segment_u, net.segment_v)
        b_side = np.where(u_first, net.segment_v, net.segment_u)
        order = np.lexsort((ch.segment_rank, ch.segment_chain))
        chain, rank = ch.segment_chain[order], ch.segment_rank[order]
        step = chain[1:] == chain[:-1]
        # consecutive segments of a chain meet, ranks count up from 0, and the ends are the chain's junctions
        assert (b_side[order][:-1][step] == a_side[order][1:][step]).all()
        assert (rank[1:][step] == rank[:-1][step] + 1).all() and (rank[~np.r_[False, step]] == 0).all()
        firsts, lasts = order[~np.r_[False, step]], order[~np.r_[step, False]]
        assert (ch.junction_node[ch.chain_a[chain[~np.r_[False, step]]]] == a_side[firsts]).all()
        assert (ch.junction_node[ch.chain_b[chain[~np.r_[step, False]]]] == b_side[lasts]).all()
        # every node inside a chain has exactly two streets; every segment is in one chain
        inner = np.setdiff1d(np.concatenate([a_side, b_side]), ch.junction_node)
        degree = np.bincount(np.concatenate([net.segment_u, net.segment_v]), minlength=net.n_nodes)
        assert (degree[inner] == 2).all() and (ch.segment_chain >= 0).all()
    ring = _odd_network().chains  # the island ring got one junction: a loop chain from it back to it
    loops = np.flatnonzero(ring.chain_a == ring.chain_b)
    assert len(loops) == 2
