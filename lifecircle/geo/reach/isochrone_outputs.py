"""Share of each compound's area inside the served areas, and writing isochrones to files."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import WGS84, to_crs

if TYPE_CHECKING:
    from lifecircle.geo.reach.isochrones import IsochroneResult

LAYERS = ("per_service", "served_area", "rings")
GEOJSON_LAYERS = ("served_area", "rings")  # per_service is in the GeoPackage only: the largest layer, written once
GEOJSON_DECIMALS = 6  # degrees: about 0.1 m, far below the cells' spacing
PIECE_VERTICES = 256  # a served area is cut into pieces this small to measure the compounds it partly covers
_MAX_LEVELS = 24  # quadrant levels at most: a piece 2^24 times smaller than the served area is a few millimetres


def area_share(
    compounds: gpd.GeoDataFrame, served_area: gpd.GeoDataFrame, *, break_min: float, workers: int = 1
) -> pd.DataFrame:
    """Share of each compound's area inside each category's served area at one break.

    Parameters
    ----------
    compounds
        Compound polygons indexed by compound id (any CRS; not modified).
    served_area
        ``IsochroneResult.served_area``.
    break_min
        The break (minutes) to measure; it must be one of the served area's breaks.
    workers
        Threads measuring categories side by side (GEOS runs without Python's lock).

    Returns
    -------
    pandas.DataFrame
        Columns ``compound_id, category, area_share`` (0 to 1), one row per compound and category, categories in
        served-area order (``all`` first). Compounds of no area get NaN.
    """
    at = served_area[np.isclose(served_area["break_min"].to_numpy(dtype=float), float(break_min))]
    if at.empty:
        raise InputError(
            f"The served area has no {break_min}-minute break; it has {sorted(set(served_area['break_min']))}."
        )
    comp = to_crs(compounds, served_area.crs).geometry.to_numpy()
    comp_area = shapely.area(comp)
    ids = compounds.index.astype(str)

    def share_of(category: str, geom: shapely.Geometry) -> pd.DataFrame:
        mine = comp.copy()  # shapely flips the writeable flag of the arrays it is given: one array per thread
        share = np.divide(
            _inside_m2(geom, mine, comp_area), comp_area, out=np.full(len(mine), np.nan), where=comp_area > 0
        )
        return pd.DataFrame({"compound_id": ids, "category": category, "area_share": share})

    pairs = list(zip(at["category"], at.geometry.to_numpy(), strict=True))
    if workers > 1 and len(pairs) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(pairs)), thread_name_prefix="area-share") as pool:
            parts = list(pool.map(lambda pair: share_of(*pair), pairs))
    else:
        parts = [share_of(*pair) for pair in pairs]
    return pd.concat(parts, ignore_index=True)


def _inside_m2(geom: shapely.Geometry, comp: np.ndarray, comp_area: np.ndarray) -> np.ndarray:
    """The area of each compound inside ``geom``: whole compounds without an overlay, the others against the
    pieces of ``geom`` near them (an overlay with the whole served area would walk all its vertices each time)."""
    shapely.prepare(geom)
    whole = shapely.contains(geom, comp)
    inside = np.where(whole, comp_area, 0.0)
    rest = np.flatnonzero(~whole)
    if len(rest) == 0:
        return inside
    pieces = quadrant_pieces(geom, max_vertices=PIECE_VERTICES)
    at, piece = shapely.STRtree(pieces).query(comp[rest], predicate="intersects")
    area = shapely.area(shapely.intersection(comp[rest][at], pieces[piece]))
    inside[rest] = np.bincount(at, weights=area, minlength=len(rest))
    return inside


def quadrant_pieces(geom: shapely.Geometry, *, max_vertices: int) -> np.ndarray:
    """``geom`` cut along quadrants, again and again, into pieces of at most about ``max_vertices`` vertices each.

    The pieces tile ``geom`` (they meet only along the cuts), so areas inside it are sums over its pieces. Each
    level clips every large piece once per quadrant: the cost grows as ``n log n`` in the vertices of ``geom``.
    """
    x0, y0, x1, y1 = shapely.bounds(geom)
    done, pieces, boxes = [], np.array([geom], dtype=object), np.array([[x0, y0, x1, y1]])
    for _ in range(_MAX_LEVELS):
        small = shapely.get_num_coordinates(pieces) <= max_vertices
        done.append(pieces[small])
        pieces, boxes = pieces[~small], boxes[~small]
        if not len(pieces):
            break
        xm, ym = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        quads = np.concatenate(
            [
                np.column_stack([boxes[:, 0], boxes[:, 1], xm, ym]),
                np.column_stack([xm, boxes[:, 1], boxes[:, 2], ym]),
                np.column_stack([boxes[:, 0], ym, xm, boxes[:, 3]]),
                np.column_stack([xm, ym, boxes[:, 2], boxes[:, 3]]),
            ]
        )
        # clip_by_rect takes one rectangle a call (and walks only the piece it is given)
        clipped = np.array([shapely.clip_by_rect(g, *q) for g, q in zip(np.tile(pieces, 4), quads, strict=True)])
        keep = ~shapely.is_empty(clipped)
        pieces, boxes = clipped[keep], quads[keep]
    done.append(pieces)
    out = np.concatenate(done)
    bad = np.flatnonzero(~shapely.is_valid(out))  # clip_by_rect may leave rings touching along a cut
    out[bad] = shapely.make_valid(out[bad])
    return out


# ------------------------------------------------------------------------------------------------- writing


def write_isochrones(result: IsochroneResult, out_dir: str | os.PathLike, *, stem: str = "isochrones") -> list:
    """Write ``<stem>.gpkg`` (layers ``per_service``, ``served_area``, ``rings``; metric CRS) and the served areas
    and rings as GeoJSON in WGS84 (``<stem>_<layer>.geojson``, coordinates to 6 decimals, about 0.1 m), each file
    written to a temporary name first, then renamed.

    The per-service layer, by far the largest (one polygon per service and break), is written to the GeoPackage
    only, not again as GeoJSON.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layers = {"per_service": result.per_service, "served_area": result.served_area}
    if result.rings is not None:
        layers["rings"] = result.rings
    written = []
    gpkg = out / f"{stem}.gpkg"
    tmp = out / f".{stem}.tmp.gpkg"
    tmp.unlink(missing_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(tmp, layer=name, driver="GPKG", promote_to_multi=True)
    os.replace(tmp, gpkg)
    written.append(gpkg)
    for name in (n for n in GEOJSON_LAYERS if n in layers):
        path = out / f"{stem}_{name}.geojson"
        tmp = out / f".{stem}_{name}.tmp.geojson"
        tmp.unlink(missing_ok=True)
        layers[name].to_crs(WGS84).to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=GEOJSON_DECIMALS)
        os.replace(tmp, path)
        written.append(path)
    return written
