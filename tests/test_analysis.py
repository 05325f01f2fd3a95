"""Analyses: branches (支部建在小区), status per compound, summaries with households."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import make_graph, points, squares

from lifecircle.errors import InputError
from lifecircle.planning.analysis import analyze, branch_presence, compound_status

NODES = {0: (0, 0), 1: (1000, 0), 2: (2000, 0)}
EDGES = [(0, 1), (1, 2)]


@pytest.fixture
def layers():
    G = make_graph(NODES, EDGES)
    compounds = squares(
        [(100, 30), (1900, 30), (1000, 30)],
        ids=["A", "B", "C"],
        half_m=20,
        households=[100, 300, 50],
        支部=["是", "否", ""],
    )
    services = points([(0, 5)], ids=["s1"], category=["便民服务点"])
    branches = points([(1900, 30)], ids=["b1"])  # inside B
    return G, compounds, services, branches


def test_branch_presence_from_points_and_attribute(layers):
    _, compounds, _, branches = layers
    present = branch_presence(compounds, branches)
    assert present.to_dict() == {"A": True, "B": True, "C": False}
    assert branch_presence(compounds.drop(columns="支部"), None) is None
    with pytest.raises(InputError, match="no branch column"):
        branch_presence(compounds, None, branch_column="nope")
    named = points([(9999, 9999)], ids=["b2"], compound_id=["C"])
    assert branch_presence(compounds.drop(columns="支部"), named).to_dict() == {"A": False, "B": False, "C": True}


def test_status_table():
    covered = pd.Series([True, False, True, False], index=list("abcd"))
    branch = pd.Series([True, True, False, False], index=list("abcd"))
    assert list(compound_status(covered, branch)) == ["covered", "no_service", "no_branch", "neither"]
    assert list(compound_status(covered, None)) == ["covered", "no_service", "covered", "no_service"]


def test_analysis_end_to_end(layers):
    G, compounds, services, branches = layers
    result = analyze(G, compounds, services, branches=branches, max_walk_min=10)
    c = result.compounds
    assert c.loc["A", "status"] == "covered"  # 130 m from s1, branch attribute 是
    assert c.loc["B", "status"] == "no_service"  # branch point inside, service 1.9 km away
    assert c.loc["C", "status"] == "neither"
    assert c.loc["A", "walk_min_便民服务点"] == pytest.approx((30 + 100 + 5) / 75, abs=0.01)
    assert result.services.loc["s1", "compounds_served"] == 1
    s = result.summary
    assert s["categories"]["all"]["compounds_covered"] == 1
    assert s["categories"]["all"]["households_share"] == pytest.approx(100 / 450, abs=1e-4)
    assert s["compounds_without_branch"] == 1
    assert s["status"] == {"covered": 1, "no_service": 1, "no_branch": 0, "neither": 1, "unreachable": 0}
    assert s["weight_columns"]["households"] == "households"
    # the inputs are untouched
    assert "status" not in compounds.columns


def test_households_and_population_must_be_counts(layers):
    G, compounds, services, _ = layers
    for column, values, problem in (
        ("households", [100, "many", 50], "must hold numbers of 0 or more; 1 compound does not: B ('many')"),
        ("households", [100, -5, 50], "must hold numbers of 0 or more; 1 compound does not: B (-5)"),
        ("人口", [10, 20, "x"], "must hold numbers of 0 or more; 1 compound does not: C ('x')"),
    ):
        with pytest.raises(InputError, match=re.escape(f"{column}' {problem}")):
            analyze(G, compounds.assign(**{column: values}), services)
    blank = analyze(G, compounds.assign(households=[100, None, 50]), services).summary  # blank weighs nothing
    assert blank["households"] == 150


def test_missing_governance_column_is_refused_before_the_walk(layers, monkeypatch):
    G, compounds, services, _ = layers

    def no_walk(*args, **kwargs):
        raise AssertionError("coverage ran before the inputs were checked")

    monkeypatch.setattr("lifecircle.planning.analysis.coverage_within_limits", no_walk)
    with pytest.raises(InputError, match="no street column '街道'; its columns are name, households"):
        analyze(G, compounds, services, governance={"street": "街道"})
