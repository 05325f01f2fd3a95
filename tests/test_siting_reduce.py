"""Reductions: merging, dominance, fixing, and that they keep the optimum."""

import numpy as np
import pytest
from siting_cases import random_instance

from lifecircle.planning.siting import CoverageMatrix, CoverAll, MaxCoverage, PMedian
from lifecircle.planning.siting.reduce import reduce_instance


def test_merges_identical_rows_and_sums_weights():
    # a, b reach {s1, s2}; c reaches {s2}; d is already covered; e reaches nothing
    mat = CoverageMatrix.from_pairs(
        list("abcde"),
        ["s1", "s2", "s3"],
        [0, 0, 1, 1, 2, 3],
        [0, 1, 0, 1, 1, 2],
        weights=[2, 3, 5, 7, 11],
        covered=[False, False, False, True, False],
    )
    r = reduce_instance(mat, kind="max", dominance=False)
    assert r.A.shape[0] == 2
    assert sorted(r.weight) == [5.0, 5.0]
    assert list(mat.compound_ids[r.unreachable]) == ["e"]
    assert 2 not in r.cols  # s3 only reaches an already-covered compound


def test_drops_dominated_candidates_only_when_no_cheaper():
    # s1 reaches {a}, s2 reaches {a, b}: s1 dominated unless s1 is cheaper
    args = (list("ab"), ["s1", "s2"], [0, 0, 1], [0, 1, 1])
    r = reduce_instance(CoverageMatrix.from_pairs(*args), kind="max")
    assert list(r.cols) == [1]
    r = reduce_instance(CoverageMatrix.from_pairs(*args, costs=[1, 2]), kind="max")
    assert sorted(r.cols) == [0, 1]
    # with capacities two sites add capacity: no dominance
    r = reduce_instance(CoverageMatrix.from_pairs(*args), kind="max", capacity=np.array([1.0, 1.0]))
    assert sorted(r.cols) == [0, 1]


def test_median_dominance_needs_distances():
    # s1 and s2 both reach a and b; s2 is nearer to a but farther from b: neither dominates
    mat = CoverageMatrix.from_pairs(
        list("ab"), ["s1", "s2"], [0, 0, 1, 1], [0, 1, 0, 1], walk_m=[100, 50, 100, 150], limit_m=500
    )
    assert reduce_instance(mat, kind="max").cols.size == 1  # coverage: identical sets, one kept
    assert reduce_instance(mat, kind="median", unserved_m=1000).cols.size == 2


def test_cover_all_fixes_forced_sites():
    mat = CoverageMatrix.from_pairs(list("abc"), ["s1", "s2", "s3"], [0, 1, 1, 2, 2], [0, 1, 2, 1, 2])
    r = reduce_instance(mat, kind="cover", dominance=False)
    assert list(mat.site_ids[r.fixed]) == ["s1"]
    # with dominance s3 (same set as s2) goes, which then forces s2 too
    r = reduce_instance(mat, kind="cover")
    assert sorted(mat.site_ids[r.fixed]) == ["s1", "s2"] and r.A.shape[0] == 0
    res = CoverAll.from_matrix(mat).solve()
    assert res.objective == 2 and "s1" in res.site_ids


@pytest.mark.parametrize("seed", range(8))
def test_reduction_preserves_optimum(seed):
    mat, _ = random_instance(seed, n=40, m=11, limit_m=320, existing=seed % 2 == 0, costs=seed % 3 == 0)
    for make in (
        lambda: MaxCoverage.from_matrix(mat, k=3),
        lambda: MaxCoverage.from_matrix(mat, budget=4),
        lambda: CoverAll.from_matrix(mat),
        lambda: PMedian.from_matrix(mat, k=3),
    ):
        a = make().solve(reduce=True)
        b = make().solve(reduce=False)
        assert a.status == b.status == "optimal"
        assert a.objective == pytest.approx(b.objective)
