"""Ledgers as offices save them: semicolon CSV with decimal commas, and workbooks that unpack to gigabytes."""

from __future__ import annotations

import time
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecircle.errors import InputError
from lifecircle.geo.inputs.encoding import read_ledger
from lifecircle.geo.inputs.layers import read_services
from lifecircle.geo.inputs.sniff import MAX_XLSX_UNPACKED_BYTES, check_xlsx_size, csv_dialect

# ---- delimiter and decimal mark ---------------------------------------------------------------------------------

SEMICOLON = "名称;类别;经度;纬度\n学院路便民店;便民服务;116,35312;40,00021\n农大社区卫生站;医疗;116,35689;40,00457\n"


def test_semicolon_csv_with_decimal_commas(tmp_path):
    path = tmp_path / "台账.csv"
    path.write_text(SEMICOLON, encoding="gb18030")
    assert csv_dialect(path, encoding="gb18030") == (";", ",")
    table = read_ledger(path)
    assert list(table.columns) == ["名称", "类别", "经度", "纬度"]  # not a data row taken for the columns
    assert table["经度"].tolist() == [116.35312, 116.35689]
    services = read_services(path)
    assert services["category"].tolist() == ["便民服务", "医疗"]
    np.testing.assert_allclose(services.geometry.x, [116.35312, 116.35689])


def test_tab_and_comma_files_keep_their_decimal_point(tmp_path):
    comma = tmp_path / "a.csv"
    comma.write_text('name,lon,lat,note\nA,116.3,39.9,"1,5 km"\n', encoding="utf-8")
    assert csv_dialect(comma, encoding="utf-8") == (",", ".")
    tab = tmp_path / "b.txt"
    tab.write_text("name\tlon\tlat\nA\t116.3\t39.9\n", encoding="utf-8")
    assert csv_dialect(tab, encoding="utf-8") == ("\t", ".")
    assert read_ledger(tab)["lon"].tolist() == [116.3]


_names = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), st.sampled_from("AB ;,·()-")),
    min_size=1,
    max_size=10,
).filter(lambda t: t.strip() and t.strip() == t)
_ledger = st.lists(st.tuples(_names, st.floats(73.5, 134.5), st.floats(18.5, 53.5)), min_size=1, max_size=15).map(
    lambda rows: pd.DataFrame(rows, columns=["名称", "经度", "纬度"])
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    _ledger,
    st.sampled_from([(",", "."), (";", ","), (";", "."), ("\t", ".")]),
    st.sampled_from(["utf-8-sig", "gb18030", "utf-8"]),
    st.booleans(),
)
@pytest.mark.slow
def test_any_ledger_reads_back_as_written(tmp_path, df, dialect, encoding, title):
    sep, decimal = dialect
    path = tmp_path / "ledger.csv"
    text = df.to_csv(sep=sep, decimal=decimal, index=False, float_format="%.6f")
    path.write_text(("某街道便民服务点台账\n" if title else "") + text, encoding=encoding)
    got = read_services(path)
    assert got["name"].tolist() == df["名称"].tolist()
    np.testing.assert_allclose(got.geometry.x, df["经度"], atol=1e-6)
    np.testing.assert_allclose(got.geometry.y, df["纬度"], atol=1e-6)


# ---- XLSX unpacked size -------------------------------------------------------------------------------------------


def _bomb(path, unpacked_bytes: int) -> None:
    """A real workbook whose sheet XML repeats one row until it unpacks to ``unpacked_bytes``."""
    book = openpyxl.Workbook()
    book.active.append(["名称", "经度", "纬度"])
    book.active.append(["学院路便民店", 116.35, 40.0])
    plain = path.with_name("plain.xlsx")
    book.save(plain)
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head)
                for _ in range(unpacked_bytes // len(row) + 1):
                    out.write(row)
                out.write(b"</sheetData>" + tail)


@pytest.mark.slow
def test_workbook_that_unpacks_too_large_is_refused_at_once(tmp_path):
    path = tmp_path / "台账.xlsx"
    _bomb(path, MAX_XLSX_UNPACKED_BYTES + 2**20)
    assert path.stat().st_size < MAX_XLSX_UNPACKED_BYTES / 50
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"台账\.xlsx unpacks to 5\d\d MB") as err:
        read_services(path)
    assert time.perf_counter() - start < 5  # the directory alone is read, not the sheet
    assert "\n" not in str(err.value) and "CSV" in str(err.value)


def test_ordinary_workbook_is_read(tmp_path):
    path = tmp_path / "ok.xlsx"
    _bomb(path, 1_000)
    assert 0 < check_xlsx_size(path) < 2**20
    assert check_xlsx_size(tmp_path / "missing.xlsx") == 0
    with pytest.raises(InputError, match="unpacks"):
        check_xlsx_size(path, max_unpacked_bytes=1_000)
