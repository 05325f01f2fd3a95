"""Encodings of Chinese shapefiles, CSV and XLSX ledgers, written by the tests as users' tools write them."""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.inputs import encoding as enc

NAMES = ["阳光小区", "攀枝花东区花园", "炳草岗·新村", "金沙江畔（二期）"]
STREETS = ["炳草岗街道", "大渡口街道", "东华街道", "弄弄坪街道"]


def _layer(names=NAMES) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": names, "街道": STREETS[: len(names)], "户数": [120, 340, 56, 78][: len(names)]},
        geometry=[shapely.Point(101.70 + i / 100, 26.55) for i in range(len(names))],
        crs="EPSG:4326",
    )


def _write_shp(tmp_path, name: str, encoding: str, *, keep_cpg: bool, names=NAMES):
    path = tmp_path / f"{name}.shp"
    pyogrio.write_dataframe(_layer(names), path, encoding=encoding)
    cpg = path.with_suffix(".cpg")
    if not keep_cpg:
        cpg.unlink(missing_ok=True)
    return path


def test_gbk_shapefile_without_cpg_reads_chinese(tmp_path):
    path = _write_shp(tmp_path, "compounds_gbk", "GBK", keep_cpg=False)
    assert not path.with_suffix(".cpg").exists()
    # what GDAL does on its own: mojibake (so this test can fail)
    naive = gpd.read_file(path)
    assert "名称" not in naive.columns or naive.iloc[0, 0] != NAMES[0]
    assert enc.shapefile_encoding(path) == "GB18030"
    gdf = enc.read_shapefile(path)
    assert list(gdf["名称"]) == NAMES
    assert list(gdf["街道"]) == STREETS
    assert list(gdf["户数"]) == [120, 340, 56, 78]
    assert enc.shapefile_encoding(path.with_suffix(".dbf")) == "GB18030"


def test_shapefile_without_dbf_is_refused_even_with_an_encoding(tmp_path):
    path = _write_shp(tmp_path, "no_dbf", "UTF-8", keep_cpg=False)
    path.with_suffix(".dbf").unlink()
    for encoding in (None, "gbk"):  # GDAL alone would read the shapes and lose ids and names
        with pytest.raises(InputError, match=r"no_dbf\.shp has no \.dbf attribute file"):
            enc.read_shapefile(path, encoding=encoding)


@pytest.mark.parametrize(("declared", "expected"), [("GBK", "GB18030"), ("936", "GB18030"), ("UTF-8", "UTF-8")])
def test_cpg_file_is_honoured(tmp_path, declared, expected):
    path = _write_shp(tmp_path, "with_cpg", "GBK" if expected == "GB18030" else "UTF-8", keep_cpg=False)
    path.with_suffix(".cpg").write_text(declared + "\n", encoding="ascii")
    assert enc.shapefile_encoding(path) == expected
    assert list(enc.read_shapefile(path)["名称"]) == NAMES


def test_cpg_wins_over_bytes(tmp_path):
    # UTF-8 bytes but a .cpg saying GBK: the declaration is trusted (users fix wrong .cpg files, not us)
    path = _write_shp(tmp_path, "lying", "UTF-8", keep_cpg=False)
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")
    assert enc.shapefile_encoding(path) == "GB18030"


def test_utf8_and_ascii_shapefiles_without_cpg(tmp_path):
    utf8 = _write_shp(tmp_path, "utf8", "UTF-8", keep_cpg=False)
    assert enc.shapefile_encoding(utf8) == "UTF-8"
    assert list(enc.read_shapefile(utf8)["名称"]) == NAMES
    ascii_layer = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(0, 0)] * 2, crs="EPSG:4326")
    p = tmp_path / "ascii.shp"
    pyogrio.write_dataframe(ascii_layer, p)
    p.with_suffix(".cpg").unlink(missing_ok=True)
    assert enc.shapefile_encoding(p) == "UTF-8"


def test_latin1_shapefile_falls_back_with_warning(tmp_path, caplog):
    layer = gpd.GeoDataFrame({"name": ["Café Zürich", "Straße"]}, geometry=[shapely.Point(0, 0)] * 2, crs=4326)
    p = tmp_path / "latin.shp"
    pyogrio.write_dataframe(layer, p, encoding="ISO-8859-1")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING, logger="lifecircle.geo.inputs.encoding"):
        assert enc.shapefile_encoding(p) == "ISO-8859-1"
    assert "cpg" in caplog.text
    assert list(enc.read_shapefile(p)["name"]) == ["Café Zürich", "Straße"]


def test_missing_dbf_is_input_error(tmp_path):
    p = tmp_path / "lonely.shp"
    p.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match=r"lonely\.shp.*\.dbf"):
        enc.shapefile_encoding(p)
    with pytest.raises(InputError, match="does not exist"):
        enc.read_shapefile(tmp_path / "nope.shp")


# ---- CSV ---------------------------------------------------------------------------------------------------

LEDGER = pd.DataFrame(
    {
        "名称": ["便民服务点一", "华润万家超市", "社区卫生服务站"],
        "类别": ["便民服务点", "超市", "卫生站"],
        "经度(GCJ02)": [101.71234, 101.72345, 101.73456],
        "纬度(GCJ02)": [26.55123, 26.56234, 26.57345],
    }
)


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("utf-16", "utf-16")],
)
def test_csv_encodings(tmp_path, codec, expected):
    p = tmp_path / f"ledger_{codec}.csv"
    LEDGER.to_csv(p, index=False, encoding=codec)
    assert enc.csv_encoding(p) == expected
    df = enc.read_csv_any(p)
    assert list(df.columns) == list(LEDGER.columns)  # no '\ufeff名称' from a BOM
    pd.testing.assert_frame_equal(df, LEDGER)


def test_gb18030_only_characters(tmp_path):
    # 䶮 (U+4DAE) is not in GBK but is in GB18030 (four-byte form)
    df = pd.DataFrame({"名称": ["刘䶮故居", "白马社区"], "x": [1, 2]})
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")
    p = tmp_path / "gb18030.csv"
    df.to_csv(p, index=False, encoding="gb18030")
    assert enc.csv_encoding(p) == "gb18030"
    pd.testing.assert_frame_equal(enc.read_csv_any(p), df)


def test_sample_cut_inside_a_character_is_not_an_error(tmp_path, monkeypatch):
    p = tmp_path / "cut.csv"
    p.write_text("名称\n阳光小区\n", encoding="utf-8")
    monkeypatch.setattr(enc, "_SAMPLE_BYTES", 5)  # cuts 称 (3 bytes, starting at byte 3) in half
    assert enc.csv_encoding(p) == "utf-8"


def test_csv_title_line_and_padded_headers(tmp_path):
    p = tmp_path / "titled.csv"
    text = "东区便民服务点台账（2024年）,,,\n 名称 ,类别,经度,纬度\u3000\n便民服务点一,便民服务点,101.7,26.5\n"
    p.write_bytes(text.encode("gbk"))
    df = enc.read_csv_any(p)
    assert list(df.columns) == ["名称", "类别", "经度", "纬度"]
    assert df.loc[0, "名称"] == "便民服务点一" and df.loc[0, "经度"] == pytest.approx(101.7)
    # an explicit header row overrides the detection
    assert enc.read_csv_any(p, header_row=0).columns[0] == "东区便民服务点台账（2024年）"


def test_binary_or_unknown_text_is_input_error(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("name\nCafé Zürich\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.csv.*neither UTF-8 nor GBK"):
        enc.csv_encoding(p)
    assert enc.read_csv_any(p, encoding="latin-1").iloc[0, 0] == "Café Zürich"
    with pytest.raises(InputError, match="does not exist"):
        enc.csv_encoding(tmp_path / "missing.csv")


def test_sniff_encoding_requires_chinese_text_for_gb18030():
    assert enc.sniff_encoding("阳光小区，东区。".encode("gbk")) == "GB18030"
    # valid GB18030 bytes that decode to Greek/Cyrillic rather than Chinese are not taken for GBK
    greek = "Αθήνα Μόσχα".replace("ή", "η").replace("ό", "ο")
    data = greek.encode("gb18030") + "Москва".encode("gb18030")
    assert data.decode("gb18030") and enc.sniff_encoding(data) is None
    assert enc.sniff_encoding(b"plain ascii") == "UTF-8"
    assert enc.sniff_encoding("名称".encode()) == "UTF-8"


# ---- XLSX ------------------------------------------------------------------------------------------------


def _xlsx(tmp_path, *, title: bool):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "说明"
    sheet.append(["本台账坐标为高德（GCJ-02）"])
    data = book.create_sheet("服务点台账")
    if title:
        data.append(["炳草岗街道便民服务点台账"])
        data.merge_cells("A1:D1")
    data.append(["名称 ", "类别", "经度", "纬度"])
    for row in LEDGER.itertuples(index=False):
        data.append(list(row))
    p = tmp_path / ("titled.xlsx" if title else "plain.xlsx")
    book.save(p)
    return p


def test_xlsx_ledger_with_chinese_headers(tmp_path):
    p = _xlsx(tmp_path, title=False)
    df = enc.read_ledger(p, sheet="服务点台账")
    assert list(df.columns) == ["名称", "类别", "经度", "纬度"]
    assert list(df["名称"]) == list(LEDGER["名称"])
    assert df["经度"].dtype.kind == "f"
    assert list(enc.read_ledger(p, sheet=1)["类别"]) == list(LEDGER["类别"])


def test_xlsx_title_row_is_skipped(tmp_path, caplog):
    p = _xlsx(tmp_path, title=True)
    with caplog.at_level(logging.INFO, logger="lifecircle.geo.inputs.encoding"):
        df = enc.read_ledger(p, sheet="服务点台账")
    assert list(df.columns) == ["名称", "类别", "经度", "纬度"] and len(df) == 3
    assert "title row" in caplog.text


def test_ledger_errors(tmp_path):
    p = _xlsx(tmp_path, title=False)
    with pytest.raises(InputError, match=r"no sheet '台账'.*说明, 服务点台账"):
        enc.read_ledger(p, sheet="台账")
    with pytest.raises(InputError, match=r"unsupported type '\.json'"):
        (tmp_path / "x.json").write_text("{}")
        enc.read_ledger(tmp_path / "x.json")
    with pytest.raises(InputError, match="does not exist"):
        enc.read_ledger(tmp_path / "nope.xlsx")


def test_ledger_csv_and_tsv_dispatch(tmp_path):
    p = tmp_path / "ledger.tsv"
    LEDGER.to_csv(p, sep="\t", index=False, encoding="gbk")
    got = enc.read_ledger(p)
    assert list(got.index) == list(range(2, 2 + len(LEDGER)))  # the rows a spreadsheet shows under its header
    pd.testing.assert_frame_equal(got.reset_index(drop=True), LEDGER)
