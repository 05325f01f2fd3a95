"""Every word of the report and the workbook, in Chinese and English (one table, :data:`REPORT_LABELS`)."""

from __future__ import annotations

import math

from lifecircle.errors import InputError

__all__ = ["LANGS", "REPORT_LABELS", "category_name", "check_lang", "status_word", "t", "yes_no"]

LANGS = ("zh", "en")
ALL_CATEGORY = "all"

REPORT_LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "十分钟生活服务圈评估报告", "en": "Ten-minute life service circle report"},
    "generated": {"zh": "生成时间", "en": "Generated"},
    "headline": {"zh": "主要结论", "en": "Headline numbers"},
    "compounds": {"zh": "小区数", "en": "Compounds"},
    "households": {"zh": "户数", "en": "Households"},
    "population": {"zh": "人口", "en": "Population"},
    "covered_all": {
        "zh": "{minutes} 分钟步行可达任一服务的小区",
        "en": "Compounds within {minutes} min of any service",
    },
    "households_covered_all": {"zh": "覆盖户数占比", "en": "Share of households covered"},
    "without_branch": {"zh": "无支部小区", "en": "Compounds without a branch"},
    "unreachable": {"zh": "无法步行到达的小区", "en": "Compounds unreachable on foot"},
    "parameters": {"zh": "参数", "en": "Parameters"},
    "value": {"zh": "取值", "en": "Value"},
    "threshold": {"zh": "步行阈值", "en": "Walking threshold"},
    "threshold_value": {"zh": "{minutes} 分钟（{metres} 米）", "en": "{minutes} min ({metres} m)"},
    "category_thresholds": {"zh": "分类阈值", "en": "Category thresholds"},
    "category_threshold_value": {"zh": "{category} {minutes} 分钟", "en": "{category} {minutes} min"},
    "speed": {"zh": "步行速度", "en": "Walking speed"},
    "speed_value": {"zh": "每小时 {speed} 公里", "en": "{speed} km/h"},
    "snap": {"zh": "最大接入距离", "en": "Largest distance to a street"},
    "metres_value": {"zh": "{metres} 米", "en": "{metres} m"},
    "origin": {"zh": "出发点", "en": "Walks start at"},
    "origin_gates": {"zh": "小区出入口", "en": "compound gates"},
    "origin_representative_point": {"zh": "小区内一点", "en": "a point inside each compound"},
    "origin_given": {
        "zh": "小区内一点，经本小区内部道路至出入口或公共道路",
        "en": "a point inside each compound, along its own internal roads to its gates or public streets",
    },
    "coord_systems": {"zh": "输入坐标系", "en": "Input coordinate systems"},
    "output_coord_system": {"zh": "输出坐标系", "en": "Output coordinate system"},
    "coord_wgs84": {"zh": "WGS84（GPS）", "en": "WGS84 (GPS)"},
    "coord_gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (Amap, Tencent)"},
    "coord_bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "coord_cgcs2000": {"zh": "CGCS2000", "en": "CGCS2000"},
    "role_network": {"zh": "路网", "en": "Street network"},
    "role_compounds": {"zh": "小区", "en": "Compounds"},
    "role_services": {"zh": "服务设施", "en": "Services"},
    "role_branches": {"zh": "支部", "en": "Branches"},
    "role_gates": {"zh": "出入口", "en": "Gates"},
    "role_study_area": {"zh": "研究范围", "en": "Study area"},
    "role_candidates": {"zh": "候选地址", "en": "Candidate sites"},
    "role_dem": {"zh": "高程", "en": "Elevation"},
    "study_name": {"zh": "研究名称", "en": "Study"},
    "data_versions": {"zh": "数据版本", "en": "Data versions"},
    "role": {"zh": "数据", "en": "Input"},
    "path": {"zh": "文件", "en": "File"},
    "sha256": {"zh": "SHA-256（前16位）", "en": "SHA-256 (first 16)"},
    "osm_date": {"zh": "OSM 数据日期", "en": "OSM data date"},
    "osm_date_header": {"zh": "文件头", "en": "file header"},
    "osm_date_newest_element": {"zh": "最新要素编辑时间", "en": "newest element edit"},
    "categories": {"zh": "分类覆盖", "en": "Coverage by category"},
    "category": {"zh": "类别", "en": "Category"},
    "category_all": {"zh": "全部服务", "en": "Any service"},
    "covered": {"zh": "覆盖小区", "en": "Compounds covered"},
    "share": {"zh": "小区覆盖率", "en": "Share of compounds"},
    "households_share": {"zh": "户数覆盖率", "en": "Share of households"},
    "median_walk_min": {"zh": "步行中位数（分钟）", "en": "Median walk (min)"},
    "limit_min": {"zh": "阈值（分钟）", "en": "Threshold (min)"},
    "charts": {"zh": "图表", "en": "Charts"},
    "hist_title": {"zh": "到最近服务的步行时间", "en": "Walk to the nearest service"},
    "hist_x": {"zh": "步行时间（分钟）", "en": "Walking time (min)"},
    "hist_y": {"zh": "小区数", "en": "Compounds"},
    "bar_title": {"zh": "各类服务覆盖率", "en": "Coverage by category"},
    "bar_x": {"zh": "覆盖小区占比（%）", "en": "Compounds covered (%)"},
    "rollup_street": {"zh": "分街道统计", "en": "By street"},
    "rollup_community": {"zh": "分社区统计", "en": "By community"},
    "rollup_grid": {"zh": "分网格统计", "en": "By grid"},
    "level_street": {"zh": "街道", "en": "Street"},
    "level_community": {"zh": "社区", "en": "Community"},
    "level_grid": {"zh": "网格", "en": "Grid"},
    "no_unit": {"zh": "（未填写）", "en": "(not given)"},
    "share_of": {"zh": "{category}小区覆盖率", "en": "{category}: share of compounds"},
    "households_share_of": {"zh": "{category}户数覆盖率", "en": "{category}: share of households"},
    "worst": {"zh": "最差小区", "en": "Worst-served compound"},
    "worst_walk_min": {"zh": "最差步行（分钟）", "en": "Worst walk (min)"},
    "unreachable_short": {"zh": "无法到达", "en": "unreachable"},
    "standard": {"zh": "规划标准", "en": "Planning standard"},
    "standard_line": {
        "zh": "{name} {label}：步行 {walk_m} 米内，{ok} 个小区达标，{bad} 个小区缺少应配设施，{na} 个未完全评估。",
        "en": "{name} {label}: within {walk_m} m, {ok} compounds comply, {bad} lack a required facility, "
        "{na} are not fully assessed.",
    },
    "standard_value": {"zh": "{name} {key}（{walk_m} 米）", "en": "{name} {key} ({walk_m} m)"},
    "standard_unverified": {
        "zh": "注意：该标准的设施清单尚未与标准原文核对（verified = false）。",
        "en": "Note: this checklist has not been verified against the standard text (verified = false).",
    },
    "facility": {"zh": "设施", "en": "Facility"},
    "missing_in": {"zh": "缺少该设施的小区", "en": "Compounds lacking it"},
    "compliance": {"zh": "标准核查", "en": "Compliance"},
    "compliant": {"zh": "是否达标", "en": "Complies"},
    "missing_facilities": {"zh": "缺少的设施", "en": "Facilities missing"},
    "not_assessed": {"zh": "未评估的设施", "en": "Facilities not assessed"},
    "map": {"zh": "地图", "en": "Map"},
    "map_open": {"zh": "在新窗口打开地图", "en": "Open the map in its own window"},
    "no_map": {"zh": "本文件夹中没有 map.html。", "en": "There is no map.html in this folder."},
    "siting": {"zh": "选址方案", "en": "Siting plan"},
    "siting_model": {"zh": "选址模型", "en": "Model"},
    "model_mclp": {"zh": "最大覆盖：新增站点覆盖尽量多的居民", "en": "Maximal coverage: reach as many as possible"},
    "model_lscp": {"zh": "全覆盖：用最少的新站点覆盖全部可达小区", "en": "Cover all: the fewest new sites for all"},
    "model_pmedian": {"zh": "P 中值：总步行距离最短", "en": "P-median: the shortest total walk"},
    "siting_solver": {"zh": "求解器", "en": "Solver"},
    "siting_status": {"zh": "求解结果", "en": "Result"},
    "status_optimal": {"zh": "已证明最优", "en": "proven optimal"},
    "status_not_optimal": {"zh": "未证明最优（{status}）", "en": "not proven optimal ({status})"},
    "siting_candidates": {"zh": "候选地址", "en": "Candidate sites"},
    "candidates_value": {"zh": "{source}，共 {given} 处，可用 {used} 处", "en": "{source}: {used} of {given} usable"},
    "source_streets": {"zh": "沿街道自动生成", "en": "points along the streets"},
    "source_layer": {"zh": "候选图层", "en": "the candidate layer"},
    "source_compounds": {"zh": "每个小区内一点", "en": "a point inside each compound"},
    "siting_new_sites": {"zh": "新增站点", "en": "New sites"},
    "siting_covered": {"zh": "覆盖小区", "en": "Compounds covered"},
    "covered_before_after": {
        "zh": "选址前 {before} 个，选址后 {after} 个（新增 {new} 个），共 {total} 个",
        "en": "{before} before, {after} after ({new} newly), of {total}",
    },
    "siting_notes": {"zh": "说明", "en": "Notes"},
    "site_rank": {"zh": "建设顺序", "en": "Build order"},
    "site_source": {"zh": "候选来源", "en": "Candidate from"},
    "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "new_compounds": {"zh": "新增覆盖小区", "en": "Compounds newly covered"},
    "new_households": {"zh": "新增覆盖户数", "en": "Households newly covered"},
    "new_population": {"zh": "新增覆盖人口", "en": "Residents newly covered"},
    "cum_compounds": {"zh": "累计新增覆盖小区", "en": "Compounds newly covered (cumulative)"},
    "cum_share": {"zh": "累计覆盖率", "en": "Share covered (cumulative)"},
    "walk_m_saved": {"zh": "减少的步行距离（米）", "en": "Walking saved (m)"},
    "covers": {"zh": "新覆盖的小区", "en": "Compounds it newly covers"},
    "data_quality": {"zh": "数据质量提示", "en": "Data-quality notes"},
    "no_warnings": {"zh": "无。", "en": "None."},
    "status": {"zh": "小区状态", "en": "Compound status"},
    "status_covered": {"zh": "已覆盖", "en": "Covered"},
    "status_no_service": {"zh": "无服务", "en": "No service"},
    "status_no_branch": {"zh": "无支部", "en": "No branch"},
    "status_neither": {"zh": "两者皆无", "en": "Neither"},
    "status_unreachable": {"zh": "无法步行到达", "en": "Unreachable on foot"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "has": {"zh": "有", "en": "yes"},
    "has_not": {"zh": "无", "en": "no"},
    "unknown": {"zh": "未知", "en": "unknown"},
    # the per-compound sheet
    "compound_list": {"zh": "小区清单", "en": "Compounds"},
    "col_id": {"zh": "编号", "en": "Id"},
    "col_name": {"zh": "名称", "en": "Name"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_branch": {"zh": "有无支部", "en": "Branch"},
    "col_walk": {"zh": "{category}步行（分钟）", "en": "{category}: walk (min)"},
    "col_covered": {"zh": "{category}是否覆盖（{minutes} 分钟）", "en": "{category}: within {minutes} min"},
    "col_nearest": {"zh": "{category}最近设施", "en": "{category}: nearest service"},
    # sheets that only the workbook has
    "sheet_inputs": {"zh": "数据版本", "en": "Inputs"},
    "sheet_notes": {"zh": "说明", "en": "Notes"},
    "note": {"zh": "说明", "en": "Note"},
    "note_split": {
        "zh": "“{sheet}”超过 Excel 的行数上限，分在 {n} 张表中（{sheets}）。",
        "en": "'{sheet}' is longer than Excel's row limit and is split over {n} sheets ({sheets}).",
    },
    "note_left_out": {
        "zh": "“{sheet}”共 {rows} 行，超过本工作簿的上限，未放入；完整数据见 {file}。",
        "en": "'{sheet}' has {rows} rows, more than this workbook holds; it is left out, see {file}.",
    },
    "note_long_table": {
        "zh": "逐小区、逐类别的机器可读明细见 coverage.csv。",
        "en": "The machine-readable table per compound and category is coverage.csv.",
    },
    "footer": {
        "zh": "由 lifecircle {version} 生成。路网数据 © OpenStreetMap 贡献者（ODbL）。",
        "en": "Made with lifecircle {version}. Street data © OpenStreetMap contributors (ODbL).",
    },
}


def check_lang(lang: str) -> str:
    """``lang`` when it is ``zh`` or ``en``, else an :class:`~lifecircle.errors.InputError`."""
    if lang not in LANGS:
        raise InputError(f"Report language must be zh or en, got {lang!r}.")
    return lang


def t(key: str, lang: str, /, **values: object) -> str:
    """One label of :data:`REPORT_LABELS` in ``lang``, placeholders filled."""
    text = REPORT_LABELS[key][lang]
    return text.format(**values) if values else text


def category_name(category: object, lang: str) -> str:
    """A service category as people read it: ``all`` is 全部服务 / Any service, others keep their own name."""
    return t("category_all", lang) if category == ALL_CATEGORY else str(category)


def status_word(status: object, lang: str) -> str:
    """A compound status (``covered``, ``no_service``...) in words; an unknown code is shown as it is."""
    key = f"status_{status}"
    return t(key, lang) if key in REPORT_LABELS else ("" if status is None else str(status))


def yes_no(value: object, lang: str, *, has: bool = False) -> str:
    """A yes/no flag in words (是/否, or 有/无 with ``has``); missing is empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("<NA>", "nan", ""):
        return ""
    flag = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "1.0", "yes")
    if has:
        return t("has" if flag else "has_not", lang)
    return t("yes" if flag else "no", lang)
