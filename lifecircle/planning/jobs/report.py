"""The report job (``lifecircle report``): write ``report.html`` and ``report.xlsx`` of an analysis folder again."""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_report"]


def run_report(out_dir: str | Path, *, lang: str | None = None) -> tuple[Path, Path]:
    """(Re)write the report of an analysis folder, in ``lang`` (default: that of the analysis)."""
    from lifecircle.planning.report import regenerate_report

    return regenerate_report(out_dir, lang=lang)
