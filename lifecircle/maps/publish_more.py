"""Published sections for the folders of ``lifecircle site`` (a siting plan) and ``lifecircle isochrones``.

:func:`lifecircle.maps.publish.publish_site` takes these folders beside analysis folders (``lifecircle run``
publishes all three). Each gets its own folder in the site: its map (the folder's own ``map.html``, or for
isochrones written before that map existed, one drawn here), a short table, and the downloads lifecircle wrote
there (regular files only, checked against the folder's manifest, as for analyses).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.maps import _offline, site_pages
from lifecircle.maps.coverage_map import save_map
from lifecircle.maps.isochrone_map import isochrone_map
from lifecircle.maps.labels import pick_lang

__all__ = ["OtherFolder", "load_other", "publish_other"]

_TEXT = {
    "site": {"zh": "选址方案：{name}", "en": "Siting plan: {name}"},
    "isochrones": {"zh": "步行等时圈：{name}", "en": "Walking isochrones: {name}"},
    "model": {"zh": "模型 {model}，求解器 {solver}（{status}）", "en": "Model {model}, solver {solver} ({status})"},
    "minutes": {"zh": "步行 {minutes:g} 分钟内可达即为覆盖", "en": "Covered means within {minutes:g} min on foot"},
    "covered": {
        "zh": "覆盖小区 {before} → {after}（共 {total} 个）",
        "en": "Compounds covered {before} → {after} (of {total})",
    },
    "breaks": {"zh": "时间分段：{breaks} 分钟", "en": "Breaks: {breaks} min"},
    "sites": {"zh": "推荐新址（按建设顺序）", "en": "Recommended sites, in build order"},
    "areas": {"zh": "服务范围面积（平方公里）", "en": "Served area (km²)"},
    "col_rank": {"zh": "顺序", "en": "Rank"},
    "col_name": {"zh": "名称", "en": "Name"},
    "col_new": {"zh": "新覆盖小区", "en": "Compounds newly covered"},
    "col_category": {"zh": "类别", "en": "Category"},
    "col_minutes": {"zh": "分钟", "en": "Minutes"},
    "col_km2": {"zh": "面积", "en": "Area"},
}


def _t(key: str, lang: str, **values: object) -> str:
    return _TEXT[key][lang].format(**values)


@dataclass(frozen=True)
class OtherFolder:
    """A ``site`` or ``isochrones`` folder, read for publishing (``summary``/``slug``/``src`` as for analyses)."""

    src: Path
    slug: str
    kind: str
    summary: dict
    owned: dict
    sites: pd.DataFrame | None = None
    served: gpd.GeoDataFrame | None = None
    names: list = field(default_factory=list)


def load_other(src: Path, slug: str, kind: str) -> OtherFolder:
    """Read a ``site`` or ``isochrones`` folder (complete, its files lifecircle's); one-line errors."""
    from lifecircle.maps.publish import owned_files

    folder.require_complete(src)
    owned = owned_files(src)
    if kind == "site":
        summary = folder.read_json(src / folder.SITING.name)
        if not isinstance(summary, dict):
            raise InputError(f"{src / folder.SITING.name} must hold a JSON object, as lifecircle writes it.")
        sites = folder.read_table(src / folder.SITES_CSV.name, folder.SITES_CSV, text_columns=("site_id", "name"))
        return OtherFolder(src, slug, kind, summary, owned, sites=sites, names=list(sites.get("name", [])))
    try:
        served = gpd.read_file(src / folder.ISOCHRONES.name, layer="served_area")
    except Exception as exc:  # pyogrio raises its own errors for damaged files
        raise InputError(f"Cannot read the GeoPackage {src / folder.ISOCHRONES.name}: {exc}") from None
    return OtherFolder(src, slug, kind, {}, owned, served=served, names=list(served.get("category", [])))


def other_lang(folders: list[OtherFolder]) -> str:
    """The site's language when only siting plans and isochrones are published: from their names."""
    return pick_lang([n for f in folders for n in f.names])


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _site_parts(o: OtherFolder, lang: str) -> tuple[list[str], list[tuple[str, str]]]:
    s, params = o.summary, []
    if s.get("model"):
        params.append(_t("model", lang, model=s["model"], solver=s.get("solver", ""), status=s.get("status", "")))
    minutes = (s.get("parameters") or {}).get("minutes") if isinstance(s.get("parameters"), dict) else None
    if isinstance(minutes, (int, float)):
        params.append(_t("minutes", lang, minutes=minutes))
    c = s.get("compounds") if isinstance(s.get("compounds"), dict) else {}
    if {"covered_before", "covered_after", "total"} <= set(c):
        params.append(_t("covered", lang, before=c["covered_before"], after=c["covered_after"], total=c["total"]))
    sites = o.sites if o.sites is not None else pd.DataFrame()
    columns = {"rank": "col_rank", "name": "col_name", "new_compounds": "col_new"}
    shown = sites[[k for k in columns if k in sites.columns]].rename(
        columns={k: _t(v, lang) for k, v in columns.items()}
    )
    return params, [(_t("sites", lang), _table(shown))]


def _isochrone_parts(o: OtherFolder, lang: str) -> tuple[list[str], list[tuple[str, str]]]:
    served = o.served if o.served is not None else gpd.GeoDataFrame()
    breaks = sorted(set(served["break_min"].astype(float))) if "break_min" in served else []
    params = [_t("breaks", lang, breaks=", ".join(f"{b:g}" for b in breaks))] if breaks else []
    if served.empty or served.crs is None:
        return params, []
    area = served.to_crs(served.estimate_utm_crs()).area / 1e6
    frame = pd.DataFrame(
        {
            _t("col_category", lang): served["category"].astype(str),
            _t("col_minutes", lang): served["break_min"].map(lambda b: f"{float(b):g}"),
            _t("col_km2", lang): area.round(2),
        }
    )
    return params, [(_t("areas", lang), _table(frame))]


def _copy_downloads(o: OtherFolder, d: Path) -> tuple[list[site_pages.Download], list[str]]:
    from lifecircle.maps.publish import DOWNLOAD_SUFFIXES, copy_regular

    downloads, left_out = [], []
    for name in sorted(o.owned):
        if Path(name).suffix.lower() not in DOWNLOAD_SUFFIXES or not (o.src / name).exists():
            continue
        target = d / "data" / name
        if copy_regular(o.src / name, target, sha256=o.owned[name]):
            downloads.append(site_pages.Download(name, target.stat().st_size))
        else:
            left_out.append(name)
    return downloads, left_out


def publish_other(o: OtherFolder, dest: Path, *, lang: str, offline: bool) -> str:
    """Write a siting plan's or isochrones' map and downloads under ``dest/slug``; return its index section."""
    from lifecircle.maps.publish import copy_regular

    d = dest / o.slug
    (d / "data").mkdir(parents=True)
    own = folder.MAP.name
    if own in o.owned and copy_regular(o.src / own, d / own, sha256=o.owned[own]):
        if offline:
            _offline.write_atomic(d / own, _offline.inline_assets((d / own).read_text(encoding="utf-8")))
    elif o.served is not None:
        save_map(isochrone_map(o.served, lang=lang), d / own, offline=offline)
    else:
        raise InputError(f"{o.src} holds no map lifecircle wrote ({own}); run `lifecircle site` again.")
    downloads, left_out = _copy_downloads(o, d)
    params, tables = _site_parts(o, lang) if o.kind == "site" else _isochrone_parts(o, lang)
    links = site_pages.SectionLinks(o.slug, (), False, tuple(downloads), tuple(left_out))
    heading = _t(o.kind, lang, name=o.src.resolve().name)
    return site_pages.section(heading, [], params, tables, links, lang)
