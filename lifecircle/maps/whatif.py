"""``whatif.html``: one offline page where a planner adds, moves and removes service points and sees coverage change.

The page holds the walking network and the analysis's origins and services as typed arrays
(:mod:`lifecircle.maps.whatif_data`), draws the streets from the network itself (no tiles), and recomputes coverage
in the browser with the walk of ``lifecircle analyze`` (``whatif_engine.js``); ``whatif_ui.js`` draws the map and
panels and exposes ``window.lifecircle`` (``addService``, ``removeService``, ``coverage``, ``summary``...).
Leaflet is inlined from the installed xstatic package, as in every offline map.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

from lifecircle.maps._json import safe_json
from lifecircle.maps._offline import inline_assets, write_atomic
from lifecircle.maps.labels import category_label, check_lang, pick_lang
from lifecircle.maps.whatif_data import Baseline, WhatIfScene, scene_payload

log = logging.getLogger(__name__)

SCRIPTS = ("whatif_engine.js", "whatif_ui.js")
LEAFLET_TAGS = (
    '<link rel="stylesheet" href="https://unpkg.com/leaflet/dist/leaflet.css"/>'
    '<script src="https://unpkg.com/leaflet/dist/leaflet.js"></script>'
)

WHATIF_LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "设施选址推演：步行覆盖即时变化", "en": "What-if: service points and walking coverage"},
    "params": {
        "zh": "步行阈值 {minutes} 分钟 · 步速 {speed} 公里/小时 · 接入道路不超过 {snap} 米",
        "en": "Walk limit {minutes} min · {speed} km/h · within {snap} m of a street",
    },
    "click_to_add": {"zh": "点击地图新增设施：", "en": "Click the map to add a"},
    "colour_by": {"zh": "小区着色依据：", "en": "Colour compounds by:"},
    "category": {"zh": "类别", "en": "Category"},
    "before": {"zh": "原有", "en": "Before"},
    "now": {"zh": "现在", "en": "Now"},
    "share": {"zh": "覆盖率", "en": "Share"},
    "export": {"zh": "导出方案", "en": "Export scenario"},
    "reset": {"zh": "全部撤销", "en": "Undo all"},
    "legend": {
        "zh": "绿色：阈值内可达；红色：不可达；灰色：离路网太远。粗边框：状态已改变（蓝：新覆盖，橙：失去覆盖）。"
        "点击设施可停用或删除，新增设施可拖动；取消勾选“点击地图新增设施”后，点击小区可查看各类步行时间。"
        "放大后，白点为小区步行起点，虚线连到其接入的道路。",
        "en": "Green: within the limit; red: not; grey: too far from any street. Thick outline: status changed "
        "(blue gained, orange lost). Click a service to disable or remove it; drag a new one. With adding off, "
        "click a compound for its walks. Zoomed in, white dots are where walks start (dashed: to their street).",
    },
    "changed_head": {"zh": "状态改变的小区（{n}）", "en": "Compounds that changed status ({n})"},
    "now_covered": {"zh": "现可达，{minutes} 分钟", "en": "now within reach, {minutes} min"},
    "now_uncovered": {"zh": "不再可达", "en": "no longer within reach"},
    "more": {"zh": "……另有 {n} 项", "en": "… and {n} more"},
    "too_far": {
        "zh": "此处离可步行道路太远：设施须在道路 {snap} 米以内。未添加。",
        "en": "Too far from any walkable street: a service must lie within {snap} m of one. Not added.",
    },
    "no_such_service": {"zh": "没有这个设施：{id}", "en": "No such service: {id}"},
    "new_service": {"zh": "新增设施 {id}", "en": "New service {id}"},
    "serves": {"zh": "阈值内小区：{n} 个", "en": "Compounds within reach: {n}"},
    "remove": {"zh": "删除", "en": "Remove"},
    "disable": {"zh": "停用", "en": "Disable"},
    "enable": {"zh": "恢复", "en": "Enable"},
    "off_network": {"zh": "离路网太远，不服务任何小区", "en": "Too far from the network: serves nobody"},
    "min": {"zh": "分钟", "en": "min"},
    "beyond": {"zh": "超出阈值", "en": "beyond the limit"},
    "loading": {"zh": "正在载入路网……", "en": "Loading the walking network…"},
    "old_browser": {
        "zh": "此浏览器无法打开本页：请用 Chrome、Edge（80 以上）、Firefox（113 以上）或 Safari（16.4 以上）。",
        "en": "This browser cannot open the page: use Chrome or Edge 80+, Firefox 113+ or Safari 16.4+.",
    },
    "osm_credit": {
        "zh": "街道数据 © OpenStreetMap 贡献者（ODbL）",
        "en": "Streets © OpenStreetMap contributors (ODbL)",
    },
}

PAGE_CSS = """
html,body{margin:0;height:100%}
#lc-map{position:absolute;inset:0;background:#f4f3ef}
.lc-wi-box{background:rgba(255,255,255,.95);padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);
  font:13px/1.35 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;color:#222}
.lc-wi-panel{max-width:360px}
.lc-wi-loading{position:absolute;top:40%;left:50%;transform:translate(-50%,-50%);z-index:1000;font-size:15px}
.lc-wi-panel h3{margin:0 0 3px 0;font-size:15px}
.lc-wi-row{margin:4px 0}
.lc-wi-row select,.lc-wi-row button{font-size:13px;margin-left:4px}
.lc-wi-table{border-collapse:collapse;font-size:12px;margin:4px 0}
.lc-wi-table th,.lc-wi-table td{padding:1px 6px 1px 0;text-align:left}
.lc-wi-message{color:#b02a2a;font-size:12px;min-height:1em}
.lc-wi-note{color:#555;font-size:11px;margin-top:4px}
.lc-wi-changes{max-height:35vh;overflow:auto;max-width:420px}
.lc-wi-changes h4{margin:0 0 3px 0;font-size:13px}
.lc-wi-changes ol{margin:0;padding-left:20px;font-size:12px;cursor:pointer}
.lc-in{color:#22703a}.lc-out{color:#b02a2a}
.lc-wi-dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;border:1px solid #fff;
  box-shadow:0 0 1px #000}
.lc-wi-new{border:2px solid #111;border-radius:50%;box-shadow:0 0 3px #000}
.lc-wi-popup h4{margin:0 0 4px 0;font-size:14px}
.lc-wi-popup table{border-collapse:collapse;font-size:12px}
.lc-wi-popup th,.lc-wi-popup td{padding:1px 6px 1px 0;text-align:left}
"""


def page_texts(lang: str, categories: list[str], *, osm_streets: bool = False) -> dict:
    """The page's texts in one language, with the display name of every category and the streets' credit."""
    check_lang(lang)
    texts = {key: entry[lang] for key, entry in WHATIF_LABELS.items()}
    credit = texts.pop("osm_credit")
    texts["attribution"] = credit if osm_streets else None
    texts["all"] = category_label("all", lang)
    texts["category_names"] = {c: category_label(c, lang) for c in categories}
    return texts


def _script(name: str) -> str:
    """One of the page's own scripts, safe to inline."""
    text = files("lifecircle.maps").joinpath(name).read_text(encoding="utf-8")
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def render_whatif(scene: WhatIfScene, *, lang: str | None = None, osm_streets: bool = False) -> tuple[str, Baseline]:
    """The what-if page as HTML text, and the baseline coverage it starts from.

    Parameters
    ----------
    scene
        The analysis (network, origins, compounds, services, limits).
    lang
        ``zh`` or ``en``; by default from the compound names (as the maps choose).
    osm_streets
        The network comes from OpenStreetMap: the map credits it (ODbL).

    Returns
    -------
    html, baseline
    """
    lang = lang or pick_lang(scene.compounds.get("name", []))
    payload, base = scene_payload(scene)
    texts = page_texts(lang, scene.categories, osm_streets=osm_streets)
    html = (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{texts['title']}</title>{LEAFLET_TAGS}<style>{PAGE_CSS}</style></head><body>"
        '<div id="lc-map"></div>'
        f'<script type="application/json" id="lc-whatif-data">{safe_json(payload)}</script>'
        f'<script type="application/json" id="lc-whatif-text">{safe_json(texts)}</script>'
        + "".join(_script(name) for name in SCRIPTS)
        + "</body></html>"
    )
    return inline_assets(html), base


def write_whatif(
    scene: WhatIfScene, path: str | Path, *, lang: str | None = None, osm_streets: bool = False
) -> Baseline:
    """Write ``whatif.html`` (atomically) and return the baseline coverage it starts from."""
    html, base = render_whatif(scene, lang=lang, osm_streets=osm_streets)
    write_atomic(Path(path), html)
    log.info("what-if page: %s (%.1f MB)", path, len(html.encode("utf-8")) / 1e6)
    return base
