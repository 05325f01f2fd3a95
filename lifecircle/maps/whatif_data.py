"""What the what-if page computes with: the contracted walking network, origins and services as typed arrays.

The page (:mod:`lifecircle.maps.whatif`) runs the same walk as ``lifecircle analyze``
(:func:`lifecircle.geo.routing.paths.pairs_within`): a point joins its street segment at the nearest point of the
nearest segment, reaches the two junctions of that segment's chain at costs read along the chain, and searches run
over the junction graph (:mod:`lifecircle.geo.network.chains`); two points on one chain may also walk straight along
it. This module packs exactly the arrays that walk needs, each as little-endian bytes in base64, plus the
Transverse Mercator parameters of the network's metric CRS (the page projects clicks itself).
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.chains import chain_end_costs, chain_ends
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import ALL, Origins
from lifecircle.geo.routing.paths import pairs_within
from lifecircle.geo.routing.snapping import Attachment, snap_points
from lifecircle.geo.walk import Walk

ZLIB_LEVEL = 6
TM_METHOD = "Transverse Mercator"
_TM_PARAMS = {
    "Latitude of natural origin": "lat0_deg",
    "Longitude of natural origin": "lon0_deg",
    "Scale factor at natural origin": "k0",
    "False easting": "x0_m",
    "False northing": "y0_m",
}


@dataclass(frozen=True, eq=False)
class WhatIfScene:
    """One analysis as the what-if page needs it.

    Attributes
    ----------
    net
        The prepared walking network the analysis ran on.
    origins
        Where each compound's walks start, attached to ``net``.
    compounds
        Compound polygons (any CRS) indexed by compound id, with ``name`` and optionally ``households``.
    services
        Existing service points (any CRS) indexed by service id, with ``category`` and optionally ``name``.
    walk
        The analysis's walk (:class:`~lifecircle.geo.walk.Walk`): its general limit (of ``all`` and of every
        category without its own), the categories' own limits (a study's thresholds) and its speed (minutes shown
        are ``walk_m`` at this speed).
    max_snap_m
        Largest distance from a point to its street.
    """

    net: PreparedNetwork
    origins: Origins
    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    walk: Walk
    max_snap_m: float

    @property
    def max_walk_m(self) -> float:
        """The general walking limit in metres."""
        return float(self.walk.limit_m)

    def limit_m(self, category: str) -> float:
        """The walking limit of a category (``all``: the general one)."""
        return self.max_walk_m if category == ALL else float(self.walk.limit_m_of(category))

    def search_m(self, category: str) -> float:
        """How far to search from a service of a category: its own limit, and far enough for ``all`` too."""
        return max(self.limit_m(category), float(self.max_walk_m))

    @property
    def categories(self) -> list[str]:
        """Service categories, sorted as ``lifecircle analyze`` sorts them (``all`` not included)."""
        return sorted(set(self.services["category"].astype(str)) - {ALL})

    def service_attachment(self) -> Attachment:
        """The services joined to the network as ``lifecircle analyze`` joins them."""
        points = to_crs(self.services, self.net.crs).geometry.to_numpy()
        return snap_points(self.net, points, max_snap_m=self.max_snap_m)


@dataclass(frozen=True, eq=False)
class Baseline:
    """Walks within the limit before any change: every origin–service pair, and per compound the best walk.

    Attributes
    ----------
    pair_origin, pair_service, pair_walk_m
        Every origin–service pair within the service category's search distance (positions in origins and
        services), sorted by service.
    walk_m
        ``len(categories) + 1`` × compounds: the shortest walk within the search distance (``inf`` beyond),
        ``all`` first.
    """

    pair_origin: np.ndarray
    pair_service: np.ndarray
    pair_walk_m: np.ndarray
    walk_m: np.ndarray


def tm_parameters(crs: pyproj.CRS) -> dict[str, float]:
    """The Transverse Mercator parameters of a metric CRS (UTM, Gauss–Krüger), for the page's own projection.

    Raises
    ------
    InputError
        The CRS is not a Transverse Mercator projection in metres.
    """
    op = crs.coordinate_operation
    if op is None or op.method_name != TM_METHOD or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise InputError(
            f"The what-if page needs a network in a Transverse Mercator CRS in metres (UTM or Gauss-Krüger); "
            f"this network is in {crs.to_string()}."
        )
    params = {_TM_PARAMS[p.name]: float(p.value) for p in op.params if p.name in _TM_PARAMS}
    if len(params) != len(_TM_PARAMS):
        raise InputError(f"The network CRS {crs.to_string()} does not state every Transverse Mercator parameter.")
    ellipsoid = crs.ellipsoid
    params["a_m"] = float(ellipsoid.semi_major_metre)
    params["inv_f"] = float(ellipsoid.inverse_flattening)
    return params


def baseline(scene: WhatIfScene, service_att: Attachment) -> Baseline:
    """Every origin–service pair within the limit and the best walk of each compound per category."""
    net, origins = scene.net, scene.origins
    categories = scene.categories
    category = scene.services["category"].astype(str).to_numpy()
    search = np.array([scene.search_m(c) for c in category], dtype=float)
    longest = float(search.max()) if len(search) else scene.max_walk_m
    o, s, w = pairs_within(net, origins.attachment, service_att, limit_m=longest)
    keep = w <= search[s]
    order = np.lexsort((o[keep], s[keep]))
    o, s, w = o[keep][order], s[keep][order], w[keep][order]
    n_comp = len(scene.compounds)
    walk = np.full((len(categories) + 1, n_comp), np.inf)
    pair_compound = origins.compound_pos[o]
    for row, name in enumerate(categories, start=1):
        keep = category[s] == name
        np.minimum.at(walk[row], pair_compound[keep], w[keep])
    walk[0] = walk[1:].min(axis=0) if categories else walk[0]
    return Baseline(pair_origin=o, pair_service=s, pair_walk_m=w, walk_m=walk)


def encode(array: np.ndarray, dtype: str) -> dict:
    """An array as ``{"t": dtype, "n": length, "b": base64 of its zlib-compressed little-endian bytes}``.

    Compression takes about 40 % off a network's arrays (the page unpacks them with the browser's own
    ``DecompressionStream``).
    """
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    packed = zlib.compress(data.tobytes(), ZLIB_LEVEL)
    return {"t": dtype, "n": int(data.size), "b": base64.b64encode(packed).decode("ascii")}


def network_arrays(net: PreparedNetwork) -> dict[str, dict]:
    """The junction graph (reversed, CSR), each segment's place along its chain, and segment vertices."""
    ch = net.chains
    rev = ch.cost_reverse
    fwd_sum = np.bincount(ch.segment_chain, weights=np.where(np.isfinite(ch.segment_fwd), ch.segment_fwd, 0.0))
    bwd_sum = np.bincount(ch.segment_chain, weights=np.where(np.isfinite(ch.segment_bwd), ch.segment_bwd, 0.0))
    coords, owner = shapely.get_coordinates(net.segment_lines, return_index=True)
    vptr = np.zeros(len(net.segment_lines) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(net.segment_lines)), out=vptr[1:])
    return {
        "j_ptr": encode(rev.indptr, "i4"),
        "j_idx": encode(rev.indices, "i4"),
        "j_cost": encode(rev.data, "f8"),
        "chain_a": encode(ch.chain_a, "i4"),
        "chain_b": encode(ch.chain_b, "i4"),
        "chain_fwd_sum": encode(fwd_sum, "f8"),
        "chain_bwd_sum": encode(bwd_sum, "f8"),
        "seg_chain": encode(ch.segment_chain, "i4"),
        "seg_rank": encode(ch.segment_rank, "i4"),
        "seg_ufirst": encode(ch.segment_u_first, "u1"),
        "seg_fwd": encode(ch.segment_fwd, "f8"),
        "seg_bwd": encode(ch.segment_bwd, "f8"),
        "seg_fwd_before": encode(ch.fwd_before, "f8"),
        "seg_bwd_before": encode(ch.bwd_before, "f8"),
        "seg_vptr": encode(vptr, "i4"),
        "vx": encode(coords[:, 0], "f8"),
        "vy": encode(coords[:, 1], "f8"),
    }


def point_arrays(scene: WhatIfScene, service_att: Attachment, base: Baseline) -> dict[str, dict]:
    """Origins with their chain-end costs, services with their snaps, and the baseline pairs by service."""
    ch = scene.net.chains
    att = scene.origins.attachment
    to_a, to_b = chain_end_costs(ch, att, leaving=True)
    a, b = chain_ends(ch, att)
    n_services = len(scene.services)
    s_ptr = np.zeros(n_services + 1, dtype=np.int64)
    np.cumsum(np.bincount(base.pair_service, minlength=n_services), out=s_ptr[1:])
    category_pos = {name: i for i, name in enumerate(scene.categories)}
    s_cat = np.array([category_pos[c] for c in scene.services["category"].astype(str)], dtype=np.int64)
    lonlat = to_crs(scene.services, 4326).geometry
    origin_lonlat = scene.origins.points.to_crs(4326)
    return {
        "o_comp": encode(scene.origins.compound_pos, "i4"),
        "o_lon": encode(origin_lonlat.x.to_numpy(), "f8"),
        "o_lat": encode(origin_lonlat.y.to_numpy(), "f8"),
        "o_seg": encode(att.segment, "i4"),
        "o_frac": encode(att.fraction, "f8"),
        "o_access": encode(att.access_m, "f8"),
        "o_a": encode(a, "i4"),
        "o_b": encode(b, "i4"),
        "o_to_a": encode(to_a, "f8"),
        "o_to_b": encode(to_b, "f8"),
        "s_cat": encode(s_cat, "i4"),
        "s_seg": encode(service_att.segment, "i4"),
        "s_frac": encode(service_att.fraction, "f8"),
        "s_access": encode(service_att.access_m, "f8"),
        "s_lon": encode(lonlat.x.to_numpy(), "f8"),
        "s_lat": encode(lonlat.y.to_numpy(), "f8"),
        "p_ptr": encode(s_ptr, "i4"),
        "p_origin": encode(base.pair_origin, "i4"),
        "p_walk": encode(base.pair_walk_m, "f8"),
    }


def compound_arrays(compounds: gpd.GeoDataFrame) -> dict[str, dict]:
    """Outer rings of every compound polygon in WGS84, for drawing: ring ranges per compound, vertex ranges per ring."""
    geoms = to_crs(compounds[["geometry"]], 4326).geometry.to_numpy()
    parts, owner = shapely.get_parts(geoms, return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # repaired shapes may nest collections
    owner = owner[inner]
    polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    rings = shapely.get_exterior_ring(parts[polygon])
    owner = owner[polygon]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    r_ptr = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(np.bincount(ring_of, minlength=len(rings)), out=r_ptr[1:])
    c_ptr = np.zeros(len(compounds) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(compounds)), out=c_ptr[1:])
    return {
        "c_ring_ptr": encode(c_ptr, "i4"),
        "ring_ptr": encode(r_ptr, "i4"),
        "ring_lon": encode(coords[:, 0], "f8"),
        "ring_lat": encode(coords[:, 1], "f8"),
    }


def scene_payload(scene: WhatIfScene) -> tuple[dict, Baseline]:
    """Everything the page reads: typed arrays and the numbers and texts that go with them.

    Returns
    -------
    payload, baseline
        The JSON-ready payload (texts are escaped when the page is written) and the baseline it holds.
    """
    service_att = scene.service_attachment()
    base = baseline(scene, service_att)
    compounds, services = scene.compounds, scene.services
    households = compounds["households"] if "households" in compounds.columns else pd.Series(np.nan, compounds.index)
    arrays = {
        **network_arrays(scene.net),
        **point_arrays(scene, service_att, base),
        **compound_arrays(compounds),
    }
    payload = {
        "tm": tm_parameters(scene.net.crs),
        "crs": scene.net.crs.to_string(),
        "max_walk_m": float(scene.max_walk_m),
        "limits_m": [scene.limit_m(c) for c in scene.categories],
        "search_m": [scene.search_m(c) for c in scene.categories],
        "max_snap_m": float(scene.max_snap_m),
        "m_per_min": float(scene.walk.metres_per_minute),
        "categories": scene.categories,
        "compound_ids": [str(v) for v in compounds.index],
        "compound_names": _texts(compounds, "name"),
        "households": [None if pd.isna(v) else float(v) for v in pd.to_numeric(households, errors="coerce")],
        "service_ids": [str(v) for v in services.index],
        "service_names": _texts(services, "name"),
        "arrays": arrays,
    }
    return payload, base


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    """A text column as strings ('' where missing or absent)."""
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if pd.isna(v) else str(v) for v in frame[column]]
