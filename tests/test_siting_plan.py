"""Ranked plan and critical existing services."""

import numpy as np
import pytest
from siting_cases import random_instance

from lifecircle.planning.siting import CoverageMatrix, MaxCoverage, critical_services, ranked_plan


@pytest.mark.parametrize("seed", range(4))
def test_plan_is_greedy_order_with_consistent_cumulative_coverage(seed):
    mat, _ = random_instance(seed, n=40, m=12, limit_m=320, existing=True)
    res = MaxCoverage.from_matrix(mat, k=4).solve()
    plan = res.plan
    assert list(plan.index) == list(res.site_ids)
    assert list(plan["rank"]) == list(range(1, len(plan) + 1))
    assert (np.diff(plan["new_weight"]) <= 1e-9).all()  # coverage is submodular: gains fall
    already = mat.weights[mat.covered].sum()
    assert plan["cum_weight"].iloc[-1] == pytest.approx(already + res.objective)
    steps = plan["cum_weight"].diff().iloc[1:].to_numpy()
    assert steps == pytest.approx(plan["new_weight"].iloc[1:].to_numpy())
    covered_w = mat.weights[mat.compound_ids.isin(res.covered_ids)].sum()
    assert plan["cum_weight"].iloc[-1] == pytest.approx(covered_w)
    assert plan["cum_share"].iloc[-1] == pytest.approx(covered_w / mat.weights.sum())


def test_plan_of_hand_made_case():
    # s1 covers a (w 1); s2 covers b, c (w 2 + 3); s3 covers c, d (w 3 + 10)
    mat = CoverageMatrix.from_pairs(
        list("abcd"), ["s1", "s2", "s3"], [0, 1, 2, 2, 3], [0, 1, 1, 2, 2], weights=[1, 2, 3, 10]
    )
    plan = ranked_plan(mat, ["s1", "s2", "s3"])
    assert list(plan.index) == ["s3", "s2", "s1"]
    assert list(plan["new_weight"]) == [13, 2, 1]
    assert list(plan["new_compounds"]) == [2, 1, 1]
    assert list(plan["cum_compounds"]) == [2, 3, 4]


def test_critical_services():
    # compounds a, b only reach svc1; c reaches svc1 and svc2; d only svc3; e nothing
    existing = CoverageMatrix.from_pairs(
        list("abcde"), ["svc1", "svc2", "svc3"], [0, 1, 2, 2, 3], [0, 0, 0, 1, 2], weights=[5, 5, 1, 1, 20]
    )
    crit = critical_services(existing)
    assert crit.index.name == "service_id"
    assert list(crit.index) == ["svc1", "svc3"]  # svc3 serves less weight alone (1 < 10)
    assert crit.loc["svc1", "sole_compounds"] == 2 and crit.loc["svc1", "sole_weight"] == 10
    assert crit.loc["svc3", "compound_ids"] == ("d",)
    assert "svc2" not in crit.index
