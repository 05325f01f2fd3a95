"""Walking coverage: per compound and service category, the walk to the nearest service and who is in reach."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.costs import min_per_pair
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.routing.paths import nearest_destination, pairs_within
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M, Attachment, snap_points
from lifecircle.geo.validate import require_positive, require_some_on_network
from lifecircle.geo.walk import DEFAULT_SPEED_KMH, Walk, metres_per_minute, prepared

log = logging.getLogger(__name__)

ALL = "all"
DEFAULT_MAX_WALK_MIN = 10.0
GATE_ASSIGN_M = 50.0  # a gate with no compound id belongs to the nearest compound within this distance
TABLE_COLUMNS = [
    "compound_id",
    "category",
    "walk_m",
    "walk_min",
    "nearest_service_id",
    "services_within",
    "covered",
    "reach",
]


@dataclass(frozen=True, eq=False)
class Origins:
    """Where residents of each compound start walking: gates, or a point inside the compound."""

    points: gpd.GeoSeries  # in the network CRS
    compound_pos: np.ndarray  # position of the owning compound
    attachment: Attachment
    kind: str = "given"  # how they were chosen: "representative_point", "gates", or "given" (by another rule)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of compounds by service categories.

    Attributes
    ----------
    table
        One row per compound and category (``all`` first): ``compound_id, category, walk_m, walk_min,
        nearest_service_id, services_within, covered, reach`` with ``reach`` one of ``ok``, ``off_network``
        (no origin within the snap limit of a street) or ``no_service_connected`` (no service of the category on
        the compound's piece of network).
    services_off_network
        Ids of services farther than the snap limit from any walkable street (they serve nobody).
    compounds_off_network
        Ids of compounds farther than the snap limit from any walkable street.
    pairs
        Every compound–service pair within the limit: ``compound_id, service_id, walk_m``.
    params
        Parameters used: ``max_walk_min``, ``max_walk_m``, ``speed_kmh``, ``max_snap_m``, ``origin``.
    """

    table: pd.DataFrame
    services_off_network: pd.Index
    compounds_off_network: pd.Index
    pairs: pd.DataFrame
    params: dict = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        """Categories in table order, ``all`` first."""
        return [str(c) for c in pd.unique(self.table["category"])]  # in order of appearance, not row by row


def service_categories(services: pd.DataFrame, category_column: str | None) -> tuple[np.ndarray, list[str]]:
    """Each service's category as text, and the categories searched: ``ALL`` first, then the others sorted.

    Without a category column (or when the layer lacks it) every service is in ``ALL`` alone.
    """
    if category_column and category_column in services.columns:
        service_category = services[category_column].astype(str).to_numpy()
        return service_category, [ALL, *sorted(set(service_category) - {ALL})]
    return np.full(len(services), ALL, dtype=object), [ALL]


def inside_points(compounds: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoSeries:
    """A point inside each compound polygon (GEOS point-on-surface), in ``crs``.

    The point is found in the layer's own CRS and only the points are reprojected, not every polygon vertex
    (a map projection keeps a point inside its polygon).
    """
    points = shapely.point_on_surface(compounds.geometry.to_numpy())
    inner = to_crs(gpd.GeoDataFrame(geometry=points, crs=compounds.crs), crs).geometry
    return inner.reset_index(drop=True)


def compound_origins(
    net: PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    *,
    gates: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> Origins:
    """Origins of walks for each compound: its gates where given, else a point inside its polygon.

    Gates carry the compound they belong to in a ``compound_id`` column (compared as text with the compound
    index), or are given to the nearest compound within 50 m of them (a gate equally near two compounds, on a
    shared wall, goes to the first in layer order). Compounds without a gate start from their representative
    point.
    """
    inner = inside_points(compounds, net.crs)
    positions = np.arange(len(compounds))
    if gates is None or gates.empty:
        points, owners = inner, positions
    else:
        gates_m = to_crs(gates, net.crs).reset_index(drop=True)  # gate labels may repeat (concatenated layers)
        lookup = pd.Series(positions, index=compounds.index.astype(str))
        if "compound_id" in gates_m.columns:
            owner_ids = gates_m["compound_id"].astype(str)
            unknown = ~owner_ids.isin(lookup.index)
            if unknown.any():
                raise InputError(
                    f"Gates name compounds that are not in the compound layer: "
                    f"{', '.join(sorted(set(owner_ids[unknown]))[:5])}."
                )
            gate_owner = lookup.loc[owner_ids].to_numpy()
        else:
            compounds_m = to_crs(compounds, net.crs)
            joined = gpd.sjoin_nearest(
                gates_m[["geometry"]],
                compounds_m[["geometry"]].reset_index(drop=True),
                how="left",
                max_distance=GATE_ASSIGN_M,
            )
            joined = joined[~joined.index.duplicated()]
            far = joined["index_right"].isna()
            if far.any():
                log.warning(
                    "%d gates lie farther than %.0f m from every compound and are ignored", far.sum(), GATE_ASSIGN_M
                )
            joined = joined[~far]
            gate_owner = joined["index_right"].to_numpy(dtype=np.int64)
            gates_m = gates_m.loc[joined.index]
        gated = np.zeros(len(compounds), dtype=bool)
        gated[gate_owner] = True
        points = pd.concat([gates_m.geometry.reset_index(drop=True), inner[~gated].reset_index(drop=True)])
        owners = np.concatenate([gate_owner, positions[~gated]])
    points = gpd.GeoSeries(points.to_numpy(), crs=net.crs)
    attachment = snap_points(net, points.to_numpy(), max_snap_m=max_snap_m)
    kind = "representative_point" if gates is None or gates.empty else "gates"
    return Origins(points=points, compound_pos=np.asarray(owners, dtype=np.int64), attachment=attachment, kind=kind)


def coverage(
    network: nx.MultiDiGraph | PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    max_walk_min: float = DEFAULT_MAX_WALK_MIN,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    category_column: str | None = "category",
    gates: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    origins: Origins | None = None,
    walk: Walk | None = None,
) -> CoverageResult:
    """Which compounds reach which service category within ``max_walk_min`` minutes on foot.

    Parameters
    ----------
    network
        The walking network (osmnx-style graph, or already prepared).
    compounds
        Compound polygons indexed by compound id (any CRS; not modified).
    services
        Service points indexed by service id (any CRS; not modified).
    max_walk_min
        The walking-time threshold in minutes.
    speed_kmh
        Walking speed.
    category_column
        Column of ``services`` whose values are categories; None or absent: only ``all``.
    gates
        Optional gate points (see :func:`compound_origins`).
    max_snap_m
        Points farther than this from every walkable street are off the network.
    origins
        Walk origins computed beforehand on this same prepared network (for example by
        :func:`~.walkers.gated.gated_origins`, which starts walks on private roads); they replace
        the origins :func:`compound_origins` would make, and ``gates`` is then ignored.
    walk
        Speed, limit and edge costs in one value (:class:`~lifecircle.geo.walk.Walk`): when given it replaces
        ``max_walk_min`` and ``speed_kmh``, and a graph is prepared with its edge costs (steps, hills).

    Returns
    -------
    CoverageResult

    Raises
    ------
    NetworkError
        No compound or no service lies near the network (the network does not cover the study area).
    """
    if walk is not None:
        max_walk_min, speed_kmh = walk.max_walk_min, walk.speed_kmh
    max_walk_min = require_positive(max_walk_min, "The walking-time threshold", "minutes")
    if origins is not None and not isinstance(network, PreparedNetwork):
        raise InputError("Walk origins given beforehand need the prepared network they were computed on.")
    net = prepared(network, walk)
    max_walk_m = max_walk_min * metres_per_minute(speed_kmh)

    if origins is None:
        origins = compound_origins(net, compounds, gates=gates, max_snap_m=max_snap_m)
    services_m = to_crs(services, net.crs)
    service_att = snap_points(net, services_m.geometry.to_numpy(), max_snap_m=max_snap_m)
    compound_snapped = _snapped_compounds(origins, service_att, len(compounds), max_snap_m)
    service_category, categories = service_categories(services_m, category_column)

    # every pair within the limit, once for all categories
    o, s, w = pairs_within(net, origins.attachment, service_att, limit_m=max_walk_m)
    if np.array_equal(origins.compound_pos, np.arange(len(compounds))):  # one origin per compound: pairs are final
        pair_compound, pair_service, pair_walk = o, s, w
    else:  # gates: the best gate of each compound
        pair_compound, pair_service, pair_walk = min_per_pair(origins.compound_pos[o], s, w)
    walk_c, near_c, count = _nearest_per_category(
        net, origins, service_att, service_category, categories, pair_compound, pair_service, len(compounds)
    )
    table = _coverage_table(
        compounds, services, categories, (walk_c, near_c, count), compound_snapped, max_walk_m, speed_kmh
    )
    pair_table = pd.DataFrame(
        {
            "compound_id": compounds.index.take(pair_compound),
            "service_id": services.index.take(pair_service),
            "walk_m": pair_walk,
        }
    )
    return CoverageResult(
        table=table,
        services_off_network=services.index[~service_att.snapped],
        compounds_off_network=compounds.index[~compound_snapped],
        pairs=pair_table,
        params={
            "max_walk_min": float(max_walk_min),
            "max_walk_m": float(max_walk_m),
            "speed_kmh": float(speed_kmh),
            "max_snap_m": float(max_snap_m),
            "origin": origins.kind,
            "crs": net.crs.to_string(),
        },
    )


def _snapped_compounds(origins: Origins, service_att: Attachment, n_comp: int, max_snap_m: float) -> np.ndarray:
    """Which compounds have an origin on the network; an error when no compound or no service is on it."""
    compound_snapped = np.zeros(n_comp, dtype=bool)
    compound_snapped[origins.compound_pos[origins.attachment.snapped]] = True
    if not compound_snapped.any() and not service_att.snapped.any():
        cause = (
            f"a snap limit of {max_snap_m:g} m is too small"
            if max_snap_m < DEFAULT_MAX_SNAP_M / 10
            else "the walking network does not cover the study area"
        )
        raise NetworkError(f"No compound and no service lies within {max_snap_m:.0f} m of a walkable street: {cause}.")
    require_some_on_network(service_att.snapped, "services", max_snap_m)
    require_some_on_network(compound_snapped, "compounds", max_snap_m)
    if not service_att.snapped.all():
        log.warning(
            "%d of %d services are farther than %.0f m from any walkable street and serve nobody",
            (~service_att.snapped).sum(),
            len(service_att.snapped),
            max_snap_m,
        )
    if not compound_snapped.all():
        log.warning("%d of %d compounds are off the walking network", (~compound_snapped).sum(), n_comp)
    return compound_snapped


def _nearest_per_category(
    net: PreparedNetwork,
    origins: Origins,
    service_att: Attachment,
    service_category: np.ndarray,
    categories: list[str],
    pair_compound: np.ndarray,
    pair_service: np.ndarray,
    n_comp: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per category and compound: walk to the nearest service, its position, and the services within the limit.
    "Any service" (the first row) is the nearest over the categories."""
    n_cat, n_services = len(categories), len(service_category)
    walk_c = np.full((n_cat, n_comp), np.inf)
    near_c = np.full((n_cat, n_comp), -1, dtype=np.int64)
    count = np.zeros((n_cat, n_comp), dtype=np.int64)
    for row, category in enumerate(categories):
        members = np.arange(n_services) if category == ALL else np.flatnonzero(service_category == category)
        if category != ALL or n_cat == 1:  # with categories, "all" is filled in below
            walk_o, near_o = nearest_destination(net, origins.attachment, service_att.take(members))
            best_walk, best_near = _best_per_compound(origins.compound_pos, walk_o, near_o, n_comp)
            walk_c[row] = best_walk
            found = best_near >= 0
            near_c[row, found] = members[best_near[found]]
        in_category = np.zeros(n_services, dtype=bool)
        in_category[members] = True
        count[row] = np.bincount(pair_compound[in_category[pair_service]], minlength=n_comp)
    if n_cat > 1:
        best = np.argmin(walk_c[1:], axis=0)
        walk_c[0] = walk_c[1:][best, np.arange(n_comp)]
        near_c[0] = near_c[1:][best, np.arange(n_comp)]
    return walk_c, near_c, count


def _coverage_table(
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    categories: list[str],
    nearest: tuple[np.ndarray, np.ndarray, np.ndarray],
    compound_snapped: np.ndarray,
    max_walk_m: float,
    speed_kmh: float,
) -> pd.DataFrame:
    """The long table, one row per compound and category, from :func:`_nearest_per_category`'s arrays."""
    walk_c, near_c, count = nearest
    n_cat, n_comp = walk_c.shape
    finite = np.isfinite(walk_c)
    nearest_id = np.full(walk_c.shape, None, dtype=object)
    nearest_id[finite] = services.index.to_numpy()[near_c[finite]]
    reach = np.where(~compound_snapped, "off_network", np.where(finite, "ok", "no_service_connected"))
    walk_m = np.where(finite, walk_c, np.nan)
    return pd.DataFrame(
        {
            "compound_id": compounds.index.take(np.tile(np.arange(n_comp), n_cat)),
            "category": np.repeat(np.asarray(categories, dtype=object), n_comp),
            "walk_m": walk_m.ravel(),
            "walk_min": walk_m.ravel() / metres_per_minute(speed_kmh),
            "nearest_service_id": nearest_id.ravel(),
            "services_within": count.ravel(),
            "covered": (finite & (walk_c <= max_walk_m)).ravel(),
            "reach": reach.ravel(),
        }
    )[TABLE_COLUMNS]


def _best_per_compound(
    owner: np.ndarray, walk: np.ndarray, nearest: np.ndarray, n_comp: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best origin of each compound (compounds with several gates walk from the best one)."""
    order = np.lexsort((walk, owner))
    owner_sorted = owner[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner_sorted[1:] != owner_sorted[:-1]
    best = order[first]
    walk_c = np.full(n_comp, np.inf)
    near_c = np.full(n_comp, -1, dtype=np.int64)
    walk_c[owner[best]] = walk[best]
    near_c[owner[best]] = nearest[best]
    return walk_c, near_c
