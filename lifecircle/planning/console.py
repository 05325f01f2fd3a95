"""Short summaries printed on the terminal by the command line (the library itself never prints)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

ALL = "all"
TEXTS = {
    "head": {
        "en": "{n} compounds, threshold {min:g} min ({m:.0f} m at {kmh:g} km/h)",
        "zh": "{n} 个小区，步行 {min:g} 分钟（{m:.0f} 米，步速 {kmh:g} 千米/小时）",
    },
    "category": {"en": "category", "zh": "类别"},
    "covered": {"en": "covered", "zh": "覆盖小区"},
    "share": {"en": "share", "zh": "占比"},
    "households": {"en": "households", "zh": "户数占比"},
    "median": {"en": "median min", "zh": "中位分钟"},
    ALL: {"en": "all", "zh": "全部服务"},
    "no_branch": {"en": "compounds without a branch: {n}", "zh": "无支部的小区：{n} 个"},
    "unreachable": {
        "en": "unreachable compounds: {off} off the network, {none} with no service on their piece of network",
        "zh": "无法步行到达的小区：{off} 个不在路网上，{none} 个所在路网片段上没有服务",
    },
    "written": {"en": "outputs written to {out}/", "zh": "结果已写入 {out}/"},
}


def _t(key: str, lang: str, **values) -> str:
    return TEXTS[key]["zh" if lang == "zh" else "en"].format(**values)


def _width(text: str) -> int:
    """Columns a terminal gives the text (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _right(text: str, width: int) -> str:
    return " " * max(width - _width(text), 0) + text


def format_summary(summary: dict, *, lang: str = "en") -> str:
    """A small table of coverage per category, branches and unreachable compounds, in ``lang`` (``zh``/``en``)."""
    params = summary["parameters"]
    has_households = summary.get("households") is not None
    head = _t(
        "head",
        lang,
        n=summary["compounds"],
        min=params["max_walk_min"],
        m=params["max_walk_m"],
        kmh=params["speed_kmh"],
    )
    lines = [
        head,
        "",
        _left(_t("category", lang), 24)
        + _right(_t("covered", lang), 9)
        + _right(_t("share", lang), 8)
        + (_right(_t("households", lang), 12) if has_households else "")
        + _right(_t("median", lang), 12),
    ]
    for category, entry in summary["categories"].items():
        label = _t(ALL, lang) if category == ALL else str(category)
        share = entry["compounds_share"]
        row = _left(label, 24) + f"{entry['compounds_covered']:>9}{(share or 0) * 100:>7.1f}%"
        if has_households:
            row += f"{(entry['households_share'] or 0) * 100:>11.1f}%"
        median = entry["median_walk_min"]
        row += f"{'-' if median is None else f'{median:.1f}':>12}"
        lines.append(row)
    lines.append("")
    if summary.get("compounds_without_branch") is not None:
        lines.append(_t("no_branch", lang, n=summary["compounds_without_branch"]))
    unreachable = summary["unreachable_compounds"]
    lines.append(_t("unreachable", lang, off=unreachable["off_network"], none=unreachable["no_service_connected"]))
    return "\n".join(lines)


def print_summary(summary: dict, *, out_dir: Path, lang: str = "en") -> None:
    """Print the summary table and where the outputs are, in ``lang`` (``zh``/``en``)."""
    print(format_summary(summary, lang=lang))
    print(_t("written", lang, out=out_dir))


def print_site_plan(summary: dict, *, out_dir: Path) -> None:
    """Print what a siting run planned: model, status, sites, compounds covered before and after, notes."""
    c = summary["compounds"]
    gap = "unknown" if summary["gap"] is None else f"{summary['gap']:.2%}"
    print(
        f"{summary['model']} ({summary['status']}, gap {gap}): {len(summary['sites'])} new sites; "
        f"covered compounds {c['covered_before']} -> {c['covered_after']} of {c['total']}, "
        f"{c['unreachable']} unreachable; results in {out_dir}"
    )
    for note in summary.get("notes", []):
        print(f"  {note}")


def print_isochrones(served_area, paths) -> None:
    """Print the served area of each category and break (km²) and the files written."""
    for row in served_area.itertuples():
        print(f"{_left(str(row.category), 24)}{row.break_min:>6g} min {row.area_m2 / 1e6:>9.2f} km²")
    print(f"written: {', '.join(str(p) for p in paths)}")
