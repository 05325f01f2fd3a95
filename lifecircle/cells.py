"""Table cells that stay data in a spreadsheet: no formula from data, ids kept as text, widths that fit Chinese.

Spreadsheet programs run a CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return
before one) as a formula. Following OWASP's advice on CSV injection, :func:`inert_frame` prefixes such text
cells with a single quote when a CSV is written, and :func:`restore_frame` takes exactly that quote off when
lifecircle reads its own CSV back, so ids and names round-trip unchanged. Plain numbers in text (``-12``,
``+3.5``) are not formulas and stay as they are. XLSX cells need no quote: they are written as text cells.

This module imports no other part of lifecircle, so the folder writers, the report and the published site
share one rule.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = [
    "FORMULA_START",
    "display_width",
    "inert_frame",
    "inert_text",
    "is_formula_like",
    "restore_frame",
    "restore_text",
]

FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTE = "'"


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (or a quote-escaped one, so escaping round-trips).

    ``"=1+2"``, ``"@SUM(A1)"``, ``"\\t=cmd"`` and ``"'=1"`` are; ``"-12"``, ``"+3.5"``, ``"名称"`` and ``""``
    are not.
    """
    if not text:
        return False
    if text[0] == _QUOTE:
        return is_formula_like(text[1:])
    return text[0] in FORMULA_START and not _NUMBER.fullmatch(text)


def inert_text(text: str) -> str:
    """``text`` with a leading single quote when a spreadsheet would run it as a formula."""
    return _QUOTE + text if is_formula_like(text) else text


def restore_text(text: str) -> str:
    """The original of :func:`inert_text` (the one quote it added taken off)."""
    return text[1:] if text[:1] == _QUOTE and is_formula_like(text[1:]) else text


def _has_text(values: pd.Series) -> bool:
    try:
        return bool(values.str.len().notna().any())
    except AttributeError:  # an object column without any text
        return False


def _map_text(frame: pd.DataFrame, func) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [func(c) if isinstance(c, str) else c for c in out.columns]
    for i in range(out.shape[1]):  # by position: repeated column names stay apart
        values = out.iloc[:, i]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        if not _has_text(values):
            continue
        candidates = values.str[:1].isin([*FORMULA_START, _QUOTE]).to_numpy(dtype=bool)  # few cells ever are
        if candidates.any():
            changed = values[candidates].map(lambda v: func(v) if isinstance(v, str) else v)
            out.isetitem(i, values.astype(object).where(~candidates, changed).astype(values.dtype))
    return out


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers cannot run as formulas in a spreadsheet (for CSV)."""
    return _map_text(frame, inert_text)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV written through :func:`inert_frame`, read back: the quotes it added are taken off."""
    return _map_text(frame, restore_text)


def display_width(text: object) -> int:
    """Columns ``text`` takes in a fixed-width font or a spreadsheet: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
