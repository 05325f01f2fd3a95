"""The report's buildings (楼栋) section, from ``summary.json``'s ``buildings`` entry, in the run's language:
buildings covered per category, the compounds whose answer changes from compound to building level, buildings in
no compound, and buildings without a group (楼栋党小组)."""

from __future__ import annotations

import pandas as pd

from lifecircle.planning.report_labels import category_name
from lifecircle.planning.report_tables import Table

__all__ = ["building_tables"]

_TEXT = {
    "buildings": {"zh": "楼栋（户数{method}）", "en": "Buildings (households {method})"},
    "column": {"zh": "取自“{column}”列", "en": "from the column {column!r}"},
    "apportioned": {
        "zh": "按占地面积×层数由小区户数分摊，{one}栋无层数按1层计",
        "en": "apportioned from the compound's households by footprint × floors; {one} without floors as 1",
    },
    "unknown_households": {"zh": "未知", "en": "unknown"},
    "category": {"zh": "类别", "en": "Category"},
    "n_buildings": {"zh": "楼栋数", "en": "Buildings"},
    "covered": {"zh": "覆盖的楼栋", "en": "Buildings covered"},
    "unreachable_n": {"zh": "无法步行到达的楼栋", "en": "Buildings that reach none"},
    "changed_n": {"zh": "小区覆盖但有楼栋未覆盖", "en": "Compounds covered with a building not covered"},
    "changed": {
        "zh": "小区层面覆盖、有楼栋未覆盖的小区（{count}项小区×类别，列出{shown}项，最远楼栋步行最长的在前）",
        "en": "Compounds covered at compound level with buildings not covered ({count} compound-category pairs; "
        "{shown} shown, the longest walks of their farthest building first)",
    },
    "compound": {"zh": "小区编号", "en": "Compound"},
    "name": {"zh": "小区名称", "en": "Name"},
    "not_covered": {"zh": "未覆盖楼栋", "en": "Buildings not covered"},
    "worst": {"zh": "最远楼栋", "en": "Farthest building"},
    "worst_min": {"zh": "最远楼栋步行（分钟）", "en": "Its walk (min)"},
    "unreachable": {"zh": "无法步行到达", "en": "unreachable"},
    "outside": {"zh": "不在任何小区内的楼栋（{count}栋）", "en": "Buildings in no compound ({count})"},
    "building": {"zh": "楼栋编号", "en": "Building"},
    "no_group": {
        "zh": "无党小组的楼栋（{count}栋，列“{column}”）",
        "en": "Buildings without a group ({count}, column {column!r})",
    },
    "n_no_group": {"zh": "无党小组楼栋数", "en": "Buildings without a group"},
    "no_compound": {"zh": "（不在小区内）", "en": "(in no compound)"},
    "examples": {"zh": "楼栋举例", "en": "Examples"},
}


def _t(key: str, lang: str, **values: object) -> str:
    return _TEXT[key]["zh" if lang == "zh" else "en"].format(**values)


def building_tables(entry: dict, lang: str) -> list[Table]:
    """The buildings section's tables (those with rows)."""
    categories = entry.get("categories")
    if not isinstance(categories, dict):
        return []
    tables = [_per_category(entry, categories, lang)]
    changed = _changed(categories, lang)
    if changed is not None:
        tables.append(changed)
    outside = entry.get("without_compound") or {}
    if outside.get("count"):
        frame = pd.DataFrame({_t("building", lang): outside.get("ids", [])})
        tables.append(Table("buildings_outside", _t("outside", lang, count=outside["count"]), frame))
    groups = entry.get("groups")
    if isinstance(groups, dict) and groups.get("without_group"):
        tables.append(_groups(groups, lang))
    return tables


def _per_category(entry: dict, categories: dict, lang: str) -> Table:
    households = entry.get("households") or {}
    if households.get("method") == "column":
        method = _t("column", lang, column=households.get("column"))
    elif households.get("compound_households"):
        method = _t("apportioned", lang, one=households.get("counted_as_one_floor", 0))
    else:
        method = _t("unknown_households", lang)
    rows = [
        {
            _t("category", lang): category_name(category, lang),
            _t("n_buildings", lang): item.get("buildings"),
            _t("covered", lang): item.get("buildings_covered"),
            _t("unreachable_n", lang): item.get("buildings_unreachable"),
            _t("changed_n", lang): item.get("compounds_with_uncovered_buildings"),
        }
        for category, item in categories.items()
    ]
    return Table(key="buildings", title=_t("buildings", lang, method=method), frame=pd.DataFrame(rows))


def _changed(categories: dict, lang: str) -> Table | None:
    rows, count = [], 0
    for category, item in categories.items():
        count += int(item.get("compounds_with_uncovered_buildings") or 0)
        for listed in item.get("changed", []):
            walk = listed.get("worst_building_walk_min")
            rows.append(
                {
                    _t("category", lang): category_name(category, lang),
                    _t("compound", lang): listed.get("compound_id"),
                    _t("name", lang): listed.get("name"),
                    _t("not_covered", lang): listed.get("buildings_not_covered"),
                    _t("worst", lang): listed.get("worst_building_id"),
                    _t("worst_min", lang): _t("unreachable", lang) if walk is None else walk,
                }
            )
    if not rows:
        return None
    title = _t("changed", lang, count=count, shown=len(rows))
    return Table(key="buildings_changed", title=title, frame=pd.DataFrame(rows))


def _groups(groups: dict, lang: str) -> Table:
    rows = [
        {
            _t("compound", lang): item.get("compound_id") or _t("no_compound", lang),
            _t("n_no_group", lang): item.get("count"),
            _t("examples", lang): ", ".join(item.get("ids", [])),
        }
        for item in groups.get("by_compound", [])
    ]
    frame = pd.DataFrame(rows)
    title = _t("no_group", lang, count=groups["without_group"], column=groups.get("column"))
    return Table(key="buildings_without_group", title=title, frame=frame)
