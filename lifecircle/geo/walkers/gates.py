"""Compound gates read from an OSM file: ``barrier=gate`` (and similar) and ``entrance=*`` nodes near a boundary."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["GATE_BARRIERS", "GATE_BOUNDARY_M", "gates_from_osm"]

GATE_BOUNDARY_M = 20.0  # OSM gate/entrance nodes count as compound gates within this distance of the boundary
GATE_BARRIERS = frozenset(
    {
        "gate",
        "entrance",
        "lift_gate",
        "swing_gate",
        "sliding_gate",
        "turnstile",
        "full-height_turnstile",
        "kissing_gate",
    }
)


def gates_from_osm(
    path: str | Path,
    compounds: gpd.GeoDataFrame | None = None,
    *,
    boundary_m: float = GATE_BOUNDARY_M,
) -> gpd.GeoDataFrame:
    """Read compound gates from an OSM file: nodes tagged ``barrier=gate`` (and similar) or ``entrance=*``.

    Parameters
    ----------
    path
        The OSM extract (.osm, .osm.bz2, .osm.pbf), read with pyosmium.
    compounds
        When given, only nodes within ``boundary_m`` of a compound's boundary are kept (building entrances inside
        a compound are not its gates) and each gate gets the ``compound_id`` of the nearest boundary.
    boundary_m
        Largest distance of a gate from its compound's boundary, in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``gate_id`` (``osm<node id>``), columns ``osmid``, ``kind`` (the barrier or entrance value),
        ``access``, optional ``compound_id``, point geometry in EPSG:4326. Nodes tagged ``access=no`` and
        emergency entrances are left out.
    """
    import osmium

    path = Path(path)
    if not path.exists():
        raise InputError(f"Network file {path} does not exist.")
    rows: list[tuple[int, str, str, float, float]] = []
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
        osmium.filter.KeyFilter("barrier", "entrance")
    )
    try:
        for node in processor:
            tags = dict(node.tags)
            barrier, entrance = tags.get("barrier"), tags.get("entrance")
            if barrier not in GATE_BARRIERS and entrance is None:
                continue
            if entrance == "emergency" or tags.get("access") == "no" or not node.location.valid():
                continue
            rows.append((node.id, barrier or f"entrance={entrance}", tags.get("access", ""), node.lon, node.lat))
    except RuntimeError as exc:
        raise InputError(f"Network file {path} could not be read as OSM data: {exc}.") from exc
    frame = pd.DataFrame(rows, columns=["osmid", "kind", "access", "lon", "lat"])
    gates = gpd.GeoDataFrame(
        frame[["osmid", "kind", "access"]],
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )
    gates.index = pd.Index([f"osm{i}" for i in frame["osmid"]], name="gate_id")
    if compounds is None or gates.empty:
        return gates
    metric = compounds.estimate_utm_crs() if compounds.crs.is_geographic else compounds.crs
    comp_m = compounds.to_crs(metric)
    rings = gpd.GeoDataFrame(geometry=comp_m.geometry.boundary.to_numpy(), crs=metric)  # positional index
    joined = gpd.sjoin_nearest(gates.to_crs(metric)[["geometry"]], rings, how="inner", max_distance=boundary_m)
    joined = joined[~joined.index.duplicated()]
    out = gates.loc[joined.index].copy()
    owner = joined["index_right"].to_numpy(dtype=np.int64)
    out["compound_id"] = compounds.index.to_numpy()[owner].astype(str) if len(joined) else []
    log.info("%d OSM gates on the boundaries of %d compounds", len(out), out["compound_id"].nunique())
    return out
