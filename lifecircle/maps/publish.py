"""Static site from one or more analysis output folders: an index for people, maps, the report, downloads.

Each analysis folder holds ``coverage.csv``, ``compounds.gpkg``, ``services.gpkg`` and ``summary.json``;
optionally ``served_area.gpkg``, ``sites.gpkg``, ``rollup_street.csv`` and ``report.html`` (file names from
:mod:`lifecircle.folder`). Each analysis gets a folder of the site named like its own folder. The index
(:mod:`lifecircle.maps.site_pages`) is in the run's language. The site uses relative links only and no
external asset, so it works from ``file://`` and from any static host.

Only regular files that lifecircle wrote are published: those its folder record lists (with their SHA-256
when recorded, so a file changed since is left out), never a symbolic link: a link in an analysis folder to
a secret elsewhere is not followed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle import __version__, folder
from lifecircle.cells import restore_frame
from lifecircle.errors import InputError
from lifecircle.geo.walk import Walk
from lifecircle.maps import _offline, site_pages
from lifecircle.maps.coverage_map import coverage_map, save_map
from lifecircle.maps.labels import check_lang, pick_lang
from lifecircle.maps.publish_more import load_other, other_lang, publish_other
from lifecircle.maps.site_text import site_text

logger = logging.getLogger(__name__)

__all__ = ["REQUIRED_FILES", "publish_site"]

DOWNLOAD_SUFFIXES = frozenset({".csv", ".gpkg", ".json", ".xlsx", ".geojson"})
REQUIRED_FILES: tuple[str, ...] = tuple(f.name for f in folder.files_of("analyze") if f.required)
OPTIONAL_LAYERS: dict[str, str] = {  # map layer -> file of the analysis folder
    "branches": "branches.gpkg",
    "served_areas": folder.SERVED_AREA.name,
    "sites": folder.SITES_GPKG.name,
    "study_area": "study_area.gpkg",
    "streets": folder.STREETS.name,
}
MINUTES_KEYS: tuple[str, ...] = ("max_walk_min", "minutes", "walk_min", "threshold_min")
SPEED_KEYS: tuple[str, ...] = ("speed_kmh", "walk_speed_kmh")
_MARKER = ".lifecircle-site"
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_KNOWN_NAME = re.compile(  # every name lifecircle gives a file (rollup_{level}.csv -> rollup_[^/]+\.csv)
    "|".join("[^/]+".join(map(re.escape, re.split(r"\{[a-z_]+\}", f.name))) for f in folder.FILES)
)


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
    owned: dict  # file name -> SHA-256 (None when not recorded) of the files lifecircle wrote there


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


def owned_files(src: Path) -> dict[str, str | None]:
    """The files lifecircle wrote in ``src``: name -> SHA-256, or None where its record keeps no hash.

    From the folder's manifest; else from the per-job lists of earlier versions (``.lifecircle-<job>.json``);
    else, for a folder with no record, the files named as lifecircle names its outputs.
    """
    manifest = folder.read_manifest(src)
    if manifest is not None:
        return dict(manifest.owned())
    names: dict[str, str | None] = {}
    for record in sorted(src.glob(".lifecircle-*.json")):
        if record.is_symlink() or not record.is_file():
            continue
        try:
            listed = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(listed, list):
            names.update({n: None for n in listed if folder.safe_name(n)})
    if names:
        return names
    return {p.name: None for p in src.iterdir() if folder.safe_name(p.name) and _KNOWN_NAME.fullmatch(p.name)}


def copy_regular(src: Path, dest: Path, *, sha256: str | None = None) -> bool:
    """Copy ``src`` to ``dest`` only when it is a regular file (never through a symbolic link) with the
    expected SHA-256 (when given); return whether it was copied."""
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # a symbolic link (ELOOP), gone, or unreadable
        return False
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return False
        with open(dest, "wb") as out:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    if sha256 is not None and digest.hexdigest() != sha256:
        dest.unlink()
        return False
    return True


def _load(src: Path, slug: str) -> _Analysis:
    if not src.is_dir():
        raise InputError(f"The analysis folder {src} does not exist.")
    folder.require_complete(src)
    missing = [f for f in REQUIRED_FILES if not (src / f).is_file()]
    if missing:
        raise InputError(f"The analysis folder {src} lacks {', '.join(missing)}.")
    linked = [f for f in REQUIRED_FILES if (src / f).is_symlink()]
    if linked:
        raise InputError(
            f"In {src}, {', '.join(linked)} is a symbolic link: publish reads only files lifecircle wrote."
        )
    summary = folder.read_json(src / folder.SUMMARY.name)
    if not isinstance(summary, dict):
        raise InputError(f"{src / 'summary.json'} must hold a JSON object.")
    minutes = _find(summary, MINUTES_KEYS)
    speed = _find(summary, SPEED_KEYS)
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool):
        raise InputError(f"{src / 'summary.json'} lacks the walking threshold ({' or '.join(MINUTES_KEYS)}).")
    if not isinstance(speed, (int, float)) or isinstance(speed, bool):
        raise InputError(f"{src / 'summary.json'} lacks the walking speed ({' or '.join(SPEED_KEYS)}).")
    text = {"compound_id": str, "nearest_service_id": str, "category": str, "compound_name": str,
            "nearest_service_name": str}  # fmt: skip
    try:
        raw = pd.read_csv(
            src / folder.COVERAGE.name, dtype=text, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
        table = restore_frame(raw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{src / 'coverage.csv'} is damaged ({exc}); run the analysis again.") from None
    compounds = _read_layer(src / folder.COMPOUNDS.name, "compound_id")
    services = _read_layer(src / folder.SERVICES.name, "service_id")
    layers = {
        name: _read_layer(src / file, None)
        for name, file in OPTIONAL_LAYERS.items()
        if (src / file).is_file() and not (src / file).is_symlink()
    }
    return _Analysis(src, slug, summary, float(minutes), float(speed), table, compounds, services, layers,
                     owned_files(src))  # fmt: skip


def _slugs(dirs: Sequence[Path]) -> list[str]:
    """Each analysis's folder in the site: its own name (only characters no file system takes are replaced)."""
    out: list[str] = []
    for i, d in enumerate(dirs, start=1):
        base = _UNSAFE_NAME.sub("-", d.resolve().name).strip(" .-") or f"analysis-{i}"
        slug, n = base, 2
        while slug.lower() in {s.lower() for s in out} or slug.lower() == "index.html":
            slug, n = f"{base}-{n}", n + 1
        out.append(slug)
    return out


def _data_date(summary: dict) -> str | None:
    date = _find(summary, ("data_date", "osm_date"))
    if isinstance(date, dict):
        date = date.get("date")
    network = (summary.get("inputs") or {}).get("network") if isinstance(summary.get("inputs"), dict) else None
    if date is None and isinstance(network, dict) and isinstance(network.get("osm_date"), dict):
        date = network["osm_date"].get("date")
    return None if date is None else str(date)[:10]


def _title(a: _Analysis) -> str | None:
    study = a.summary.get("study")
    if isinstance(study, dict) and study.get("name"):
        return str(study["name"])
    title = a.summary.get("title", a.summary.get("name"))
    return None if title is None or isinstance(title, (dict, list)) else str(title)


def _street_table(a: _Analysis) -> pd.DataFrame | None:
    path = a.src / folder.rollup_name("street")
    if path.name not in a.owned or path.is_symlink() or not path.is_file():
        return None
    try:
        header = pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns
        table = pd.read_csv(path, encoding="utf-8-sig", dtype={header[0]: str, "worst_compound_name": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, IndexError):
        logger.warning("%s is damaged; the street table is left out of the site", path)
        return None
    return restore_frame(table) if "compounds" in table.columns else None


def _copy_own_map(a: _Analysis, target: Path, *, offline: bool) -> bool:
    """The analysis's own map as the overview (it carries the streets of its network), Leaflet inlined when
    ``offline``; False when the folder holds no map lifecircle wrote."""
    name = folder.MAP.name
    if name not in a.owned or not copy_regular(a.src / name, target, sha256=a.owned[name]):
        target.unlink(missing_ok=True)
        return False
    if offline:
        _offline.write_atomic(target, _offline.inline_assets(target.read_text(encoding="utf-8")))
    return True


def _write_maps(a: _Analysis, d: Path, *, lang: str, offline: bool) -> list[tuple[str, str]]:
    """The overview map and one map per category; returns (category, file) of the category maps."""
    params = a.summary.get("parameters") if isinstance(a.summary.get("parameters"), dict) else {}
    limits = params.get("category_max_walk_min") if isinstance(params.get("category_max_walk_min"), dict) else None
    common = {
        "walk": Walk(speed_kmh=a.speed_kmh, limit_min=a.minutes, category_limit_min=limits or {}),
        "lang": lang,
        "data_date": _data_date(a.summary),
        "branches": a.layers.get("branches"),
        "served_areas": a.layers.get("served_areas"),
        "study_area": a.layers.get("study_area"),
        "streets": a.layers.get("streets"),  # the analysis's network as its map drew it (streets.gpkg)
    }
    if not _copy_own_map(a, d / folder.MAP.name, offline=offline):
        m = coverage_map(a.compounds, a.services, a.table, title=_title(a), sites=a.layers.get("sites"), **common)
        save_map(m, d / folder.MAP.name, offline=offline)
    cats = sorted((set(a.table["category"].astype(str)) - {"all"}) | set(a.services["category"].astype(str)))
    links = []
    for k, cat in enumerate(cats, start=1):
        name = f"map-{k:02d}.html"
        save_map(coverage_map(a.compounds, a.services, a.table, category=cat, **common), d / name, offline=offline)
        links.append((cat, name))
    return links


def _copy_files(a: _Analysis, d: Path) -> tuple[bool, list[site_pages.Download], list[str]]:
    """The report and the downloads lifecircle wrote, copied; returns (report copied, downloads, left out)."""
    downloads, left_out = [], []
    report = False
    for name in sorted(a.owned):
        suffix = Path(name).suffix.lower()
        if name != folder.REPORT_HTML.name and suffix not in DOWNLOAD_SUFFIXES:
            continue
        src = a.src / name
        if not src.exists() and not src.is_symlink():
            continue
        target = d / name if name == folder.REPORT_HTML.name else d / "data" / name
        if not copy_regular(src, target, sha256=a.owned[name]):
            logger.warning(
                "%s is not published: it is a link, not a regular file, or changed since it was written", src
            )
            left_out.append(name)
        elif target.parent == d:
            report = True
        else:
            downloads.append(site_pages.Download(name, target.stat().st_size))
    return report, downloads, left_out


def _publish_one(a: _Analysis, dest: Path, *, lang: str, offline: bool) -> str:
    """Write one analysis's maps, report and downloads under dest/slug; return its index section."""
    d = dest / a.slug
    (d / "data").mkdir(parents=True)
    category_maps = _write_maps(a, d, lang=lang, offline=offline)
    report, downloads, left_out = _copy_files(a, d)
    tables = [
        (
            site_text("by_category", lang),
            site_pages.category_rows(a.table, a.compounds, a.summary, minutes=a.minutes, lang=lang),
        )
    ]
    streets = _street_table(a)
    if streets is not None and len(streets):
        tables.append((site_text("by_street", lang), site_pages.street_rows(streets, a.summary, lang)))
    date = _data_date(a.summary)
    links = site_pages.SectionLinks(a.slug, tuple(category_maps), report, tuple(downloads), tuple(left_out))
    return site_pages.section(
        _title(a) or a.src.resolve().name,
        [site_text("data_date", lang, date=date)] if date else [],
        site_pages.parameter_lines(a.summary, minutes=a.minutes, speed_kmh=a.speed_kmh, lang=lang),
        tables,
        links,
        lang,
    )


def _language(lang: str | None, analyses: Sequence[_Analysis]) -> str:
    if lang is not None:
        return check_lang(lang)
    recorded = analyses[0].summary.get("lang")
    return recorded if recorded in ("zh", "en") else pick_lang(analyses[0].compounds.get("name", []))


def _index(analyses: Sequence[_Analysis], sections: Sequence[str], *, lang: str, offline: bool) -> str:
    title = (_title(analyses[0]) if len(analyses) == 1 else None) or site_text("title", lang)
    published = site_text("published", lang, date=datetime.now(timezone.utc).strftime("%Y-%m-%d"))
    toc = "".join(
        f'<li><a href="#{site_pages.e(a.slug)}">{site_pages.e(_title(a) or a.slug)}</a></li>' for a in analyses
    )
    notes = [site_text("offline_note", lang)] if offline else []
    notes += [site_text("attribution", lang), site_text("generated", lang, version=__version__)]
    body = (
        f'<h1>{site_pages.e(title)}</h1>\n<p class="note">{site_pages.e(published)}</p>\n'
        + (f"<h2>{site_pages.e(site_text('contents', lang))}</h2><ul>{toc}</ul>\n" if len(analyses) > 1 else "")
        + "\n".join(sections)
        + f'\n<p class="note">{site_pages.e(" · ".join(notes))}</p>'
    )
    return site_pages.page(title, body, lang)


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
        speed as ``speed_kmh``; a study name or ``title`` and the data date are used when present).
    out_dir
        Site folder to create. An existing site written by this function is replaced; any other
        non-empty folder is refused.
    offline
        Inline Leaflet into every map so the site needs no CDN (tiles stay remote).
    lang
        ``"zh"`` or ``"en"``; by default the language of the first analysis.

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
    kinds = [folder.folder_kind(d) if d.is_dir() else None for d in dirs]  # site and isochrone folders too
    loaded = [
        load_other(d, slug, kind) if kind in ("site", "isochrones") else _load(d, slug)
        for d, slug, kind in zip(dirs, _slugs(dirs), kinds, strict=True)
    ]
    analyses = [a for a in loaded if isinstance(a, _Analysis)]
    if analyses:
        lang = _language(lang, analyses)
    else:
        lang = check_lang(lang) if lang is not None else other_lang(loaded)
    out.parent.mkdir(parents=True, exist_ok=True)  # once the analyses are known to be readable

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        sections = [
            _publish_one(a, tmp, lang=lang, offline=offline)
            if isinstance(a, _Analysis)
            else publish_other(a, tmp, lang=lang, offline=offline)
            for a in loaded
        ]
        _offline.write_atomic(tmp / "index.html", _index(loaded, sections, lang=lang, offline=offline))
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
