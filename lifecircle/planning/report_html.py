"""``report.html``: one file that travels: headline, tables, charts (PNG inside) and the map (inside too).

The map of the folder is embedded in an ``<iframe srcdoc>`` holding its whole page, escaped, with Leaflet
inlined when the map was written for the web; so the report opens alone, from an e-mail or a USB stick, with
no network. The frame is sandboxed to scripts alone (an opaque origin: it cannot reach the report, its storage or
its cookies, navigate the report or submit forms). Chromium does not print such a frame's map, so the report also
carries a still picture of the map (:func:`lifecircle.maps.print_map.print_map_png`) that only print shows. Every
user string is escaped, in the report and in the map.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from lifecircle import __version__, folder
from lifecircle.errors import LifecircleError
from lifecircle.planning.report_beyond import beyond_figures, beyond_tables
from lifecircle.planning.report_labels import category_name, t
from lifecircle.planning.report_tables import Table

log = logging.getLogger(__name__)

__all__ = ["embedded_map", "report_page"]

_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei", "DejaVu Sans"]
_CJK_FONT_FILES = ("wqy", "notosanscjk", "noto sans cjk", "sourcehansans", "simhei", "msyh", "droidsansfallback")
HTML_TABLES = ("categories", "status", "street", "community", "grid")

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;border-bottom:3px solid #31a354;padding-bottom:.3em}h2{font-size:1.25em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left}th{background:#f0f5f0;vertical-align:bottom}td.num{text-align:right;font-variant-numeric:tabular-nums}
td:first-child{white-space:nowrap}
.headline{display:flex;flex-wrap:wrap;gap:1em}.headline div{background:#f5f9f5;border-left:4px solid #31a354;
padding:.5em 1em;min-width:12em}.headline b{display:block;font-size:1.6em}
iframe{width:100%;height:620px;border:1px solid #ccc;background:#fafafa}
img.lc-print-map{display:none;width:100%;border:1px solid #ccc}
@media print{#lc-map,#lc-open-map{display:none}img.lc-print-map{display:block}}
.warn li{color:#8a4b00}.muted{color:#777;font-size:.85em}
img{max-width:100%}
"""
_OPEN_MAP_JS = (
    "document.getElementById('lc-open-map').addEventListener('click',function(e){e.preventDefault();"
    "var f=document.getElementById('lc-map');var b=new Blob([f.srcdoc],{type:'text/html'});"
    "window.open(URL.createObjectURL(b),'_blank');});"
)


def _e(value: object) -> str:
    """HTML-escape any value (None and NaN as an empty cell)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def cell_text(value: object, kind: str) -> str:
    """A cell as the page shows it: shares as 83.8%, counts with separators, minutes with one decimal."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    number = float(value)
    if kind == "percent":
        return f"{number * 100:.1f}%"
    if kind == "int":
        return f"{number:,.0f}"
    if kind == "minutes":
        return f"{number:.1f}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def html_table(table: Table) -> str:
    """A table as HTML, numbers right-aligned, every cell escaped."""
    columns = list(table.frame.columns)
    kinds = [table.kind(c) for c in columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = []
    for row in table.frame.itertuples(index=False):
        cells = (
            f'<td class="num">{_e(cell_text(v, k))}</td>' if k != "text" else f"<td>{_e(cell_text(v, k))}</td>"
            for v, k in zip(row, kinds, strict=True)
        )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ---- charts --------------------------------------------------------------------------------------------------


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


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


def charts(summary: dict, coverage: pd.DataFrame | None, lang: str) -> list[tuple[str, str]]:
    """The report's charts as (title, base64 PNG): walks to the nearest service, coverage per category."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    _register_cjk_fonts()
    out = []
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
                ax.set_xlabel(t("hist_x", lang))
                ax.set_ylabel(t("hist_y", lang))
                ax.set_title(t("hist_title", lang))
                out.append((t("hist_title", lang), _png(fig)))
                plt.close(fig)
        cats = summary.get("categories", {})
        if cats:
            names = list(cats)
            shares = [100 * (cats[c].get("compounds_share") or 0) for c in names]
            fig, ax = plt.subplots(figsize=(6, 0.45 * len(names) + 1.2))
            ax.barh([category_name(c, lang) for c in names][::-1], shares[::-1], color="#31a354")
            ax.set_xlim(0, 100)
            ax.set_xlabel(t("bar_x", lang))
            ax.set_title(t("bar_title", lang))
            out.append((t("bar_title", lang), _png(fig)))
            plt.close(fig)
    return out


# ---- map -----------------------------------------------------------------------------------------------------


def embedded_map(map_path: Path, lang: str, *, still: bytes | None) -> str:
    """The map page inside the report: an ``<iframe srcdoc>`` with the whole map, Leaflet inlined, and ``still``
    (the map as a PNG picture, :func:`lifecircle.maps.print_map.print_map_png`) shown in its place in print."""
    page = map_path.read_text(encoding="utf-8")
    from lifecircle.maps import _offline

    try:
        page = _offline.inline_assets(page)  # a map written for the web: inline what it loads, drop the rest
    except LifecircleError as exc:  # no Leaflet package installed: the map still shows online
        log.warning("the map in the report needs the network: %s", exc)
    title = _e(t("map", lang))
    picture = "" if still is None else (
        f'<img class="lc-print-map" alt="{title}" src="data:image/png;base64,{base64.b64encode(still).decode()}">'
    )  # fmt: skip
    return (
        f'<p><a id="lc-open-map" href="{folder.MAP.name}" target="_blank">{_e(t("map_open", lang))}</a></p>'
        f'<iframe id="lc-map" title="{title}" sandbox="allow-scripts allow-popups" '
        f'srcdoc="{html.escape(page, quote=True)}"></iframe>{picture}<script>{_OPEN_MAP_JS}</script>'
    )


# ---- page ----------------------------------------------------------------------------------------------------


def _headline(summary: dict, lang: str) -> str:
    cats = summary.get("categories", {})
    all_entry = cats.get("all", {})
    minutes = f"{summary.get('parameters', {}).get('max_walk_min', 0):g}"
    share = cell_text(all_entry.get("compounds_share"), "percent")
    items = [
        (t("compounds", lang), f"{summary.get('compounds', 0):,}"),
        (t("covered_all", lang, minutes=minutes), f"{all_entry.get('compounds_covered', 0):,} ({share})"),
    ]
    if summary.get("households") is not None:
        items.append((t("households", lang), f"{summary['households']:,.0f}"))
        items.append((t("households_covered_all", lang), cell_text(all_entry.get("households_share"), "percent")))
    if summary.get("compounds_without_branch") is not None:
        items.append((t("without_branch", lang), f"{summary['compounds_without_branch']:,}"))
    unreachable = summary.get("unreachable_compounds", {}) or {}
    total = unreachable.get("total")
    if not isinstance(total, int):  # older summaries: counts by reason only
        total = sum(v for v in unreachable.values() if isinstance(v, int) and not isinstance(v, bool))
    items.append((t("unreachable", lang), f"{total:,}"))
    return '<div class="headline">' + "".join(f"<div><b>{_e(v)}</b>{_e(k)}</div>" for k, v in items) + "</div>"


def _page_rollup(table: Table, lang: str) -> Table:
    """A roll-up narrowed for the page: shares of compounds only (the workbook keeps the households' too)."""
    suffix = t("households_share_of", lang, category="")
    keep = [c for c in table.frame.columns if not str(c).endswith(suffix)]
    return Table(table.key, table.title, table.frame[keep], table.kinds, table.source)


def _standard_section(summary: dict, tables: dict[str, Table], lang: str) -> list[str]:
    s = summary["standard"]
    line = t(
        "standard_line",
        lang,
        name=s["name"],
        label=s["label"] if lang == "zh" else s["label_en"],
        walk_m=f"{s['walk_m']:.0f}",
        ok=s["compounds_compliant"],
        bad=s["compounds_missing_any"],
        na=s["compounds_not_fully_assessed"],
    )
    parts = [f"<h2>{_e(t('standard', lang))}</h2>", f"<p>{_e(line)}</p>"]
    if not s.get("verified"):
        parts.append(f'<p class="muted">{_e(t("standard_unverified", lang))}</p>')
    parts.append(html_table(tables["standard"]))
    return parts


def _siting_section(tables: dict[str, Table], lang: str) -> list[str]:
    parts = [f"<h2>{_e(t('siting', lang))}</h2>"]
    parts += [html_table(tables[key]) for key in ("siting", "sites") if key in tables]
    return parts


def report_page(
    summary: dict,
    tables: dict[str, Table],
    chart_pngs: Sequence[tuple[str, str]],
    *,
    lang: str,
    map_html: str | None,
    notes: Sequence[str],
) -> str:
    """The whole ``report.html`` page.

    Parameters
    ----------
    summary
        ``summary.json``.
    tables
        :func:`~lifecircle.planning.report_tables.report_tables` (the per-compound list stays in the workbook).
    chart_pngs
        :func:`charts`.
    lang
        ``zh`` or ``en``.
    map_html
        :func:`embedded_map`, or None when the folder has no map.
    notes
        The data-quality notes in ``lang``.
    """
    study = summary.get("study")
    title = (study.get("name") if isinstance(study, dict) else None) or t("title", lang)
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{_e(t("generated", lang))}: '
        f"{_e(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))}</p>",
        f"<h2>{_e(t('headline', lang))}</h2>",
        _headline(summary, lang),
        f"<h2>{_e(t('categories', lang))}</h2>",
        html_table(tables["categories"]),
        html_table(tables["status"]),
    ]
    if chart_pngs:
        parts.append(f"<h2>{_e(t('charts', lang))}</h2>")
        parts += [f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{b64}"></p>' for alt, b64 in chart_pngs]
    for level in ("street", "community", "grid"):
        if level in tables:
            parts += [f"<h2>{_e(tables[level].title)}</h2>", html_table(_page_rollup(tables[level], lang))]
    if "standard" in tables:
        parts += _standard_section(summary, tables, lang)
    parts.append(f"<h2>{_e(t('map', lang))}</h2>")
    parts.append(map_html if map_html is not None else f"<p>{_e(t('no_map', lang))}</p>")
    if "sites" in tables or "siting" in tables:
        parts += _siting_section(tables, lang)
    for extra in beyond_tables(summary, lang):  # capacity, opening hours, buildings
        parts += [f"<h2>{_e(extra.title)}</h2>", html_table(extra), *beyond_figures(extra.key, summary, lang)]
    parts += [f"<h2>{_e(t('parameters', lang))}</h2>", html_table(tables["parameters"])]
    parts += [f"<h2>{_e(t('data_versions', lang))}</h2>", html_table(tables["inputs"])]
    parts.append(f"<h2>{_e(t('data_quality', lang))}</h2>")
    if notes:
        parts.append('<ul class="warn">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    else:
        parts.append(f"<p>{_e(t('no_warnings', lang))}</p>")
    parts.append(f'<p class="muted">{_e(t("footer", lang, version=__version__))}</p></body></html>')
    return "\n".join(parts)
