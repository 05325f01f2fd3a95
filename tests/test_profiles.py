"""Walker profiles: own speeds and step rules in one study, shared searches, population-weighted results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecircle.errors import InputError
from lifecircle.geo.reach.coverage import coverage
from lifecircle.geo.walkers.profiles import (
    WalkerProfile,
    coverage_by_profile,
    get_profiles,
    prepare_profiles,
    profile_graph,
)
from tests.walking_graphs import graph_from_polylines, points, squares

WAY = {"highway": "footway"}
STAIR_WARY = WalkerProfile("elderly", 3.0, steps_factor=2.0, population_column="pop_60plus")
STEPS = {"highway": "steps"}


def _hillside():
    """A lower street, stairs up to an upper street, a long ramp round to it, and stairs on to a terrace.

    From the compound (10 m below (0, 0)): lower street to (100, 0), stairs 40 m up to (100, 40), the upper
    street east to (160, 40), stairs 40 m on to the terrace (160, 80)–(220, 80). The ramp leaves the lower street
    at (100, 0) and reaches the upper street at (160, 40) after 300 + 40 + 240 = 580 m.
    The clinic stands 5 m north of the upper street at x=130; the shop 5 m east of the terrace's end.
    """
    G = graph_from_polylines(
        [
            ([(0, 0), (100, 0)], WAY),
            ([(100, 0), (100, 40)], STEPS),
            ([(100, 40), (160, 40)], WAY),
            ([(160, 40), (160, 80)], STEPS),
            ([(160, 80), (220, 80)], WAY),
            ([(100, 0), (400, 0), (400, 40), (160, 40)], WAY),
        ]
    )
    compounds = squares({"home": (0, -10)}, 3)
    compounds["population"] = [1000]
    compounds["pop_60plus"] = [300]
    services = points({"clinic": (130, 45), "shop": (225, 80)}, category=["clinic", "shop"])
    return G, compounds, services


def _walk(result, category):
    t = result.table
    return float(t[(t.compound_id == "home") & (t.category == category)]["walk_m"].iloc[0])


def test_stair_only_route_is_lost_to_wheelchairs():
    G, compounds, services = _hillside()
    study = coverage_by_profile(G, compounds, services, profiles=["adult", STAIR_WARY, "wheelchair"], max_walk_min=10)
    adult, elderly, wheel = study.results["adult"], study.results["elderly"], study.results["wheelchair"]
    # adults: 10 + 100 + 40·1.5 + 30 + 5 m; the elderly take the stairs at twice level time
    assert _walk(adult, "clinic") == pytest.approx(10 + 100 + 60 + 30 + 5)
    assert _walk(elderly, "clinic") == pytest.approx(10 + 100 + 80 + 30 + 5)
    # wheelchairs go round by the ramp: 10 + 100 + 580 + 30 + 5 = 725 m, beyond 10 min at 3 km/h (500 m)
    assert _walk(wheel, "clinic") == pytest.approx(725)
    clinic = study.table[study.table.category == "clinic"].set_index("profile")
    assert clinic.loc["adult", "covered"] and clinic.loc["elderly", "covered"]
    assert not clinic.loc["wheelchair", "covered"]
    assert clinic.loc["wheelchair", "walk_min"] == pytest.approx(725 / 50)
    # the shop on the terrace is reached only by stairs
    shop = study.table[study.table.category == "shop"].set_index("profile")
    assert np.isnan(shop.loc["wheelchair", "walk_m"]) and shop.loc["wheelchair", "reach"] == "no_service_connected"
    assert _walk(adult, "shop") == pytest.approx(10 + 100 + 60 + 60 + 60 + 60 + 5)
    diff = study.compare("adult", "wheelchair").diff
    assert diff.loc["home", "change"] == "lost"


def test_profiles_sharing_a_step_rule_share_a_search_and_match_a_direct_run():
    G, compounds, services = _hillside()
    nets = prepare_profiles(G, ["adult", "child", "elderly", "wheelchair"])
    assert nets["adult"] is nets["child"] is nets["elderly"]  # one step rule by default
    assert nets["wheelchair"] is not nets["adult"]
    assert len(nets["wheelchair"].segment_u) == len(nets["adult"].segment_u) - 2  # both flights of stairs gone
    wary = prepare_profiles(G, ["adult", STAIR_WARY])
    assert wary["elderly"] is not wary["adult"]
    study = coverage_by_profile(nets, compounds, services, profiles=["adult", "child"], max_walk_min=4)
    direct = coverage(nets["child"], compounds, services, max_walk_min=4, speed_kmh=3.5)
    derived = study.results["child"]
    pd.testing.assert_frame_equal(derived.table, direct.table)
    pd.testing.assert_frame_equal(derived.pairs, direct.pairs)
    # 4 min: adults (300 m) reach the clinic at 205 m but not the shop at 355 m; children (233 m) the clinic too
    adult = study.results["adult"].table.set_index("category")
    assert adult.loc["clinic", "covered"] and not adult.loc["shop", "covered"]
    assert adult.loc["clinic", "services_within"] == 1 and adult.loc["all", "services_within"] == 1
    assert derived.table.set_index("category").loc["clinic", "covered"]


def test_population_weighted_summary():
    G, compounds, services = _hillside()
    second = squares({"far": (2000, 2000)}, 3)  # off the network: never covered
    second["population"] = [500]
    second["pop_60plus"] = [200]
    both = pd.concat([compounds, second])
    study = coverage_by_profile(G, both, services, profiles=["adult", STAIR_WARY, "wheelchair"], max_walk_min=10)
    s = study.summary.set_index(["profile", "category"])
    assert s.loc[("elderly", "clinic"), "population"] == 500
    assert s.loc[("elderly", "clinic"), "population_covered"] == 300
    assert s.loc[("elderly", "clinic"), "population_share"] == pytest.approx(0.6)
    assert s.loc[("adult", "all"), "population_share"] == pytest.approx(1000 / 1500)
    assert s.loc[("adult", "all"), "covered_share"] == pytest.approx(0.5)
    assert np.isnan(s.loc[("wheelchair", "all"), "population"])  # no pop_wheelchair column


def test_profile_graph_for_other_engines():
    G, _, _ = _hillside()
    H = profile_graph(G, "wheelchair")
    assert not any(d["highway"] == "steps" for _, _, d in H.edges(data=True))
    E = profile_graph(G, STAIR_WARY)
    assert max(d["cost_elderly_m"] / d["length"] for _, _, d in E.edges(data=True)) == pytest.approx(2.0)


def test_profile_errors():
    with pytest.raises(InputError, match="Unknown walker profile 'runner'"):
        get_profiles(["adult", "runner"])
    with pytest.raises(InputError, match="speed must be positive"):
        WalkerProfile("slow", 0.0)


@pytest.mark.slow
def test_reweighted_networks_equal_networks_prepared_from_profile_graphs():
    """prepare_profiles edits the cost matrices of the steps only; it must equal preparing each walker's graph."""
    from conftest import shared_file

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm

    G = network_from_osm(shared_file("osm/hsinchu_nctu_taiwan.osm.pbf"))
    nets = prepare_profiles(G, ["adult", STAIR_WARY, "wheelchair"])
    rng = np.random.default_rng(4)
    lo, hi = nets["adult"].node_xy.min(axis=0), nets["adult"].node_xy.max(axis=0)
    crs = nets["adult"].crs
    compounds = squares({f"c{i}": tuple(xy) for i, xy in enumerate(rng.uniform(lo, hi, size=(150, 2)))}, 5, crs=crs)
    services = points(
        {f"s{i}": tuple(xy) for i, xy in enumerate(rng.uniform(lo, hi, size=(60, 2)))},
        category=rng.choice(["a", "b"], 60),
        crs=crs,
    )
    for profile in (STAIR_WARY, "wheelchair"):
        name = profile if isinstance(profile, str) else profile.name
        H = profile_graph(G, profile)
        direct = prepare_network(H, crs=crs, weight=f"cost_{name}_m")
        got = coverage(nets[name], compounds, services, max_walk_min=8).table
        expected = coverage(direct, compounds, services, max_walk_min=8).table
        np.testing.assert_allclose(got["walk_m"], expected["walk_m"], atol=1e-6)
        assert (got["services_within"] == expected["services_within"]).all()
    # the steps do matter here: wheelchairs walk farther somewhere
    adult = coverage(nets["adult"], compounds, services, max_walk_min=8).table
    wheel = coverage(nets["wheelchair"], compounds, services, max_walk_min=8).table
    assert (wheel["walk_m"].fillna(np.inf) > adult["walk_m"].fillna(np.inf) + 1).any()


def test_steps_beside_a_ramp_between_the_same_nodes():
    """Stairs and a winding ramp join the same two nodes: a wheelchair joins and walks the ramp's own line."""
    import shapely
    from conftest import make_graph

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.routing.paths import nearest_destination
    from lifecircle.geo.routing.snapping import snap_points

    ramp = shapely.LineString([(0, 0), (50, 80), (100, 0)])
    G = make_graph(
        {0: (0, 0), 1: (100, 0)},
        [(0, 1, STEPS), (0, 1, {**WAY, "geometry": ramp, "length": ramp.length})],
    )
    nets = prepare_profiles(G, ["adult", "wheelchair"])
    direct = prepare_network(profile_graph(G, "wheelchair"), weight="cost_wheelchair_m")
    start, end = [shapely.Point(50, 80)], [shapely.Point(100, 0)]
    for net in (nets["wheelchair"], direct):
        origin, dest = snap_points(net, start), snap_points(net, end)
        assert origin.access_m[0] == pytest.approx(0)  # on the ramp, not 80 m away on the stairs' line
        assert nearest_destination(net, origin, dest)[0][0] == pytest.approx(ramp.length / 2)
    adult = nets["adult"]
    assert snap_points(adult, [shapely.Point(50, 1)]).access_m[0] == pytest.approx(1)  # adults still have the stairs
