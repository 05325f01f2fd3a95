"""Greedy and local search on reduced instances: feasible, never worse than their start, local optimality."""

import itertools

import numpy as np
import pytest
from siting_cases import brute_max, random_instance

from lifecircle.planning.siting.greedy import greedy_max, swap_max
from lifecircle.planning.siting.reduce import reduce_instance


def _value(inst, cols):
    hit = np.asarray(inst.A[:, list(cols)].sum(axis=1)).ravel() > 0 if len(cols) else np.zeros(inst.A.shape[0], bool)
    return float(inst.weight[hit].sum())


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("k", [2, 3])
def test_swap_never_worsens_and_is_one_swap_optimal(seed, k):
    mat, _ = random_instance(seed, n=40, m=11, limit_m=300)
    inst = reduce_instance(mat, kind="max", dominance=False, max_rounds=0)
    rng = np.random.default_rng(seed)
    starts = [greedy_max(inst, k=k)[0], rng.choice(inst.A.shape[1], size=k, replace=False)]
    for start in starts:
        out = swap_max(inst, start)
        assert len(out) == len(start) and len(set(out.tolist())) == len(out)
        v = _value(inst, out)
        assert v >= _value(inst, start) - 1e-9
        assert v <= brute_max(mat, k) + 1e-9
        # no single swap improves the answer
        chosen = set(out.tolist())
        for j_out, j_in in itertools.product(chosen, set(range(inst.A.shape[1])) - chosen):
            assert _value(inst, list(chosen - {j_out} | {j_in})) <= v + 1e-9


def test_swap_leaves_its_input_alone():
    mat, _ = random_instance(1, n=30, m=9, limit_m=300)
    inst = reduce_instance(mat, kind="max", dominance=False, max_rounds=0)
    start = np.array([0, 1])
    A0 = inst.A.copy()
    swap_max(inst, start)
    assert (start == [0, 1]).all()
    assert (inst.A != A0).nnz == 0
