"""A table's rows as the ``<row>`` XML xlsxwriter writes in constant-memory mode, built column by column.

xlsxwriter spends about 10 µs on each cell (checks, a tuple, attribute escaping, one ``write`` call), 20 s for a
100,000-compound workbook. The cells of a table column all share a kind and a format, so their XML is made here
for the whole column at once (pandas string operations) and written to the worksheet's row file in one piece:
exactly the elements xlsxwriter writes for the same values (``<c r="B7" s="3"><v>12</v></c>``, inline strings with
control characters as ``_xHHHH_``, ``xml:space="preserve"`` for leading or trailing whitespace, ``&<>`` escaped), so
the file is the same. It relies on xlsxwriter's constant-memory row file (``Worksheet.fh`` while rows are written,
``previous_row``, ``_write_single_row``, ``_check_dimensions``): :func:`supported` says whether the installed
xlsxwriter is one this was checked against; otherwise the workbook writes cell by cell as before.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import _utf16_len, xl_col_to_name

__all__ = ["supported", "write_rows"]

_CHECKED_MAJOR = 3
_CONTROL_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_NEEDS_CARE = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESCAPED_ANYWHERE = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")  # tab: the joint
_STRING_MAX = 32767


def supported() -> bool:
    """Whether the installed xlsxwriter writes rows the way :func:`rows_xml` renders them."""
    return int(xlsxwriter.__version__.split(".")[0]) == _CHECKED_MAJOR


def _escape_text(text: str) -> str:
    """One string as xlsxwriter escapes an inline string (control characters, then ``&<>``)."""
    text = _CONTROL_ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    preserve = bool(re.search(r"^\s", text) or re.search(r"\s$", text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ('<t xml:space="preserve">' if preserve else "<t>") + text + "</t>"


def _text_bodies(values: np.ndarray) -> np.ndarray:
    """``<t>...</t>`` of each string (object array), escaped only where a string needs it."""
    strings = pd.Series(values, dtype=object)
    long = strings.str.len() > _STRING_MAX // 2
    if long.any():  # xlsxwriter cuts strings past Excel's 32,767 UTF-16 units
        from xlsxwriter.utility import _utf16_truncate

        strings[long] = [s if _utf16_len(s) <= _STRING_MAX else _utf16_truncate(s, _STRING_MAX) for s in strings[long]]
    listed = strings.tolist()
    if _ESCAPED_ANYWHERE.search("\t".join(listed)):  # some string needs escaping: find which
        care = strings.str.contains(_NEEDS_CARE, regex=True).to_numpy(dtype=bool)
    else:  # none does: only leading or trailing whitespace (re's \s is str.isspace) asks for xml:space
        care = np.fromiter((v[:1].isspace() or v[-1:].isspace() for v in listed), bool, len(listed))
    bodies = np.array(list(map("<t>{}</t>".format, listed)), dtype=object)
    if care.any():
        bodies[care] = [_escape_text(s) for s in strings[care]]
    return bodies


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _classify(column: pd.Series, *, numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Which values are number cells and which text cells, as the workbook's cell writer decides: in a numeric
    column a finite number is a number cell (an infinite one no cell); missing values (None, NaN, pd.NA) no cell;
    anything else (NaT too) a text cell."""
    dtype = column.dtype
    if numeric and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        number = np.isfinite(column.to_numpy(dtype=float, na_value=np.nan))
        return number, np.zeros(len(column), dtype=bool)
    values = column.to_numpy(dtype=object)
    missing = column.isna().to_numpy(dtype=bool).copy()
    if missing.any():
        missing &= ~np.fromiter((v is pd.NaT for v in values), bool, len(values))
    number = np.zeros(len(values), dtype=bool)
    if numeric:
        candidate = ~missing & np.fromiter(map(_is_number, values), bool, len(values))
        infinite = np.zeros(len(values), dtype=bool)
        infinite[candidate] = ~np.isfinite(np.array([float(v) for v in values[candidate]], dtype=float))
        number = candidate & ~infinite
        missing |= infinite
    return number, ~missing & ~number


def _numbers(column: pd.Series, number: np.ndarray) -> np.ndarray:
    """The numbers as xlsxwriter writes them (``%.16G`` of the float)."""
    if pd.api.types.is_integer_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        ints = column.to_numpy()[number].astype(np.int64)
        if len(ints) == 0 or np.abs(ints).max() < 10**15:  # exact in a float and in 16 digits: the digits
            return ints.astype(str).astype(object)
    floats = column.to_numpy(dtype=object)[number]
    return np.array([f"{float(x):.16G}" for x in floats.tolist()], dtype=object)


def _cells(
    column: pd.Series,
    number: np.ndarray,
    text: np.ndarray,
    letter: str,
    rows: np.ndarray,
    formats: tuple[Format, Format],
) -> np.ndarray:
    """The ``<c>`` element of each value ("" where no cell is written); ``rows``: the sheet row numbers as text."""
    out = np.full(len(column), "", dtype=object)
    if number.any():
        cell = f'<c r="{letter}{{}}" s="{formats[0]._get_xf_index()}"><v>{{}}</v></c>'.format
        out[number] = list(map(cell, rows[number], _numbers(column, number)))
    if text.any():
        values = column.to_numpy(dtype=object)[text]
        strings = np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object)
        cell = f'<c r="{letter}{{}}" s="{formats[1]._get_xf_index()}" t="inlineStr"><is>{{}}</is></c>'.format
        out[text] = list(map(cell, rows[text], _text_bodies(strings)))
    return out


def write_rows(sheet, columns: list[tuple[pd.Series, bool, Format, Format]], first_row: int) -> None:
    """Write a block of rows below the header (already written) into a constant-memory worksheet, exactly as
    ``write_number``/``write_string`` cell by cell would.

    Parameters
    ----------
    sheet
        An xlsxwriter worksheet in constant-memory mode, nothing written below ``first_row - 1``.
    columns
        Per column: its values, whether it is numeric, its number Format and the text Format.
    first_row
        The 0-based sheet row of the first value.
    """
    n = len(columns[0][0]) if columns else 0
    if n == 0:
        return
    kinds = [_classify(values, numeric=numeric) for values, numeric, _, _ in columns]
    sheet._write_single_row(first_row)  # the header row goes out first, as when the first cell below it is written
    uses = []  # formats get their index in the order cells first use them (row by row, column by column)
    for col, ((_, _, fmt, text_fmt), (number, text)) in enumerate(zip(columns, kinds, strict=True)):
        for mask, used in ((number, fmt), (text, text_fmt)):
            if mask.any():
                uses.append((int(np.argmax(mask)), col, used))
    for _, _, used in sorted(uses, key=lambda u: (u[0], u[1])):
        used._get_xf_index()
    rows = (np.arange(first_row, first_row + n) + 1).astype(str).astype(object)
    grid = np.empty((n, len(columns) + 2), dtype=object)
    for col, ((values, _, fmt, text_fmt), (number, text)) in enumerate(zip(columns, kinds, strict=True)):
        grid[:, col + 1] = _cells(
            values, number, text, xl_col_to_name(col), rows, (fmt, text_fmt)
        )  # indexes given above
    has_cell = np.zeros(n, dtype=bool)
    for number, text in kinds:
        has_cell |= number | text
    if not has_cell.any():
        return
    grid[:, 0] = np.where(has_cell, '<row r="' + rows + '">', "")
    grid[:, -1] = np.where(has_cell, "</row>", "")
    sheet.fh.write("".join(grid.ravel().tolist()))
    last = int(np.flatnonzero(has_cell)[-1]) + first_row
    sheet._check_dimensions(last, 0)
    sheet.previous_row = last
