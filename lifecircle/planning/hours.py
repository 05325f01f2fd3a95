"""Opening hours in an analysis (三延): coverage at a moment (``--at``, only open services count) or, without it,
each compound's covered hours of the week (``coverage_hours.csv``).

Services whose hours are blank or not understood are *hours unknown*: kept (they count as open), listed in
``summary.json`` and in ``services.gpkg``'s ``hours_state``; never silently open or closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.geo.inputs.columns import find_column
from lifecircle.geo.inputs.hours import HOURS_COLUMNS, ServiceHours, parse_moment, read_hours, week_moments
from lifecircle.geo.reach.coverage import ALL
from lifecircle.planning.analysis import Analysis

log = logging.getLogger(__name__)

__all__ = [
    "HoursOptions",
    "MomentServices",
    "hours_profile",
    "service_hours",
    "services_at",
    "with_closed_services",
    "with_hours",
]

EXAMPLE_IDS = 20
WINDOWS: dict[str, tuple[range, int, int]] = {
    "weekday_day": (range(5), 8, 18),
    "weekday_evening": (range(5), 18, 21),
    "weekend": (range(5, 7), 8, 21),
}
"""The windows of the week the map and the workbook show: days (0 = Monday), first hour, hour after the last.
Weekday daytime Mo-Fr 08:00-18:00 (50 h), weekday evening Mo-Fr 18:00-21:00 (15 h, 延时服务), weekend Sa-Su
08:00-21:00 (26 h)."""
PROFILE_COLUMNS = (
    "compound_id", "category", "hours_covered", "hours_covered_known",
    *(f"{name}_h" for name in WINDOWS), *(f"{name}_h_known" for name in WINDOWS),
)  # fmt: skip


@dataclass(frozen=True)
class HoursOptions:
    """Opening hours options (``--hours-column``, ``--at``; the study file's ``[hours]`` table).

    Attributes
    ----------
    column
        The services' hours column (None: ``opening_hours``, ``营业时间``... when present).
    at
        A moment (``Sa 20:00``, ``周六 20:00``, ``2026-12-05 20:00``): coverage with only the services open then.
    """

    column: str | None = None
    at: str | None = None


@dataclass(frozen=True, eq=False)
class MomentServices:
    """The services at a moment: those that count (open or hours unknown), every state, and the summary entry."""

    counted: gpd.GeoDataFrame
    states: pd.Series
    summary: dict


def service_hours(services: pd.DataFrame, options: HoursOptions) -> ServiceHours | None:
    """The services' hours (the given column, else one found by name); None when there is none."""
    column = options.column or find_column(services, HOURS_COLUMNS)
    if column is None:
        if options.at is not None:
            raise InputError(
                f"--at needs the services' opening hours: a column named {' or '.join(HOURS_COLUMNS[:3])}, "
                "or --hours-column."
            )
        return None
    return read_hours(services, column)


def services_at(services: gpd.GeoDataFrame, hours: ServiceHours, at: str) -> MomentServices:
    """The services that count at moment ``at`` (open, or hours unknown) and a summary of the states.

    Raises
    ------
    InputError
        A moment not understood, or no service open at it.
    """
    moment = parse_moment(at)
    states = hours.states(moment)
    counted = services[(states != "closed").to_numpy()]
    if counted.empty:
        raise InputError(f"No service is open at {at} ({moment:%a %H:%M}); nothing to analyse.")
    unknown = states.index[(states == "unknown").to_numpy()]
    summary = {
        "column": hours.column,
        "at": at,
        "moment": moment.isoformat(timespec="minutes"),
        **{state: int((states == state).sum()) for state in ("open", "closed", "unknown")},
        "unknown_services": [str(i) for i in unknown[:EXAMPLE_IDS]],
        "not_understood": [str(i) for i in hours.not_understood[:EXAMPLE_IDS]],
    }
    log.info(
        "at %s: %d services open, %d closed, %d hours unknown", at, *(summary[s] for s in ("open", "closed", "unknown"))
    )
    return MomentServices(counted=counted, states=states, summary=summary)


def with_closed_services(analysis: Analysis, services: gpd.GeoDataFrame, moment: MomentServices) -> Analysis:
    """The analysis with every service listed again (closed ones serve nobody) and ``hours_state`` per service."""
    closed = services[(moment.states == "closed").to_numpy()].copy()
    closed["compounds_served"] = 0
    closed["on_network"] = pd.NA
    listed = pd.concat([analysis.services, closed.reindex(columns=analysis.services.columns)])
    listed = gpd.GeoDataFrame(listed.loc[services.index], geometry=services.geometry.name, crs=services.crs)
    listed["hours_state"] = moment.states.reindex(listed.index).to_numpy()
    summary = {**analysis.summary, "opening_hours": moment.summary}
    return replace(analysis, services=listed, summary=summary)


def weekly_cover(analysis: Analysis, hours: ServiceHours) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per category: compounds x hours of the reference week, whether a service of the category within the limit
    is open (hours unknown counted open; then known hours only), from the state at half past each hour."""
    moments = week_moments()
    pairs = analysis.coverage.pairs
    compounds, services = analysis.compounds.index, analysis.services.index
    rows = compounds.get_indexer(pairs["compound_id"])
    cols = services.get_indexer(pairs["service_id"])
    if "category" in analysis.services.columns:
        category = analysis.services["category"].astype(str).to_numpy()
    else:
        category = np.full(len(services), ALL, dtype=object)
    states = hours.state_matrix(moments)[hours.parsed.index.get_indexer(services)]
    in_all = pairs["walk_m"].to_numpy() <= analysis.coverage.params["max_walk_m"]  # 'all' keeps the general limit
    out = {}
    for cat in analysis.coverage.categories:
        keep = in_all if cat == ALL else category[cols] == cat
        reach = sparse.csr_matrix(
            (np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(len(compounds), len(services))
        )
        anyhow, known = (
            np.asarray(reach @ open_now.astype(float)) > 0 for open_now in (states != "closed", states == "open")
        )
        out[cat] = (anyhow, known)
    return out


def window_hours(cover: np.ndarray) -> dict[str, np.ndarray]:
    """Hours covered in each of :data:`WINDOWS` per row of a compounds x 168 hours matrix."""
    return {name: cover[:, _window_columns(days, start, stop)].sum(axis=1) for name, (days, start, stop) in
            WINDOWS.items()}  # fmt: skip


def _window_columns(days: range, start_h: int, stop_h: int) -> np.ndarray:
    return np.array([d * 24 + h for d in days for h in range(start_h, stop_h)])


def hours_profile(analysis: Analysis, hours: ServiceHours) -> tuple[pd.DataFrame, dict]:
    """Hours of the reference week each compound has a service of each category within the limit.

    ``hours_covered`` counts services whose hours are unknown as open, ``hours_covered_known`` only services with
    known hours; one-hour steps (the state at half past each hour). ``<window>_h`` and ``<window>_h_known``: the
    same within each window of :data:`WINDOWS`. The summary entry holds, per category, the share of compounds
    covered at each hour of the week (``weekly_share``, 168 values from Monday 00:00) and the windows' lengths.
    """
    covers = weekly_cover(analysis, hours)
    compounds = analysis.compounds.index
    frames, shares = [], {}
    reachable = _reachable(analysis)
    for cat, (anyhow, known) in covers.items():
        frame = pd.DataFrame({"compound_id": compounds, "category": cat, "hours_covered": anyhow.sum(axis=1),
                              "hours_covered_known": known.sum(axis=1)})  # fmt: skip
        for suffix, cover in (("", anyhow), ("_known", known)):
            for name, values in window_hours(cover).items():
                frame[f"{name}_h{suffix}"] = values
        frames.append(frame)
        shares[cat] = [round(float(v), 4) for v in anyhow[reachable].mean(axis=0)] if reachable.any() else None
    table = pd.concat(frames, ignore_index=True)[list(PROFILE_COLUMNS)]
    summary = {
        "column": hours.column,
        "not_understood": [str(i) for i in hours.not_understood[:EXAMPLE_IDS]],
        "unknown": int(hours.parsed.isna().sum()),
        "week_of": week_moments()[0].date().isoformat(),
        "windows": {name: len(_window_columns(*spec)) for name, spec in WINDOWS.items()},
        "weekly_share": shares,
    }
    return table, summary


def _reachable(analysis: Analysis) -> np.ndarray:
    """Compounds counted in the weekly shares: every compound not marked unreachable."""
    status = analysis.compounds.get("status")
    if status is None:
        return np.ones(len(analysis.compounds), dtype=bool)
    return (status.astype(str) != "unreachable").to_numpy()


def with_hours(
    analysis: Analysis, services: gpd.GeoDataFrame, hours: ServiceHours | None, moment: MomentServices | None
) -> tuple[Analysis, dict[str, pd.DataFrame]]:
    """After the analysis: at a moment, every service listed again with its state; else the weekly profile
    (``coverage_hours``) when the services carry hours; else the analysis unchanged."""
    if moment is not None:
        return with_closed_services(analysis, services, moment), {}
    if hours is None:
        return analysis, {}
    table, entry = hours_profile(analysis, hours)
    services_out = analysis.services.copy()
    services_out["hours_known"] = hours.parsed.reindex(services_out.index).notna().to_numpy()
    summary = {**analysis.summary, "opening_hours": entry}
    return replace(analysis, services=services_out, summary=summary), {Path(folder.COVERAGE_HOURS.name).stem: table}
