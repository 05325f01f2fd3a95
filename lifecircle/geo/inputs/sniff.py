"""What a ledger file is before it is read: a CSV's delimiter and decimal mark, an XLSX's unpacked size.

- CSV exported by a European-locale Excel uses ``;`` between fields and ``,`` as the decimal mark
  (``116,3;39,9``); read with ``,`` its header becomes one column and its data rows the "columns".
  :func:`csv_dialect` counts fields per line for ``,``, ``;``, tab and ``|`` and takes the delimiter that splits the
  lines most consistently into most fields; with ``;`` or tab, numbers written ``116,3`` (and none ``116.3``) mean
  a decimal comma.
- An XLSX is a zip archive: a 1.5 MB file may unpack to gigabytes of sheet XML that openpyxl holds in memory.
  :func:`check_xlsx_size` reads the archive's directory and refuses a workbook that unpacks to more than
  :data:`MAX_XLSX_UNPACKED_BYTES` (``zipfile`` never inflates a member past the size its directory declares,
  so the declared total bounds what is read).
"""

from __future__ import annotations

import csv
import logging
import re
import zipfile
from collections import Counter
from pathlib import Path

from lifecircle.errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["MAX_XLSX_UNPACKED_BYTES", "check_xlsx_size", "csv_dialect"]

#: Largest total unpacked size of an XLSX workbook that is read (a ledger of ~200,000 rows fits well within).
MAX_XLSX_UNPACKED_BYTES = 512 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_LINES = 50
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[+-]?\d+\.\d+\s*$")


def _rows(lines: list[str], delimiter: str) -> list[list[str]]:
    return [row for row in csv.reader(lines, delimiter=delimiter) if any(cell.strip() for cell in row)]


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    """(share of lines with the most common field count, that count) — title lines aside."""
    counts = Counter(len(row) for row in rows)
    width, n = counts.most_common(1)[0] if counts else (1, 0)
    return (n / len(rows) if rows else 0.0), width


def csv_dialect(path: str | Path, *, encoding: str) -> tuple[str, str]:
    """The delimiter and decimal mark of a CSV ledger.

    Parameters
    ----------
    path : str or Path
        The file.
    encoding : str
        Its text encoding (:func:`lifecircle.geo.inputs.encoding.csv_encoding`).

    Returns
    -------
    (str, str)
        ``(delimiter, decimal)``: delimiter one of ``,``, ``;``, tab, ``|``; decimal ``.`` or ``,``.
    """
    with Path(path).open(encoding=encoding, newline="", errors="replace") as fh:
        lines = [line for _, line in zip(range(_SNIFF_LINES), fh, strict=False)]
    best, best_key = ",", (0.0, 1)
    for delimiter in _DELIMITERS:
        share, width = _consistency(_rows(lines, delimiter))
        if width >= 2 and (share, width) > best_key:
            best, best_key = delimiter, (share, width)
    decimal = "."
    if best != ",":
        cells = [cell for row in _rows(lines, best)[1:] for cell in row]
        if any(_DECIMAL_COMMA.match(c) for c in cells) and not any(_DECIMAL_POINT.match(c) for c in cells):
            decimal = ","
    if (best, decimal) != (",", "."):
        logger.info("%s: fields separated by %r, decimal mark %r", Path(path).name, best, decimal)
    return best, decimal


def check_xlsx_size(path: str | Path, *, max_unpacked_bytes: int = MAX_XLSX_UNPACKED_BYTES) -> int:
    """Refuse an XLSX/XLSM workbook that unpacks to more than ``max_unpacked_bytes``.

    Parameters
    ----------
    path : str or Path
        The workbook.
    max_unpacked_bytes : int, optional
        The bound.

    Returns
    -------
    int
        The unpacked size in bytes (0 when the file is no zip archive: the reader then says what it is).

    Raises
    ------
    InputError
        The workbook unpacks to more than the bound.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0
    if unpacked > max_unpacked_bytes:
        raise InputError(
            f"Ledger {path.name} unpacks to {unpacked / 2**20:,.0f} MB (from {path.stat().st_size / 2**20:,.1f} MB), "
            f"more than the {max_unpacked_bytes / 2**20:,.0f} MB lifecircle reads from a workbook: it is damaged "
            "or built to exhaust memory; save the sheet as CSV (or split it) and give that file."
        )
    return unpacked
