"""The index page of a published site: for people, in the run's language, every user string escaped.

Per analysis: its title and dates, the parameters in words, a headline table per category and per street,
links to each map, the report and the downloads. Nothing is a dump of ``summary.json``'s keys.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pandas as pd

from lifecircle import folder
from lifecircle.geo.walk import metres_per_minute
from lifecircle.maps.labels import category_label
from lifecircle.maps.site_text import SITE_TEXT, file_what, site_text

__all__ = ["Download", "SectionLinks", "category_rows", "page", "parameter_lines", "section", "street_rows"]

_SITE_CSS = """
body{font:15px/1.5 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
  margin:0 auto;max-width:980px;padding:16px 20px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}ul{padding-left:20px}.note{color:#666;font-size:13px}
"""
NO_UNIT = "(none)"  # the roll-ups' name for compounds without a unit


def e(value: object) -> str:
    """HTML-escape any value."""
    return html.escape(str(value), quote=True)


def href(*parts: str) -> str:
    """A relative link to a file of the site (each part percent-encoded, so any folder name works)."""
    return "/".join(quote(p) for p in parts)


def _category_name(category: str, lang: str) -> str:
    return site_text("all", lang) if category == "all" else category_label(category, lang)


def parameter_lines(summary: dict, *, minutes: float, speed_kmh: float, lang: str) -> list[str]:
    """The parameters of an analysis in sentences."""
    p = summary.get("parameters") if isinstance(summary.get("parameters"), dict) else {}
    metres = p.get("max_walk_m") or minutes * metres_per_minute(speed_kmh)
    lines = [site_text("threshold", lang, minutes=f"{minutes:g}", metres=f"{float(metres):.0f}")]
    limits = p.get("category_max_walk_min") or {}
    if isinstance(limits, dict) and limits:
        sep = "；" if lang == "zh" else "; "
        items = sep.join(
            site_text("category_limit", lang, category=_category_name(str(k), lang), minutes=f"{float(v):g}")
            for k, v in limits.items()
        )
        lines.append(site_text("category_limits", lang, items=items))
    lines.append(site_text("speed", lang, speed=f"{speed_kmh:g}"))
    if isinstance(p.get("max_snap_m"), (int, float)):
        lines.append(site_text("snap", lang, metres=f"{p['max_snap_m']:.0f}"))
    origin = f"origin_{p.get('origin')}"
    if p.get("origin") and origin in SITE_TEXT:
        lines.append(site_text(origin, lang))
    standard = summary.get("standard")
    if isinstance(standard, dict) and standard.get("name"):
        level = standard.get("label") if lang == "zh" else standard.get("label_en", standard.get("label"))
        lines.append(site_text("standard", lang, name=standard["name"], label=level or ""))
    return lines


def _covered(table: pd.DataFrame) -> pd.Series:
    c = table["covered"]
    return c.astype(str).str.lower().isin(["true", "1", "1.0"]) if c.dtype == object else c.fillna(False).astype(bool)


def _weight(compounds: pd.DataFrame, names: Sequence[str]) -> pd.Series | None:
    by_lower = {str(c).strip().lower(): c for c in compounds.columns}
    column = next((by_lower[n] for n in names if n in by_lower), None)
    if column is None:
        return None
    values = pd.to_numeric(compounds[column], errors="coerce").fillna(0)
    values.index = compounds.index.astype(str)
    return values


def category_rows(table: pd.DataFrame, compounds: pd.DataFrame, summary: dict, *, minutes: float, lang: str) -> str:
    """Headline table: per category the limit, compounds covered (of all), shares and residents covered."""
    t = table.assign(covered=_covered(table))
    n = len(compounds)
    households = _weight(compounds, ("households", "户数", "住户数", "总户数"))
    population = _weight(compounds, ("population", "人口", "常住人口", "人数", "居民人数"))
    groups = t.groupby("category", sort=True)
    agg = pd.DataFrame({"covered": groups["covered"].sum()})
    for name, weight in (("households", households), ("population", population)):
        if weight is not None:
            agg[name] = t["compound_id"].map(weight).where(t["covered"], 0).groupby(t["category"]).sum()
    agg = agg.reindex((["all"] if "all" in agg.index else []) + [c for c in agg.index if c != "all"])
    p = summary.get("parameters") if isinstance(summary.get("parameters"), dict) else {}
    limits = p.get("category_max_walk_min") if isinstance(p.get("category_max_walk_min"), dict) else {}
    head = ["col_category", "col_limit", "col_covered", "col_share"]
    head += ["col_households_share"] if households is not None else []
    head += ["col_population"] if population is not None else []
    rows = ["<tr>" + "".join(f"<th>{e(site_text(h, lang))}</th>" for h in head) + "</tr>"]
    for cat, row in agg.iterrows():  # one row per category (a handful), not per compound
        share = row["covered"] / n if n else np.nan
        cells = [
            f"<td>{e(_category_name(str(cat), lang))}</td>",
            f'<td class="num">{float(limits.get(cat, minutes)):g}</td>',
            f'<td class="num">{int(row["covered"]):,} / {n:,}</td>',
            f'<td class="num">{share:.1%}</td>',
        ]
        if households is not None:
            total = float(households.sum())
            cells.append(f'<td class="num">{(row["households"] / total if total else np.nan):.1%}</td>')
        if population is not None:
            cells.append(f'<td class="num">{int(row["population"]):,}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def street_rows(rollup: pd.DataFrame, summary: dict, lang: str) -> str:
    """Headline table per street (``rollup_street.csv``): compounds, share covered per category, worst compound."""
    unit = rollup.columns[0]
    cats = [c.removeprefix("share_") for c in rollup.columns if str(c).startswith("share_")]
    cats = (["all"] if "all" in cats else []) + [c for c in cats if c != "all"]
    head = [e(site_text("col_street", lang)), e(site_text("col_compounds", lang))]
    head += [e(site_text("col_share_of", lang, category=_category_name(c, lang))) for c in cats]
    extra = [c for c in ("compounds_without_branch", "worst_compound_name") if c in rollup.columns]
    extra = [c for c in extra if rollup[c].notna().any()]
    head += [e(site_text("col_without_branch" if c.startswith("compounds") else "col_worst", lang)) for c in extra]
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for _, r in rollup.iterrows():  # one row per street
        name = site_text("no_unit", lang) if str(r[unit]) == NO_UNIT else r[unit]
        cells = [f"<td>{e(name)}</td>", f'<td class="num">{int(r["compounds"]):,}</td>']
        cells += [f'<td class="num">{float(r[f"share_{c}"]):.1%}</td>' for c in cats]
        for c in extra:
            value = r[c]
            text = "" if pd.isna(value) else (f"{int(value):,}" if c.startswith("compounds") else str(value))
            cls = ' class="num"' if c.startswith("compounds") else ""
            cells.append(f"<td{cls}>{e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


@dataclass(frozen=True)
class Download:
    """A file copied into the site: its name and size."""

    name: str
    size: int


@dataclass(frozen=True)
class SectionLinks:
    """What one analysis's section links to (paths relative to the site)."""

    slug: str
    category_maps: tuple[tuple[str, str], ...]
    report: bool
    downloads: tuple[Download, ...]
    left_out: tuple[str, ...] = ()


def section(heading: str, dates: Sequence[str], params: Sequence[str], tables: Sequence[tuple[str, str]],
            links: SectionLinks, lang: str) -> str:  # fmt: skip
    """One analysis on the index: heading, dates, parameters, headline tables, maps, report, downloads."""
    slug = links.slug
    parts = [f'<h2 id="{e(slug)}">{e(heading)}</h2>']
    if dates:
        parts.append(f'<p class="note">{e(" · ".join(dates))}</p>')
    parts.append(f"<h3>{e(site_text('parameters', lang))}</h3>")
    parts.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in params) + "</ul>")
    for title, table_html in tables:
        parts += [f"<h3>{e(title)}</h3>", table_html]
    parts.append(f"<h3>{e(site_text('maps', lang))}</h3><ul>")
    parts.append(f'<li><a href="{href(slug, folder.MAP.name)}">{e(site_text("overview_map", lang))}</a></li>')
    if links.category_maps:
        maps = "、" if lang == "zh" else ", "
        items = maps.join(f'<a href="{href(slug, f)}">{e(_category_name(c, lang))}</a>' for c, f in links.category_maps)
        parts.append(f"<li>{e(site_text('category_maps', lang))}{items}</li>")
    if links.report:
        parts.append(f'<li><a href="{href(slug, folder.REPORT_HTML.name)}">{e(site_text("report", lang))}</a></li>')
    parts.append("</ul>")
    parts.append(f"<h3>{e(site_text('downloads', lang))}</h3><ul>")
    for d in links.downloads:
        what = file_what(d.name, lang)
        size = site_text("kb", lang, size=f"{d.size / 1024:,.1f}")
        parts.append(
            f'<li><a href="{href(slug, "data", d.name)}" download>{e(d.name)}</a>'
            f'{(" — " + e(what)) if what else ""} <span class="note">({e(size)})</span></li>'
        )
    parts.append("</ul>")
    if links.left_out:
        parts.append(f'<p class="note">{e(site_text("left_out", lang, names=", ".join(links.left_out)))}</p>')
    return "\n".join(parts)


def page(title: str, body: str, lang: str) -> str:
    """The whole HTML page."""
    return (
        f'<!DOCTYPE html>\n<html lang="{e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{_SITE_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
