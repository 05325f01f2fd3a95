"""Text encodings of Chinese input files: Shapefile DBF, CSV and Excel ledgers.

Chinese shapefiles are often written in GBK (code page 936) without a ``.cpg`` file; GDAL then decodes them
as ISO-8859-1 and names come out as mojibake (``Ñô¹âÐ¡Çø`` for 阳光小区). CSV ledgers exported from
Excel on a Chinese Windows are GBK, others UTF-8 with or without BOM. This module works out the encoding from
the file itself:

- Shapefile: the ``.cpg`` file wins when present; otherwise the DBF bytes (field names and records) are
  tested: valid UTF-8 -> ``UTF-8``; valid GB18030 that decodes to Chinese text -> ``GB18030`` (a superset of
  GBK and GB2312); pure ASCII -> ``UTF-8``; anything else -> what the DBF language driver byte says, or
  ISO-8859-1 with a warning. Big5 (Taiwan) cannot be told from GBK by bytes alone: give it a ``.cpg``.
- CSV: a BOM decides (UTF-8-BOM, UTF-16); else UTF-8, else GB18030 (Chinese text), else an ``InputError``.
- XLSX stores Unicode; :func:`read_ledger` reads it with openpyxl, and finds the header row when a ledger
  starts with a title row (``XX街道便民服务点台账``).
- A CSV's delimiter and decimal mark (``;`` and ``116,3``) and an XLSX's unpacked size are checked first
  (:mod:`lifecircle.geo.inputs.sniff`).
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
import struct
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.sniff import check_xlsx_size, csv_dialect

logger = logging.getLogger(__name__)

__all__ = [
    "csv_encoding",
    "read_csv_any",
    "read_ledger",
    "read_shapefile",
    "shapefile_encoding",
    "sniff_encoding",
]

_SAMPLE_BYTES = 4 * 1024 * 1024
_HEADER_SCAN_ROWS = 20

# DBF language driver IDs (byte 29) of East Asian code pages -> codec name understood by Python and GDAL.
_LDID = {0x4D: "GB18030", 0x7A: "GB18030", 0x4F: "CP950", 0x78: "CP950", 0x4E: "CP949", 0x79: "CP949"}

_CPG_ALIASES = {
    "UTF8": "UTF-8",
    "UTF-8": "UTF-8",
    "65001": "UTF-8",
    "GBK": "GB18030",
    "GB2312": "GB18030",
    "GB18030": "GB18030",
    "CP936": "GB18030",
    "936": "GB18030",
    "ANSI936": "GB18030",
    "BIG5": "CP950",
    "950": "CP950",
    "88591": "ISO-8859-1",
    "ISO88591": "ISO-8859-1",
}

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _is_chinese_text(text: str) -> bool:
    """True when most non-ASCII characters of ``text`` are CJK ideographs or CJK/full-width punctuation."""
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return False
    return sum(bool(_CJK.match(c)) for c in non_ascii) >= 0.8 * len(non_ascii)


def _decodes(data: bytes, encoding: str) -> str | None:
    """Decode a prefix of a file strictly; a character cut at the end of the sample is not an error."""
    try:
        return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=False)
    except UnicodeDecodeError:
        return None


def sniff_encoding(data: bytes) -> str | None:
    """Guess the encoding of Chinese or ASCII text bytes.

    Parameters
    ----------
    data : bytes
        Raw bytes (a sample is enough).

    Returns
    -------
    str or None
        ``"UTF-8"`` for valid UTF-8 (including pure ASCII), ``"GB18030"`` for bytes that decode as
        GB18030/GBK to mostly Chinese characters, None otherwise.
    """
    if _decodes(data, "utf-8") is not None:
        return "UTF-8"
    text = _decodes(data, "gb18030")
    if text is not None and _is_chinese_text(text):
        return "GB18030"
    return None


def _normalise_codec(name: str) -> str | None:
    key = re.sub(r"[\s_\-]", "", name.strip().upper())
    key = key.removeprefix("ANSI") if key.startswith("ANSI") and key[4:].isdigit() else key
    if key in _CPG_ALIASES:
        return _CPG_ALIASES[key]
    candidate = f"CP{key}" if key.isdigit() else name.strip()
    try:
        codecs.lookup(candidate)
    except LookupError:
        return None
    return candidate


def _sidecar(path: Path, suffix: str) -> Path | None:
    for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if cand.exists():
            return cand
    return None


def _dbf_text_sample(dbf: Path) -> tuple[bytes, int]:
    """Field names and record bytes of a DBF (up to a sample size), and its language driver byte."""
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            raise InputError(f"{dbf} is not a valid dBASE file (too short).")
        header_len, record_len = struct.unpack("<HH", head[8:12])
        ldid = head[29]
        descriptors = fh.read(max(header_len - 32, 0))
        names = b" ".join(
            descriptors[i : i + 11].split(b"\x00", 1)[0]
            for i in range(0, len(descriptors) - 31, 32)
            if descriptors[i : i + 1] != b"\r"
        )
        records = fh.read(max(record_len, 1) * max(1, _SAMPLE_BYTES // max(record_len, 1)))
    return names + b" " + records, ldid


def shapefile_encoding(path: str | Path) -> str:
    """Return the text encoding of a shapefile's attribute table (DBF).

    Parameters
    ----------
    path : str or Path
        The ``.shp`` (or ``.dbf``) file.

    Returns
    -------
    str
        A codec name accepted by Python and by pyogrio/GDAL (``encoding=``): ``UTF-8``, ``GB18030``
        (for GBK/GB2312/CP936 files), ``CP950``, ``ISO-8859-1``, or the ``.cpg`` value.

    Raises
    ------
    InputError
        If the DBF file is missing or unreadable.
    """
    path = Path(path)
    cpg = _sidecar(path, ".cpg")
    if cpg is not None:
        declared = cpg.read_bytes().decode("ascii", errors="ignore").strip()
        codec = _normalise_codec(declared) if declared else None
        if codec is not None:
            logger.debug("%s: encoding %s from %s", path.name, codec, cpg.name)
            return codec
        logger.warning("%s: unknown encoding %r in %s; guessing from the data instead", path, declared, cpg.name)
    dbf = path if path.suffix.lower() == ".dbf" else _sidecar(path, ".dbf")
    if dbf is None:
        raise InputError(f"Shapefile {path} has no .dbf attribute file next to it.")
    sample, ldid = _dbf_text_sample(dbf)
    if all(b < 128 for b in sample):
        return _LDID.get(ldid, "UTF-8")
    sniffed = sniff_encoding(sample)
    if sniffed is not None:
        logger.info("%s: no .cpg file; attribute text looks %s", path.name, sniffed)
        return sniffed
    if ldid in _LDID:
        return _LDID[ldid]
    logger.warning(
        "%s: attribute text is neither UTF-8 nor GBK/GB18030 and there is no .cpg file; reading it as "
        "ISO-8859-1 (add a .cpg file naming the encoding if names look wrong)",
        path,
    )
    return "ISO-8859-1"


def read_shapefile(path: str | Path, *, encoding: str | None = None, **kwargs) -> gpd.GeoDataFrame:
    """Read a shapefile with its attribute encoding detected by :func:`shapefile_encoding`.

    Parameters
    ----------
    path : str or Path
        The ``.shp`` file.
    encoding : str, optional
        Force an encoding instead of detecting it.
    **kwargs
        Passed to :func:`geopandas.read_file` (pyogrio engine).

    Returns
    -------
    geopandas.GeoDataFrame
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Shapefile {path} does not exist.")
    if _sidecar(path, ".dbf") is None:  # GDAL would read the shapes alone, losing ids and names
        raise InputError(f"Shapefile {path} has no .dbf attribute file next to it.")
    enc = encoding or shapefile_encoding(path)
    return gpd.read_file(path, engine="pyogrio", encoding=enc, **kwargs)


def csv_encoding(path: str | Path) -> str:
    """Return the encoding of a CSV / text file: ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        A Python codec name suitable for :func:`pandas.read_csv`.

    Raises
    ------
    InputError
        If the file is missing or is neither UTF-8 nor GBK/GB18030 text.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(_SAMPLE_BYTES)
    except FileNotFoundError:
        raise InputError(f"Table {path} does not exist.") from None
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sniffed = sniff_encoding(data)
    if sniffed is None:
        raise InputError(
            f"Cannot tell the text encoding of {path}: it is neither UTF-8 nor GBK/GB18030; "
            "save it as UTF-8 CSV or pass encoding=..."
        )
    return sniffed.lower()


def _clean_columns(df: pd.DataFrame) -> pd.DataFrame:
    cols = [str(c).replace("\u3000", " ").strip() if isinstance(c, str) else c for c in df.columns]
    if cols != list(df.columns):
        df = df.copy()
        df.columns = cols
    return df


def _find_header_row(rows: list[list[object]]) -> int:
    """Number of leading title or blank rows (at most one filled cell) above a wider header row."""

    def n_filled(row: list[object]) -> int:
        return sum(v is not None and not (isinstance(v, float) and pd.isna(v)) and bool(str(v).strip()) for v in row)

    widths = [n_filled(r) for r in rows]
    if not widths or max(widths) < 2:
        return 0
    skip = 0
    while skip < len(widths) and widths[skip] <= 1:
        skip += 1
    return skip


def read_csv_any(path: str | Path, *, header_row: int | None = None, **kwargs) -> pd.DataFrame:
    """Read a CSV ledger in UTF-8, UTF-8 with BOM, UTF-16 or GBK/GB18030.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    header_row : int, optional
        0-based line of the header. By default leading title lines (at most one filled cell, common in
        exported ledgers) above a wider header are skipped with a log message.
    **kwargs
        Passed to :func:`pandas.read_csv` (``encoding=`` overrides detection, ``sep=`` etc.).

    Returns
    -------
    pandas.DataFrame
        Column names stripped of surrounding (also full-width) spaces.
    """
    path = Path(path)
    enc = kwargs.pop("encoding", None) or csv_encoding(path)
    if header_row is None and "header" not in kwargs and "skiprows" not in kwargs:
        header_row = _csv_header_row(path, {**kwargs, "encoding": enc})
    if header_row:
        kwargs["skiprows"] = header_row
    try:
        df = pd.read_csv(path, encoding=enc, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"Cannot read table {path}: {exc}") from None
    return _clean_columns(df)


def _csv_header_row(path: Path, kwargs: dict) -> int:
    """0-based line of a CSV's header, below any title lines (logged when some are skipped)."""
    enc = kwargs.get("encoding") or csv_encoding(path)
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    rows: list[list[object]] = []
    with path.open(encoding=enc, newline="") as fh:
        for row in csv.reader(fh, delimiter=sep if isinstance(sep, str) and len(sep) == 1 else ","):
            rows.append(list(row))
            if len(rows) >= _HEADER_SCAN_ROWS:
                break
    header_row = _find_header_row(rows)
    if header_row:
        logger.info("%s: skipping %d title line(s) above the header", path.name, header_row)
    return header_row


def read_ledger(
    path: str | Path, *, sheet: str | int | None = None, header_row: int | None = None, **kwargs
) -> pd.DataFrame:
    """Read a ledger table: CSV/TXT/TSV in any supported encoding, or an Excel workbook (XLSX/XLSM/XLS).

    Parameters
    ----------
    path : str or Path
        The file; the suffix decides the reader.
    sheet : str or int, optional
        Excel sheet name or 0-based index; the first sheet by default.
    header_row : int, optional
        0-based row of the header; by default leading title rows (at most one filled cell, e.g.
        a merged title) are skipped.
    **kwargs
        Passed to :func:`pandas.read_csv` or :func:`pandas.read_excel`.

    Returns
    -------
    pandas.DataFrame
        Column names stripped of surrounding (also full-width) spaces; indexed by the row number a
        spreadsheet shows (the first row under a header on row 1 is row 2), so messages name rows
        the way the user sees them.

    Raises
    ------
    InputError
        Missing file, unknown suffix, missing sheet or unreadable content.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Ledger {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        if suffix == ".tsv":
            kwargs.setdefault("sep", "\t")
        kwargs["encoding"] = kwargs.get("encoding") or csv_encoding(path)
        if "sep" not in kwargs and "delimiter" not in kwargs:  # 名称;经度;纬度 with 116,3: said by the file
            kwargs["sep"], decimal = csv_dialect(path, encoding=kwargs["encoding"])
            if decimal != ".":
                kwargs.setdefault("decimal", decimal)
        if header_row is None and "header" not in kwargs and "skiprows" not in kwargs:
            header_row = _csv_header_row(path, kwargs)
        return _number_rows(read_csv_any(path, header_row=header_row, **kwargs), header_row)
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        raise InputError(f"Ledger {path} has an unsupported type {suffix!r}; use .csv, .tsv, .xlsx or .xls.")
    sheet_name = 0 if sheet is None else sheet
    if suffix in (".xlsx", ".xlsm"):
        check_xlsx_size(path)  # before openpyxl unpacks a zip bomb into memory
    try:
        with pd.ExcelFile(path) as book:
            if isinstance(sheet_name, str) and sheet_name not in book.sheet_names:
                raise InputError(
                    f"Ledger {path} has no sheet {sheet_name!r}; its sheets are {', '.join(book.sheet_names)}."
                )
            if header_row is None and "header" not in kwargs and "skiprows" not in kwargs:
                head = pd.read_excel(book, sheet_name=sheet_name, header=None, nrows=_HEADER_SCAN_ROWS)
                header_row = _find_header_row(head.astype(object).where(head.notna(), None).values.tolist())
                if header_row:
                    logger.info("%s: skipping %d title row(s) above the header", path.name, header_row)
            if header_row:
                kwargs["skiprows"] = header_row
            df = pd.read_excel(book, sheet_name=sheet_name, **kwargs)
    except InputError:
        raise
    except (ValueError, IndexError, OSError) as exc:
        if "format cannot be determined" in str(exc) or path.stat().st_size == 0:
            raise InputError(
                f"Ledger {path} is not an Excel workbook: it is empty, damaged, or another format named {suffix}."
            ) from None
        raise InputError(f"Cannot read ledger {path}: {exc}") from None
    return _number_rows(_clean_columns(df), header_row)


def _number_rows(df: pd.DataFrame, header_row: int | None) -> pd.DataFrame:
    """Index data rows by their 1-based row number in the file, the header being on ``header_row`` (0-based)."""
    first = (header_row or 0) + 2
    return df.set_axis(pd.RangeIndex(first, first + len(df)), axis=0)
