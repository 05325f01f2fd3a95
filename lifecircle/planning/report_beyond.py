"""Report tables beyond "within N minutes": capacity (供需), opening hours (三延) and buildings (楼栋),
read from ``summary.json``'s ``adequacy``, ``opening_hours`` and ``buildings`` entries, in the run's language;
the weekly opening-hours chart (an inline SVG heatmap, day × hour, per category) and the workbook's sheets per
compound and per service (:mod:`lifecircle.planning.report_sheets`)."""

from __future__ import annotations

import html

import pandas as pd

from lifecircle.planning.hours import WINDOWS
from lifecircle.planning.report_buildings import building_tables
from lifecircle.planning.report_labels import category_name
from lifecircle.planning.report_tables import Table

__all__ = ["WEEK_KEY", "beyond_figures", "beyond_tables", "week_heatmap"]

WEEK_KEY = "opening_hours_week"

_TEXT = {
    "adequacy": {"zh": "供需（{method}）", "en": "Capacity against demand ({method})"},
    "category": {"zh": "类别", "en": "Category"},
    "norm": {"zh": "人均标准", "en": "Norm per household"},
    "median": {"zh": "可达比中位数", "en": "Median access ratio"},
    "crowded": {"zh": "覆盖但不足的小区", "en": "Covered but crowded compounds"},
    "overloaded": {"zh": "超负荷的服务点", "en": "Overloaded services"},
    "examples": {"zh": "举例", "en": "Examples"},
    "hours": {"zh": "营业时间（{at}）", "en": "Opening hours ({at})"},
    "week": {"zh": "营业时间（每周）", "en": "Opening hours (week)"},
    "state": {"zh": "状态", "en": "State"},
    "services": {"zh": "服务点", "en": "Services"},
    "open": {"zh": "营业", "en": "open"},
    "closed": {"zh": "未营业", "en": "closed"},
    "unknown": {"zh": "营业时间不明", "en": "hours unknown"},
    "not_understood": {"zh": "无法识别的营业时间", "en": "Hours not understood"},
    "week_title": {"zh": "营业时间（每周）：覆盖小区比例", "en": "Opening hours (week): share of compounds covered"},
    "weekday_day": {"zh": "工作日白天（8–18 时）最低", "en": "Weekday daytime (8–18), lowest"},
    "weekday_evening": {"zh": "工作日晚间（18–21 时）最低", "en": "Weekday evening (18–21), lowest"},
    "weekend": {"zh": "周末（8–21 时）最低", "en": "Weekend (8–21), lowest"},
    "week_all": {"zh": "全周最低", "en": "Whole week, lowest"},
    "week_note": {
        "zh": "每格：该小时内步行阈值内有营业服务点的小区比例（营业时间不明的计为营业；不含无法步行到达的小区）",
        "en": "Each cell: share of compounds with a service open within the limit in that hour (hours unknown "
        "counted open; unreachable compounds left out)",
    },
    "days": {"zh": "一,二,三,四,五,六,日", "en": "Mo,Tu,We,Th,Fr,Sa,Su"},
    "hour": {"zh": "时", "en": "h"},
}


def _t(key: str, lang: str, **values: object) -> str:
    return _TEXT[key]["zh" if lang == "zh" else "en"].format(**values)


def beyond_tables(summary: dict, lang: str) -> list[Table]:
    """The report's tables for adequacy, opening hours and buildings (only those the run made)."""
    tables = []
    adequacy = summary.get("adequacy")
    if isinstance(adequacy, dict):
        tables.append(_adequacy(adequacy, lang))
    hours = summary.get("opening_hours")
    if isinstance(hours, dict) and "at" in hours:
        tables.append(_hours(hours, lang))
    elif isinstance(hours, dict) and isinstance(hours.get("weekly_share"), dict):
        tables.append(_week(hours, lang))
    buildings = summary.get("buildings")
    if isinstance(buildings, dict):
        tables.extend(building_tables(buildings, lang))
    return tables


def _adequacy(entry: dict, lang: str) -> Table:
    rows = []
    for category, item in (entry.get("categories") or {}).items():
        rows.append(
            {
                _t("category", lang): category_name(category, lang),
                _t("norm", lang): item.get("norm"),
                _t("median", lang): item.get("median_access_ratio"),
                _t("crowded", lang): item.get("crowded_compounds"),
                _t("overloaded", lang): item.get("overloaded_services"),
                _t("examples", lang): ", ".join(item.get("crowded_examples", [])[:5]),
            }
        )
    title = _t("adequacy", lang, method=str(entry.get("method", "")).upper())
    return Table(key="adequacy", title=title, frame=pd.DataFrame(rows))


def _hours(entry: dict, lang: str) -> Table:
    rows = [
        {_t("state", lang): _t(s, lang), _t("services", lang): entry.get(s, 0)} for s in ("open", "closed", "unknown")
    ]
    if entry.get("not_understood"):
        rows.append({_t("state", lang): _t("not_understood", lang), _t("services", lang): len(entry["not_understood"])})
    return Table(key="opening_hours", title=_t("hours", lang, at=entry.get("at", "")), frame=pd.DataFrame(rows))


def _week(entry: dict, lang: str) -> Table:
    """Per category: the lowest share of compounds covered in each window of the week, and over the week."""
    rows = []
    for category, share in _shares(entry).items():
        row: dict = {_t("category", lang): category_name(category, lang)}
        for window, (days, start, stop) in WINDOWS.items():
            row[_t(window, lang)] = min(share[d * 24 + h] for d in days for h in range(start, stop))
        row[_t("week_all", lang)] = min(share)
        rows.append(row)
    frame = pd.DataFrame(rows)
    kinds = {c: "percent" for c in frame.columns[1:]}
    return Table(key=WEEK_KEY, title=_t("week_title", lang), frame=frame, kinds=kinds)


def _shares(entry: dict) -> dict[str, list[float]]:
    """Category -> its 168 hourly shares (Monday 00:00 first), categories without any left out; ``all`` only
    when it is the only one."""
    shares = {str(c): [float(v) for v in s] for c, s in (entry.get("weekly_share") or {}).items()
              if isinstance(s, list) and len(s) == 168}  # fmt: skip
    real = {c: s for c, s in shares.items() if c != "all"}
    return real or shares


def beyond_figures(key: str, summary: dict, lang: str) -> list[str]:
    """Figures that follow a table of :func:`beyond_tables` on the page (the weekly heatmap after the week's)."""
    hours = summary.get("opening_hours")
    if key != WEEK_KEY or not isinstance(hours, dict):
        return []
    return [week_heatmap(_shares(hours), lang)]


def _color(share: float) -> str:
    """White (no compound) to dark green (every compound)."""
    share = min(1.0, max(0.0, share))
    low, high = (247, 252, 245), (0, 109, 44)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high, strict=True))


def week_heatmap(shares: dict[str, list[float]], lang: str, *, cell_px: int = 14) -> str:
    """An inline SVG heatmap per category: days (rows) × hours (columns), each cell the share of compounds covered
    (its value in a ``<title>``, so it shows on hover); text escaped, no script, no external resource."""
    days = _t("days", lang).split(",")
    left, top, gap = 28, 18, 26
    height_one = top + 7 * cell_px + gap
    width = left + 24 * cell_px + 10
    parts = []
    for n, (category, share) in enumerate(shares.items()):
        y0 = n * height_one
        parts.append(f'<text x="0" y="{y0 + 12}" font-size="12" font-weight="bold">'
                     f"{html.escape(category_name(category, lang))}</text>")  # fmt: skip
        for d in range(7):
            y = y0 + top + d * cell_px
            parts.append(f'<text x="{left - 4}" y="{y + cell_px - 3}" font-size="10" text-anchor="end">'
                         f"{html.escape(days[d])}</text>")  # fmt: skip
            for h in range(24):
                value = share[d * 24 + h]
                tip = html.escape(f"{days[d]} {h:02d}:00–{h + 1:02d}:00 {value * 100:.0f}%")
                parts.append(f'<rect x="{left + h * cell_px}" y="{y}" width="{cell_px - 1}" height="{cell_px - 1}" '
                             f'fill="{_color(value)}"><title>{tip}</title></rect>')  # fmt: skip
        for h in range(0, 25, 6):
            parts.append(f'<text x="{left + h * cell_px}" y="{y0 + top + 7 * cell_px + 11}" font-size="9" '
                         f'text-anchor="middle">{h}{html.escape(_t("hour", lang))}</text>')  # fmt: skip
    legend_y = len(shares) * height_one
    for k in range(11):
        parts.append(f'<rect x="{left + k * 18}" y="{legend_y}" width="18" height="10" fill="{_color(k / 10)}"/>')
    parts.append(f'<text x="{left - 4}" y="{legend_y + 9}" font-size="9" text-anchor="end">0%</text>')
    parts.append(f'<text x="{left + 11 * 18 + 4}" y="{legend_y + 9}" font-size="9">100%</text>')
    total_h = legend_y + 16
    note = html.escape(_t("week_note", lang))
    return (f'<figure class="lc-week"><svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{total_h}" viewBox="0 0 {width} {total_h}" font-family="sans-serif">'
            f"<title>{html.escape(_t('week_title', lang))}</title>{''.join(parts)}</svg>"
            f'<figcaption class="muted">{note}</figcaption></figure>')  # fmt: skip
