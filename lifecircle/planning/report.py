"""The report an office hands around: ``report.html`` (self-contained) and ``report.xlsx`` (one sheet per table).

Both are built from the files of an output folder (``summary.json``, ``coverage.csv``, ``rollup_*.csv``,
``compliance.csv``, ``map.html``, and a siting plan ``sites.csv`` / ``siting.json`` when present), so a report can
be regenerated at any time with ``lifecircle report OUT_DIR``. The HTML holds its charts as embedded PNGs and
shows the map of the same folder in an iframe (works from ``file://``). Every user-supplied string is
HTML-escaped. Labels come from one table, :data:`REPORT_LABELS`, in Chinese and English.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from lifecircle import __version__
from lifecircle.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["REPORT_LABELS", "regenerate_report", "report_tables", "write_report"]

REPORT_FILES = ("report.html", "report.xlsx")
SITING_FILES = ("sites.csv", "siting.json")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei", "DejaVu Sans"]

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
    "unreachable": {"zh": "不可达小区", "en": "Unreachable compounds"},
    "parameters": {"zh": "参数", "en": "Parameters"},
    "threshold": {"zh": "步行阈值", "en": "Walking threshold"},
    "threshold_value": {"zh": "{minutes} 分钟（{metres} 米）", "en": "{minutes} min ({metres} m)"},
    "category_thresholds": {"zh": "分类阈值", "en": "Category thresholds"},
    "speed": {"zh": "步行速度", "en": "Walking speed"},
    "snap": {"zh": "最大接入距离", "en": "Largest distance to a street"},
    "origin": {"zh": "出发点", "en": "Walks start at"},
    "origin_gates": {"zh": "小区出入口", "en": "compound gates"},
    "origin_representative_point": {"zh": "小区内一点", "en": "a point inside each compound"},
    "origin_given": {
        "zh": "小区内一点，经本小区内部道路至出入口或公共道路",
        "en": "a point inside each compound, along its own internal roads to its gates or public streets",
    },
    "coord_systems": {"zh": "输入坐标系", "en": "Input coordinate systems"},
    "output_coord_system": {"zh": "输出坐标系", "en": "Output coordinate system"},
    "data_versions": {"zh": "数据版本", "en": "Data versions"},
    "role": {"zh": "数据", "en": "Input"},
    "path": {"zh": "文件", "en": "File"},
    "sha256": {"zh": "SHA-256（前16位）", "en": "SHA-256 (first 16)"},
    "osm_date": {"zh": "OSM 数据日期", "en": "OSM data date"},
    "osm_date_header": {"zh": "文件头", "en": "file header"},
    "osm_date_newest_element": {"zh": "最新要素编辑时间", "en": "newest element edit"},
    "categories": {"zh": "分类覆盖", "en": "Coverage by category"},
    "category": {"zh": "类别", "en": "Category"},
    "covered": {"zh": "覆盖小区", "en": "Compounds covered"},
    "share": {"zh": "小区占比", "en": "Share of compounds"},
    "households_share": {"zh": "户数占比", "en": "Share of households"},
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
    "worst": {"zh": "最差小区", "en": "Worst-served compound"},
    "worst_walk_min": {"zh": "最差步行（分钟）", "en": "Worst walk (min)"},
    "unreachable_short": {"zh": "不可达", "en": "unreachable"},
    "standard": {"zh": "规划标准", "en": "Planning standard"},
    "standard_line": {
        "zh": "{name} {label}：步行 {walk_m} 米内，{ok} 个小区达标，{bad} 个小区缺少应配设施，{na} 个未完全评估。",
        "en": "{name} {label}: within {walk_m} m, {ok} compounds comply, {bad} lack a required facility, "
        "{na} are not fully assessed.",
    },
    "standard_unverified": {
        "zh": "注意：该标准的设施清单尚未与标准原文核对（verified = false）。",
        "en": "Note: this checklist has not been verified against the standard text (verified = false).",
    },
    "facility": {"zh": "设施", "en": "Facility"},
    "missing_in": {"zh": "缺少该设施的小区", "en": "Compounds lacking it"},
    "map": {"zh": "地图", "en": "Map"},
    "map_open": {"zh": "在新窗口打开地图", "en": "Open the map in its own window"},
    "no_map": {"zh": "本文件夹中没有 map.html。", "en": "There is no map.html in this folder."},
    "siting": {"zh": "选址方案", "en": "Siting plan"},
    "data_quality": {"zh": "数据质量提示", "en": "Data-quality warnings"},
    "no_warnings": {"zh": "无。", "en": "None."},
    "status": {"zh": "小区状态", "en": "Compound status"},
    "status_covered": {"zh": "有服务且有支部", "en": "Service and branch"},
    "status_no_service": {"zh": "无服务", "en": "No service"},
    "status_no_branch": {"zh": "无支部", "en": "No branch"},
    "status_neither": {"zh": "两者皆无", "en": "Neither"},
    "footer": {
        "zh": "由 lifecircle {version} 生成。路网数据 © OpenStreetMap 贡献者（ODbL）。",
        "en": "Made with lifecircle {version}. Street data © OpenStreetMap contributors (ODbL).",
    },
}


def _t(key: str, lang: str, **kw) -> str:
    text = REPORT_LABELS[key][lang]
    return text.format(**kw) if kw else text


def _e(value) -> str:
    """HTML-escape any value (None and NaN as an empty cell)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def _pct(value) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value) * 100:.1f}%"


def _find(name: str, dirs: Sequence[Path]) -> Path | None:
    return next((d / name for d in dirs if (d / name).is_file()), None)


# ---- tables --------------------------------------------------------------------------------------------------


def _category_table(summary: dict, lang: str) -> pd.DataFrame:
    params = summary.get("parameters", {})
    limits = params.get("category_max_walk_min", {}) or {}
    rows = []
    for category, entry in summary.get("categories", {}).items():
        rows.append(
            {
                _t("category", lang): category,
                _t("limit_min", lang): round(float(limits.get(category, params.get("max_walk_min", np.nan))), 2),
                _t("covered", lang): entry.get("compounds_covered"),
                _t("share", lang): entry.get("compounds_share"),
                _t("households_share", lang): entry.get("households_share"),
                _t("median_walk_min", lang): entry.get("median_walk_min"),
                _t("unreachable", lang): entry.get("unreachable"),
            }
        )
    return pd.DataFrame(rows)


def _parameter_table(summary: dict, lang: str) -> pd.DataFrame:
    p = summary.get("parameters", {})
    rows = [
        (_t("threshold", lang), _t("threshold_value", lang, minutes=f"{p.get('max_walk_min', 0):g}",
                                   metres=f"{p.get('max_walk_m', 0):.0f}")),
        (_t("speed", lang), f"{p.get('speed_kmh', 0):g} km/h"),
        (_t("snap", lang), f"{p.get('max_snap_m', 0):.0f} m"),
        (_t("origin", lang), _t(f"origin_{p.get('origin', 'representative_point')}", lang)),
    ]  # fmt: skip
    if p.get("category_max_walk_min"):
        rows.append(
            (
                _t("category_thresholds", lang),
                "; ".join(f"{k}: {v:g} min" for k, v in p["category_max_walk_min"].items()),
            )
        )
    if summary.get("coord_systems"):
        rows.append((_t("coord_systems", lang), "; ".join(f"{k}: {v}" for k, v in summary["coord_systems"].items())))
    if summary.get("output_coord_system"):
        rows.append((_t("output_coord_system", lang), summary["output_coord_system"]))
    if summary.get("standard"):
        s = summary["standard"]
        rows.append((_t("standard", lang), f"{s['name']} {s['key']} ({s['walk_m']:.0f} m)"))
    for key, value in (summary.get("study") or {}).items():
        rows.append((key, value))
    return pd.DataFrame(rows, columns=[_t("parameters", lang), ""])


def _inputs_table(summary: dict, lang: str) -> pd.DataFrame:
    rows = []
    for role, info in (summary.get("inputs") or {}).items():
        date = info.get("osm_date")
        rows.append(
            {
                _t("role", lang): role,
                _t("path", lang): info.get("file", info.get("path")),
                _t("sha256", lang): (info.get("sha256") or "")[:16],
                _t("osm_date", lang): (f"{date['date']} ({_t('osm_date_' + date['source'], lang)})" if date else ""),
            }
        )
    return pd.DataFrame(rows)


def _rollup_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = frame.copy()
    renames = {
        "compounds": _t("compounds", lang),
        "households": _t("households", lang),
        "population": _t("population", lang),
        "compounds_without_branch": _t("without_branch", lang),
        "unreachable": _t("unreachable", lang),
        "worst_compound_name": _t("worst", lang),
        "worst_walk_min": _t("worst_walk_min", lang),
    }
    for c in list(out.columns):
        if c.startswith("share_"):
            renames[c] = f"{_t('share', lang)}: {c.removeprefix('share_')}"
        elif c.startswith("households_share_"):
            renames[c] = f"{_t('households_share', lang)}: {c.removeprefix('households_share_')}"
    if "worst_walk_min" in out.columns:
        walk = pd.to_numeric(out["worst_walk_min"], errors="coerce")
        text = walk.map(lambda v: f"{v:.2f}", na_action="ignore").astype(object)
        out["worst_walk_min"] = text.where(walk.notna(), _t("unreachable_short", lang))
    keep = [out.columns[0], *[c for c in out.columns[1:] if c in renames]]
    return out[keep].rename(columns=renames)


def _standard_table(summary: dict, lang: str) -> pd.DataFrame | None:
    s = summary.get("standard")
    if not s:
        return None
    counts = s.get("missing_counts", {})
    return pd.DataFrame({_t("facility", lang): list(counts), _t("missing_in", lang): list(counts.values())})


def _read_sites(dirs: Sequence[Path]) -> tuple[pd.DataFrame | None, dict | None]:
    sites_path = _find("sites.csv", dirs)
    siting_path = _find("siting.json", dirs)
    sites = _read_result_csv(sites_path) if sites_path else None
    siting = None
    if siting_path:
        try:
            siting = json.loads(siting_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            log.warning("%s is not valid JSON; the siting plan is left out of the report", siting_path)
    if sites is None and isinstance(siting, dict) and isinstance(siting.get("sites"), list):
        sites = pd.DataFrame(siting["sites"])
    return sites, siting


def report_tables(out_dir: str | Path, *, lang: str = "zh", source_dirs: Sequence[Path] = ()) -> dict:
    """Every table of the report, by sheet name (what ``report.xlsx`` holds).

    Parameters
    ----------
    out_dir
        Output folder holding ``summary.json`` and the other result files.
    lang
        ``zh`` or ``en`` column labels.
    source_dirs
        Further folders to look in for files missing from ``out_dir`` (a siting plan written earlier).

    Returns
    -------
    dict
        Sheet name -> pandas.DataFrame.
    """
    dirs = [Path(out_dir), *map(Path, source_dirs)]
    summary = _load_summary(dirs)
    tables = {
        "parameters": _parameter_table(summary, lang),
        "inputs": _inputs_table(summary, lang),
        "categories": _category_table(summary, lang),
        "status": pd.DataFrame(
            {
                _t("status", lang): [_t(f"status_{k}", lang) for k in summary.get("status", {})],
                _t("compounds", lang): list(summary.get("status", {}).values()),
            }
        ),
    }
    for level in ("street", "community", "grid"):
        path = _find(f"rollup_{level}.csv", dirs)
        if path is not None:
            tables[level] = _read_result_csv(path)
    standard = _standard_table(summary, lang)
    if standard is not None:
        tables["standard"] = standard
        comp = _find("compliance.csv", dirs)
        if comp is not None:
            tables["compliance"] = _read_result_csv(comp)
    sites, _ = _read_sites(dirs)
    if sites is not None:
        tables["sites"] = sites
    coverage = _find("coverage.csv", dirs)
    if coverage is not None:
        tables["coverage"] = _read_result_csv(coverage, required=("compound_id", "category", "walk_min", "covered"))
    tables["data_quality"] = pd.DataFrame({_t("data_quality", lang): summary.get("data_quality", [])})
    return tables


def _read_result_csv(path: Path, *, required: Sequence[str] = ()) -> pd.DataFrame:
    """A result table written by lifecircle; a damaged or foreign one is an InputError naming the file."""
    try:
        table = pd.read_csv(path, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is damaged ({exc}); run the analysis again to rewrite it.") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(f"{path} has no column {missing[0]!r}: it is not a lifecircle result; run the analysis again.")
    return table


def _load_summary(dirs: Sequence[Path]) -> dict:
    path = _find("summary.json", dirs)
    if path is None:
        raise InputError(f"{dirs[0]} holds no summary.json: run `lifecircle analyze` or `lifecircle run` first.")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}).") from None
    if not isinstance(summary, dict):
        raise InputError(f"{path} must hold a JSON object, as lifecircle writes it; run the analysis again.")
    return summary


# ---- charts --------------------------------------------------------------------------------------------------


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_CJK_FONT_FILES = ("wqy", "notosanscjk", "noto sans cjk", "sourcehansans", "simhei", "msyh", "droidsansfallback")


def _register_cjk_fonts() -> None:
    """Make system CJK fonts known to matplotlib (its font cache may predate them; .ttc files need adding)."""
    from matplotlib import font_manager

    if any(f.name in _FONTS[:-1] for f in font_manager.fontManager.ttflist):
        return
    for path in font_manager.findSystemFonts():
        if any(k in Path(path).name.lower().replace("-", "").replace("_", "") for k in _CJK_FONT_FILES):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: keep going without it
                continue


def _charts(summary: dict, coverage: pd.DataFrame | None, lang: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    _register_cjk_fonts()
    charts = []
    with warnings.catch_warnings(), plt.rc_context({"font.sans-serif": _FONTS, "font.family": "sans-serif"}):
        warnings.simplefilter("ignore")  # a missing CJK glyph is not worth a warning in the report run
        if coverage is not None and len(coverage):
            walk = pd.to_numeric(coverage.loc[coverage["category"] == "all", "walk_min"], errors="coerce").dropna()
            if len(walk):
                fig, ax = plt.subplots(figsize=(6, 3.2))
                ax.hist(walk, bins=min(30, max(5, len(walk) // 3)), color="#3182bd", edgecolor="white")
                limit = summary.get("parameters", {}).get("max_walk_min")
                if limit:
                    ax.axvline(limit, color="#de2d26", linestyle="--", linewidth=1.5)
                ax.set_xlabel(_t("hist_x", lang))
                ax.set_ylabel(_t("hist_y", lang))
                ax.set_title(_t("hist_title", lang))
                charts.append((_t("hist_title", lang), _png(fig)))
                plt.close(fig)
        cats = summary.get("categories", {})
        if cats:
            names = list(cats)
            shares = [100 * (cats[c].get("compounds_share") or 0) for c in names]
            fig, ax = plt.subplots(figsize=(6, 0.45 * len(names) + 1.2))
            ax.barh(names[::-1], shares[::-1], color="#31a354")
            ax.set_xlim(0, 100)
            ax.set_xlabel(_t("bar_x", lang))
            ax.set_title(_t("bar_title", lang))
            charts.append((_t("bar_title", lang), _png(fig)))
            plt.close(fig)
    return charts


# ---- HTML ----------------------------------------------------------------------------------------------------


def _html_table(df: pd.DataFrame, *, percent: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            if col in percent or (isinstance(col, str) and col.startswith(tuple(percent))):
                text = _e(_pct(value))
            elif isinstance(value, float):
                text = "" if np.isnan(value) else _e(f"{value:,.2f}".rstrip("0").rstrip("."))
            else:
                text = _e(value)
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;border-bottom:3px solid #31a354;padding-bottom:.3em}h2{font-size:1.25em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left}th{background:#f0f5f0}td{font-variant-numeric:tabular-nums}
.headline{display:flex;flex-wrap:wrap;gap:1em}.headline div{background:#f5f9f5;border-left:4px solid #31a354;
padding:.5em 1em;min-width:12em}.headline b{display:block;font-size:1.6em}
iframe{width:100%;height:620px;border:1px solid #ccc;background:#fafafa}
.warn li{color:#8a4b00}.muted{color:#777;font-size:.85em}
img{max-width:100%}
"""


def _headline(summary: dict, lang: str) -> str:
    cats = summary.get("categories", {})
    all_entry = cats.get("all", {})
    minutes = f"{summary.get('parameters', {}).get('max_walk_min', 0):g}"
    items = [
        (_t("compounds", lang), f"{summary.get('compounds', 0):,}"),
        (
            _t("covered_all", lang, minutes=minutes),
            f"{all_entry.get('compounds_covered', 0):,} ({_pct(all_entry.get('compounds_share'))})",
        ),
    ]
    if summary.get("households") is not None:
        items.append((_t("households", lang), f"{summary['households']:,.0f}"))
        items.append((_t("households_covered_all", lang), _pct(all_entry.get("households_share"))))
    if summary.get("compounds_without_branch") is not None:
        items.append((_t("without_branch", lang), f"{summary['compounds_without_branch']:,}"))
    unreachable = summary.get("unreachable_compounds", {})
    items.append((_t("unreachable", lang), f"{sum(unreachable.values()):,}"))
    return '<div class="headline">' + "".join(f"<div><b>{_e(v)}</b>{_e(k)}</div>" for k, v in items) + "</div>"


def _report_html(summary: dict, tables: dict, charts: list, *, lang: str, has_map: bool, siting: dict | None) -> str:
    title = summary.get("study", {}).get("name") if isinstance(summary.get("study"), dict) else None
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{_e(title or _t('title', lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title or _t('title', lang))}</h1>",
        f'<p class="muted">{_e(_t("generated", lang))}: '
        f"{_e(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))}</p>",
        f"<h2>{_e(_t('headline', lang))}</h2>",
        _headline(summary, lang),
        f"<h2>{_e(_t('categories', lang))}</h2>",
        _html_table(tables["categories"], percent=(_t("share", lang), _t("households_share", lang))),
        _html_table(tables["status"]),
    ]
    if charts:
        parts.append(f"<h2>{_e(_t('charts', lang))}</h2>")
        parts += [f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{b64}"></p>' for alt, b64 in charts]
    for level in ("street", "community", "grid"):
        if level in tables:
            parts.append(f"<h2>{_e(_t('rollup_' + level, lang))}</h2>")
            parts.append(
                _html_table(
                    _rollup_table(tables[level], lang),
                    percent=(f"{_t('share', lang)}:", f"{_t('households_share', lang)}:"),
                )
            )
    if "standard" in tables:
        s = summary["standard"]
        parts.append(f"<h2>{_e(_t('standard', lang))}</h2>")
        line = _t(
            "standard_line",
            lang,
            name=s["name"],
            label=s["label"] if lang == "zh" else s["label_en"],
            walk_m=f"{s['walk_m']:.0f}",
            ok=s["compounds_compliant"],
            bad=s["compounds_missing_any"],
            na=s["compounds_not_fully_assessed"],
        )
        parts.append(f"<p>{_e(line)}</p>")
        if not s.get("verified"):
            parts.append(f'<p class="muted">{_e(_t("standard_unverified", lang))}</p>')
        parts.append(_html_table(tables["standard"]))
    parts.append(f"<h2>{_e(_t('map', lang))}</h2>")
    if has_map:
        parts.append(
            f'<p><a href="map.html" target="_blank">{_e(_t("map_open", lang))}</a></p>'
            f'<iframe src="map.html" title="{_e(_t("map", lang))}"></iframe>'
        )
    else:
        parts.append(f"<p>{_e(_t('no_map', lang))}</p>")
    if "sites" in tables or siting:
        parts.append(f"<h2>{_e(_t('siting', lang))}</h2>")
        if isinstance(siting, dict):
            scalars = {k: v for k, v in siting.items() if isinstance(v, str | int | float | bool) or v is None}
            if scalars:
                parts.append(_html_table(pd.DataFrame({"": list(scalars), " ": list(scalars.values())})))
        if "sites" in tables:
            parts.append(_html_table(tables["sites"]))
    parts.append(f"<h2>{_e(_t('parameters', lang))}</h2>")
    parts.append(_html_table(tables["parameters"]))
    parts.append(f"<h2>{_e(_t('data_versions', lang))}</h2>")
    parts.append(_html_table(tables["inputs"]))
    parts.append(f"<h2>{_e(_t('data_quality', lang))}</h2>")
    notes = summary.get("data_quality", [])
    if notes:
        parts.append('<ul class="warn">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    else:
        parts.append(f"<p>{_e(_t('no_warnings', lang))}</p>")
    parts.append(f'<p class="muted">{_e(_t("footer", lang, version=__version__))}</p></body></html>')
    return "\n".join(parts)


def _guess_lang(summary: dict, tables: dict) -> str:
    if summary.get("lang") in ("zh", "en"):
        return summary["lang"]
    text = " ".join(map(str, summary.get("categories", {}))) + " ".join(
        str(r.get("worst_compound_name", "")) for rows in summary.get("rollups", {}).values() for r in rows
    )
    return "zh" if _CJK.search(text) else "en"


def write_report(
    out_dir: str | Path, *, lang: str | None = None, source_dirs: Sequence[str | Path] = ()
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.xlsx`` into ``out_dir`` from the result files found there.

    Parameters
    ----------
    out_dir
        The folder to write into; also the first place to look for ``summary.json`` and the other files.
    lang
        ``zh`` or ``en``; by default the language of the analysis (Chinese when names are Chinese).
    source_dirs
        Further folders to read from (e.g. the final output folder while writing into a staging folder, so an
        earlier ``sites.csv`` is included).

    Returns
    -------
    (html_path, xlsx_path)

    Raises
    ------
    InputError
        No ``summary.json`` found, or an unknown language.
    """
    out_dir = Path(out_dir)
    dirs = [out_dir, *map(Path, source_dirs)]
    summary = _load_summary(dirs)
    lang = lang or _guess_lang(summary, {})
    if lang not in ("zh", "en"):
        raise InputError(f"Report language must be zh or en, got {lang!r}.")
    tables = report_tables(out_dir, lang=lang, source_dirs=source_dirs)
    charts = _charts(summary, tables.get("coverage"), lang)
    _, siting = _read_sites(dirs)
    page = _report_html(summary, tables, charts, lang=lang, has_map=_find("map.html", dirs) is not None, siting=siting)
    html_path = out_dir / "report.html"
    html_path.write_text(page, encoding="utf-8")
    xlsx_path = out_dir / "report.xlsx"
    with pd.ExcelWriter(xlsx_path, engine="xlsxwriter") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31], index=False)
    log.info("report written to %s and %s", html_path, xlsx_path)
    return html_path, xlsx_path


def regenerate_report(out_dir: str | Path, *, lang: str | None = None) -> tuple[Path, Path]:
    """Rewrite ``report.html`` and ``report.xlsx`` of an existing output folder (both or neither).

    Raises
    ------
    InputError
        The folder does not exist, holds no ``summary.json``, misses the ``coverage.csv`` of its analysis,
        or holds a damaged result table.
    """
    from lifecircle.planning.outputs import staged_directory

    out_dir = Path(out_dir)
    if not (out_dir / "summary.json").is_file():
        raise InputError(f"{out_dir} holds no summary.json: run `lifecircle analyze` or `lifecircle run` first.")
    if "categories" in _load_summary([out_dir]) and not (out_dir / "coverage.csv").is_file():
        raise InputError(f"{out_dir} holds no coverage.csv: the analysis is incomplete; run it again.")
    with staged_directory(out_dir, job="report") as stage:
        try:
            write_report(stage, lang=lang, source_dirs=[out_dir])
        except InputError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a summary.json edited by hand
            log.debug("report of %s failed", out_dir, exc_info=True)
            raise InputError(
                f"{out_dir / 'summary.json'} is not a summary lifecircle wrote (or was edited): "
                f"{type(exc).__name__}: {exc}; run the analysis again."
            ) from None
    return out_dir / "report.html", out_dir / "report.xlsx"
