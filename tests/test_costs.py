"""Cost helpers: the minimum of parallel entries, the best cost per pair, part of a closed segment."""

from __future__ import annotations

import numpy as np

from lifecircle.geo.network.costs import min_csr, min_per_pair, partial_cost


def test_min_csr_keeps_the_smallest_duplicate():
    rng = np.random.default_rng(1)
    n = 300
    rows, cols, values = rng.integers(0, n, 20_000), rng.integers(0, n, 20_000), rng.random(20_000) + 0.1
    expected = np.full((n, n), np.inf)
    np.minimum.at(expected, (rows, cols), values)
    got = min_csr(rows, cols, values, n)
    assert got.nnz == np.isfinite(expected).sum()  # one entry per distinct pair, never a sum
    np.testing.assert_array_equal(got.toarray(), np.where(np.isfinite(expected), expected, 0.0))
    assert min_csr(np.zeros(0, int), np.zeros(0, int), np.zeros(0), 4).nnz == 0


def test_min_per_pair_sorted_and_smallest():
    first, second, cost = min_per_pair(
        np.array([2, 0, 2, 0, 1]), np.array([5, 3, 5, 1, 0]), np.array([4, 1, 3, 9, 2.0])
    )
    assert first.tolist() == [0, 0, 1, 2] and second.tolist() == [1, 3, 0, 5]
    assert cost.tolist() == [9, 1, 2, 3]
    assert len(min_per_pair(np.zeros(0), np.zeros(0), np.zeros(0))[0]) == 0


def test_partial_cost_of_nothing_is_nothing_even_on_a_closed_segment():
    got = partial_cost(np.array([0.0, 0.5, 0.5]), np.array([np.inf, np.inf, 10.0]))
    assert got.tolist() == [0.0, np.inf, 5.0]
