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


def _plan_by_loop(mat, sel, unserved_m):
    """The build order by distance saved, one site at a time in plain Python (the reference)."""
    w, walk = mat.weights, mat.distances.toarray()
    reach = mat.cover.toarray()
    dist = np.where(np.isfinite(mat.existing_walk_m), mat.existing_walk_m, unserved_m)
    left, order = list(sel), []
    while left:
        pos = mat.site_ids.get_indexer(left)
        saved = [float((w * np.where(reach[:, j], np.clip(dist - walk[:, j], 0, None), 0)).sum()) for j in pos]
        best = int(np.argmax(saved))  # first of the largest, in the order given
        j = pos[best]
        dist = np.where(reach[:, j], np.minimum(dist, walk[:, j]), dist)
        order.append(left.pop(best))
    return order


@pytest.mark.parametrize("seed", range(3))
def test_plan_by_distance_matches_a_plain_loop(seed):
    mat, _ = random_instance(seed, n=60, m=15, limit_m=320, existing=True)
    sel = list(mat.site_ids[np.diff(mat.cover.tocsc().indptr) > 0])
    plan = ranked_plan(mat, sel, by="distance", unserved_m=900.0)
    assert list(plan.index) == _plan_by_loop(mat, sel, 900.0)


def test_plan_keeps_a_site_that_reaches_nobody():
    mat = CoverageMatrix.from_pairs(list("ab"), ["s1", "s2"], [0, 1], [0, 0], walk_m=[100.0, 200.0], limit_m=300.0)
    plan = ranked_plan(mat, ["s1", "s2"], by="distance", unserved_m=500.0)
    assert list(plan.index) == ["s1", "s2"] and list(plan["new_compounds"]) == [2, 0]
