"""Siting models against brute force on small seeded instances, plus bound/gap/status consistency."""

import math

import numpy as np
import pytest
from siting_cases import (
    brute_cover,
    brute_max,
    brute_max_capacity,
    brute_median,
    random_instance,
)

from lifecircle.errors import InputError
from lifecircle.planning.siting import CoverageMatrix, CoverAll, MaxCoverage, PMedian

SEEDS = range(6)


def _consistent(res, sense):
    """bound on the right side of the objective; gap matches; 'optimal' only with a closed gap."""
    if sense == "max":
        assert res.bound >= res.objective - 1e-6
    else:
        assert res.bound <= res.objective + 1e-6
    if res.status == "optimal":
        assert res.gap <= 1e-6
    elif res.status == "time_limit":
        assert res.gap > 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3])
def test_max_coverage_milp_equals_brute_force(seed, k):
    mat, _ = random_instance(seed, existing=seed % 2 == 1)
    res = MaxCoverage.from_matrix(mat, k=k).solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(brute_max(mat, k))
    assert len(res.site_ids) <= k
    _consistent(res, "max")
    greedy = MaxCoverage.from_matrix(mat, k=k).solve(solver="greedy")
    assert greedy.objective <= res.objective + 1e-9  # greedy never beats the proven optimum
    assert greedy.bound >= res.objective - 1e-6  # LP bound is a real bound
    _consistent(greedy, "max")


@pytest.mark.parametrize("seed", SEEDS)
def test_cover_all_milp_equals_brute_force(seed):
    mat, _ = random_instance(seed, existing=seed % 2 == 0)
    res = CoverAll.from_matrix(mat).solve()
    assert res.status == "optimal"
    assert res.objective == brute_cover(mat)
    assert len(res.site_ids) == res.objective
    # every reachable compound is covered
    reach = np.diff(mat.cover.indptr) > 0
    assert set(mat.compound_ids[reach | mat.covered]) <= set(res.covered_ids)
    greedy = CoverAll.from_matrix(mat).solve(solver="greedy")
    assert greedy.objective >= res.objective
    assert greedy.bound <= res.objective
    _consistent(greedy, "min")


@pytest.mark.parametrize("seed", SEEDS)
def test_cover_all_with_costs_equals_brute_force(seed):
    mat, _ = random_instance(seed, costs=True)
    res = CoverAll.from_matrix(mat).solve()
    assert res.objective == brute_cover(mat, use_costs=True)
    assert res.objective == pytest.approx(mat.site_costs[mat.site_ids.get_indexer(list(res.site_ids))].sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_budget_equals_brute_force(seed):
    mat, _ = random_instance(seed, costs=True)
    res = MaxCoverage.from_matrix(mat, budget=5).solve()
    assert res.objective == pytest.approx(brute_max(mat, None, budget=5))
    spent = mat.site_costs[mat.site_ids.get_indexer(list(res.site_ids))].sum()
    assert spent <= 5
    g = MaxCoverage.from_matrix(mat, budget=5).solve(solver="greedy")
    assert g.objective <= res.objective + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_p_median_equals_brute_force(seed):
    mat, d = random_instance(seed, existing=seed % 2 == 0, limit_m=500)
    res = PMedian.from_matrix(mat, k=2).solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(brute_median(mat, d, 2, unserved_m=1000.0))
    greedy = PMedian.from_matrix(mat, k=2).solve(solver="greedy")
    assert greedy.objective >= res.objective - 1e-6
    assert greedy.bound <= res.objective + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_capacity_equals_brute_force(seed):
    mat, _ = random_instance(seed, n=14, m=7, limit_m=400)
    cap = 40.0
    res = MaxCoverage.from_matrix(mat, k=2, capacity=cap).solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(brute_max_capacity(mat, 2, cap))
    assert res.objective <= 2 * cap + 1e-9
    uncap = MaxCoverage.from_matrix(mat, k=2).solve()
    assert res.objective <= uncap.objective + 1e-9


def test_capacitated_cover_all_is_infeasible_when_capacity_cannot_serve():
    mat = CoverageMatrix.from_pairs(["a", "b"], ["s"], [0, 1], [0, 0], weights=[10, 10])
    res = CoverAll.from_matrix(mat, capacity=15).solve()
    assert res.status == "infeasible"
    assert res.site_ids == ()
    ok = CoverAll.from_matrix(mat, capacity=20).solve()
    assert ok.status == "optimal" and ok.site_ids == ("s",)
    assert set(ok.covered_ids) == {"a", "b"}


def test_unreachable_compounds_are_reported_not_a_crash():
    mat, _ = random_instance(3, isolated=3, limit_m=400)
    no_candidate = set(mat.compound_ids[np.diff(mat.cover.indptr) == 0])
    assert set(mat.compound_ids[:3]) <= no_candidate
    for model in (MaxCoverage.from_matrix(mat, k=2), CoverAll.from_matrix(mat)):
        res = model.solve()
        assert set(res.unreachable_ids) == no_candidate
        assert not set(res.unreachable_ids) & set(res.covered_ids)
    # nothing reachable at all
    lone = CoverageMatrix.from_pairs(["a"], ["s"], [], [])
    res = CoverAll.from_matrix(lone).solve()
    assert res.unreachable_ids == ("a",) and res.site_ids == () and res.objective == 0


def test_inputs_not_modified():
    mat, _ = random_instance(1, existing=True)
    before = (mat.cover.copy(), mat.weights.copy(), mat.covered.copy())
    models = (MaxCoverage.from_matrix(mat, k=2), CoverAll.from_matrix(mat), PMedian.from_matrix(mat, k=2))
    for model in models:
        model.solve()
    assert (mat.cover != before[0]).nnz == 0
    assert np.array_equal(mat.weights, before[1]) and np.array_equal(mat.covered, before[2])


@pytest.mark.slow
def test_time_limit_is_not_reported_optimal():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_siting import synthetic_matrix

    mat = synthetic_matrix(1500, 600, seed=3)
    res = MaxCoverage.from_matrix(mat, k=25).solve(time_limit_s=0.3)
    _consistent(res, "max")
    assert math.isfinite(res.bound)
    if res.status != "optimal":
        assert res.status == "time_limit" and res.gap > 0


def test_bad_parameters_raise_input_errors():
    mat, _ = random_instance(0)
    with pytest.raises(InputError):
        MaxCoverage.from_matrix(mat)
    with pytest.raises(InputError):
        MaxCoverage.from_matrix(mat, k=2).solve(solver="gurobi")
    nodist = CoverageMatrix.from_pairs(["a"], ["s"], [0], [0])
    with pytest.raises(InputError):
        PMedian.from_matrix(nodist, k=1)
