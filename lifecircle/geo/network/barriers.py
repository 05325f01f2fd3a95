"""What walkers cannot cross: water areas, and motorways and railways away from their crossings.

Barriers are read from the same OSM extract as the walking network (:func:`barriers_from_osm`) or from a layer an
office keeps of its own water and rail (:func:`barriers_from_layer`). Served areas and isochrones never reach across
them (:mod:`lifecircle.geo.reach.barriercut`): the land of a street stops at the water's edge and at the railway,
except where the street itself crosses (a bridge, a level crossing, an underpass).

Read from OSM:

- water areas: ``natural=water``, ``waterway=riverbank``, ``landuse=reservoir`` (closed ways and multipolygons);
- lines: ``railway=rail|light_rail|narrow_gauge``, ``highway=motorway|motorway_link`` and ``waterway=river|canal``,
  except where they are on a bridge, in a tunnel or covered (walkers pass under or over them there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import WGS84

log = logging.getLogger(__name__)

WATER_AREAS = {"natural": {"water"}, "waterway": {"riverbank"}, "landuse": {"reservoir"}}
BARRIER_LINES = {
    "railway": {"rail", "light_rail", "narrow_gauge"},
    "highway": {"motorway", "motorway_link"},
    "waterway": {"river", "canal"},
}
PASSABLE = {"bridge", "tunnel", "covered"}  # a line with one of these (not "no") is crossed over or under
LINE_HALF_WIDTH_M = 1.0  # a barrier line cuts the land as a strip this far either side of it


@dataclass(frozen=True, eq=False)
class Barriers:
    """Water areas and barrier lines, in one CRS.

    Attributes
    ----------
    areas
        Polygons nobody walks across (water).
    lines
        Lines nobody walks across except where a street crosses them (railways, motorways, rivers drawn as lines).
    crs
        Their coordinate reference system.
    """

    areas: np.ndarray
    lines: np.ndarray
    crs: pyproj.CRS

    @classmethod
    def empty(cls, crs: pyproj.CRS | str = WGS84) -> Barriers:
        """No barrier."""
        return cls(np.empty(0, dtype=object), np.empty(0, dtype=object), pyproj.CRS.from_user_input(crs))

    def __len__(self) -> int:
        return len(self.areas) + len(self.lines)

    def to_crs(self, crs: pyproj.CRS | str) -> Barriers:
        """The same barriers in ``crs``."""
        crs = pyproj.CRS.from_user_input(crs)
        if crs == self.crs:
            return self
        return Barriers(
            areas=gpd.GeoSeries(self.areas, crs=self.crs).to_crs(crs).to_numpy(),
            lines=gpd.GeoSeries(self.lines, crs=self.crs).to_crs(crs).to_numpy(),
            crs=crs,
        )

    def __add__(self, other: Barriers) -> Barriers:
        other = other.to_crs(self.crs)
        return Barriers(
            areas=np.concatenate([self.areas, other.areas]),
            lines=np.concatenate([self.lines, other.lines]),
            crs=self.crs,
        )

    def land_cut(self, *, line_half_width_m: float = LINE_HALF_WIDTH_M) -> np.ndarray:
        """Polygons to take out of the land (metric CRS): the water areas and a thin strip along every line."""
        if not self.crs.is_projected:
            raise ValueError("barriers must be in a metric CRS to cut land")
        strips = shapely.buffer(self.lines, line_half_width_m, cap_style="flat")
        parts = shapely.get_parts(np.concatenate([shapely.make_valid(self.areas), strips]))
        polygonal = np.isin(
            shapely.get_type_id(parts), [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]
        )
        return parts[polygonal & ~shapely.is_empty(parts)]


def _matches(tags, table: dict[str, set[str]]) -> bool:
    return any(tags.get(key) in values for key, values in table.items())


def _passable(tags) -> bool:
    return any(tags.get(key, "no") not in ("no", "") for key in PASSABLE)


def barriers_from_osm(path: str | Path) -> Barriers:
    """Water areas and barrier lines of an OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``), in WGS84.

    Raises
    ------
    InputError
        The file cannot be read as OSM data.
    """
    import osmium

    keys = sorted({*WATER_AREAS, *BARRIER_LINES})
    wkb = osmium.geom.WKBFactory()
    areas: list[bytes] = []
    lines: list[bytes] = []
    processor = (
        osmium.FileProcessor(str(path)).with_locations().with_areas().with_filter(osmium.filter.KeyFilter(*keys))
    )
    try:
        for obj in processor:
            if obj.is_area():
                if _matches(obj.tags, WATER_AREAS):
                    try:
                        areas.append(wkb.create_multipolygon(obj))
                    except RuntimeError:  # a broken multipolygon in the extract: skip it
                        continue
            elif obj.is_way() and _matches(obj.tags, BARRIER_LINES) and not _passable(obj.tags):
                try:
                    lines.append(wkb.create_linestring(obj))
                except RuntimeError:  # fewer than two located nodes (clipped extract)
                    continue
    except RuntimeError as exc:
        raise InputError(f"Network file {path} could not be read as OSM data for barriers: {exc}.") from exc
    out = Barriers(
        areas=shapely.from_wkb(np.array(areas, dtype=object), on_invalid="ignore"),
        lines=shapely.from_wkb(np.array(lines, dtype=object), on_invalid="ignore"),
        crs=pyproj.CRS.from_user_input(WGS84),
    )
    log.info("barriers from %s: %d water areas, %d lines", Path(path).name, len(out.areas), len(out.lines))
    return out


def barriers_from_layer(path: str | Path, *, layer: str | None = None) -> Barriers:
    """Barriers from a GIS layer of an office's own (GeoPackage, shapefile, GeoJSON...): polygons are areas
    nobody crosses, lines are crossed only where a street crosses them.

    Raises
    ------
    InputError
        The file is missing, unreadable, has no CRS, or holds neither polygons nor lines.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Barrier layer {path} does not exist.")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # GDAL raises many types for an unreadable file
        raise InputError(f"Barrier layer {path} could not be read: {exc}.") from exc
    if gdf.crs is None:
        raise InputError(f"Barrier layer {path} has no coordinate reference system; save it with one (.prj).")
    parts = shapely.get_parts(gdf.geometry.dropna().to_numpy())
    kind = shapely.get_type_id(parts)
    areas = parts[kind == shapely.GeometryType.POLYGON]
    lines = parts[np.isin(kind, [shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING])]
    if len(areas) + len(lines) == 0:
        raise InputError(f"Barrier layer {path} holds no polygon or line.")
    return Barriers(areas=areas, lines=lines, crs=pyproj.CRS.from_user_input(gdf.crs))


def barriers_for(network: str | Path | None, layer: str | Path | None = None) -> Barriers | None:
    """The barriers a study walks with: those of its network when it is an OSM file (none for GraphML, a download
    or a graph given in Python), plus an office's own layer; None when there are none.

    Raises
    ------
    InputError
        The layer is missing or unreadable, or the OSM file cannot be read.
    """
    from lifecircle.geo.network.osm import _is_osm_file

    found = []
    if network is not None and Path(str(network)).is_file() and _is_osm_file(Path(str(network))):
        found.append(barriers_from_osm(network))
    if layer is not None:
        found.append(barriers_from_layer(layer))
    if not found:
        return None
    out = found[0]
    for more in found[1:]:
        out = out + more
    return out if len(out) else None
