"""Static site from one or more analysis output folders: index, maps, downloads.

Each analysis folder holds ``coverage.csv`` (the coverage engine's long table), ``compounds.gpkg``,
``services.gpkg`` and ``summary.json``; optionally ``served_area.gpkg`` and ``sites.gpkg`` (file names from
:mod:`lifecircle.folder`). The site uses relative links only and no external asset, so it
works from ``file://`` and from any static host.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.maps import _offline
from lifecircle.maps.coverage_map import coverage_map, save_map
from lifecircle.maps.labels import category_label, check_lang, label, pick_lang

logger = logging.getLogger(__name__)

__all__ = ["REQUIRED_FILES", "publish_site"]

DOWNLOAD_SUFFIXES = frozenset({".csv", ".gpkg", ".json", ".xlsx", ".geojson"})
REQUIRED_FILES: tuple[str, ...] = tuple(f.name for f in folder.files_of("analyze") if f.required)
OPTIONAL_LAYERS: dict[str, str] = {  # map layer -> file of the analysis folder
    "branches": "branches.gpkg",
    "served_areas": folder.SERVED_AREA.name,
    "sites": folder.SITES_GPKG.name,
    "study_area": "study_area.gpkg",
}
MINUTES_KEYS: tuple[str, ...] = ("max_walk_min", "minutes", "walk_min", "threshold_min")
SPEED_KEYS: tuple[str, ...] = ("speed_kmh", "walk_speed_kmh")
_MARKER = ".lifecircle-site"

_SITE_CSS = """
body{font:15px/1.5 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
  margin:0 auto;max-width:980px;padding:16px 20px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.num{text-align:right}ul{padding-left:20px}.note{color:#666;font-size:13px}
"""


@dataclass(frozen=True)
class _Analysis:
    src: Path
    slug: str
    summary: dict
    minutes: float
    speed_kmh: float
    table: pd.DataFrame
    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    layers: dict


def _find(summary: dict, keys: Sequence[str]) -> object:
    """A parameter from summary.json, top level or one level down (e.g. under "parameters")."""
    for k in keys:
        if k in summary:
            return summary[k]
    for v in summary.values():
        if isinstance(v, dict):
            for k in keys:
                if k in v:
                    return v[k]
    return None


def _read_layer(path: Path, index_col: str | None) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise InputError(f"Cannot read the GeoPackage {path}: {exc}") from exc
    if index_col and index_col in gdf.columns:
        gdf[index_col] = gdf[index_col].astype(str)
        gdf = gdf.set_index(index_col)
    return gdf


def _load(src: Path, slug: str) -> _Analysis:
    if not src.is_dir():
        raise InputError(f"The analysis folder {src} does not exist.")
    folder.require_complete(src)
    missing = [f for f in REQUIRED_FILES if not (src / f).is_file()]
    if missing:
        raise InputError(f"The analysis folder {src} lacks {', '.join(missing)}.")
    summary = folder.read_json(src / folder.SUMMARY.name)
    if not isinstance(summary, dict):
        raise InputError(f"{src / 'summary.json'} must hold a JSON object.")
    minutes = _find(summary, MINUTES_KEYS)
    speed = _find(summary, SPEED_KEYS)
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool):
        raise InputError(f"{src / 'summary.json'} lacks the walking threshold ({' or '.join(MINUTES_KEYS)}).")
    if not isinstance(speed, (int, float)) or isinstance(speed, bool):
        raise InputError(f"{src / 'summary.json'} lacks the walking speed ({' or '.join(SPEED_KEYS)}).")
    try:
        table = pd.read_csv(
            src / folder.COVERAGE.name, dtype={"compound_id": str, "nearest_service_id": str, "category": str}
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{src / 'coverage.csv'} is damaged ({exc}); run the analysis again.") from None
    compounds = _read_layer(src / folder.COMPOUNDS.name, "compound_id")
    services = _read_layer(src / folder.SERVICES.name, "service_id")
    layers = {name: _read_layer(src / file, None) for name, file in OPTIONAL_LAYERS.items() if (src / file).is_file()}
    return _Analysis(src, slug, summary, float(minutes), float(speed), table, compounds, services, layers)


def _slugs(dirs: Sequence[Path]) -> list[str]:
    out: list[str] = []
    for i, d in enumerate(dirs, start=1):
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", d.resolve().name).strip("-").lower() or f"analysis-{i}"
        slug, n = base, 2
        while slug in out:
            slug, n = f"{base}-{n}", n + 1
        out.append(slug)
    return out


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _href(*parts: str) -> str:
    return "/".join(quote(p) for p in parts)


def _coverage_rows(a: _Analysis, lang: str) -> str:
    t = a.table.copy()
    covered = (
        t["covered"].astype(str).str.lower().isin(["true", "1"])
        if t["covered"].dtype == object
        else t["covered"].fillna(False).astype(bool)
    )
    t["covered"] = covered
    n = len(a.compounds)
    if "population" in a.compounds.columns:
        pop = pd.to_numeric(a.compounds["population"], errors="coerce")
        pop.index = a.compounds.index.astype(str)
        t["pop"] = t["compound_id"].map(pop).where(t["covered"], 0)
    g = t.groupby("category", sort=True)
    agg = pd.DataFrame({"covered": g["covered"].sum()})
    if "pop" in t:
        agg["pop"] = g["pop"].sum()
    order = (["all"] if "all" in agg.index else []) + [c for c in agg.index if c != "all"]
    agg = agg.reindex(order)
    head = [label("site_col_category", lang), label("site_col_covered", lang), label("site_col_share", lang)]
    if "pop" in agg:
        head.append(label("site_col_population", lang))
    rows = ["<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    share = agg["covered"] / n if n else agg["covered"] * np.nan
    for cat, row in agg.iterrows():  # one row per category (a handful), not per compound
        cells = [
            f"<td>{_e(category_label(cat, lang))}</td>",
            f'<td class="num">{int(row["covered"])} / {n}</td>',
            f'<td class="num">{share[cat]:.1%}</td>',
        ]
        if "pop" in agg:
            cells.append(f'<td class="num">{int(row["pop"]):,}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _summary_rows(summary: dict, lang: str) -> str:
    flat: dict[str, object] = {}
    for k, v in summary.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if not isinstance(v2, (dict, list)):
                    flat[f"{k}.{k2}"] = v2
        elif isinstance(v, list):
            if all(not isinstance(x, (dict, list)) for x in v):
                flat[k] = ", ".join(str(x) for x in v)
        else:
            flat[k] = v
    key, value = _e(label("site_col_key", lang)), _e(label("site_col_value", lang))
    rows = [f"<tr><th>{key}</th><th>{value}</th></tr>"]
    rows += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in flat.items()]
    return "<table>" + "".join(rows) + "</table>"


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_SITE_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _publish_one(a: _Analysis, dest: Path, *, lang: str, offline: bool) -> str:
    """Write one analysis's maps and downloads under dest/slug; return its index section."""
    d = dest / a.slug
    (d / "data").mkdir(parents=True)
    date = _find(a.summary, ("data_date", "osm_date", "date"))
    title = _find(a.summary, ("title", "name"))
    common = {
        "minutes": a.minutes,
        "speed_kmh": a.speed_kmh,
        "lang": lang,
        "data_date": None if date is None else str(date),
        "branches": a.layers.get("branches"),
        "sites": a.layers.get("sites"),
        "served_areas": a.layers.get("served_areas"),
        "study_area": a.layers.get("study_area"),
    }
    m = coverage_map(a.compounds, a.services, a.table, title=None if title is None else str(title), **common)
    save_map(m, d / "map.html", offline=offline)
    cats = sorted((set(a.table["category"].astype(str)) - {"all"}) | set(a.services["category"].astype(str)))
    cat_links = []
    for k, cat in enumerate(cats, start=1):
        common_c = {**common, "sites": None}
        mc = coverage_map(a.compounds, a.services, a.table, category=cat, **common_c)
        name = f"map-{k:02d}.html"
        save_map(mc, d / name, offline=offline)
        cat_links.append(f'<li><a href="{_href(a.slug, name)}">{_e(category_label(cat, lang))}</a></li>')
    downloads = []
    for f in sorted(
        p.name
        for p in a.src.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DOWNLOAD_SUFFIXES
    ):
        shutil.copy2(a.src / f, d / "data" / f)
        size = (d / "data" / f).stat().st_size
        downloads.append(
            f'<li><a href="{_href(a.slug, "data", f)}" download>{_e(f)}</a> '
            f'<span class="note">({size / 1024:,.1f} kB)</span></li>'
        )
    heading = str(title) if title is not None else a.src.resolve().name
    params = " · ".join(
        [
            label("param_threshold", lang, minutes=f"{a.minutes:g}"),
            label("param_speed", lang, speed=f"{a.speed_kmh:g}"),
            *([label("param_date", lang, date=str(date))] if date is not None else []),
        ]
    )
    return (
        f'<h2 id="{_e(a.slug)}">{_e(heading)}</h2>\n<p>{_e(params)}</p>\n'
        f'<p><a href="{_href(a.slug, "map.html")}">{_e(label("site_overview_map", lang))}</a></p>\n'
        f"<h3>{_e(label('site_coverage_table', lang))}</h3>\n{_coverage_rows(a, lang)}\n"
        f"<h3>{_e(label('site_category_maps', lang))}</h3>\n<ul>{''.join(cat_links)}</ul>\n"
        f"<h3>{_e(label('site_summary', lang))}</h3>\n{_summary_rows(a.summary, lang)}\n"
        f"<h3>{_e(label('site_downloads', lang))}</h3>\n<ul>{''.join(downloads)}</ul>\n"
    )


def publish_site(
    analysis_dirs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    offline: bool = True,
    lang: str | None = None,
) -> Path:
    """Write a static site from one or more analysis output folders.

    Parameters
    ----------
    analysis_dirs
        One folder or several, each with ``coverage.csv``, ``compounds.gpkg``, ``services.gpkg`` and
        ``summary.json`` (which must give the threshold as ``max_walk_min`` or ``minutes`` and the
        speed as ``speed_kmh``; ``data_date`` and ``title`` are used when present).
    out_dir
        Site folder to create. An existing site written by this function is replaced; any other
        non-empty folder is refused.
    offline
        Inline Leaflet into every map so the site needs no CDN (tiles stay remote).
    lang
        ``"zh"`` or ``"en"``; by default from the compound names of the first analysis.

    Returns
    -------
    Path
        ``out_dir / "index.html"``.
    """
    if isinstance(analysis_dirs, (str, Path)):
        analysis_dirs = [analysis_dirs]
    dirs = [Path(d) for d in analysis_dirs]
    if not dirs:
        raise InputError("publish needs at least one analysis folder.")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / _MARKER).is_file())):
        raise InputError(f"The output folder {out} exists and is not a lifecircle site; choose a new or empty one.")
    analyses = [_load(d, slug) for d, slug in zip(dirs, _slugs(dirs), strict=True)]
    lang = check_lang(lang) if lang is not None else pick_lang(analyses[0].compounds.get("name", []))
    out.parent.mkdir(parents=True, exist_ok=True)  # once the analyses are known to be readable

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        sections = [_publish_one(a, tmp, lang=lang, offline=offline) for a in analyses]
        toc = "".join(f'<li><a href="#{_e(a.slug)}">{_e(a.src.resolve().name)}</a></li>' for a in analyses)
        body = (
            f"<h1>{_e(label('site_title', lang))}</h1>\n"
            + (f"<ul>{toc}</ul>\n" if len(analyses) > 1 else "")
            + "\n".join(sections)
            + f'<p class="note">{_e(label("site_offline_note", lang) if offline else "")} '
            f"{_e(label('attribution_data', lang))}. {_e(label('site_generated', lang))}.</p>"
        )
        _offline.write_atomic(tmp / "index.html", _page(label("site_title", lang), body, lang))
        (tmp / _MARKER).write_text("lifecircle published site\n", encoding="utf-8")
        tmp.chmod(0o755)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tmp.name[-8:]}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("published %d analysis(es) to %s", len(analyses), out)
    return out / "index.html"
