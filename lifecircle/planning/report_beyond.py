"""Report tables beyond "within N minutes": capacity (供需), opening hours (三延) and buildings (楼栋),
read from ``summary.json``'s ``adequacy``, ``opening_hours`` and ``buildings`` entries, in the run's language."""

from __future__ import annotations

import pandas as pd

from lifecircle.planning.report_labels import category_name
from lifecircle.planning.report_tables import Table

__all__ = ["beyond_tables"]

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
    "buildings": {"zh": "楼栋", "en": "Buildings"},
    "n_buildings": {"zh": "楼栋数", "en": "Buildings"},
    "covered": {"zh": "覆盖的楼栋", "en": "Buildings covered"},
    "changed": {"zh": "小区覆盖但有楼栋未覆盖", "en": "Compounds covered with a building not covered"},
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
    buildings = summary.get("buildings")
    if isinstance(buildings, dict):
        tables.append(_buildings(buildings, lang))
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


def _buildings(entry: dict, lang: str) -> Table:
    rows = [
        {
            _t("category", lang): category_name(category, lang),
            _t("n_buildings", lang): item.get("buildings"),
            _t("covered", lang): item.get("buildings_covered"),
            _t("changed", lang): item.get("compounds_with_uncovered_buildings"),
            _t("examples", lang): ", ".join(item.get("examples", [])[:5]),
        }
        for category, item in entry.items()
    ]
    return Table(key="buildings", title=_t("buildings", lang), frame=pd.DataFrame(rows))
