"""Where an analysis's buildings come from: a building layer (``--buildings``), or the OSM extract that is the
walking network (``--buildings-from-osm``: its ``building=*`` polygons inside compounds stand in where no building
layer exists; floors from ``building:levels``)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.planning.buildings import BuildingLayer, building_layer, read_buildings
from lifecircle.planning.study import Study

log = logging.getLogger(__name__)

__all__ = ["OSM_SUFFIXES", "osm_buildings", "study_buildings"]

OSM_SUFFIXES = (".osm", ".pbf", ".osm.bz2", ".osm.gz", ".o5m")


def study_buildings(study: Study, compounds: gpd.GeoDataFrame) -> BuildingLayer | None:
    """The study's buildings (None when it has none).

    Raises
    ------
    InputError
        Both a building layer and ``buildings_from_osm``, ``buildings_from_osm`` without an OSM file network,
        or any problem of the building layer (:func:`~lifecircle.planning.buildings.read_buildings`).
    """
    if study.buildings is not None and study.buildings_from_osm:
        raise InputError(
            "Give a building layer (--buildings) or --buildings-from-osm, not both: OSM buildings stand in where "
            "no building layer exists."
        )
    if study.buildings is not None:
        return read_buildings(study.buildings, compounds, group_column=study.building_group_column)
    if not study.buildings_from_osm:
        return None
    network = study.network
    if network is None or not str(network).lower().endswith(OSM_SUFFIXES) or not Path(network).is_file():
        raise InputError(
            f"--buildings-from-osm reads the buildings of the OSM extract that is the walking network; the network "
            f"{network} is not an OSM file (.osm, .osm.pbf, .osm.bz2)."
        )
    return osm_buildings(Path(network), compounds)


def osm_buildings(path: str | Path, compounds: gpd.GeoDataFrame) -> BuildingLayer:
    """The ``building=*`` polygons of an OSM extract that lie inside a compound (a point inside the building
    within the compound polygon), with ids ``w<way id>`` / ``r<relation id>`` and ``building:levels``.

    Raises
    ------
    InputError
        No building of the extract lies inside a compound.
    """
    found = _read_osm_buildings(Path(path))
    if len(found):
        inner = shapely.point_on_surface(found.geometry.to_numpy())
        polygons = to_crs(compounds[["geometry"]], found.crs).geometry.to_numpy()
        hits = shapely.STRtree(polygons).query(inner, predicate="within")[0]
        inside = np.zeros(len(found), dtype=bool)
        inside[hits] = True
    else:
        inside = np.zeros(0, dtype=bool)
    if not inside.any():
        raise InputError(
            f"{Path(path).name}: none of its {len(found)} buildings (building=*) lies inside a compound; "
            "--buildings-from-osm needs OSM buildings within the compound polygons."
        )
    log.info("%s: %d of %d OSM buildings lie inside compounds", Path(path).name, inside.sum(), len(found))
    layer = building_layer(found[inside].reset_index(drop=True), compounds, source=f"OSM ({Path(path).name})")
    return replace(layer, households={**layer.households, "osm_buildings_read": len(found)})


def _read_osm_buildings(path: Path) -> gpd.GeoDataFrame:
    """Every ``building=*`` area of the extract (pyosmium), with ``id`` and ``building:levels`` (WGS84)."""
    import osmium
    from osmium.geom import WKBFactory

    wkb = WKBFactory()
    ids, levels, geoms = [], [], []
    processor = osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.KeyFilter("building"))
    for obj in processor:
        if not obj.is_area() or obj.tags.get("building", "no") == "no":
            continue
        try:
            geoms.append(wkb.create_multipolygon(obj))
        except RuntimeError:  # a broken multipolygon in the extract
            continue
        ids.append(("w" if obj.from_way() else "r") + str(obj.orig_id()))
        levels.append(obj.tags.get("building:levels"))
    geometry = shapely.from_wkb(np.array(geoms, dtype=object)) if geoms else np.array([], dtype=object)
    frame = pd.DataFrame({"id": ids, "building:levels": pd.array(levels, dtype=object)})
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)
