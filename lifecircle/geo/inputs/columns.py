"""Column names planners use for the same thing, and finding them in a layer (case and spaces ignored)."""

from __future__ import annotations

import pandas as pd

HOUSEHOLD_COLUMNS = ("households", "户数", "住户数", "总户数")
POPULATION_COLUMNS = ("population", "人口", "常住人口", "人数", "居民人数")


def find_column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first column of ``df`` whose name (case-insensitive, trimmed) is one of ``names``, else None."""
    by_lower = {str(c).strip().lower(): c for c in df.columns}
    return next((by_lower[n] for n in names if n in by_lower), None)
