"""Governance roll-ups (街道/社区/网格) and per-category thresholds, on a line network with known walks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_graph, points, squares

from lifecircle.errors import InputError
from lifecircle.geo.reach.coverage import coverage
from lifecircle.planning.analysis import analyze
from lifecircle.planning.rollups import NO_UNIT, governance_columns, rollup

# a 2 km street; compounds 30 m off it; 75 m per minute at 4.5 km/h
NODES = {0: (0, 0), 1: (1000, 0), 2: (2000, 0)}
EDGES = [(0, 1), (1, 2)]


@pytest.fixture
def study_layers():
    G = make_graph(NODES, EDGES)
    compounds = squares(
        [(100, 30), (1900, 30), (1000, 30), (500, 30)],
        ids=["A", "B", "C", "D"],
        half_m=20,
        households=[100, 300, 50, 200],
        支部=["是", "否", "否", "是"],
        街道=["学院路街道", "学院路街道", "清河街道", "清河街道"],
        社区=["一社区", "二社区", "二社区", None],
    )
    services = points([(0, 5), (2000, 5)], ids=["s1", "s2"], category=["超市", "卫生站"])
    return G, compounds, services


def test_per_category_threshold_equals_separate_runs(study_layers):
    G, compounds, services = study_layers
    result = analyze(G, compounds, services, max_walk_min=10, category_max_walk_min={"卫生站": 15})
    t = result.coverage.table.set_index(["compound_id", "category"])
    # walks: A-s1 135 m, D-s1 535 m, C-s1 1035 m, B-s2 135 m, C-s2 1035 m, D-s2 1535 m
    assert t.loc[("C", "卫生站"), "covered"] and t.loc[("C", "卫生站"), "services_within"] == 1  # 1035 <= 1125
    assert not t.loc[("C", "超市"), "covered"] and not t.loc[("C", "all"), "covered"]  # 1035 > 750
    assert t.loc[("C", "all"), "services_within"] == 0
    assert list(t.xs("超市", level="category")["covered"]) == [True, False, False, True]
    # the same as a separate run at each group's threshold
    clinics = coverage(G, compounds, services[services["category"] == "卫生站"], max_walk_min=15).table
    clinics = clinics[clinics["category"] == "卫生站"].set_index("compound_id")
    got = t.xs("卫生站", level="category")
    assert (got["covered"] == clinics["covered"]).all()
    assert (got["services_within"] == clinics["services_within"]).all()
    assert np.allclose(got["walk_m"], clinics["walk_m"])
    shops = coverage(G, compounds, services, max_walk_min=10).table.set_index(["compound_id", "category"])
    for cat in ("all", "超市"):
        same = shops.xs(cat, level="category")
        assert (
            (t.xs(cat, level="category")[["covered", "services_within"]] == same[["covered", "services_within"]])
            .all()
            .all()
        )
    assert result.summary["parameters"]["category_max_walk_m"] == {"卫生站": pytest.approx(1125.0)}
    assert result.services.loc["s2", "compounds_served"] == 2  # B and C within 15 minutes
    assert result.services.loc["s1", "compounds_served"] == 2  # A and D within 10 minutes


def test_rollup_per_street_and_community(study_layers):
    G, compounds, services = study_layers
    result = analyze(G, compounds, services, max_walk_min=10, category_max_walk_min={"卫生站": 15})
    assert set(result.rollups) == {"street", "community"}
    street = result.rollups["street"]
    assert list(street.index) == ["学院路街道", "清河街道"]
    a = street.loc["学院路街道"]
    assert a["compounds"] == 2 and a["households"] == 400
    assert a["share_all"] == 1.0 and a["share_超市"] == 0.5 and a["households_share_超市"] == 0.25
    assert a["households_share_卫生站"] == 0.75 and a["compounds_without_branch"] == 1
    b = street.loc["清河街道"]
    assert b["share_all"] == 0.5 and b["share_卫生站"] == 0.5 and b["households_share_超市"] == 0.8
    assert b["worst_compound_id"] == "C" and b["worst_walk_min"] == pytest.approx(1035 / 75, abs=0.01)
    community = result.rollups["community"]
    assert list(community.index) == [NO_UNIT, "一社区", "二社区"]
    assert community.loc[NO_UNIT, "compounds"] == 1 and community.loc["二社区", "worst_compound_id"] == "C"
    # JSON-ready in the summary
    rows = {r["街道"]: r for r in result.summary["rollups"]["street"]}
    assert rows["清河街道"]["worst_compound_name"] == "C"


def test_unreachable_compound_is_the_worst(study_layers):
    G, compounds, services = study_layers
    far = squares(
        [(1000, 5000)], ids=["Z"], half_m=20, households=[10], 支部=["是"], 街道=["学院路街道"], 社区=["一社区"]
    )
    both = pd.concat([compounds, far])
    result = analyze(G, both, services, max_walk_min=10)
    row = result.rollups["street"].loc["学院路街道"]
    assert row["worst_compound_id"] == "Z" and np.isnan(row["worst_walk_min"]) and row["worst_reach"] == "off_network"
    assert row["unreachable"] == 1


def test_governance_columns_configurable(study_layers):
    _, compounds, _ = study_layers
    renamed = compounds.rename(columns={"街道": "所属街道"})
    assert governance_columns(renamed) == {"community": "社区"}
    assert governance_columns(renamed, {"street": "所属街道", "community": None}) == {"street": "所属街道"}
    with pytest.raises(InputError, match="no street column 'x'"):
        governance_columns(renamed, {"street": "x"})
    with pytest.raises(InputError, match="Unknown governance level"):
        governance_columns(renamed, {"district": "区"})
    with pytest.raises(InputError, match="no column"):
        rollup(renamed, "网格")
