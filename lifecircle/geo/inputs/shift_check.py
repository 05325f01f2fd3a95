"""Does a layer declared WGS84 look GCJ-02 or BD-09 shifted? A test against the streets that gives no false alarm.

A GCJ-02 layer read as WGS84 sits 300–700 m off the streets, in one direction that changes only slowly across a
city. The test moves the layer by that local offset (it converts every sample as if it were GCJ-02, or BD-09) and
asks whether the layer then fits the streets *clearly and consistently* better:

- **Where the layer touches the streets.** Points are used as they are; compound polygons by samples along their
  edges (every ``sample_step_m``), not by their centres, which lie deep inside large blocks.
- **A set-back allowance.** A distance to the nearest street centreline counts only beyond ``setback_m``: a wall
  8 m from the centreline, or a shop on the pavement, fits perfectly. Distances are capped at ``cap_m``, so a few
  features far from any street do not decide.
- **Clearly better than as given** (fit at most ``max_ratio`` of the fit as given, by at least ``min_gain_m``).
- **The right direction and size.** Moves every 30 degrees at 0.6, 1 and 1.4 times the offset's length must all
  fit worse, and most of them clearly worse (``max_null_ratio`` of their median): in a dense street grid any
  500 m jump lands *near some* street, but only the true offset lands edges on streets.
- **Consistently**: most features (``min_share_better``) fit better one by one.

Correct WGS84 data fit the streets as given, so no move can do clearly better: the check says nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import bd09_to_wgs84, gcj02_to_wgs84, out_of_china

logger = logging.getLogger(__name__)

__all__ = ["ShiftDiagnosis", "detect_gcj02_shift"]

_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_LABELS = {"gcj02": "GCJ-02 (Amap/Gaode/Tencent)", "bd09": "BD-09 (Baidu)"}
_NULL_SCALES = (0.6, 1.0, 1.4)


@dataclass(frozen=True)
class ShiftDiagnosis:
    """Does a layer fit the streets better after undoing a GCJ-02 (or BD-09) shift?

    Attributes
    ----------
    n_points : int
        Features used (non-empty, inside the China box).
    n_samples : int
        Points measured: the points themselves, or samples along polygon and line edges.
    median_given_m : float
        Median distance (metres) from the samples as given to the nearest street centreline.
    median_if_gcj02_m, median_if_bd09_m : float
        The same after treating the layer as GCJ-02 / BD-09 and converting it to WGS84.
    fit_given_m, fit_if_gcj02_m, fit_if_bd09_m : float
        Mean over features of the mean distance beyond the set-back allowance, capped (0 = every sample within
        the allowance of a street): the fit the decision uses, as given and converted.
    null_fit_m, typical_move_fit_m : float
        The best and the median fit of the other moves (other directions, other sizes): what moves that are not
        the offset do. The conversion must beat the best and clearly beat the median. NaN when the conversion does
        not even beat the layer as given (the other moves are then not tried).
    share_closer : float
        Share of features that fit better under the best conversion (among those whose fit changed).
    suspected : str or None
        ``"gcj02"`` or ``"bd09"`` when the layer looks shifted, else None.
    message : str
        One sentence for logs and reports.
    """

    n_points: int
    n_samples: int
    median_given_m: float
    median_if_gcj02_m: float
    median_if_bd09_m: float
    fit_given_m: float
    fit_if_gcj02_m: float
    fit_if_bd09_m: float
    null_fit_m: float
    typical_move_fit_m: float
    share_closer: float
    suspected: str | None
    message: str

    @property
    def shifted(self) -> bool:
        """True when the layer looks GCJ-02 or BD-09 shifted."""
        return self.suspected is not None


def _metric_crs(edges: gpd.GeoSeries) -> CRS:
    crs = CRS.from_user_input(edges.crs)
    if crs.is_projected:
        return crs
    return edges.estimate_utm_crs()


def _samples(
    geoms_wgs84: np.ndarray, to_metric: Transformer, *, step_m: float, max_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat samples of each feature (points as they are, edges every ``step_m``) and their feature index."""
    metric = shapely.transform(geoms_wgs84, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
    parts, part_owner = shapely.get_parts(metric, return_index=True)  # multi-parts and collections apart
    polygons = shapely.get_type_id(parts) == 3
    parts[polygons] = shapely.boundary(parts[polygons])
    xy, index = shapely.get_coordinates(shapely.segmentize(parts, step_m), return_index=True)
    owner = part_owner[index]
    if len(xy) > max_samples:  # a fixed random subset: the same answer on every run
        keep = np.sort(np.random.default_rng(0).choice(len(xy), max_samples, replace=False))
        xy, owner = xy[keep], owner[keep]
    lon, lat = to_metric.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
    return np.column_stack([lon, lat]), owner


def _other_moves(offset: np.ndarray) -> np.ndarray:
    """Moves that are not ``offset``: every 30 degrees at 0.6, 1 and 1.4 times its length (shape ``(35, 2)``)."""
    moves = []
    for angle in np.deg2rad(np.arange(0, 360, 30)):
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        moves += [scale * (rot @ offset) for scale in _NULL_SCALES if angle or scale != 1.0]
    return np.array(moves)


def _shifted_message(name: str, system: str, given_m: float, converted_m: float, share: float) -> str:
    label = _LABELS[system]
    return (
        f"{name} look shifted like {label} coordinates and were NOT converted: read as {label} their distance to "
        f"the nearest street would drop from {given_m:.0f} m to {converted_m:.0f} m (median), {share:.0%} of them "
        f"fitting the streets better, and no other move of that size fits as well; if they come from that map, run "
        f"again declaring the layer's coordinate system as {system} (--{name}-coord-system {system}, or "
        f"coord_system in the study file)."
    )


def _per_feature(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    sums = np.bincount(owner, weights=values, minlength=n)
    counts = np.bincount(owner, minlength=n)
    return sums[counts > 0] / counts[counts > 0]


def detect_gcj02_shift(
    layer_wgs84_gs: gpd.GeoSeries,
    edge_lines_gs: gpd.GeoSeries,
    *,
    min_points: int = 10,
    setback_m: float = 15.0,
    cap_m: float = 60.0,
    sample_step_m: float = 10.0,
    max_samples: int = 8_000,
    max_ratio: float = 0.65,
    min_gain_m: float = 3.0,
    max_null_ratio: float = 0.7,
    min_share_better: float = 0.55,
    name: str = "points",
) -> ShiftDiagnosis:
    """Check whether a layer labelled WGS84 actually looks GCJ-02 (or BD-09) shifted against the streets.

    See the module docstring for the test. A warning is logged when the layer looks shifted.

    Parameters
    ----------
    layer_wgs84_gs : geopandas.GeoSeries
        Points, lines or polygons with a CRS, believed to be WGS84.
    edge_lines_gs : geopandas.GeoSeries
        Street centrelines (e.g. the walking network's edges) with a CRS; a projected CRS is used as is.
    min_points : int, optional
        Fewer usable features than this gives no verdict.
    setback_m, cap_m : float, optional
        Distances to the nearest street count from ``setback_m`` on (walls, pavements) and up to ``cap_m``.
    sample_step_m, max_samples : optional
        Spacing of the samples along edges, and at most this many samples (a fixed random subset).
    max_ratio, min_gain_m : float, optional
        The conversion must bring the fit to at most ``max_ratio`` of the fit as given, and by ``min_gain_m``.
    max_null_ratio : float, optional
        ... and to at most this share of the median fit of moves in other directions or of other sizes, and
        below the best of them.
    min_share_better : float, optional
        ... and at least this share of the features must fit better.
    name : str, optional
        Layer name for the message.

    Returns
    -------
    ShiftDiagnosis
    """
    if layer_wgs84_gs.crs is None or edge_lines_gs.crs is None:
        raise InputError(f"Shift check of {name} needs a CRS on both the layer and the street lines.")
    nan = float("nan")
    metric = _metric_crs(edge_lines_gs)
    lines = edge_lines_gs.to_crs(metric).to_numpy()
    lines = lines[~(shapely.is_empty(lines) | shapely.is_missing(lines))]
    geoms = layer_wgs84_gs[~(layer_wgs84_gs.is_empty | layer_wgs84_gs.isna())].to_crs("EPSG:4326").to_numpy()
    anchor = shapely.point_on_surface(geoms)
    geoms = geoms[~out_of_china(shapely.get_x(anchor), shapely.get_y(anchor))]
    n = len(geoms)
    if n < min_points or len(lines) == 0:
        msg = f"Shift check of {name} skipped: {n} features inside China (need {min_points}) and {len(lines)} streets."
        return ShiftDiagnosis(n, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan, None, msg)

    to_metric = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    lonlat, owner = _samples(geoms, to_metric, step_m=sample_step_m, max_samples=max_samples)
    tree = shapely.STRtree(lines)

    def distance_m(xy: np.ndarray) -> np.ndarray:
        _, d = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
        return d

    def fit_m(d: np.ndarray) -> np.ndarray:
        return _per_feature(np.clip(d - setback_m, 0.0, cap_m - setback_m), owner, n)

    given = np.column_stack(to_metric.transform(lonlat[:, 0], lonlat[:, 1]))
    d_given = distance_m(given)
    moved = {}
    for system, func in _TO_WGS84.items():
        xy = np.column_stack(to_metric.transform(*func(lonlat[:, 0], lonlat[:, 1])))
        moved[system] = (xy, distance_m(xy))
    fits = {system: fit_m(d) for system, (_, d) in moved.items()}
    best = min(fits, key=lambda s: fits[s].mean())
    offset = np.median(moved[best][0] - given, axis=0)
    fit_given, fit_best = fit_m(d_given), fits[best]
    score_given, score_best = float(fit_given.mean()), float(fit_best.mean())
    changed = fit_best != fit_given
    share = float(np.mean(fit_best[changed] < fit_given[changed])) if changed.any() else 0.0
    better = score_best <= max_ratio * score_given and score_given - score_best >= min_gain_m
    score_null = typical_null = nan
    if better and share >= min_share_better:  # only then: do other moves fit as well?
        null_fits = [fit_m(distance_m(given + move)).mean() for move in _other_moves(offset)]
        score_null, typical_null = float(np.min(null_fits)), float(np.median(null_fits))
    shifted = (
        better and share >= min_share_better and score_best <= max_null_ratio * typical_null and score_best < score_null
    )
    med_given, med_best = float(np.median(d_given)), float(np.median(moved[best][1]))
    if shifted:
        msg = _shifted_message(name, best, med_given, med_best, share)
        logger.warning(msg)
    else:
        msg = (
            f"{name} do not look shifted: beyond a {setback_m:.0f} m set-back they lie {score_given:.1f} m from the "
            f"streets as given, {score_best:.1f} m if converted from {_LABELS[best]}."
        )
        logger.info(msg)
    return ShiftDiagnosis(
        n_points=n,
        n_samples=len(lonlat),
        median_given_m=med_given,
        median_if_gcj02_m=float(np.median(moved["gcj02"][1])),
        median_if_bd09_m=float(np.median(moved["bd09"][1])),
        fit_given_m=score_given,
        fit_if_gcj02_m=float(fits["gcj02"].mean()),
        fit_if_bd09_m=float(fits["bd09"].mean()),
        null_fit_m=score_null,
        typical_move_fit_m=typical_null,
        share_closer=share,
        suspected=best if shifted else None,
        message=msg,
    )
