"""The report an office hands around: ``report.html`` (one file, map and charts inside) and ``report.xlsx``.

Both are built from the files of an output folder (:mod:`lifecircle.planning.report_data`), so a report can be
regenerated at any time with ``lifecircle report OUT_DIR``. The tables (:mod:`~lifecircle.planning.report_tables`)
are in the run's language and feed the page (:mod:`~lifecircle.planning.report_html`) and the workbook
(:mod:`~lifecircle.planning.workbook`) alike; words come from :data:`REPORT_LABELS`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.planning.report_data import load_coverage, load_report_data, load_summary
from lifecircle.planning.report_html import charts, embedded_map, report_page
from lifecircle.planning.report_labels import REPORT_LABELS, check_lang
from lifecircle.planning.report_notes import notes_in
from lifecircle.planning.report_sheets import with_beyond_sheets
from lifecircle.planning.report_tables import report_tables
from lifecircle.planning.workbook import write_workbook

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = [
    "REPORT_LABELS",
    "ReportPictures",
    "folder_pictures",
    "regenerate_report",
    "report_language",
    "report_pictures",
    "write_report",
]

REPORT_FILES = (folder.REPORT_HTML.name, folder.REPORT_XLSX.name)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def report_language(summary: dict) -> str:
    """The run's language: as recorded in ``summary.json``, else Chinese when the names are Chinese."""
    if summary.get("lang") in ("zh", "en"):
        return summary["lang"]
    rollups = summary.get("rollups", {})
    names = [str(r.get("worst_compound_name", "")) for rows in (rollups.values() if isinstance(rollups, dict) else [])
             for r in (rows if isinstance(rows, list) else []) if isinstance(r, dict)]  # fmt: skip
    text = " ".join(map(str, summary.get("categories", {}) or {})) + " ".join(names)
    return "zh" if _CJK.search(text) else "en"


@dataclass(frozen=True)
class ReportPictures:
    """The report's pictures, drawn from an output folder's tables and layers (never from ``map.html``).

    Attributes
    ----------
    charts
        (title, base64 PNG) of each chart.
    print_map
        The map as a PNG picture for print (None: the report has no map).
    """

    charts: list[tuple[str, str]]
    print_map: bytes | None


def report_pictures(
    summary: dict, coverage: pd.DataFrame | None, lang: str, *, map_folder: Path | None
) -> ReportPictures:
    """The charts, and the print picture of the map drawn from the layers in ``map_folder`` (None: no map)."""
    from lifecircle.maps.print_map import print_map_png

    return ReportPictures(charts(summary, coverage, lang), None if map_folder is None else print_map_png(map_folder))


def folder_pictures(out_dir: str | Path, *, lang: str | None = None, with_map: bool = True) -> ReportPictures:
    """:func:`report_pictures` of an output folder whose tables and layers are written (its map may be still to
    come): what :func:`write_report` draws, to draw while the map is written."""
    dirs = [Path(out_dir)]
    summary = load_summary(dirs)
    lang = check_lang(lang or report_language(summary))
    coverage = load_coverage(dirs)  # the charts need no other table
    return report_pictures(summary, coverage, lang, map_folder=Path(out_dir) if with_map else None)


def write_report(
    out_dir: str | Path,
    *,
    lang: str | None = None,
    source_dirs: Sequence[str | Path] = (),
    pictures: Callable[[], ReportPictures] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.xlsx`` into ``out_dir`` from the result files found there.

    Parameters
    ----------
    out_dir
        The folder to write into; also the first place to look for ``summary.json`` and the other files.
    lang
        ``zh`` or ``en``; by default the language of the analysis (Chinese when names are Chinese).
    source_dirs
        Further folders to read from (e.g. the final output folder while writing into a staging folder, so an
        earlier ``sites.csv`` is included).
    pictures
        Gives the pictures (:func:`folder_pictures` of ``out_dir``, with a map exactly when the folder holds one,
        drawn elsewhere meanwhile): asked for once the workbook is written. None: they are drawn here.

    Returns
    -------
    (html_path, xlsx_path)

    Raises
    ------
    InputError
        No ``summary.json`` found, a damaged result table, or an unknown language.
    """
    out_dir = Path(out_dir)
    dirs = [out_dir, *map(Path, source_dirs)]
    summary = load_summary(dirs)
    lang = check_lang(lang or report_language(summary))
    data = load_report_data(dirs)
    notes = notes_in(list(summary.get("data_quality", []) or []), lang)
    tables = report_tables(data, lang, notes=notes)
    if data.map_path is None:
        log.info("report.html has no map: the folder holds no map.html (written with --no-map)")
    xlsx_path = out_dir / folder.REPORT_XLSX.name
    write_workbook(with_beyond_sheets(tables, data, dirs, lang), xlsx_path, lang=lang)  # + capacity, hours sheets
    if pictures is None:
        map_folder = None if data.map_path is None else data.map_path.parent
        drawn = report_pictures(summary, data.coverage, lang, map_folder=map_folder)
    else:
        drawn = pictures()
    page = report_page(
        summary,
        tables,
        drawn.charts,
        lang=lang,
        map_html=embedded_map(data.map_path, lang, still=drawn.print_map) if data.map_path is not None else None,
        notes=notes,
    )
    html_path = out_dir / folder.REPORT_HTML.name
    html_path.write_text(page, encoding="utf-8")
    log.info("wrote %s and %s", html_path.name, xlsx_path.name)  # often in a stage folder: names only
    return html_path, xlsx_path


def regenerate_report(out_dir: str | Path, *, lang: str | None = None) -> tuple[Path, Path]:
    """Rewrite ``report.html`` and ``report.xlsx`` of an existing output folder (both or neither).

    Raises
    ------
    InputError
        The folder does not exist, holds no ``summary.json``, misses the ``coverage.csv`` of its analysis,
        or holds a damaged result table.
    """
    from lifecircle.planning.outputs import staged_directory

    out_dir = Path(out_dir)
    folder.require_complete(out_dir)  # never a report of a mix of two runs
    if not (out_dir / folder.SUMMARY.name).is_file():
        raise InputError(f"{out_dir} holds no summary.json: run `lifecircle analyze` or `lifecircle run` first.")
    if "categories" in load_summary([out_dir]) and not (out_dir / folder.COVERAGE.name).is_file():
        raise InputError(f"{out_dir} holds no coverage.csv: the analysis is incomplete; run it again.")
    with staged_directory(out_dir, job="report") as stage:
        try:
            write_report(stage, lang=lang, source_dirs=[out_dir])
        except InputError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a summary.json edited by hand
            log.debug("report of %s failed", out_dir, exc_info=True)
            raise InputError(
                f"{out_dir / 'summary.json'} is not a summary lifecircle wrote (or was edited): "
                f"{type(exc).__name__}: {exc}; run the analysis again."
            ) from None
    return out_dir / folder.REPORT_HTML.name, out_dir / folder.REPORT_XLSX.name
