"""Data-quality notes in the run's language.

The readers and the analysis record their notes in English in ``summary.json`` (the machine record, also
logged). A Chinese report shows each note in Chinese: :data:`NOTE_WORDS` pairs the pattern of every note
lifecircle writes with its Chinese sentence. A note no pattern knows is shown as it was written (never lost);
``tests/test_report_notes.py`` makes each reader write its notes and checks that all are known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["NOTE_WORDS", "note_in", "notes_in"]

_WHAT = {"services": "服务设施", "branches": "支部", "gates": "出入口", "compounds": "小区", "candidates": "候选地址"}
_SWAPPED_BACK = "They were swapped back."
_CHECK_HINT = (
    "请核查：小区内部道路或通道是否缺失于路网；围墙、栅栏、水体或铁路是否将其隔断而出入口或通道未标注；"
    "或小区位置是否有误。"
)
_SYSTEMS = {"gcj02": "GCJ-02", "bd09": "BD-09", "wgs84": "WGS84"}

NOTE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), words)
    for pattern, words in (
        (
            r"(?P<source>.+?): (?P<n>\d+) features have no geometry and were left out \((?P<ids>.*)\)\.",
            "{source}：{n} 个要素没有几何图形，未纳入分析（{ids}）。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) invalid polygons were repaired with make_valid \((?P<ids>.*)\)\.",
            "{source}：{n} 个无效面已自动修复（{ids}）。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) rows without coordinates were left out\.",
            "{source}：{n} 行没有坐标，未纳入分析。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) (?P<what>\w+) are areas; a point inside each is used\.",
            "{source}：{n} 个{what}是面要素，取其内部一点参与计算。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) services have no category in column '(?P<column>.*)' \((?P<ids>.*)\); "
            r"they are counted in 'all' and as category '(?P<other>.*)'\.",
            "{source}：{n} 个服务设施在“{column}”列中没有类别（{ids}），计入全部服务，类别记为“{other}”。",
        ),
        (
            r"(?P<source>.+?) is declared wgs84 but its coordinate columns are named for (?P<hint>\w+); .*",
            "{source} 声明为 WGS84，但坐标列名表明是 {hint}；请核对坐标系（若台账来自该地图，请声明为 {hint}）。",
        ),
        (
            r"(?P<source>.+?): rows (?P<rows>.+?) have longitude and latitude the wrong way round\.(?P<rest>.*)",
            "{source}：第 {rows} 行经纬度颠倒{rest}",
        ),
        (
            r"(?P<source>.+?): rows (?P<rows>.+?) lie outside China unlike the other rows\.(?P<rest>.*)",
            "{source}：第 {rows} 行位于中国境外，与其他行不同{rest}",
        ),
        (
            r"(?P<n>\d+) compounds lie farther than (?P<m>\d+) m from any walkable street and are reported "
            r"unreachable(?P<apart>, apart from the compounds not covered)? \((?P<ids>.*?)\)(?P<hint>; check .*)?\.",
            "{n} 个小区距最近的可步行道路超过 {m} 米，记为无法步行到达{apart}（{ids}）。{hint}",
        ),
        (
            r"(?P<n>\d+) compounds are on a piece of the walking network that no service reaches \(an island of "
            r"streets\) and are reported unreachable(?P<apart>, apart from the compounds not covered)? "
            r"\((?P<ids>.*?)\)(?P<hint>; check .*)?\.",
            "{n} 个小区所在的路网片段与任何服务设施不连通（孤立路网），记为无法步行到达{apart}（{ids}）。{hint}",
        ),
        (
            r"(?P<n>\d+) services lie farther than (?P<m>\d+) m from any walkable street and serve no compound "
            r"\((?P<ids>.*)\)\.",
            "{n} 个服务设施距最近的可步行道路超过 {m} 米，不服务任何小区（{ids}）。",
        ),
        (
            r"(?P<name>.+?) look shifted like (?P<label>.+?) coordinates and were NOT converted: read as .+? their "
            r"distance to the nearest street would drop from (?P<a>\d+) m to (?P<b>\d+) m \(median\), "
            r"(?P<share>\d+%) of them fitting the streets better.*?declaring the layer's coordinate system as "
            r"(?P<system>\w+) .*",
            "{name} 看起来是 {label} 坐标（偏移），未作转换：按 {label} 读取时到最近道路的距离中位数将从 {a} 米降至 "
            "{b} 米，{share} 的点更贴合道路；若数据来自该地图，请将该图层的坐标系声明为 {system} 后重新运行"
            "（--coord-system {system}，或研究文件中的 coord_system）。",
        ),
        (
            r"(?P<n>\d+) uncovered compounds have no candidate within (?P<m>[\d.]+) minutes on foot "
            r"\((?P<ids>.*)\); cover-all covers every other compound\.",
            "{n} 个未覆盖小区步行 {m} 分钟内没有候选地址（{ids}）；全覆盖方案覆盖其余所有小区。",
        ),
        (
            r"(?P<n>\d+) uncovered compounds have no candidate within (?P<m>[\d.]+) minutes on foot "
            r"\((?P<ids>.*)\); they stay uncovered\.",
            "{n} 个未覆盖小区步行 {m} 分钟内没有候选地址（{ids}），仍无法覆盖。",
        ),
        (
            r"(?P<n>\d+) candidates were dropped: (?P<off>\d+) lie farther than (?P<m>\d+) m from a walkable street, "
            r"(?P<lone>\d+) are on network pieces no compound can walk to\.",
            "{n} 个候选地址未采用：{off} 个距可步行道路超过 {m} 米，{lone} 个所在路网片段没有小区能步行到达。",
        ),
        (
            r"The answer is not proven optimal \(status (?P<status>.+), gap (?P<gap>.+)\)\.",
            "结果未被证明最优（状态 {status}，差距 {gap}）。",
        ),
        (r"No candidate site could be placed near the uncovered compounds\.", "未覆盖小区附近无法布置候选地址。"),
        (
            r"(?P<n>\d+) compounds nobody can walk to \(off the network or on an island of streets without service\) "
            r"were left out of the demand \((?P<ids>.*?)\); check .*, or plan for them with --include-unreachable\.",
            "{n} 个小区无法步行到达（不在路网上，或所在路网片段没有服务），未计入需求（{ids}）。"
            + _CHECK_HINT
            + "如需将其纳入规划，请使用 --include-unreachable。",
        ),
        (
            r"Every compound is already covered by existing services: no new site is needed\.",
            "现有服务设施已覆盖全部小区，无需新增站点。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) compound names fit several compounds and were not matched: (?P<names>.*)\.",
            "{source}：{n} 个小区名称对应多个小区，未匹配：{names}。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) compound names match no compound and were not counted: (?P<names>.*)\.",
            "{source}：{n} 个小区名称找不到对应的小区，未计入：{names}。",
        ),
        (
            r"(?P<source>.+?): (?P<n>\d+) branches name no compound \((?P<ids>.*)\)\.",
            "{source}：{n} 个支部未填写所在小区（{ids}）。",
        ),
        (
            r"The compound layer: (?P<n>\d+) compounds have an empty branch cell in column '(?P<column>.*)' and are "
            r"counted as without a branch \((?P<ids>.*)\)\.",
            "小区图层：{n} 个小区的“{column}”列为空，按无支部统计（{ids}）。",
        ),
    )
)


def _fill(words: str, match: re.Match) -> str:
    values = {k: (v or "").strip() for k, v in match.groupdict().items()}
    if "what" in values:
        values["what"] = _WHAT.get(values["what"], values["what"])
    if "hint" in values:
        values["hint"] = _SYSTEMS.get(values["hint"], values["hint"])
    if "apart" in values:
        values["apart"] = "，与未覆盖的小区分开统计" if values["apart"] else ""
    if "hint" in values:
        values["hint"] = _CHECK_HINT if values["hint"] else ""
    if "rest" in values:  # a message may be followed by another, and by what was done about both
        rest = values["rest"]
        swapped = rest.endswith(_SWAPPED_BACK)
        rest = rest.removesuffix(_SWAPPED_BACK).strip()
        values["rest"] = ("，已自动调换回来。" if swapped else "。") + (note_in(rest, "zh") if rest else "")
    return words.format(**values)


def note_in(note: str, lang: str) -> str:
    """One data-quality note in ``lang`` (``en``: as written; ``zh``: in Chinese when its pattern is known)."""
    if lang != "zh":
        return note
    for pattern, words in NOTE_WORDS:
        match = pattern.fullmatch(note.strip())
        if match:
            return _fill(words, match)
    return note


def notes_in(notes: Sequence[object], lang: str) -> list[str]:
    """Every note in ``lang`` (see :func:`note_in`)."""
    return [note_in(str(n), lang) for n in notes]
