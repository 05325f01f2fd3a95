"""Yes/no columns (issue 17.4): every usual spelling read right, nothing else read in silence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecircle.errors import InputError
from lifecircle.geo.inputs.flags import FALSE_WORDS, TRUE_WORDS, flag_word, parse_flags

YES = ["1", "1.0", "true", "True", "TRUE", "yes", "Yes", "y", "是", "有", "有支部", "✓", "✔", "√", " 是 ", "ｙｅｓ"]
NO = ["0", "0.0", "false", "False", "no", "NO", "n", "否", "无", "无支部", "✗", "✘", "×", "没有"]

_cell = st.one_of(
    st.tuples(st.sampled_from(YES), st.just(True)),
    st.tuples(st.sampled_from(NO), st.just(False)),
    st.tuples(st.sampled_from(["", "  ", None, np.nan]), st.none()),
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(_cell, min_size=1, max_size=30))
def test_words_read_as_meant(cells):
    values = pd.Series([c for c, _ in cells], dtype=object)
    got = parse_flags(values, column="有支部", source="compounds.xlsx")
    assert str(got.dtype) == "boolean"
    assert [None if pd.isna(v) else bool(v) for v in got] == [want for _, want in cells]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([0, 1]), st.none()), min_size=1, max_size=30))
def test_numbers_in_every_dtype(cells):
    want = [None if c is None else bool(c) for c in cells]
    for values in (
        pd.Series(cells, dtype="Int64"),  # a nullable integer column
        pd.Series([np.nan if c is None else float(c) for c in cells]),  # one empty cell makes 1/0 floats
        pd.Series([pd.NA if c is None else bool(c) for c in cells], dtype="boolean"),
    ):
        got = parse_flags(values, column="branch", source="compounds.gpkg")
        assert [None if pd.isna(v) else bool(v) for v in got] == want


_vocabulary = {w.lower() for w in TRUE_WORDS | FALSE_WORDS} | {"", "nan", "none", "null", "<na>", "nat"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(YES + NO), max_size=10),
    st.text(min_size=1, max_size=8).filter(lambda t: flag_word(t) is None and t.strip().lower() not in _vocabulary),
)
@pytest.mark.slow
def test_anything_else_is_refused_by_name(words, odd):
    values = pd.Series([*words, odd], dtype=object)
    with pytest.raises(InputError) as err:
        parse_flags(values, column="有支部", source="compounds.xlsx")
    message = str(err.value)
    assert "\n" not in message and "compounds.xlsx" in message and "有支部" in message
    assert repr(odd) in message


@pytest.mark.parametrize("value", [2, 0.5, -1, "2", "maybe", "x", "待定"])
def test_numbers_and_words_that_are_not_flags(value):
    with pytest.raises(InputError, match="should say yes or no"):
        parse_flags(pd.Series([1, value], dtype=object), column="c", source="s")
