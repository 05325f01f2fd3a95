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


_MODELS = {"max_coverage": "最大覆盖", "cover_all": "全覆盖", "p_median": "p-中位"}
_STATUSES = {
    "optimal": "最优解",
    "time_limit": "达到时限",
    "heuristic": "启发式",
    "no_solution": "无解",
    "infeasible": "不可行",
}


def _gap_text(gap: float | None, unknown: str) -> str:
    return unknown if gap is None else f"{gap:.2%}"


def _site_notes_zh(summary: dict) -> list[str]:
    """The siting notes of :func:`lifecircle.planning.siting.plan_tables.siting_summary`, said in Chinese."""
    notes = []
    c, cand, params = summary["compounds"], summary.get("candidates", {}), summary.get("parameters", {})
    unreachable = summary.get("unreachable", [])
    if unreachable:
        shown = "、".join(unreachable[:10]) + ("……" if len(unreachable) > 10 else "")
        what = "全覆盖模型覆盖其余全部小区" if summary.get("model_option") == "lscp" else "这些小区仍未覆盖"
        notes.append(
            f"{len(unreachable)} 个未覆盖小区在步行 {params.get('minutes', 0):g} 分钟内没有候选点（{shown}）；{what}。"
        )
    if cand.get("dropped"):
        notes.append(
            f"舍弃了 {cand['dropped']} 个候选点：{cand.get('dropped_off_network', 0)} 个离可步行道路超过 "
            f"{params.get('max_snap_m', 0):.0f} 米，{cand.get('dropped_unconnected', 0)} 个所在路网片段没有小区能走到。"
        )
    status = summary.get("status")
    if status != "optimal":
        notes.append(f"结果未被证明最优（{_STATUSES.get(status, status)}，差距 {_gap_text(summary['gap'], '未知')}）。")
    if c["covered_before"] < c["total"] and cand.get("used") == 0:
        notes.append("未覆盖小区附近没有可放置的候选点。")
    if c["covered_before"] == c["total"]:
        notes.append("所有小区都已被现有服务覆盖：无需新增服务点。")
    aside = summary.get("set_aside_unreachable") or []
    if aside:
        notes.append(
            f"{len(aside)} 个无法步行到达的小区（不在路网上，或所在路网片段没有服务）未计入需求"
            f"（{'、'.join(aside[:10])}{'……' if len(aside) > 10 else ''}）；请检查其位置与路网，"
            "或用 --include-unreachable 为它们选址。"
        )
    return notes


def format_site_plan(summary: dict, *, out_dir: Path, sites=None, lang: str = "en") -> str:
    """What a siting run planned (model, status, sites, compounds covered before and after, notes), in ``lang``.

    ``sites`` (the plan's sites table: ``rank``, ``name``, ``new_compounds`` …) adds one line per new site.
    """
    c = summary["compounds"]
    n = len(summary["sites"])
    if lang != "zh":
        gap = _gap_text(summary["gap"], "unknown")
        lines = [
            f"{summary['model']} ({summary['status']}, gap {gap}): {n} new sites; "
            f"covered compounds {c['covered_before']} -> {c['covered_after']} of {c['total']}, "
            f"{c['unreachable']} unreachable; results in {out_dir}"
        ]
        lines += [f"  {_left(str(r.rank), 4)}{_left(str(r.name), 36)}{r.new_compounds:>6} new compounds"
                  for r in _site_rows(sites)]  # fmt: skip
        return "\n".join(lines + [f"  {note}" for note in summary.get("notes", [])])
    gap = _gap_text(summary["gap"], "未知")
    model = _MODELS.get(summary["model"], summary["model"])
    status = _STATUSES.get(summary["status"], summary["status"])
    lines = [
        f"{model}（{status}，差距 {gap}）：新增 {n} 处服务点；覆盖小区 {c['covered_before']} → {c['covered_after']} 个"
        f"（共 {c['total']} 个），{c['unreachable']} 个无法步行到达；结果已写入 {out_dir}/"
    ]
    lines += [f"  {_left(f'第 {r.rank} 处', 9)}{_left(str(r.name), 36)}新覆盖 {r.new_compounds:>4} 个小区"
              for r in _site_rows(sites)]  # fmt: skip
    return "\n".join(lines + [f"  {note}" for note in _site_notes_zh(summary)])


def _site_rows(sites) -> list:
    if sites is None or len(sites) == 0 or not {"rank", "name", "new_compounds"} <= set(sites.columns):
        return []
    return list(sites[["rank", "name", "new_compounds"]].itertuples(index=False))


def print_site_plan(summary: dict, *, out_dir: Path, sites=None, lang: str = "en") -> None:
    """Print :func:`format_site_plan`."""
    print(format_site_plan(summary, out_dir=out_dir, sites=sites, lang=lang))


def print_isochrones(served_area, paths, *, lang: str = "en") -> None:
    """Print the served area of each category and break (km²) and the files written, in ``lang``."""
    minutes, written = ("分钟", "已写入") if lang == "zh" else ("min", "written")
    for row in served_area.itertuples():
        label = _t(ALL, lang) if str(row.category) == ALL else str(row.category)
        print(f"{_left(label, 24)}{row.break_min:>6g} {_left(minutes, 4)}{row.area_m2 / 1e6:>9.2f} km²")
    print(f"{written}: {', '.join(str(p) for p in paths)}")
