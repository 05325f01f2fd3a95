"""p-median Lagrangian bound, fixing and swap search: valid bounds and exact fixing against brute force."""

import itertools

import numpy as np
import pytest
from siting_cases import brute_median, random_instance

from lifecircle.planning.siting import PMedian
from lifecircle.planning.siting.formulation import median_model
from lifecircle.planning.siting.greedy import greedy_median, swap_median
from lifecircle.planning.siting.lagrange_median import fix_median, median_base, median_lagrange
from lifecircle.planning.siting.reduce import reduce_instance

SEEDS = range(8)
UNSERVED_M = 1000.0


def _instance(seed, n=30, m=10):
    mat, d = random_instance(seed, n=n, m=m, limit_m=330, existing=seed % 2 == 1)
    return mat, d, reduce_instance(mat, kind="median", unserved_m=UNSERVED_M, dominance=False, max_rounds=0)


def _walk(inst, cols) -> float:
    """Walked distance (the model objective) of opening reduced columns ``cols``, by hand."""
    best = inst.fallback.astype(float).copy()
    D = inst.D.tocoo()
    pick = np.isin(D.col, np.asarray(cols, dtype=int))
    np.minimum.at(best, D.row[pick], D.data[pick])
    return float(inst.constant + (inst.weight * best).sum())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_median_lagrangian_bound_is_below_optimum(seed, k):
    mat, d, inst = _instance(seed)
    opt = brute_median(mat, d, k, unserved_m=UNSERVED_M)
    greedy = _walk(inst, greedy_median(inst, k=k)[0])
    for incumbent in (greedy, 1.5 * greedy):  # any target, any iteration count: still a bound
        for iterations in (1, 5, 400):
            lag = median_lagrange(inst, k=k, incumbent=incumbent, iterations=iterations)
            assert lag.bound <= opt + 1e-6
    assert median_base(inst) == pytest.approx(_walk(inst, []))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3])
def test_median_fixing_keeps_a_better_or_equal_optimum(seed, k):
    mat, d, inst = _instance(seed)
    opt = brute_median(mat, d, k, unserved_m=UNSERVED_M)
    incumbent = _walk(inst, greedy_median(inst, k=k)[0])
    lag = median_lagrange(inst, k=k, incumbent=incumbent)
    fix = fix_median(inst, lag.ones, lag.zeros)
    # the fixed instance's walk equals the parent's for the same plan, and its best plan (or the incumbent)
    # is the true optimum
    best_fixed = np.inf
    kk = k - fix.ones.size
    for size in range(0, max(kk, 0) + 1):
        for sel in itertools.combinations(range(fix.free.size), size):
            parent = _walk(inst, np.concatenate([fix.ones, fix.free[list(sel)]]).astype(int))
            assert _walk(fix.sub, list(sel)) == pytest.approx(parent)
            best_fixed = min(best_fixed, parent)
    assert min(incumbent, best_fixed) == pytest.approx(opt)
    if fix.sub.A.shape[0]:  # its MILP offset is the walk with nothing more opened
        assert median_model(fix.sub, k=max(kk, 0)).offset == pytest.approx(_walk(fix.sub, []))


@pytest.mark.parametrize("seed", SEEDS)
def test_swap_median_never_walks_further(seed):
    _, _, inst = _instance(seed, n=60, m=14)
    for k in (2, 4):
        start = greedy_median(inst, k=k)[0]
        better = swap_median(inst, start)
        assert better.size == start.size
        assert _walk(inst, better) <= _walk(inst, start) + 1e-9


def test_swap_median_reaches_the_optimum_from_a_bad_start():
    mat, d, inst = _instance(3, n=40, m=9)
    opt = brute_median(mat, d, 2, unserved_m=UNSERVED_M)
    worst = max(itertools.combinations(range(inst.A.shape[1]), 2), key=lambda s: _walk(inst, s))
    assert _walk(inst, swap_median(inst, np.array(worst))) == pytest.approx(opt)


@pytest.mark.parametrize("seed", range(4))
def test_p_median_with_and_without_lagrange_agree_and_prove(seed):
    mat, d = random_instance(seed, n=60, m=14, limit_m=300, existing=seed % 2 == 1)
    a = PMedian.from_matrix(mat, k=3).solve(lagrange=True)
    b = PMedian.from_matrix(mat, k=3).solve(lagrange=False)
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective)
    assert a.objective == pytest.approx(brute_median(mat, d, 3, unserved_m=2 * 300))
    assert a.gap == 0 and a.bound == pytest.approx(a.objective)
