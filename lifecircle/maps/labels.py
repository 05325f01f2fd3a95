"""The one translation table for every piece of map and site text (zh, en).

All text that a map or a published site shows comes from :data:`LABELS`; no other module of
``lifecircle.maps`` holds user-visible strings. Placeholders use :meth:`str.format` syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from lifecircle.errors import InputError

LANGS: tuple[str, ...] = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    # title block
    "title": {"zh": "十分钟生活服务圈覆盖图", "en": "Ten-minute life service circle coverage"},
    "title_category": {"zh": "{category}：步行覆盖", "en": "{category}: walking coverage"},
    "param_threshold": {"zh": "步行阈值：{minutes} 分钟", "en": "Threshold: {minutes} min walk"},
    "param_speed": {"zh": "步行速度：{speed} 公里/小时", "en": "Walking speed: {speed} km/h"},
    "param_date": {"zh": "数据日期：{date}", "en": "Data date: {date}"},
    "param_thresholds_by_category": {"zh": "分类阈值：{items}", "en": "By category: {items}"},
    "param_category_threshold": {"zh": "{category} {minutes} 分钟", "en": "{category} {minutes} min"},
    "list_sep": {"zh": "、", "en": "; "},
    # compound status (legend and popups)
    "status_covered": {
        "zh": "{minutes} 分钟内有服务且有支部",
        "en": "Service within {minutes} min and a branch",
    },
    "status_no_service": {"zh": "{minutes} 分钟内无服务", "en": "No service within {minutes} min"},
    "status_no_branch": {"zh": "无支部", "en": "No branch"},
    "status_neither": {"zh": "既无服务也无支部", "en": "Neither service nor branch"},
    "status_unreachable": {"zh": "无法步行到达", "en": "Unreachable on foot"},
    "status_unknown": {"zh": "状态未知", "en": "Status unknown"},
    "status_cat_covered": {"zh": "{minutes} 分钟内可达", "en": "Within {minutes} min walk"},
    "status_cat_no_service": {"zh": "{minutes} 分钟内不可达", "en": "Not within {minutes} min walk"},
    # layers
    "layer_compounds": {"zh": "小区", "en": "Compounds"},
    "layer_services": {"zh": "服务设施：{category}", "en": "Services: {category}"},
    "layer_branches": {"zh": "支部", "en": "Branches"},
    "layer_served": {"zh": "服务范围：{category}", "en": "Served area: {category}"},
    "layer_sites": {"zh": "推荐新址", "en": "Recommended sites"},
    "layer_study_area": {"zh": "研究范围", "en": "Study area"},
    "layer_streets": {"zh": "街道（步行网络）", "en": "Streets (walking network)"},
    "basemap_none": {"zh": "无底图（离线）", "en": "No tiles (offline)"},
    "basemap_osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "basemap_light": {"zh": "浅色底图", "en": "Light basemap"},
    "basemap_amap": {"zh": "高德地图", "en": "Amap"},
    "basemap_amap_satellite": {"zh": "高德影像", "en": "Amap satellite"},
    "basemap_tianditu": {"zh": "天地图", "en": "Tianditu"},
    # legend
    "legend_compounds": {"zh": "小区（{n} 个）", "en": "Compounds ({n})"},
    "legend_services": {"zh": "服务设施（步行阈值）", "en": "Services (walking limit)"},
    "legend_category": {"zh": "{category} {minutes} 分钟（{n}）", "en": "{category} {minutes} min ({n})"},
    "legend_streets": {"zh": "主要道路 / 一般道路 / 步行道", "en": "Main roads / streets / footways"},
    "legend_branch": {"zh": "支部", "en": "Branch"},
    "legend_site": {"zh": "推荐新址", "en": "Recommended site"},
    "legend_study_area": {"zh": "研究范围", "en": "Study area"},
    # popups and tooltips
    "households": {"zh": "户数", "en": "Households"},
    "population": {"zh": "人口", "en": "Population"},
    "category": {"zh": "类别", "en": "Category"},
    "walk_to_nearest": {"zh": "到最近设施步行", "en": "Walk to nearest"},
    "nearest_service": {"zh": "最近设施", "en": "Nearest service"},
    "minutes_value": {"zh": "{value} 分钟", "en": "{value} min"},
    "unreachable": {"zh": "不可达", "en": "unreachable"},
    "no_data": {"zh": "无数据", "en": "no data"},
    "services_within": {"zh": "阈值内设施数", "en": "Services within limit"},
    "category_limit": {"zh": "{category} {minutes} 分钟", "en": "{category} {minutes} min"},
    "branch": {"zh": "支部", "en": "Branch"},
    "yes": {"zh": "有", "en": "yes"},
    "no": {"zh": "无", "en": "no"},
    "serves_compounds": {
        "zh": "{minutes} 分钟内服务小区（作为最近设施）",
        "en": "Compounds it serves within {minutes} min (as nearest)",
    },
    "serves_compounds_within": {
        "zh": "{minutes} 分钟内可达小区",
        "en": "Compounds within {minutes} min",
    },
    "serves_residents": {"zh": "服务居民", "en": "Residents served"},
    "serves_households": {"zh": "服务户数", "en": "Households served"},
    "site_rank": {"zh": "推荐序号", "en": "Rank"},
    "search_placeholder": {"zh": "搜索小区名称", "en": "Search compound name"},
    "search_none": {"zh": "未找到", "en": "Not found"},
    "unnamed": {"zh": "（未命名）", "en": "(unnamed)"},
    # categories
    "category_all": {"zh": "全部服务", "en": "Any service"},
    # attribution
    "attribution_data": {
        "zh": "数据 © OpenStreetMap 贡献者（ODbL）",
        "en": "Data © OpenStreetMap contributors (ODbL)",
    },
    # published site
    "site_title": {"zh": "生活服务圈分析发布", "en": "Life service circle analyses"},
    "site_overview_map": {"zh": "总览地图", "en": "Overview map"},
    "site_category_maps": {"zh": "分类地图", "en": "Maps by category"},
    "site_downloads": {"zh": "数据下载", "en": "Downloads"},
    "site_summary": {"zh": "汇总", "en": "Summary"},
    "site_coverage_table": {"zh": "覆盖情况", "en": "Coverage"},
    "site_col_category": {"zh": "类别", "en": "Category"},
    "site_col_covered": {"zh": "覆盖小区", "en": "Compounds covered"},
    "site_col_share": {"zh": "覆盖比例", "en": "Share covered"},
    "site_col_population": {"zh": "覆盖人口", "en": "Population covered"},
    "site_col_key": {"zh": "项目", "en": "Item"},
    "site_col_value": {"zh": "值", "en": "Value"},
    "site_generated": {"zh": "由 lifecircle 生成", "en": "Generated by lifecircle"},
    "site_offline_note": {
        "zh": "地图可离线打开；底图瓦片需联网。",
        "en": "Maps open offline; only the basemap tiles need a network.",
    },
}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df]")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported language code, else raise :class:`InputError`."""
    if lang not in LANGS:
        raise InputError(f"Language {lang!r} is not supported; use one of {', '.join(LANGS)}.")
    return lang


def label(key: str, lang: str, **values: object) -> str:
    """Look up one label and fill its placeholders.

    Parameters
    ----------
    key
        Key in :data:`LABELS`.
    lang
        ``"zh"`` or ``"en"``.
    **values
        Placeholder values (converted with ``str``; escaping is the caller's job).

    Returns
    -------
    str
        The text in ``lang``.
    """
    text = LABELS[key][check_lang(lang)]
    return text.format(**values) if values else text


def labels_for(lang: str, keys: Iterable[str] | None = None) -> dict[str, str]:
    """All labels (or those in ``keys``) in one language, unformatted."""
    check_lang(lang)
    wanted = LABELS.keys() if keys is None else keys
    return {k: LABELS[k][lang] for k in wanted}


def category_label(category: str, lang: str) -> str:
    """Display name of a service category (the data's own name unless the table knows it)."""
    entry: Mapping[str, str] | None = LABELS.get(f"category_{category}")
    return entry[check_lang(lang)] if entry else str(category)


def pick_lang(names: Iterable[object], *, threshold: float = 0.5) -> str:
    """Choose the map language from the data's names.

    Parameters
    ----------
    names
        Compound (or service) names; missing values are ignored.
    threshold
        Share of non-empty names containing Chinese characters above which ``"zh"`` is chosen.

    Returns
    -------
    str
        ``"zh"`` when most names are Chinese, else ``"en"``.
    """
    s = pd.Series(list(names), dtype=object)
    s = s[s.notna()].astype(str).str.strip()
    s = s[s != ""]
    if s.empty:
        return "en"
    share = float(np.mean(s.str.contains(_CJK)))
    return "zh" if share > threshold else "en"
