"""Offline HTML: inline Leaflet (and markercluster) from installed packages, drop other external assets.

Also the atomic file writer used by every map and site writer.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import tempfile
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

_SCRIPT_SRC = re.compile(r"""<script\b[^>]*?\bsrc\s*=\s*["']([^"']+)["'][^>]*>\s*</script\s*>""", re.I)
_LINK_HREF = re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']([^"']+)["'][^>]*?/?>""", re.I)
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)
_SOURCEMAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.M)
_CSS_URL = re.compile(r"""url\(\s*["']?(images/[^"')]+)["']?\s*\)""")


def _xstatic_dir(module: str) -> Path | None:
    try:
        mod = __import__(f"xstatic.pkg.{module}", fromlist=["BASE_DIR"])
    except ImportError:
        return None
    return Path(mod.BASE_DIR)


@cache
def _known_assets() -> dict[str, tuple[str, str]]:
    """File name -> (kind, text) for the assets an installed package provides."""
    out: dict[str, tuple[str, str]] = {}
    leaflet = _xstatic_dir("leaflet")
    if leaflet is not None:
        out["leaflet.js"] = ("js", (leaflet / "leaflet.js").read_text(encoding="utf-8"))
        css = (leaflet / "leaflet.css").read_text(encoding="utf-8")

        def data_uri(match: re.Match) -> str:
            img = leaflet / match.group(1)
            if not img.is_file():
                return "none"
            mime = "image/svg+xml" if img.suffix == ".svg" else f"image/{img.suffix.lstrip('.')}"
            return f"url(data:{mime};base64,{base64.b64encode(img.read_bytes()).decode('ascii')})"

        out["leaflet.css"] = ("css", _CSS_URL.sub(data_uri, css))
    cluster = _xstatic_dir("leaflet_markercluster")
    if cluster is not None:
        js = (cluster / "leaflet.markercluster.js").read_text(encoding="utf-8")
        out["leaflet.markercluster.js"] = ("js", js)
        for name in ("MarkerCluster.css", "MarkerCluster.Default.css"):
            out[name] = ("css", (cluster / name).read_text(encoding="utf-8"))
    return out


def offline_support() -> dict[str, bool]:
    """Which offline assets are available: ``{"leaflet": bool, "markercluster": bool}``."""
    known = _known_assets()
    return {"leaflet": "leaflet.js" in known, "markercluster": "leaflet.markercluster.js" in known}


def _inline(kind: str, text: str) -> str:
    text = _SOURCEMAP.sub("", text)
    if kind == "js":
        return "<script>" + re.sub(r"</(script)", r"<\\/\1", text, flags=re.I) + "</script>"
    return "<style>" + re.sub(r"</(style)", r"<\\/\1", text, flags=re.I) + "</style>"


def inline_assets(html_text: str) -> str:
    """Replace external script/stylesheet tags with inlined copies from installed packages.

    Tags whose file no installed package provides are dropped (and logged). Raises
    :class:`lifecircle.errors.LifecircleError` when Leaflet itself cannot be inlined.
    """
    from lifecircle.errors import LifecircleError

    known = _known_assets()
    if "leaflet.js" not in known:
        raise LifecircleError("Offline maps need the xstatic-leaflet package; install it with pip.")
    done: set[str] = set()
    dropped: list[str] = []

    def replace(match: re.Match) -> str:
        url = match.group(1)
        if not _EXTERNAL.match(url):
            return match.group(0)
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if name in known:
            if name in done:
                return ""
            done.add(name)
            return _inline(*known[name])
        dropped.append(url)
        return ""

    out = _SCRIPT_SRC.sub(replace, html_text)
    out = _LINK_HREF.sub(replace, out)
    if dropped:
        logger.info(
            "offline map: dropped %d external asset(s) with no installed copy: %s", len(dropped), ", ".join(dropped)
        )
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write text (UTF-8) to path via a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
