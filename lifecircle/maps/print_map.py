"""A still picture of an analysis folder's map, for print: streets, compounds coloured by status, services.

The report shows its interactive map in a fully sandboxed frame (scripts, no access to the report's origin). Chromium
does not print such a frame's map (it prints the frame's controls on an empty ground), so the report prints this
picture instead (``@media print``). It is drawn with matplotlib from the folder's own files (``compounds.gpkg``,
``services.gpkg`` and, when kept, ``streets.gpkg``), in the map's colours; no network, no browser.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lifecircle import folder
from lifecircle.maps._style import CATEGORY_COLORS, STATUS_COLORS
from lifecircle.maps.streets import ROAD_CLASSES

logger = logging.getLogger(__name__)

__all__ = ["print_map_png"]

_STREET_STYLE = {"path": ("#c5c9ce", 0.4), "minor": ("#a3a8b0", 0.7), "major": ("#80858d", 1.3)}  # as on the map


def _read(path: Path) -> gpd.GeoDataFrame | None:
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return gpd.read_file(path).to_crs(3857)
    except Exception as exc:  # a damaged optional layer: the picture goes without it
        logger.warning("%s is not drawn in the printed map: %s", path.name, exc)
        return None


def _lines(ax, streets: gpd.GeoDataFrame) -> None:
    from matplotlib.collections import LineCollection

    classes = streets["road_class"].astype(str) if "road_class" in streets else np.full(len(streets), "minor")
    for cls in ROAD_CLASSES:
        sub = streets.geometry.to_numpy()[np.asarray(classes == cls)]
        parts = shapely.get_parts(sub[~shapely.is_empty(sub)]) if len(sub) else []
        if len(parts):
            color, width = _STREET_STYLE[cls]
            ax.add_collection(
                LineCollection([shapely.get_coordinates(p) for p in parts], colors=color, linewidths=width)
            )


def _polygons(ax, compounds: gpd.GeoDataFrame) -> None:
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgba

    status = compounds["status"].astype(str) if "status" in compounds else np.full(len(compounds), "unknown")
    geoms = compounds.geometry.to_numpy()
    drawn = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    parts, owner = shapely.get_parts(geoms[drawn], return_index=True)  # every part of each compound, in order
    xy, ring = shapely.get_coordinates(shapely.get_exterior_ring(parts), return_index=True)
    polys = np.split(xy, np.cumsum(np.bincount(ring, minlength=len(parts)))[:-1]) if len(parts) else []
    rgba = {st: to_rgba(STATUS_COLORS.get(st, STATUS_COLORS["unknown"])) for st in pd.unique(np.asarray(status))}
    colors = np.array([rgba[st] for st in np.asarray(status)[drawn]]).reshape(-1, 4)[owner]
    if len(polys):
        ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors=colors, linewidths=0.5, alpha=0.6))


def print_map_png(
    analysis_dir: str | Path, *, width_in: float = 10.0, height_in: float = 6.2, dpi: int = 150
) -> bytes | None:
    """The folder's map as a PNG picture for print, or None when the folder holds no compounds layer.

    Parameters
    ----------
    analysis_dir
        An analysis folder (``compounds.gpkg`` with ``status``; ``services.gpkg`` and ``streets.gpkg`` if there).
    width_in, height_in, dpi
        Size of the picture in inches and its resolution (dots per inch).

    Returns
    -------
    bytes or None
        PNG bytes, framed on the compounds (Web Mercator, as the map).
    """
    analysis_dir = Path(analysis_dir)
    compounds = _read(analysis_dir / folder.COMPOUNDS.name)
    if compounds is None or compounds.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
    try:
        ax.set_axis_off()
        fig.subplots_adjust(0, 0, 1, 1)
        streets = _read(analysis_dir / folder.STREETS.name)
        if streets is not None and len(streets):
            _lines(ax, streets)
        _polygons(ax, compounds)
        services = _read(analysis_dir / folder.SERVICES.name)
        if services is not None and len(services) and "category" in services:
            cats = sorted(services["category"].astype(str).unique())
            color = {c: CATEGORY_COLORS[k % len(CATEGORY_COLORS)] for k, c in enumerate(cats)}
            xy = shapely.get_coordinates(shapely.point_on_surface(services.geometry.to_numpy()))
            dots = services["category"].astype(str).map(color).to_list()
            size = 9 if len(xy) < 300 else 3
            ax.scatter(xy[:, 0], xy[:, 1], s=size, c=dots, edgecolors="white", linewidths=0.4, zorder=3)
        x0, y0, x1, y1 = compounds.total_bounds
        pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
        cx, cy, half_w, half_h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 + pad, (y1 - y0) / 2 + pad
        half_w, half_h = max(half_w, half_h * width_in / height_in), max(half_h, half_w * height_in / width_in)
        ax.set_xlim(cx - half_w, cx + half_w)  # the picture's own proportions: metres equal both ways
        ax.set_ylim(cy - half_h, cy + half_h)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", facecolor="#f6f5f1")
    finally:
        plt.close(fig)
    return buf.getvalue()
