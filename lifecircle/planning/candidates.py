"""Candidate sites for new service points: a planner's layer, points along streets, or compound points.

The realistic case is a layer of places a service could actually go (vacant premises, community rooms), read with
:func:`read_candidates`. Without one, :func:`street_candidates` puts points about every ``spacing_m`` metres along
the walkable streets near uncovered compounds, and :func:`compound_candidates` puts one point inside each compound.
:func:`attach_candidates` joins candidates to the walking network and drops those no compound can walk to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.inputs.layers import read_points
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import Origins
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M, Attachment, snap_points
from lifecircle.geo.validate import require_positive

log = logging.getLogger(__name__)

__all__ = [
    "Candidates",
    "attach_candidates",
    "compound_candidates",
    "read_candidates",
    "street_candidates",
]

SITE_ID = "site_id"
DEFAULT_SPACING_M = 100.0
MIN_SPACING_M = 5.0  # closer street candidates only multiply the siting matrix


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate sites joined to the walking network.

    Attributes
    ----------
    sites
        The usable candidates (CRS as given), indexed by ``site_id``, with ``name`` and ``source``.
    attachment
        Where each usable candidate joins the network (aligned with ``sites``).
    off_network
        Ids of candidates farther than the snap limit from every walkable street (dropped).
    unconnected
        Ids of candidates on a piece of network that no compound's origin is on (dropped: nobody can walk there).
    """

    sites: gpd.GeoDataFrame
    attachment: Attachment
    off_network: pd.Index
    unconnected: pd.Index

    @property
    def n_dropped(self) -> int:
        """How many candidates were dropped."""
        return len(self.off_network) + len(self.unconnected)


def _empty_sites(crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": pd.Series([], dtype=object), "source": pd.Series([], dtype=object)},
        geometry=gpd.GeoSeries([], crs=crs),
        index=pd.Index([], name=SITE_ID, dtype=object),
        crs=crs,
    )


def read_candidates(path: str | Path, *, cost_column: str | None = None, **read_kw) -> gpd.GeoDataFrame:
    """Read a candidate layer (points, or polygons turned into a point inside each) indexed by ``site_id``.

    Parameters
    ----------
    path
        Any layer :func:`lifecircle.geo.inputs.layers.read_layer` reads (GeoPackage, GeoJSON, Shapefile, CSV with
        longitude/latitude...). Ids come from a ``site_id``/``id``/``编号`` column, else ``N1, N2...``.
    cost_column
        A column of per-candidate costs that must then be present, numeric and positive.
    **read_kw
        Passed to :func:`lifecircle.geo.inputs.layers.read_points` (``id_column``, ``crs``, ``encoding``...).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``site_id`` with ``name``, ``source`` (``"layer"``) and the layer's own columns.

    Raises
    ------
    InputError
        Empty layer, lines, duplicate ids, or a missing or unusable cost column.
    """
    sites = read_points(path, what="candidates", id_name=SITE_ID, prefix="N", **read_kw)
    if cost_column is not None:
        candidate_costs(sites, cost_column, source=Path(path).name)
    sites["source"] = "layer"
    return sites


def candidate_costs(sites: pd.DataFrame, cost_column: str, *, source: str = "the candidate layer") -> np.ndarray:
    """Per-candidate costs from a column, checked: present, numeric, positive."""
    if cost_column not in sites.columns:
        raise InputError(f"{source} has no cost column {cost_column!r}.")
    costs = pd.to_numeric(sites[cost_column], errors="coerce")
    bad = costs.isna() | ~(costs > 0)
    if bad.any():
        examples = ", ".join(map(str, sites.index[bad.to_numpy()][:5]))
        raise InputError(f"{source}: cost column {cost_column!r} must hold positive numbers; not so for {examples}.")
    return costs.to_numpy(dtype=float)


def street_candidates(
    net: PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    uncovered_ids=None,
    *,
    spacing_m: float = DEFAULT_SPACING_M,
    near_m: float = 750.0,
) -> gpd.GeoDataFrame:
    """Candidate points about every ``spacing_m`` metres along walkable streets within ``near_m`` of compounds.

    Points are laid along every street segment within ``near_m`` (straight line) of an uncovered compound at
    most ``spacing_m`` apart, segment ends (street corners) included; then one point is kept per
    ``spacing_m`` × ``spacing_m`` grid cell (the one nearest the cell's centre), so the density does not depend on
    how finely the streets are cut. Walking is never shorter than the straight line, so with ``near_m`` equal to
    the walking limit no useful street point is left out.

    Parameters
    ----------
    net
        The prepared walking network.
    compounds
        Compound polygons indexed by ``compound_id`` (any CRS; not modified).
    uncovered_ids
        Compounds that need a service; None: all of them.
    spacing_m
        Distance between candidates along the streets, in metres.
    near_m
        Keep street points within this straight-line distance of an uncovered compound.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``site_id`` (``street1, street2...``, ordered west to east), ``name`` and ``source``
        (``"street"``), points in the network's CRS. Empty when no compound needs a service.
    """
    require_positive(spacing_m, "The candidate spacing", "m", at_least=MIN_SPACING_M)
    if not near_m >= 0:
        raise InputError(f"The candidate search distance must be zero or more, got {near_m} m.")
    comp = to_crs(compounds[[compounds.geometry.name]], net.crs)
    if uncovered_ids is not None:
        wanted = pd.Index(pd.Index(uncovered_ids).astype(str))
        comp = comp[comp.index.astype(str).isin(wanted)]
    geoms = comp.geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
    if len(geoms) == 0:
        return _empty_sites(net.crs)

    segs = np.unique(net.tree.query(geoms, predicate="dwithin", distance=near_m)[1])
    if len(segs) == 0:
        return _empty_sites(net.crs)
    lines = net.segment_lines[segs]
    pieces = np.maximum(1, np.ceil(shapely.length(lines) / spacing_m)).astype(np.int64)
    counts = pieces + 1  # both ends and the points between
    line_of = np.repeat(np.arange(len(segs)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pts = shapely.line_interpolate_point(lines[line_of], k / pieces[line_of], normalized=True)

    near = np.unique(shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=near_m)[0])
    pts = pts[near]
    xy = shapely.get_coordinates(pts)
    cell = np.floor(xy / spacing_m).astype(np.int64)
    off_centre = np.hypot(*(xy - (cell + 0.5) * spacing_m).T)
    order = np.lexsort((xy[:, 1], xy[:, 0], off_centre, cell[:, 1], cell[:, 0]))
    first = np.ones(len(order), dtype=bool)
    first[1:] = np.any(cell[order][1:] != cell[order][:-1], axis=1)
    keep = order[first]
    keep = keep[np.lexsort((xy[keep, 1], xy[keep, 0]))]
    ids = pd.Index([f"street{i + 1}" for i in range(len(keep))], name=SITE_ID)
    log.info("street candidates: %d points every ~%.0f m near %d compounds", len(keep), spacing_m, len(geoms))
    return gpd.GeoDataFrame({"name": ids.to_numpy(), "source": "street"}, geometry=pts[keep], index=ids, crs=net.crs)


def compound_candidates(compounds: gpd.GeoDataFrame, compound_ids=None) -> gpd.GeoDataFrame:
    """One candidate inside each compound (its representative point: inside even for odd shapes).

    Parameters
    ----------
    compounds
        Compound polygons indexed by ``compound_id`` (not modified).
    compound_ids
        Only these compounds; None: all.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``site_id`` = ``in_<compound_id>``, with ``name`` (the compound's), ``source``
        (``"compound"``) and ``compound_id``; CRS of ``compounds``.
    """
    comp = compounds
    if compound_ids is not None:
        comp = comp[comp.index.astype(str).isin(pd.Index(compound_ids).astype(str))]
    ids = pd.Index([f"in_{c}" for c in comp.index.astype(str)], name=SITE_ID)
    names = comp["name"].astype(str).to_numpy() if "name" in comp.columns else comp.index.astype(str).to_numpy()
    return gpd.GeoDataFrame(
        {"name": names, "source": "compound", "compound_id": comp.index.astype(str).to_numpy()},
        geometry=comp.geometry.representative_point().to_numpy(),
        index=ids,
        crs=comp.crs,
    )


def attach_candidates(
    net: PreparedNetwork,
    sites: gpd.GeoDataFrame,
    origins: Origins,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> Candidates:
    """Join candidates to the network; drop those off it and those on pieces no compound is on.

    Parameters
    ----------
    net
        The prepared walking network.
    sites
        Candidate points indexed by ``site_id`` (any CRS; not modified).
    origins
        The compounds' walking origins (:func:`lifecircle.geo.reach.coverage.compound_origins`).
    max_snap_m
        Candidates farther than this from every walkable street are dropped.

    Returns
    -------
    Candidates
    """
    if sites.index.has_duplicates:
        dup = sites.index[sites.index.duplicated()][:3].tolist()
        raise InputError(f"Candidate site ids must be unique; duplicated: {dup}.")
    att = snap_points(net, sites.geometry, max_snap_m=max_snap_m)
    snapped = att.snapped
    seg = np.where(snapped, att.segment, 0)
    piece = net.component[net.segment_u[seg]]
    o = origins.attachment
    reachable = np.unique(net.component[net.segment_u[o.segment[o.snapped]]])
    connected = snapped & np.isin(piece, reachable)
    off = sites.index[~snapped]
    unconnected = sites.index[snapped & ~connected]
    if len(off):
        log.warning("%d candidates lie farther than %.0f m from any walkable street: dropped", len(off), max_snap_m)
    if len(unconnected):
        log.warning("%d candidates are on network pieces no compound can walk to: dropped", len(unconnected))
    kept = sites[connected].copy()
    kept.attrs = dict(sites.attrs)
    return Candidates(
        sites=kept,
        attachment=att.take(np.flatnonzero(connected)),
        off_network=off.copy(),
        unconnected=unconnected.copy(),
    )
