"""Coverage: known answers on hand-built networks, and real OSM data checked against networkx."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from conftest import make_graph, points, shared_file, squares

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.reach.coverage import TABLE_COLUMNS, compound_origins, coverage

NODES = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (300, 0), 4: (100, 100), 10: (2000, 0), 11: (2100, 0)}
EDGES = [(0, 1), (1, 2), (2, 3), (1, 4), (10, 11)]


@pytest.fixture
def small():
    G = make_graph(NODES, EDGES)
    compounds = squares(
        [(50, 30), (300, 40), (2050, 30), (5000, 5000)], ids=["near", "far_end", "island", "off"], half_m=5
    )
    services = points(
        [(0, 10), (250, 10), (100, 120)],
        ids=["s_shop", "s_clinic", "s_shop2"],
        category=["shop", "clinic", "shop"],
    )
    return G, compounds, services


def _row(table, compound, category):
    return table[(table.compound_id == compound) & (table.category == category)].iloc[0]


def test_known_answers(small):
    G, compounds, services = small
    # 4.5 km/h -> 75 m/min; 2 minutes = 150 m
    result = coverage(G, compounds, services, max_walk_min=2)
    t = result.table
    assert list(t.columns) == TABLE_COLUMNS
    assert len(t) == 4 * 3 and result.categories == ["all", "clinic", "shop"]
    near = _row(t, "near", "shop")  # 25 m access (representative point of the square is at its centre row)
    access = compounds.loc["near"].geometry.representative_point().y
    assert near.walk_m == pytest.approx(access + 50 + 10)
    assert near.nearest_service_id == "s_shop" and near.covered and near.services_within == 1
    assert _row(t, "near", "all").services_within == 1
    clinic = _row(t, "near", "clinic")
    assert clinic.walk_m == pytest.approx(access + 200 + 10) and not clinic.covered
    assert clinic.walk_min == pytest.approx(clinic.walk_m / 75)
    far = _row(t, "far_end", "clinic")
    assert far.walk_m == pytest.approx(compounds.loc["far_end"].geometry.representative_point().y + 50 + 10)
    island = _row(t, "island", "all")
    assert island.reach == "no_service_connected" and np.isnan(island.walk_m) and not island.covered
    assert pd.isna(island.nearest_service_id)
    off = _row(t, "off", "all")
    assert off.reach == "off_network" and not off.covered
    assert list(result.compounds_off_network) == ["off"]


def test_two_gates_walk_from_the_better_one(small):
    G, compounds, services = small
    gates = points([(0, 30), (300, 30)], ids=["g1", "g2"], compound_id=["far_end", "far_end"])
    result = coverage(G, compounds, services, max_walk_min=10, gates=gates)
    row = _row(result.table, "far_end", "shop")
    assert row.walk_m == pytest.approx(30 + 10)  # through gate g1 to s_shop, not from the far end
    assert result.params["origin"] == "gates"
    # gates without compound ids are given to the nearest compound within 50 m
    unnamed = points([(0, 30)], ids=["g1"])
    unnamed_result = coverage(
        G, compounds.loc[["far_end"]].assign(geometry=shapely.box(-5, 25, 5, 35)), services, gates=unnamed
    )
    assert _row(unnamed_result.table, "far_end", "shop").walk_m == pytest.approx(30 + 10)


def test_gates_with_integer_ids_or_repeated_labels(small):
    G, compounds, services = small
    expected = coverage(G, compounds, services, gates=points([(0, 30)], ids=["g1"], compound_id=["far_end"])).table
    numbered = compounds.set_axis([100, 101, 102, 103])  # integer ids in the API, as from a database
    by_number = coverage(G, numbered, services, gates=points([(0, 30)], ids=["g1"], compound_id=[101])).table
    assert by_number.loc[by_number.compound_id == 101, "walk_m"].tolist() == pytest.approx(
        expected.loc[expected.compound_id == "far_end", "walk_m"].tolist()
    )
    # two gate layers concatenated: labels repeat, every gate still counts
    one = points([(0, 30)], ids=["g"])
    two = points([(300, 30)], ids=["g"])
    box = compounds.loc[["far_end"]].assign(geometry=shapely.box(-5, 25, 305, 35))
    both = coverage(G, box, services, gates=pd.concat([two, one]))
    assert _row(both.table, "far_end", "shop").walk_m == pytest.approx(30 + 10)  # through the gate at x=0
    assert len(compound_origins(prepare_network(G), box, gates=pd.concat([two, one])).points) == 2


def test_unknown_gate_compound(small):
    G, compounds, services = small
    gates = points([(0, 30)], ids=["g1"], compound_id=["nobody"])
    with pytest.raises(InputError, match="nobody"):
        coverage(G, compounds, services, gates=gates)


def test_services_off_network_serve_nobody(small):
    G, compounds, services = small
    extra = pd.concat([services, points([(9000, 9000)], ids=["s_lost"], category=["shop"])])
    result = coverage(G, compounds, extra, max_walk_min=10)
    assert list(result.services_off_network) == ["s_lost"]
    assert "s_lost" not in set(result.table.nearest_service_id.dropna())


def test_study_area_not_covered(small):
    G, _, _ = small
    compounds = squares([(90000, 90000)], ids=["a"])
    services = points([(90000, 90100)], ids=["s"], category=["x"])
    with pytest.raises(NetworkError, match="does not cover the study area"):
        coverage(G, compounds, services)


def test_no_compound_on_the_network(small):
    G, _, services = small
    compounds = squares([(90000, 90000)], ids=["a"])  # e.g. compounds given in the wrong coordinate system
    with pytest.raises(NetworkError, match="None of the 1 compounds lies within 300 m"):
        coverage(G, compounds, services)
    with pytest.raises(NetworkError, match="a snap limit of 0 m is too small"):
        coverage(G, compounds, services.assign(geometry=services.translate(0, 1)), max_snap_m=0)


def test_inputs_not_modified(small):
    G, compounds, services = small
    c0, s0 = compounds.copy(), services.copy()
    coverage(G, compounds, services)
    pd.testing.assert_frame_equal(compounds, c0)
    pd.testing.assert_frame_equal(services, s0)


def test_bad_parameters(small):
    G, compounds, services = small
    with pytest.raises(InputError, match="speed"):
        coverage(G, compounds, services, speed_kmh=0)
    for bad_min in (-1, 0, float("nan"), float("inf")):
        with pytest.raises(InputError, match="threshold"):
            coverage(G, compounds, services, max_walk_min=bad_min)
    with pytest.raises(InputError, match="speed"):
        coverage(G, compounds, services, speed_kmh=float("inf"))
    for bad_snap in (-1, float("nan"), float("inf")):  # inf would attach points from any distance
        with pytest.raises(InputError, match="snap limit"):
            coverage(G, compounds, services, max_snap_m=bad_snap)


# ---------------------------------------------------------------- real OSM data against networkx


def _real_layers(osm_path):
    features = ox.features_from_xml(osm_path, tags={"landuse": "residential", "amenity": True, "shop": True})
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    compounds = features[polygonal & (features.get("landuse") == "residential")][["geometry"]].copy()
    compounds.index = pd.Index([f"c{i}" for i in range(len(compounds))], name="compound_id")
    compounds["name"] = compounds.index
    services = features[features.geom_type == "Point"].copy()
    services["category"] = np.where(services["amenity"].notna(), "amenity", "shop")
    services = services[["category", "geometry"]]
    services.index = pd.Index([f"s{i}" for i in range(len(services))], name="service_id")
    services["name"] = services.index
    return compounds, services


def _seeded_layers(G, *, seed=0, n_compounds=40, n_services=80):
    """Compounds and services scattered around a network's nodes, for extracts without usable features."""
    rng = np.random.default_rng(seed)
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    at = xy[rng.integers(len(xy), size=n_compounds + n_services)] + rng.normal(0, 0.0015, (n_compounds + n_services, 2))
    ids = pd.Index([f"c{i}" for i in range(n_compounds)], name="compound_id")
    boxes = shapely.box(*(at[:n_compounds] - 0.0002).T, *(at[:n_compounds] + 0.0002).T)
    compounds = gpd.GeoDataFrame({"name": ids}, geometry=boxes, index=ids, crs=4326)
    sids = pd.Index([f"s{i}" for i in range(n_services)], name="service_id")
    services = gpd.GeoDataFrame(
        {"name": sids, "category": rng.choice(["amenity", "shop"], n_services)},
        geometry=shapely.points(at[n_compounds:]),
        index=sids,
        crs=4326,
    )
    return compounds, services


def _networkx_reference(G, crs, origin_pts, service_pts, limit_m):
    """Insert every point into an undirected networkx graph at its nearest segment, then run Dijkstra."""
    P = ox.project_graph(G, to_crs=crs)
    H = nx.Graph()
    for u, v, d in P.edges(data=True):
        if u == v:
            continue
        if not H.has_edge(u, v) or H[u][v]["w"] > d["length"]:
            H.add_edge(u, v, w=d["length"])
    edges = list(H.edges())
    xy = {n: (P.nodes[n]["x"], P.nodes[n]["y"]) for n in H.nodes}
    lines = shapely.linestrings([[xy[u], xy[v]] for u, v in edges])
    inserted = {}  # edge index -> list of (fraction, node name, access)
    names = []
    for kind, pts in (("o", origin_pts), ("s", service_pts)):
        for k, p in enumerate(pts):
            dist = shapely.distance(lines, p)
            e = int(np.argmin(dist))
            frac = shapely.line_locate_point(lines[e], p) / lines[e].length
            inserted.setdefault(e, []).append((frac, f"{kind}{k}", float(dist[e])))
            names.append(f"{kind}{k}")
    for e, items in inserted.items():
        u, v = edges[e]
        w = H[u][v]["w"]
        H.remove_edge(u, v)
        chain = [(0.0, u), *sorted((f, f"{n}@") for f, n, _ in items), (1.0, v)]
        for (f1, a), (f2, b) in itertools.pairwise(chain):
            if not H.has_edge(a, b):
                H.add_edge(a, b, w=max((f2 - f1) * w, 0.0))
        for _, n, access in items:
            H.add_edge(n, f"{n}@", w=access)
    services = [f"s{k}" for k in range(len(service_pts))]
    nearest = nx.multi_source_dijkstra_path_length(H, services, weight="w")
    within = {}
    for s in services:
        for node in nx.single_source_dijkstra_path_length(H, s, cutoff=limit_m, weight="w"):
            if isinstance(node, str) and node.startswith("o") and not node.endswith("@"):
                within.setdefault(node, set()).add(s)
    return nearest, within


@pytest.mark.parametrize(
    "extract",
    [
        "osm/beijing_haidian_cau_xueyuanlu.osm.bz2",
        "osm/beijing_haidian_wudaokou_tsinghua.osm.bz2",  # has ways with repeated nodes: zero-length pieces
        "osm/nanjing_xinjiekou.osm.bz2",
        "osm/hsinchu_nctu_taiwan.osm.pbf",  # PBF, read by pyosmium
        "osm/guixi_jiangxi_roads.osm.bz2",  # a small city: roads only, few compounds
    ],
)
@pytest.mark.slow
def test_real_osm_matches_networkx(extract):
    osm_path = shared_file(extract)
    G = network_from_osm(osm_path)
    # osmnx reads no PBF, and a small city's extract holds few compounds: scatter them around its streets
    seeded = osm_path.suffix == ".pbf" or "roads" in osm_path.name
    compounds, services = _seeded_layers(G) if seeded else _real_layers(osm_path)
    assert len(compounds) >= 5 and len(services) >= 50
    result = coverage(G, compounds, services, max_walk_min=5, max_snap_m=10_000)
    crs = result.params["crs"]
    origin_pts = compounds.representative_point().to_crs(crs).to_numpy()  # a point inside, then projected
    service_pts = services.to_crs(crs).geometry.to_numpy()
    nearest, within = _networkx_reference(G, crs, origin_pts, service_pts, result.params["max_walk_m"])
    table = result.table[result.table.category == "all"].set_index("compound_id")
    for k, cid in enumerate(compounds.index):
        expected = nearest.get(f"o{k}", np.inf)
        got = table.loc[cid, "walk_m"]
        if np.isinf(expected):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=0.01)
        assert table.loc[cid, "services_within"] == len(within.get(f"o{k}", ()))
    assert (table["services_within"] > 0).sum() >= 3  # the comparison is not vacuous


@pytest.mark.slow
def test_real_osm_categories_are_consistent(cau_osm):
    G = network_from_osm(cau_osm)
    compounds, services = _real_layers(cau_osm)
    t = coverage(G, compounds, services, max_walk_min=5).table
    wide = t.pivot(index="compound_id", columns="category", values="walk_m")
    # the nearest of any category is the minimum over categories
    np.testing.assert_allclose(wide["all"], wide[["amenity", "shop"]].min(axis=1))
    counts = t.pivot(index="compound_id", columns="category", values="services_within")
    assert (counts["all"] == counts["amenity"] + counts["shop"]).all()


@pytest.mark.slow
def test_geographic_input_is_projected(cau_osm):
    G = network_from_osm(cau_osm)
    compounds, services = _real_layers(cau_osm)
    a = coverage(G, compounds, services).table
    b = coverage(G, compounds.to_crs(3857), services.to_crs(4490)).table
    np.testing.assert_allclose(a["walk_m"], b["walk_m"], atol=0.05)
    assert gpd.GeoDataFrame(compounds).crs.to_epsg() == 4326


@pytest.mark.slow
def test_walk_rules_shape_coverage(walk_rules_osm):
    """Motorway, foot=no and private shortcuts are not walked; the one-way street is walked against its direction."""
    from lifecircle.geo.network.osm import great_circle_m

    G = network_from_osm(walk_rules_osm)
    # compound just west of node 1, service just east of node 4 (both ~10 m off the street ends)
    compounds = gpd.GeoDataFrame(
        {"name": ["west"]}, geometry=[shapely.Point(116.29988, 39.9).buffer(0.00002)], index=["west"], crs=4326
    )
    services = gpd.GeoDataFrame(
        {"name": ["east"], "category": ["x"]}, geometry=[shapely.Point(116.30412, 39.9)], index=["east"], crs=4326
    )
    walk = coverage(G, compounds, services, max_walk_min=30).table.iloc[0].walk_m
    lat = np.array([39.9, 39.902, 39.902, 39.9])
    lon = np.array([116.3, 116.3, 116.304, 116.304])
    detour = great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum()  # 1-2-3-4, same length as 1-7-8-4
    straight = great_circle_m(39.9, 116.3, 39.9, 116.304)
    access = great_circle_m(39.9, 116.29988, 39.9, 116.3) + great_circle_m(39.9, 116.304, 39.9, 116.30412)
    assert walk == pytest.approx(detour + access, abs=1.0)
    assert walk > straight + 300  # the motorway and foot=no shortcuts were not taken

    with_private = coverage(network_from_osm(walk_rules_osm, include_private=True), compounds, services).table
    via_6 = great_circle_m(39.9, 116.3, 39.899, 116.302) * 2
    assert with_private.iloc[0].walk_m == pytest.approx(via_6 + access, abs=1.0)

    # the one-way street is walkable against its direction: remove the north loop and walk 4 -> 8 -> 7 -> 1
    G_oneway = G.copy()
    G_oneway.remove_edges_from([(u, v) for u, v, d in G.edges(data=True) if d["osmid"] == 100])
    back = (
        coverage(
            G_oneway,
            services.assign(geometry=shapely.buffer(services.geometry.to_numpy(), 0.00002)),
            compounds.assign(geometry=compounds.representative_point(), category="x"),
        )
        .table.iloc[0]
        .walk_m
    )
    assert back == pytest.approx(detour + access, abs=1.0)


def test_no_service_on_the_network(small):
    G, compounds, _ = small
    far = points([(90000, 90000), (90100, 90000)], ids=["s1", "s2"], category=["x", "y"])
    with pytest.raises(NetworkError, match="None of the 2 services"):
        coverage(G, compounds, far)
