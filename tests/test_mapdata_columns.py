"""The map's per-(compound, category) columns: the fast paths give what the general ones give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecircle.maps._mapdata import _matrix, _within
from lifecircle.maps._table import within_counts


def test_within_counts_and_lists_alike():
    counts = pd.Series([3, np.nan, 0, 2.0])
    assert _within(counts).tolist() == within_counts(counts.astype(object)).round().astype("Int64").tolist()
    lists = pd.Series([["S1", "S2"], np.nan, [], ("S3",)], dtype=object)
    assert _within(lists).tolist() == [2, pd.NA, 0, 1]


def test_matrix_has_none_for_every_missing_kind():
    values = pd.array([True, None, False, True], dtype="boolean").to_numpy(object)
    assert _matrix(values, (2, 2)) == [[True, None], [False, True]]
    assert _matrix(np.array([1.5, np.nan, 2.0, 3.0]), (2, 2)) == [[1.5, None], [2.0, 3.0]]
    assert _matrix(np.array(["S1", None, pd.NA, "S2"], dtype=object), (1, 4)) == [["S1", None, None, "S2"]]
