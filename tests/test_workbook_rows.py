"""The workbook's whole-column rows (:mod:`lifecircle.planning.workbook_rows`) write the same file as xlsxwriter's
cell-by-cell ``write_number``/``write_string``: every XML part equal, on awkward values and on random ones."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecircle.planning import workbook_rows
from lifecircle.planning.report_tables import Table
from lifecircle.planning.workbook import write_workbook

AWKWARD = [
    "plain", " leading", "trailing ", "\u3000全角空格", "a\nb", "tab\t", "ctl\x01\x1f", "_x0041_ literal", "&<>\"'",
    "=HYPERLINK(\"x\")", "00007", "", "名称", "\ufffe", "x" * 40_000, "é" * 20_000,
]  # fmt: skip


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {n: book.read(n) for n in book.namelist() if not n.startswith("docProps/")}


def _both(tmp_path: Path, tables: list[Table], monkeypatch, **kw) -> tuple[Path, Path]:
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    write_workbook(tables, fast, lang="en", **kw)
    with monkeypatch.context() as m:
        m.setattr(workbook_rows, "supported", lambda: False)
        write_workbook(tables, slow, lang="en", **kw)
    return fast, slow


def _awkward_table() -> Table:
    n = len(AWKWARD)
    frame = pd.DataFrame({
        "compound_id": AWKWARD,
        "name": [None, np.nan, pd.NA, pd.NaT, True, np.bool_(False), 3, 2.5, *AWKWARD[8:]],
        "households": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], dtype="Int64"),
        "share": [0.1 + 0.2, np.inf, -np.inf, np.nan, -0.0, 1e20, 1e-7, 123456789.123456789, 2**53 + 1, 0.5,
                  1 / 3, 7.0, 100.0, 1e15, -1e16, 0.0],
        "walk_min": pd.Series([1.5] * n, dtype=object).where(np.arange(n) % 3 != 0, "n/a"),  # text in a number column
        "big": np.array([10**17, -(10**15), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 999_999_999_999_999]),
        "empty": [np.nan] * n,
    })  # fmt: skip
    kinds = {"share": "percent", "walk_min": "minutes", "empty": "number"}
    return Table("compounds", "Compounds", frame, kinds=kinds)


def test_awkward_values_write_the_same_file(tmp_path, monkeypatch):
    fast, slow = _both(tmp_path, [_awkward_table()], monkeypatch)
    assert _parts(fast) == _parts(slow)
    sheet = openpyxl.load_workbook(fast)["Compounds"]
    assert sheet["A5"].value == "\u3000全角空格"
    assert sheet["D2"].number_format == "0.0%" and sheet["D3"].value is None  # infinite: no cell


def test_split_table_and_rows_without_cells(tmp_path, monkeypatch):
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, np.nan, np.nan], "b": ["x", None, "z", None, None]})
    tables = [Table("t", "T", frame), Table("u", "U", frame.iloc[:0])]
    fast, slow = _both(tmp_path, tables, monkeypatch, rows_per_sheet=2)
    assert _parts(fast) == _parts(slow)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.text(max_size=12), st.one_of(st.none(), st.floats(), st.integers(-(2**60), 2**60))),
        min_size=1,
        max_size=30,
    )
)
def test_random_columns_write_the_same_file(tmp_path_factory, monkeypatch, rows):
    tmp_path = tmp_path_factory.mktemp("rows")
    frame = pd.DataFrame({"text": [r[0] for r in rows], "mixed": pd.Series([r[1] for r in rows], dtype=object)})
    frame["float"] = pd.to_numeric(frame["mixed"], errors="coerce").astype(float)
    fast, slow = _both(tmp_path, [Table("t", "T", frame, kinds={"mixed": "number"})], monkeypatch)
    assert _parts(fast) == _parts(slow)


def test_the_whole_column_path_is_taken(tmp_path, monkeypatch):
    """Each sheet's rows are written as one block (no cell-by-cell write)."""
    frame = pd.DataFrame({"id": [f"C{i}" for i in range(2_000)], "x": np.arange(2_000) / 7})
    calls = []
    monkeypatch.setattr(workbook_rows, "write_rows", lambda *a, **k: calls.append(a) or None)
    write_workbook([Table("compounds", "Compounds", frame)], tmp_path / "w.xlsx", lang="en")
    assert len(calls) == 2  # the table and the notes sheet, each as one block
