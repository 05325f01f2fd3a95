"""What the map shows of capacity (供需) and opening hours (三延): an analysis's tables turned into the map's
:class:`~lifecircle.maps.beyond_layers.BeyondLayers` (crowded compounds, overloaded services, hours windows,
services whose hours are unknown)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from lifecircle import folder
from lifecircle.maps.beyond_layers import BeyondLayers
from lifecircle.planning.adequacy import category_norms, crowded_table
from lifecircle.planning.analysis import Analysis

__all__ = ["beyond_layers"]

ADEQUACY_TABLE = Path(folder.ADEQUACY.name).stem
HOURS_TABLE = Path(folder.COVERAGE_HOURS.name).stem


def beyond_layers(analysis: Analysis, tables: Mapping[str, pd.DataFrame]) -> BeyondLayers | None:
    """The map's capacity and opening-hours layers of an analysis (None when it measured neither).

    Parameters
    ----------
    analysis
        The analysis after :func:`~lifecircle.planning.adequacy.with_adequacy` and
        :func:`~lifecircle.planning.hours.with_hours`.
    tables
        The analysis folder's extra tables by name (``adequacy``, ``coverage_hours``).
    """
    parts: dict = {}
    ratios = tables.get(ADEQUACY_TABLE)
    norms = category_norms(analysis.summary)
    if ratios is not None and any(v is not None for v in norms.values()):
        judged = crowded_table(ratios, analysis.coverage.table, norms)
        parts["crowded"] = judged[judged["crowded"].fillna(False).astype(bool)][
            ["compound_id", "category", "access_ratio", "norm"]
        ]
    services = analysis.services
    if "overloaded" in services.columns:
        over = services[services["overloaded"].astype(bool)]
        parts["overloaded"] = over[["capacity", "demand_within", "load", "norm"]]
    hours = analysis.summary.get("opening_hours")
    hours = hours if isinstance(hours, dict) else {}
    profile = tables.get(HOURS_TABLE)
    if profile is not None and hours.get("windows"):
        parts["windows"] = profile
        parts["window_hours"] = dict(hours["windows"])
    unknown = _hours_unknown(services, hours)
    if unknown is not None:
        parts["hours_unknown"] = unknown
    return BeyondLayers(**parts) if parts else None


def _hours_unknown(services: pd.DataFrame, hours: dict) -> pd.Series | None:
    """Service id -> its hours text, for the services whose hours are unknown (blank or not understood)."""
    if "hours_known" in services.columns:
        unknown = ~services["hours_known"].fillna(False).astype(bool)
    elif "hours_state" in services.columns:
        unknown = services["hours_state"].astype(str) == "unknown"
    else:
        return None
    column = hours.get("column")
    text = services[column] if column in services.columns else pd.Series("", index=services.index)
    return text[unknown.to_numpy()].astype(object).where(text[unknown.to_numpy()].notna(), "")
