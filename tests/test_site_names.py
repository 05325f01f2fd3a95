"""New sites are named after the streets they stand on: on a hand-made crossing, and on the real Beijing extract."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import osmnx as ox
import pytest
import shapely
from conftest import METRIC_CRS, make_graph, points, squares

from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.walk import Walk
from lifecircle.maps.streets import street_edges
from lifecircle.planning.candidates import street_candidates
from lifecircle.planning.site_names import CORNER_M, ON_STREET_M, street_site_names
from lifecircle.planning.siting.options import SitingOptions
from lifecircle.planning.siting.planner import plan_sites


@pytest.fixture
def crossing():
    """中山路 (west-east) crosses 汉中路 (south-north) at (0, 0); an unnamed lane runs far to the east."""
    nodes = {0: (-600, 0), 1: (0, 0), 2: (600, 0), 3: (0, -600), 4: (0, 600), 5: (2000, 0), 6: (2000, 600)}
    edges = [
        (0, 1, {"name": "中山路"}),
        (1, 2, {"name": "中山路"}),
        (3, 1, {"name": "汉中路"}),
        (1, 4, {"name": "汉中路"}),
        (2, 5, {}),
        (5, 6, {}),
    ]
    return make_graph(nodes, edges)


def test_names_from_the_streets(crossing):
    sites = points(
        [(5, 3), (300, 4), (-300, 2), (450, -3), (2000, 300), (1300, 500)],
        ids=["street1", "street2", "street3", "street4", "street5", "street6"],
    )
    names = street_site_names(sites, street_edges(crossing))
    assert names["street1"] == "中山路与汉中路交叉口附近"
    # the same street thrice: numbered in the candidates' order
    assert [names[s] for s in ("street2", "street3", "street4")] == ["中山路附近 1", "中山路附近 2", "中山路附近 3"]
    assert names["street5"] == "street5"  # an unnamed lane: the numbered name stays
    assert names["street6"] == "street6"  # near no street at all


def test_english_street_names_give_english_words(crossing):
    for _, _, data in crossing.edges(data=True):
        if "name" in data:
            data["name"] = {"中山路": "Zhongshan Road", "汉中路": "Hanzhong Road"}[data["name"]]
    sites = points([(5, 3), (300, 4)], ids=["street1", "street2"])
    names = street_site_names(sites, street_edges(crossing))
    assert list(names) == ["near Zhongshan Road and Hanzhong Road", "near Zhongshan Road"]


def test_planned_street_sites_carry_street_names(crossing):
    # A beside 中山路 and B beside 汉中路, each 530 m from the crossing: with a 560 m limit only the crossing
    # (within 30 m of it) reaches both
    compounds = squares([(500, 30), (30, -500)], ids=["A", "B"], half_m=5, households=[100, 200])
    services = points([(2000, 590)], ids=["s1"], category=["超市"])
    walk = Walk(speed_kmh=4.5, limit_min=560 / 75)
    plan = plan_sites(crossing, compounds, services, options=SitingOptions(add=1, candidate_spacing_m=25), walk=walk)
    assert len(plan.sites) == 1 and plan.summary["compounds"]["newly_covered"] == 2
    assert plan.sites["name"].iloc[0] == "中山路与汉中路交叉口附近"


def test_real_extract_names_check_against_networkx(cau_osm):
    G = ox.project_graph(network_from_osm(cau_osm), to_crs=METRIC_CRS)
    net = prepare_network(G)
    compounds = gpd.GeoDataFrame(
        geometry=[shapely.box(x - 30, y - 30, x + 30, y + 30) for x, y in net.node_xy[:: max(1, net.n_nodes // 40)]],
        crs=METRIC_CRS,
    )
    sites = street_candidates(net, compounds, spacing_m=150, near_m=300)
    names = street_site_names(sites, street_edges(G))
    # independently: every named edge of the graph as a line, straight from networkx
    lines, labels = [], []
    for u, v, d in G.edges(data=True):
        name = d.get("name")
        if isinstance(name, list):
            name = name[0]
        if name:
            geom = d.get("geometry") or shapely.LineString([(G.nodes[u]["x"], G.nodes[u]["y"]),
                                                             (G.nodes[v]["x"], G.nodes[v]["y"])])  # fmt: skip
            lines.append(geom)
            labels.append(str(name).strip())
    lines, labels = np.array(lines), np.array(labels)
    named = names[names != sites["name"]]
    assert len(named) > 0.5 * len(sites)  # most street points in Xueyuan Road's district stand on a named street
    for site_id, text in named.items():
        d = shapely.distance(sites.geometry[site_id], lines)
        street = labels[np.argmin(d)]
        assert text.startswith(street) and d.min() <= ON_STREET_M, (site_id, text, street)
        if "与" in text:
            other = text.removeprefix(street + "与").removesuffix("交叉口附近")
            assert d[labels == other].min() <= CORNER_M
        else:
            assert not (d[labels != street] <= CORNER_M).any()
    unnamed = names[names == sites["name"]].index
    for site_id in unnamed:
        assert shapely.distance(sites.geometry[site_id], lines).min() > ON_STREET_M
