"""Unreachable compounds: their own status, empty area share, counted apart from "not covered" (issue 16.3)."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest
from conftest import make_graph, points, squares

from lifecircle.planning.analysis import analyze
from lifecircle.planning.reachability import STATUSES, UNREACHABLE, compound_status

# a main street 0-1-2-3 with the service, and an island of streets 10-11 nobody can walk to (a walled compound
# whose gate is not mapped); one compound far from every street
NODES = {0: (0, 0), 1: (500, 0), 2: (1000, 0), 3: (3000, 0), 10: (500, 800), 11: (700, 800)}
EDGES = [(0, 1), (1, 2), (2, 3), (10, 11)]


@pytest.fixture
def town():
    G = make_graph(NODES, EDGES)
    compounds = squares(
        [(100, 30), (2900, 30), (600, 830), (5000, 5000)],
        ids=["near", "far", "island", "nowhere"],
        half_m=20,
        households=[100, 200, 300, 400],
    )
    services = points([(0, 5)], ids=["s1"], category=["clinic"])
    return G, compounds, services


def test_status_table_with_unreachable():
    covered = pd.Series([True, False, True, False, False], index=list("abcde"))
    branch = pd.Series([True, True, False, False, True], index=list("abcde"))
    lost = pd.Series([False, False, False, False, True], index=list("abcde"))
    assert list(compound_status(covered, branch, lost)) == [
        "covered",
        "no_service",
        "no_branch",
        "neither",
        UNREACHABLE,
    ]
    assert list(compound_status(covered, None, lost)) == ["covered", "no_service", "covered", "no_service", UNREACHABLE]
    assert UNREACHABLE in STATUSES


def test_island_and_off_network_compounds_are_unreachable_not_gaps(town):
    G, compounds, services = town
    result = analyze(G, compounds, services, max_walk_min=10, served_area=True)
    c = result.compounds
    # independent: the island is a separate connected piece of the graph without the service's street
    pieces = list(nx.connected_components(G.to_undirected()))
    assert len(pieces) == 2 and {10, 11} in pieces
    assert c.loc["near", "status"] == "covered"
    assert c.loc["far", "status"] == "no_service"  # a real gap: reachable, 2.9 km away
    assert c.loc["island", "status"] == UNREACHABLE
    assert c.loc["nowhere", "status"] == UNREACHABLE
    table = result.coverage.table.set_index(["compound_id", "category"])
    assert math.isnan(table.loc[("island", "all"), "area_share"])
    assert math.isnan(table.loc[("nowhere", "clinic"), "area_share"])
    assert table.loc[("far", "all"), "area_share"] == 0.0
    assert table.loc[("near", "all"), "area_share"] > 0.5
    s = result.summary
    assert s["status"] == {"covered": 1, "no_service": 1, "no_branch": 0, "neither": 0, "unreachable": 2}
    entry = s["categories"]["all"]
    # headline shares over all compounds; unreachable counted apart from not covered; share among reachable
    assert entry["compounds_covered"] == 1 and entry["compounds_share"] == 0.25
    assert entry["compounds_unreachable"] == 2 and entry["compounds_not_covered"] == 1
    assert entry["compounds_share_of_reachable"] == 0.5
    assert entry["households_unreachable"] == 700 and entry["households_not_covered"] == 200
    assert entry["households_share_of_reachable"] == pytest.approx(100 / 300, abs=1e-4)
    lost = s["unreachable_compounds"]
    assert lost["off_network"] == 1 and lost["no_service_connected"] == 1 and lost["total"] == 2
    assert sorted(lost["compound_ids"]) == ["island", "nowhere"]
    assert "internal roads" in lost["check"]
    assert any("island of streets" in note and "internal roads" in note for note in s["data_quality"])


def test_no_unreachable_compound_gives_no_hint(town):
    G, compounds, services = town
    result = analyze(G, compounds.loc[["near", "far"]], services, max_walk_min=10)
    lost = result.summary["unreachable_compounds"]
    assert lost["total"] == 0 and lost["check"] is None
    assert result.summary["categories"]["all"]["compounds_share_of_reachable"] == 0.5


def test_site_leaves_unreachable_compounds_out_of_the_demand_unless_asked(town):
    from lifecircle.geo.walk import Walk
    from lifecircle.planning.siting.options import SitingOptions
    from lifecircle.planning.siting.planner import plan_sites

    G, compounds, services = town
    walk = Walk(limit_min=10)
    plan = plan_sites(G, compounds, services, options=SitingOptions(add=1), walk=walk)
    outcome = plan.before_after.set_index("compound_id")["outcome"]
    assert outcome["island"] == "unreachable" and outcome["nowhere"] == "unreachable"
    assert outcome["far"] == "newly_covered"  # the one site goes to the real gap, not into the walled island
    assert plan.summary["set_aside_unreachable"] == ["island", "nowhere"]
    assert any("--include-unreachable" in note for note in plan.summary["notes"])
    asked = plan_sites(G, compounds, services, options=SitingOptions(add=1, include_unreachable=True), walk=walk)
    outcome = asked.before_after.set_index("compound_id")["outcome"]
    assert outcome["island"] == "newly_covered"  # 300 households on the island outweigh the 200 far away
    assert "set_aside_unreachable" not in asked.summary
