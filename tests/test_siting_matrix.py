"""CoverageMatrix construction and validation."""

import numpy as np
import pytest

from lifecircle.errors import InputError
from lifecircle.planning.siting import CoverageMatrix


def test_from_pairs_dedups_keeps_shortest_and_applies_limit():
    m = CoverageMatrix.from_pairs(
        ["a", "b"], ["s", "t"], [1, 0, 0, 1], [0, 1, 1, 1], walk_m=[900, 300, 200, 0.0], limit_m=800
    )
    assert m.shape == (2, 2)
    assert m.cover.toarray().tolist() == [[False, True], [False, True]]
    assert m.distances.toarray().tolist() == [[0, 200], [0, 0]]
    assert m.cover.nnz == 2 and m.walk_m.tolist() == [200.0, 0.0]  # a zero distance is still a pair
    assert m.compound_ids.name == "compound_id" and m.site_ids.name == "site_id"


def test_inputs_copied_and_read_only():
    w = np.array([1.0, 2.0])
    m = CoverageMatrix.from_pairs(["a", "b"], ["s"], [0], [0], weights=w)
    w[0] = 99
    assert m.weights.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError):
        m.weights[0] = 5


def test_covered_defaults_from_existing_distance():
    m = CoverageMatrix.from_pairs(
        ["a", "b", "c"], ["s"], [0], [0], walk_m=[10], limit_m=800, existing_walk_m=[100, np.nan, 900]
    )
    assert m.covered.tolist() == [True, False, False]
    assert np.isinf(m.existing_walk_m[1])


def test_from_dense_matches_from_pairs():
    d = np.array([[100, np.inf, 700], [900, 50, np.nan]])
    m = CoverageMatrix.from_dense(d, limit_m=800, compound_ids=["x", "y"], site_ids=["p", "q", "r"])
    assert m.cover.toarray().tolist() == [[True, False, True], [False, True, False]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": [1, -1]},
        {"weights": [1]},
        {"costs": [0]},
        {"walk_m": [-5], "limit_m": 100},
    ],
)
def test_bad_inputs_raise(kwargs):
    with pytest.raises(InputError):
        CoverageMatrix.from_pairs(["a", "b"], ["s"], [0], [0], **kwargs)


def test_duplicate_ids_and_out_of_range_raise():
    with pytest.raises(InputError):
        CoverageMatrix.from_pairs(["a", "a"], ["s"], [0], [0])
    with pytest.raises(InputError):
        CoverageMatrix.from_pairs(["a"], ["s"], [1], [0])
