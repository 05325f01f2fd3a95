"""Every word of a published site's index page, in Chinese and English (the maps' own words are in labels.py)."""

from __future__ import annotations

from lifecircle import folder
from lifecircle.maps.labels import check_lang

__all__ = ["SITE_TEXT", "file_what", "site_text"]

SITE_TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "十分钟生活服务圈分析", "en": "Ten-minute life service circle analyses"},
    "contents": {"zh": "目录", "en": "Contents"},
    "published": {"zh": "发布日期：{date}", "en": "Published {date}"},
    "data_date": {"zh": "数据日期：{date}", "en": "Data of {date}"},
    "parameters": {"zh": "分析参数", "en": "How it was measured"},
    "threshold": {
        "zh": "步行 {minutes} 分钟（约 {metres} 米）内可达即为覆盖",
        "en": "Covered means within {minutes} minutes on foot (about {metres} m)",
    },
    "category_limits": {"zh": "分类阈值：{items}", "en": "Limits by category: {items}"},
    "category_limit": {"zh": "{category} {minutes} 分钟", "en": "{category} {minutes} min"},
    "speed": {"zh": "步行速度每小时 {speed} 公里", "en": "Walking at {speed} km/h"},
    "snap": {
        "zh": "距可步行道路超过 {metres} 米的小区记为无法步行到达",
        "en": "Compounds farther than {metres} m from a walkable street count as unreachable",
    },
    "origin_representative_point": {"zh": "从小区内一点出发", "en": "Walks start at a point inside each compound"},
    "origin_gates": {"zh": "从小区出入口出发", "en": "Walks start at the compound gates"},
    "origin_given": {
        "zh": "从小区内一点出发，经本小区内部道路至出入口或公共道路",
        "en": "Walks start inside each compound and follow its own roads to its gates or the public streets",
    },
    "standard": {"zh": "规划标准：{name} {label}", "en": "Planning standard: {name} {label}"},
    "coord_system": {"zh": "下载数据坐标系：{system}", "en": "Downloads in {system}"},
    "headline": {"zh": "主要结论", "en": "Headline"},
    "by_category": {"zh": "分类覆盖", "en": "Coverage by category"},
    "by_street": {"zh": "分街道覆盖", "en": "Coverage by street"},
    "col_category": {"zh": "类别", "en": "Category"},
    "col_limit": {"zh": "阈值（分钟）", "en": "Limit (min)"},
    "col_covered": {"zh": "覆盖小区", "en": "Compounds covered"},
    "col_share": {"zh": "小区覆盖率", "en": "Share of compounds"},
    "col_households_share": {"zh": "户数覆盖率", "en": "Share of households"},
    "col_population": {"zh": "覆盖人口", "en": "Residents covered"},
    "col_street": {"zh": "街道", "en": "Street"},
    "col_compounds": {"zh": "小区数", "en": "Compounds"},
    "col_share_of": {"zh": "{category}覆盖率", "en": "{category}: share covered"},
    "col_without_branch": {"zh": "无支部小区", "en": "Without a branch"},
    "col_worst": {"zh": "最差小区", "en": "Worst-served compound"},
    "no_unit": {"zh": "（未填写）", "en": "(not given)"},
    "all": {"zh": "全部服务", "en": "Any service"},
    "maps": {"zh": "地图", "en": "Maps"},
    "overview_map": {"zh": "总览地图", "en": "Overview map"},
    "category_maps": {"zh": "分类地图：", "en": "Maps by category: "},
    "report": {"zh": "评估报告（单个文件，可离线打开）", "en": "The report (one file, opens offline)"},
    "downloads": {"zh": "数据下载", "en": "Downloads"},
    "left_out": {
        "zh": "以下文件不是 lifecircle 写入的原样文件，未发布：{names}",
        "en": "Not published, as they are not files lifecircle wrote as they are: {names}",
    },
    "offline_note": {
        "zh": "本站所有页面可离线打开；底图瓦片需联网，街道图层随地图提供。",
        "en": "Every page opens offline; only basemap tiles need a network, the street layer ships with the maps.",
    },
    "attribution": {
        "zh": "路网数据 © OpenStreetMap 贡献者（ODbL）",
        "en": "Street data © OpenStreetMap contributors (ODbL)",
    },
    "generated": {"zh": "由 lifecircle {version} 生成", "en": "Made with lifecircle {version}"},
    "kb": {"zh": "{size} KB", "en": "{size} kB"},
}

#: What each downloadable file holds, in words (files not listed are shown by name only).
FILE_WHAT: dict[str, dict[str, str]] = {
    folder.COVERAGE.name: {
        "zh": "每个小区、每类服务的步行时间与是否覆盖",
        "en": "walk and coverage per compound and category",
    },
    folder.COMPOUNDS.name: {"zh": "小区图层（含状态）", "en": "compounds layer with status"},
    folder.SERVICES.name: {"zh": "服务设施图层", "en": "services layer"},
    folder.SUMMARY.name: {
        "zh": "汇总数字与参数（机器可读）",
        "en": "summary numbers and parameters (machine-readable)",
    },
    folder.REPORT_XLSX.name: {
        "zh": "Excel 工作簿：小区清单、分街道、分社区统计",
        "en": "workbook: compound list, by street, by community",
    },
    folder.SERVED_AREA.name: {"zh": "各类服务的服务范围", "en": "areas each category serves"},
    folder.rollup_name("street"): {"zh": "分街道统计", "en": "summary by street"},
    folder.rollup_name("community"): {"zh": "分社区统计", "en": "summary by community"},
    folder.rollup_name("grid"): {"zh": "分网格统计", "en": "summary by grid"},
    folder.COMPLIANCE.name: {"zh": "规划标准核查", "en": "planning standard check"},
    folder.SITES_CSV.name: {"zh": "推荐新址", "en": "recommended sites"},
    folder.SITES_GPKG.name: {"zh": "推荐新址图层", "en": "recommended sites layer"},
    folder.SITING.name: {"zh": "选址模型、参数与结果（机器可读）", "en": "siting model, parameters and results"},
    folder.BEFORE_AFTER.name: {"zh": "每个小区选址前后是否覆盖", "en": "per compound: covered before and after"},
    folder.CRITICAL.name: {"zh": "唯一可达的现有服务点", "en": "services that are the only one within reach"},
    folder.ISOCHRONES.name: {"zh": "等时圈图层（每个服务点、服务范围、环带）", "en": "isochrone layers"},
}


def site_text(key: str, lang: str, /, **values: object) -> str:
    """One text of :data:`SITE_TEXT` in ``lang``, placeholders filled (escaping is the caller's job)."""
    text = SITE_TEXT[key][check_lang(lang)]
    return text.format(**values) if values else text


def file_what(name: str, lang: str) -> str:
    """What a downloadable file holds, in words ("" when unknown)."""
    return FILE_WHAT.get(name, {}).get(lang, "")
