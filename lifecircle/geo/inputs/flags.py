"""Yes/no columns of ledgers (有支部, 是否封闭...): every way offices write them, and nothing read wrongly in silence.

Spreadsheets store a flag as a boolean, as 1/0 (an integer column, or a float column 1.0/0.0 once one cell is
empty), or as words: 是/否, 有/无, 有支部/无支部, ✓/✗, true/false, yes/no. :func:`parse_flags` reads all of these;
an empty cell is missing (NA), and any other value is an :class:`~lifecircle.errors.InputError` that lists the
values it did not understand, so a column of ``有支部`` is never counted as "no".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable

import numpy as np
import pandas as pd

from lifecircle.errors import InputError

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "flag_word", "parse_flags"]

#: Words read as yes (compared after NFKC normalisation, trimming and lower-casing).
TRUE_WORDS = frozenset(
    {"1", "1.0", "true", "t", "yes", "y", "是", "有", "有支部", "已建", "已成立", "√", "✓", "✔", "☑", "●", "对"}
)
#: Words read as no.
FALSE_WORDS = frozenset(
    {"0", "0.0", "false", "f", "no", "n", "否", "无", "無", "没有", "暂无", "无支部", "未建", "未成立"}
    | {"✗", "✘", "×", "☐", "○"}
)
_EMPTY_WORDS = frozenset({"", "nan", "none", "null", "<na>", "nat"})


def _key(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


def flag_word(value: object) -> bool | None:
    """``True``/``False`` for a yes/no word or number, None for anything else (also empty cells).

    Parameters
    ----------
    value : object
        One cell.

    Returns
    -------
    bool or None
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and not pd.isna(value):
        return {1.0: True, 0.0: False}.get(float(value))
    key = _key(value)
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    return None


def _is_empty(values: pd.Series) -> pd.Series:
    empty = values.isna()
    text = values[~empty]
    if len(text):
        empty[~empty] = text.map(lambda v: isinstance(v, str) and _key(v) in _EMPTY_WORDS)
    return empty


def parse_flags(values: pd.Series, *, column: Hashable, source: str) -> pd.Series:
    """Read a yes/no column.

    Parameters
    ----------
    values : pandas.Series
        The column, of any dtype: bool, (nullable) integer or float, or text.
    column : hashable
        Its name, for the message.
    source : str
        The file or layer, for the message.

    Returns
    -------
    pandas.Series
        Nullable ``boolean`` with the same index; empty cells are NA.

    Raises
    ------
    InputError
        Some filled cells are neither yes nor no (for example ``2``, ``maybe``); the message lists them.
    """
    empty = _is_empty(values)
    out = pd.Series(pd.NA, index=values.index, dtype="boolean", name=values.name)
    filled = values[~empty]
    parsed = filled.map(flag_word)
    unknown = parsed.isna()
    if unknown.any():
        bad = filled[unknown]
        shown = ", ".join(repr(v) for v in pd.unique(bad.astype(str))[:8])
        rows = ", ".join(map(str, bad.index[:5]))
        raise InputError(
            f"{source}: column {column!r} should say yes or no, but {int(unknown.sum())} cells hold other values "
            f"({shown}; rows {rows}); use 是/否, 有/无, 1/0, ✓/✗, true/false or yes/no."
        )
    out[~empty] = parsed.astype(bool).to_numpy()
    return out
