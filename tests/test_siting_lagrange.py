"""Lagrangian bounds and fixing: valid bounds and exact fixing against brute force on small seeded instances."""

import itertools

import numpy as np
import pytest
from siting_cases import brute_cover, brute_max, random_instance

from lifecircle.planning.siting import CoverAll, MaxCoverage
from lifecircle.planning.siting.greedy import greedy_cover, greedy_max
from lifecircle.planning.siting.lagrange import cover_lagrange, fix_instance, max_cover_lagrange
from lifecircle.planning.siting.reduce import reduce_instance

SEEDS = range(8)


def _value(inst, cols):
    hit = np.asarray(inst.A[:, list(cols)].sum(axis=1)).ravel() > 0 if len(cols) else np.zeros(inst.A.shape[0], bool)
    return float(inst.weight[hit].sum())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_mclp_lagrangian_bound_is_above_optimum(seed, k):
    mat, _ = random_instance(seed, n=30, m=10, limit_m=330, existing=seed % 2 == 1)
    opt = brute_max(mat, k)
    inst = reduce_instance(mat, kind="max", dominance=False, max_rounds=0)
    greedy = _value(inst, greedy_max(inst, k=k)[0])
    for incumbent in (greedy, 0.5 * greedy):  # any target, any iteration count: still a bound
        for iterations in (1, 5, 400):
            lag = max_cover_lagrange(inst, k=k, incumbent=incumbent, iterations=iterations)
            assert lag.bound >= opt - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3])
def test_mclp_fixing_keeps_a_better_or_equal_optimum(seed, k):
    mat, _ = random_instance(seed, n=30, m=10, limit_m=330)
    inst = reduce_instance(mat, kind="max", dominance=False, max_rounds=0)
    opt = brute_max(mat, k)
    incumbent = _value(inst, greedy_max(inst, k=k)[0])
    lag = max_cover_lagrange(inst, k=k, incumbent=incumbent)
    fix = fix_instance(inst, lag.ones, lag.zeros, kind="max")
    # brute force on the fixed instance: best of the incumbent and the fixed optimum is the true optimum
    best_fixed = 0.0
    free, kk = fix.free, k - fix.ones.size
    for size in range(0, max(kk, 0) + 1):
        for sel in itertools.combinations(range(free.size), size):
            best_fixed = max(best_fixed, _value(inst, np.concatenate([fix.ones, free[list(sel)]]).astype(int)))
    assert max(incumbent, best_fixed) == pytest.approx(opt)


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_lagrangian_bound_is_below_optimum(seed):
    mat, _ = random_instance(seed, n=30, m=10, limit_m=330, existing=seed % 2 == 0, costs=seed % 3 == 0)
    use_costs = seed % 3 == 0
    opt = brute_cover(mat, use_costs=use_costs)
    inst = reduce_instance(mat, kind="cover", dominance=False, max_rounds=0)
    if inst.A.shape[0] == 0:
        pytest.skip("nothing left to cover")
    cols = greedy_cover(inst)
    inc = float(inst.cost[cols].sum())
    for iterations in (1, 3, 500):
        lag = cover_lagrange(inst, incumbent=inc, integer_costs=True, iterations=iterations)
        assert lag.bound <= opt + 1e-6
    # fixing: every strictly better cover opens lag.ones and none of lag.zeros, so the best cover that
    # respects the fixings (or the incumbent) is optimal
    lag = cover_lagrange(inst, incumbent=inc, integer_costs=True, iterations=500)
    fix = fix_instance(inst, lag.ones, lag.zeros, kind="cover")
    A = inst.A.toarray()
    best = np.inf
    for size in range(fix.free.size + 1):
        for sel in itertools.combinations(fix.free.tolist(), size):
            cols = list(fix.ones) + list(sel)
            if A[:, cols].any(axis=1).all():
                best = min(best, float(inst.cost[cols].sum()))
    assert inst.fixed.size == 0  # no reduction rounds: the instance is the whole problem
    assert min(inc, best) == pytest.approx(opt)
    assert fix.infeasible == (not np.isfinite(best))


@pytest.mark.parametrize("seed", range(4))
def test_models_with_and_without_lagrange_agree_and_prove(seed):
    mat, _ = random_instance(seed, n=60, m=14, limit_m=300, existing=seed % 2 == 1)
    for make in (lambda: MaxCoverage.from_matrix(mat, k=3), lambda: CoverAll.from_matrix(mat)):
        a = make().solve(lagrange=True)
        b = make().solve(lagrange=False)
        assert a.status == b.status == "optimal"
        assert a.objective == pytest.approx(b.objective)
        assert a.gap == 0


@pytest.mark.slow
def test_time_limited_mclp_reports_a_valid_bound_and_no_false_optimum():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_siting import synthetic_matrix

    mat = synthetic_matrix(1500, 600, seed=3)
    exact = MaxCoverage.from_matrix(mat, k=25).solve(time_limit_s=1.0)
    assert exact.bound >= exact.objective - 1e-6
    if exact.status == "optimal":
        assert exact.gap == 0
    else:
        assert exact.status == "time_limit" and exact.gap > 0
    greedy = MaxCoverage.from_matrix(mat, k=25).solve(solver="greedy")
    assert greedy.objective <= exact.bound + 1e-6
