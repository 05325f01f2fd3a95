"""``report.xlsx``: the report's tables as sheets an office opens, filters and prints.

Every sheet has a frozen, filtered header row and column widths that fit Chinese text; counts, minutes and
shares are number cells with formats (a share is a percentage cell, 83.8 %); every text cell is written as
text, so a name or id such as ``=HYPERLINK(...)`` or ``00007`` stays exactly what it is, never a formula or
a number. A table longer than Excel's row limit is split over several sheets, or left out with a note when
it would need more than :data:`MAX_PARTS` of them: the workbook is always written. Rows are streamed
(xlsxwriter's constant-memory mode), so memory does not grow with the number of cells.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from lifecircle.cells import display_width
from lifecircle.planning import workbook_rows
from lifecircle.planning.report_labels import t
from lifecircle.planning.report_tables import Table

log = logging.getLogger(__name__)

__all__ = ["EXCEL_MAX_ROWS", "MAX_PARTS", "write_workbook"]

EXCEL_MAX_ROWS = 1_048_576
"""Rows in one Excel sheet, the header included."""
MAX_PARTS = 4
"""A table needing more sheets than this is left out of the workbook (its CSV holds it)."""
WIDTH_SAMPLE_ROWS = 2000
MAX_WIDTH = 60
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_FORMATS = {
    "text": {"num_format": "@"},
    "int": {"num_format": "#,##0"},
    "number": {"num_format": "#,##0.00"},
    "minutes": {"num_format": "0.0"},
    "percent": {"num_format": "0.0%"},
}


@dataclass(frozen=True)
class _Part:
    table: Table
    name: str
    start: int
    stop: int


def _sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", title).strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _plan(tables: Sequence[Table], *, rows_per_sheet: int, lang: str) -> tuple[list[_Part], list[str]]:
    """Which rows of which table go to which sheet, and the notes saying what was split or left out."""
    parts: list[_Part] = []
    notes: list[str] = []
    taken: set[str] = set()
    for table in tables:
        n = len(table.frame)
        count = max(1, math.ceil(n / rows_per_sheet))
        if count > MAX_PARTS:
            notes.append(t("note_left_out", lang, sheet=table.title, rows=f"{n:,}", file=table.source or "CSV"))
            log.warning("table %s (%d rows) is left out of the workbook", table.key, n)
            continue
        names = [_sheet_name(table.title if i == 0 else f"{table.title} ({i + 1})", taken) for i in range(count)]
        parts += [_Part(table, name, i * rows_per_sheet, min(n, (i + 1) * rows_per_sheet)) for i, name in
                  enumerate(names)]  # fmt: skip
        if count > 1:
            sep = "、" if lang == "zh" else ", "
            notes.append(t("note_split", lang, sheet=table.title, n=count, sheets=sep.join(names)))
    return parts, notes


def _widths(table: Table, start: int, stop: int) -> list[float]:
    """Column widths (in characters) that fit the header and the first rows, wide characters counting two."""
    widths = []
    sample = table.frame.iloc[start : min(stop, start + WIDTH_SAMPLE_ROWS)]
    for column in table.frame.columns:
        kind = table.kind(column)
        head = display_width(column)
        if kind == "text":
            texts = [str(v) for v in sample[column].dropna().unique()]
            body = max((len(v) if v.isascii() else display_width(v) for v in texts), default=0)
        else:
            body = 10
        widths.append(min(MAX_WIDTH, max(6, head + 2 if head <= 24 else 14, body + 2)))
    return widths


def _writer(sheet, kind: str, fmt, text_fmt):
    """A function writing one cell of ``kind``: numbers as number cells, everything else as text cells."""

    def write(row: int, col: int, value) -> None:
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return
        if (
            kind != "text"
            and isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_))
        ):
            number = float(value)
            if math.isfinite(number):
                sheet.write_number(row, col, number, fmt)
            return
        sheet.write_string(row, col, str(value), text_fmt)

    return write


def _write_part(book, part: _Part, formats: dict, header_fmt) -> None:
    table = part.table
    sheet = book.add_worksheet(part.name)
    columns = list(table.frame.columns)
    for col, width in enumerate(_widths(table, part.start, part.stop)):
        sheet.set_column(col, col, width)
    frozen_cols = 2 if table.key == "compounds" and len(columns) > 2 else 0
    sheet.freeze_panes(1, frozen_cols)
    sheet.set_row(0, None, header_fmt)
    for col, name in enumerate(columns):
        sheet.write_string(0, col, str(name), header_fmt)
    nrows = part.stop - part.start
    if columns:
        sheet.autofilter(0, 0, max(nrows, 1), len(columns) - 1)
    block = table.frame.iloc[part.start : part.stop]
    if workbook_rows.supported() and block.columns.is_unique:  # whole columns at once, the same cells
        kinds = [table.kind(c) for c in columns]
        workbook_rows.write_rows(
            sheet,
            [(block.iloc[:, i], k != "text", formats[k], formats["text"]) for i, k in enumerate(kinds)],
            first_row=1,
        )
        return
    writers = [_writer(sheet, table.kind(c), formats[table.kind(c)], formats["text"]) for c in columns]
    values = [block[c].to_numpy(dtype=object) for c in columns]
    for i in range(nrows):
        row = i + 1
        for col, write in enumerate(writers):
            write(row, col, values[col][i])


def write_workbook(
    tables: Sequence[Table], path: str | Path, *, lang: str, rows_per_sheet: int = EXCEL_MAX_ROWS - 1
) -> list[str]:
    """Write ``tables`` as the sheets of an XLSX workbook (a notes sheet last when something was split or left out).

    Parameters
    ----------
    tables
        The report's tables (:func:`~lifecircle.planning.report_tables.report_tables`), in sheet order.
    path
        The ``.xlsx`` file to write.
    lang
        ``zh`` or ``en``: the notes sheet's language.
    rows_per_sheet
        Data rows in one sheet (Excel's limit less the header).

    Returns
    -------
    list of str
        The notes written to the notes sheet.
    """
    path = Path(path)
    parts, notes = _plan(tables, rows_per_sheet=rows_per_sheet, lang=lang)
    if any(table.key == "compounds" for table in tables):
        notes.append(t("note_long_table", lang))
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "tmpdir": str(path.parent),
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        formats = {kind: book.add_format(spec) for kind, spec in _FORMATS.items()}
        header_fmt = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8F1E8",
                                      "bottom": 1, "num_format": "@"})  # fmt: skip
        for part in parts:
            _write_part(book, part, formats, header_fmt)
        if notes:
            note_table = Table("notes", t("sheet_notes", lang), pd.DataFrame({t("note", lang): notes}))
            _write_part(book, _Part(note_table, _sheet_name(note_table.title, {p.name.lower() for p in parts}), 0,
                                    len(notes)), formats, header_fmt)  # fmt: skip
    log.debug("workbook %s written (%d sheets)", path.name, len(parts) + bool(notes))  # the stage: no folder
    return notes
