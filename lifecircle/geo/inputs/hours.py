"""Opening hours (三延): OSM ``opening_hours`` and the forms Chinese ledgers use (营业时间), read with
`opening-hours-py <https://pypi.org/project/opening-hours-py/>`_ (a maintained parser of the OSM syntax).

A ledger's Chinese text is rewritten into OSM syntax first: "8:00-20:00" (every day), "周一至周五 08:00-17:00",
"每天 07:00-22:00", "工作日 8:30-17:30；周末 9:00-12:00", "周一闭馆", "24小时", "全天". A text that is neither OSM
syntax nor one of these forms is not guessed: its service's hours are *unknown*.

A moment is a weekday and a time ("Sa 20:00", "周六 20:00"), taken in a fixed reference week (the week of Monday
:data:`REFERENCE_MONDAY`, no public holidays applied), or a date and time ("2026-12-05 20:00").
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from opening_hours import OpeningHours, ParserError, State  # type: ignore[attr-defined]  # stubs lack ParserError

from lifecircle.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "HOURS_COLUMNS",
    "REFERENCE_MONDAY",
    "STATES",
    "ServiceHours",
    "parse_hours",
    "parse_moment",
    "read_hours",
    "to_osm_hours",
    "week_moments",
]

HOURS_COLUMNS = ("opening_hours", "营业时间", "开放时间", "服务时间", "办公时间", "hours")
REFERENCE_MONDAY = dt.date(2026, 3, 2)
STATES = ("open", "closed", "unknown")
_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ZH_DAY = {"一": "Mo", "二": "Tu", "三": "We", "四": "Th", "五": "Fr", "六": "Sa", "日": "Su", "天": "Su", "七": "Su"}
_ALWAYS = re.compile(r"^(24小时|二十四小时|全天|全天24小时|24小时营业|全天候|全年无休|24h)$", re.IGNORECASE)
_DASH = r"\s*[-－—–~～至到]\s*"
_TIME = r"(\d{1,2})[:：](\d{2})"
_SPAN = re.compile(_TIME + _DASH + _TIME)
_OFF = re.compile(r"^(休息|闭馆|不营业|关闭|停业|休)$")
_EVERY_DAY = re.compile(r"^(每天|每日|天天|全周|周一至周日|周一到周日|星期一至星期日)?$")
_DAYS_OK = re.compile(r"^[A-Z][a-z](-[A-Z][a-z])?(,[A-Z][a-z](-[A-Z][a-z])?)*$")


def to_osm_hours(text: str) -> str | None:
    """A Chinese ledger's opening hours in OSM syntax, or None when the text is not one of the known forms."""
    text = text.strip().replace("：", ":").replace("\u3000", " ")
    if _ALWAYS.match(text.replace(" ", "")):
        return "24/7"
    rules = []
    for part in re.split(r"\s*[；;\n]\s*|[，,]\s*(?=周|星期|每|工作日|周末|双休)", text):
        if not part.strip():
            continue
        rule = _rule(part.strip())
        if rule is None:
            return None
        rules.append(rule)
    return "; ".join(rules) or None


def _rule(part: str) -> str | None:
    """One rule: a day selector (or none) and times, 'off' or all day."""
    first = re.search(r"\d{1,2}:\d{2}|休息|闭馆|不营业|关闭|停业|休|24小时|全天", part)
    if first is None:
        return None
    days, times = part[: first.start()].strip(" :"), part[first.start() :].strip()
    if _OFF.match(times):
        hours = "off"
    elif _ALWAYS.match(times):
        hours = "00:00-24:00"
    else:
        spans = _SPAN.findall(times)
        if not spans or _SPAN.sub("", times).strip(" ,，、和及") != "":
            return None
        hours = ",".join(f"{int(a):02d}:{b}-{int(c):02d}:{d}" for a, b, c, d in spans)
    selector = _days(days)
    if selector is None:
        return None
    return f"{selector} {hours}".strip()


def _days(days: str) -> str | None:
    """The OSM weekday selector of a Chinese day text ('' for every day), or None when not understood."""
    days = days.replace(" ", "")
    if _EVERY_DAY.match(days):
        return ""
    days = days.replace("工作日", "周一至周五").replace("双休日", "周六、周日").replace("周末", "周六、周日")
    days = re.sub(r"([至到~～\-－—])([一二三四五六日天七])", r"\1周\2", days)
    days = re.sub(r"(?:周|星期|礼拜)([一二三四五六日天七])", lambda m: _ZH_DAY[m.group(1)], days)
    days = re.sub(r"[至到~～\-－—]", "-", days)
    days = re.sub(r"[、，,和及]", ",", days)
    return days if _DAYS_OK.match(days) else None


def parse_hours(text: object) -> OpeningHours | None:
    """Opening hours from OSM syntax or a Chinese ledger form; None for a blank or a text not understood."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
        return None
    text = str(text).strip()
    for candidate in (text, to_osm_hours(text)):
        if candidate is None:
            continue
        try:
            return OpeningHours(candidate)
        except (ParserError, ValueError):
            continue
    return None


def parse_moment(text: str) -> dt.datetime:
    """A moment from ``Sa 20:00``, ``周六 20:00`` (the reference week) or ``2026-12-05 20:00``.

    Raises
    ------
    InputError
        A text that is none of these forms.
    """
    clean = text.strip().replace("：", ":")
    try:
        return dt.datetime.fromisoformat(clean)
    except ValueError:
        pass
    match = re.fullmatch(r"(?:(周|星期)([一二三四五六日天七])|([A-Za-z]{2}))\s*(\d{1,2}):(\d{2})", clean)
    day = None
    if match:
        day = _ZH_DAY[match.group(2)] if match.group(2) else match.group(3).capitalize()
    if day not in _WEEKDAYS or not (0 <= int(match.group(4)) <= 23 and 0 <= int(match.group(5)) <= 59):
        raise InputError(f'--at {text!r} is not a moment: give a weekday and a time ("Sa 20:00", "周六 20:00").')
    date = REFERENCE_MONDAY + dt.timedelta(days=_WEEKDAYS.index(day))
    return dt.datetime.combine(date, dt.time(int(match.group(4)), int(match.group(5))))


def week_moments(*, step_min: int = 60) -> list[dt.datetime]:
    """The moments of the reference week, every ``step_min`` minutes from the middle of the first step."""
    start = dt.datetime.combine(REFERENCE_MONDAY, dt.time()) + dt.timedelta(minutes=step_min / 2)
    return [start + dt.timedelta(minutes=step_min * k) for k in range(7 * 24 * 60 // step_min)]


@dataclass(frozen=True, eq=False)
class ServiceHours:
    """The services' opening hours, read once.

    Attributes
    ----------
    column
        The services' column of hours.
    text
        The text given per service (index: service id).
    parsed
        Per service: the parsed hours, or None (blank or not understood: hours unknown).
    not_understood
        Ids of services whose text could not be understood (each warned once).
    """

    column: str
    text: pd.Series
    parsed: pd.Series
    not_understood: pd.Index

    def states(self, moment: dt.datetime) -> pd.Series:
        """Per service: ``open``, ``closed`` or ``unknown`` at ``moment``."""
        return pd.Series([_state(h, moment) for h in self.parsed], index=self.parsed.index, dtype=object)

    def state_matrix(self, moments: list[dt.datetime]) -> np.ndarray:
        """Services x moments: ``open``, ``closed`` or ``unknown``."""
        out = np.empty((len(self.parsed), len(moments)), dtype=object)
        done: dict[str, np.ndarray] = {}  # the same text gives the same states: computed once
        for row, (text, hours) in enumerate(zip(self.text.astype(str), self.parsed, strict=True)):
            key = text if hours is not None else ""
            if key not in done:
                done[key] = np.array([_state(hours, m) for m in moments], dtype=object)
            out[row] = done[key]
        return out


def _state(hours: OpeningHours | None, moment: dt.datetime) -> str:
    if hours is None:
        return "unknown"
    state = hours.state(moment)[0]
    return "open" if state == State.OPEN else "closed" if state == State.CLOSED else "unknown"


def read_hours(services: pd.DataFrame, column: str) -> ServiceHours:
    """Parse the services' hours; one warning line per text not understood, naming the service and the text.

    Raises
    ------
    InputError
        ``column`` is not a column of the services.
    """
    if column not in services.columns:
        columns = ", ".join(map(str, services.columns.drop("geometry", errors="ignore")))
        raise InputError(f"The service layer has no hours column {column!r}; its columns are {columns}.")
    text = services[column]
    parsed = pd.Series([parse_hours(t) for t in text], index=services.index, dtype=object)
    blank = text.isna() | (text.astype(str).str.strip() == "")
    bad = parsed.isna() & ~blank
    for service_id in services.index[bad.to_numpy()]:
        log.warning(
            "service %s: opening hours %r not understood; counted as hours unknown", service_id, text[service_id]
        )
    if blank.any():
        log.warning("%d services have no opening hours and count as hours unknown", int(blank.sum()))
    return ServiceHours(column=column, text=text, parsed=parsed, not_understood=services.index[bad.to_numpy()])
