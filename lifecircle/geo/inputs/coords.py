"""Longitude/latitude columns of ledgers: find them by name, check their values, catch swapped columns.

Ledgers name their coordinate columns in many ways: ``lon``/``lng``/``longitude``/``x``,
``经度``, ``经度(GCJ02)``, ``高德经度``, ``gcj_lng``, ``LNG_WGS84``... :func:`detect_lonlat_columns` finds the
pair (exact names first, then qualified names, then ``x``/``y``) and refuses to guess between equally good
candidates.
:func:`check_lonlat` checks the values: in China longitudes are 73–135 and latitudes 18–54, so columns holding
the other range are swapped; anywhere |lat| <= 90. :func:`coord_system_hint` reads a coordinate system from a
column name (``经度(GCJ02)`` -> ``gcj02``), and :func:`points_from_table` does it all and builds points.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Hashable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.errors import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "LonLatCheck",
    "check_lonlat",
    "coord_system_hint",
    "detect_lonlat_columns",
    "points_from_table",
]

_LON = ("lon", "lng", "long", "longitude", "经度", "东经")
_LAT = ("lat", "latitude", "纬度", "北纬")
_QUALIFIERS = (
    "gcj02", "gcj", "wgs84", "wgs", "bd09", "bd", "baidu", "amap", "gaode", "tencent", "mars", "cgcs2000",
    "gps", "高德", "百度", "腾讯", "火星", "point", "pt", "poi", "coord", "坐标", "所在", "中心", "center",
    "centre", "x", "y", "deg", "degree", "度",
)  # fmt: skip
_HINTS = (
    ("bd09", ("bd09", "bd", "baidu", "百度")),
    ("gcj02", ("gcj02", "gcj", "amap", "gaode", "tencent", "mars", "高德", "腾讯", "火星")),
    ("cgcs2000", ("cgcs2000", "cgcs", "国家2000", "2000")),
    ("wgs84", ("wgs84", "wgs", "gps")),
)

# China (mainland, Hong Kong, Macao, Taiwan) in degrees, generous
_CN_LON = (73.0, 135.0)
_CN_LAT = (18.0, 54.0)


def _normalise(name: object) -> tuple[str, str]:
    """(base, qualifier text) of a column name: NFKC, lower-case, bracketed parts split off."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    qual = " ".join(re.findall(r"[\(\[【]([^\)\]】]*)[\)\]】]", text))
    base = re.sub(r"[\(\[【][^\)\]】]*[\)\]】]", " ", text).strip()
    return base, qual


def _tokens(base: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z\u4e00-\u9fff]+", base) if t]


def _token_is(token: str, names: tuple[str, ...]) -> bool:
    if token in names:
        return True
    for n in names:
        if token.startswith(n) and token[len(n) :] in _QUALIFIERS:
            return True
        if token.endswith(n) and token[: -len(n)] in _QUALIFIERS:
            return True
    return False


def _rank(name: object, names: tuple[str, ...], axis: str) -> int | None:
    """1 exact name, 2 qualified name, 3 plain x/y; None when the column is not a candidate."""
    base, _ = _normalise(name)
    if "经纬" in base:  # a combined "经纬度" column ("101.7,26.5") is neither
        return None
    compact = base.replace("坐标", "").strip(" _-")
    if compact in names:
        return 1
    toks = _tokens(compact)
    if any(_token_is(t, names) for t in toks) or any(n in compact for n in names if not n.isascii()):
        if not any(_token_is(t, _LAT if names is _LON else _LON) for t in toks):
            return 2
    if compact == axis or (toks and toks[-1] == axis and all(t in _QUALIFIERS for t in toks[:-1])):
        return 3
    if compact in (f"point{axis}", f"{axis}coord", f"{axis}_coord"):
        return 3
    return None


def _best(columns: list[Hashable], names: tuple[str, ...], axis: str) -> tuple[list[Hashable], int | None]:
    ranked = [(r, c) for c in columns if (r := _rank(c, names, axis)) is not None]
    if not ranked:
        return [], None
    top = min(r for r, _ in ranked)
    return [c for r, c in ranked if r == top], top


def detect_lonlat_columns(
    df: pd.DataFrame,
    *,
    lon_column: Hashable | None = None,
    lat_column: Hashable | None = None,
    source: str = "table",
) -> tuple[Hashable, Hashable]:
    """Find the longitude and latitude columns of a table.

    Parameters
    ----------
    df : pandas.DataFrame
        The ledger.
    lon_column, lat_column : optional
        Given names are checked to exist and used as they are.
    source : str, optional
        File or layer name for messages.

    Returns
    -------
    (lon_column, lat_column)

    Raises
    ------
    InputError
        A given column is missing, no candidate is found, or several candidates are equally good.
    """
    columns = list(df.columns)
    for given, what in ((lon_column, "lon_column"), (lat_column, "lat_column")):
        if given is not None and given not in columns:
            raise InputError(
                f"{source} has no column {given!r} ({what}); its columns are {', '.join(map(str, columns))}."
            )
    found = []
    for given, names, axis, word in (
        (lon_column, _LON, "x", "longitude"),
        (lat_column, _LAT, "y", "latitude"),
    ):
        if given is not None:
            found.append(given)
            continue
        cands, _ = _best([c for c in columns if c not in (lon_column, lat_column)], names, axis)
        if not cands:
            raise InputError(
                f"Cannot find a {word} column in {source} (columns: {', '.join(map(str, columns))}); name it "
                f"{'lon/lng/经度' if axis == 'x' else 'lat/纬度'} or set {word[:3]}_column."
            )
        if len(cands) > 1:
            raise InputError(
                f"{source} has several {word} columns ({', '.join(map(repr, cands))}); "
                f"choose one with {word[:3]}_column."
            )
        found.append(cands[0])
    if found[0] == found[1]:
        raise InputError(f"{source}: the same column {found[0]!r} was taken for longitude and latitude.")
    logger.debug("%s: longitude column %r, latitude column %r", source, found[0], found[1])
    return found[0], found[1]


def coord_system_hint(column: Hashable) -> str | None:
    """Coordinate system named in a column name, e.g. ``经度(GCJ02)`` -> ``gcj02``, ``bd_lng`` -> ``bd09``.

    Parameters
    ----------
    column : hashable
        A column name.

    Returns
    -------
    str or None
        ``gcj02``, ``bd09``, ``wgs84``, ``cgcs2000`` or None when the name says nothing.
    """
    base, qual = _normalise(column)
    words = set(_tokens(base) + _tokens(qual))
    text = base + " " + qual
    for system, keys in _HINTS:
        for k in keys:
            if k in words or (not k.isascii() and k in text):
                return system
            if k.isascii() and len(k) > 2 and any(w.startswith(k) or w.endswith(k) for w in words):
                return system
            if k == "bd" and any(w in ("bdlng", "bdlon", "bdlat", "lngbd", "latbd") for w in words):
                return system
    return None


@dataclass(frozen=True)
class LonLatCheck:
    """What :func:`check_lonlat` found in a pair of coordinate columns.

    Attributes
    ----------
    lon_column, lat_column : hashable
        The columns as given.
    n_rows, n_missing : int
        Rows, and rows where either coordinate is missing.
    swapped : bool
        The columns as a whole hold latitudes and longitudes the other way round.
    share_in_china : float
        Share of complete rows inside China (lon 73–135, lat 18–54), after swapping if ``swapped``.
    swapped_rows : tuple
        Index labels of single rows that look swapped (after swapping the columns if ``swapped``).
    outside_china_rows : tuple
        Index labels of rows outside China when most rows are inside (typos such as 10.17 for 101.7).
    message : str
        One sentence for logs and reports ("" when all is well).
    """

    lon_column: Hashable
    lat_column: Hashable
    n_rows: int
    n_missing: int
    swapped: bool
    share_in_china: float
    swapped_rows: tuple
    outside_china_rows: tuple
    message: str


def _numeric(df: pd.DataFrame, col: Hashable, source: str) -> np.ndarray:
    raw = df[col]
    cleaned = raw.astype(str).str.strip().str.rstrip("°") if raw.dtype == object else raw
    values = pd.to_numeric(cleaned, errors="coerce")
    bad = values.isna() & raw.notna() & raw.astype(str).str.strip().ne("")
    if bad.any():
        labels = list(raw.index[bad][:3])
        examples = ", ".join(f"row {lab!r}: {raw.loc[lab]!r}" for lab in labels)
        raise InputError(
            f"Column {col!r} of {source} has {int(bad.sum())} value(s) that are not decimal degrees ({examples})."
        )
    return values.to_numpy(dtype=float)


def _in_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _CN_LON[0]) & (lon <= _CN_LON[1]) & (lat >= _CN_LAT[0]) & (lat <= _CN_LAT[1])


def _span(v: np.ndarray) -> str:
    return f"{np.nanmin(v):.6g}…{np.nanmax(v):.6g}"


def _rows(labels) -> str:
    labels = list(labels)
    shown = ", ".join(map(str, labels[:5]))
    return shown + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")


def check_lonlat(
    df: pd.DataFrame,
    lon_column: Hashable,
    lat_column: Hashable,
    *,
    source: str = "table",
    on_swap: str = "raise",
) -> LonLatCheck:
    """Check that two columns hold longitudes and latitudes in degrees, the right way round.

    Parameters
    ----------
    df : pandas.DataFrame
        The ledger (not modified).
    lon_column, lat_column : hashable
        The columns believed to hold longitude and latitude.
    source : str, optional
        File or layer name for messages.
    on_swap : {"raise", "warn"}, optional
        What to do when the columns (or single rows) look swapped: raise :class:`InputError`, or log a
        warning and return a result with ``swapped=True`` / ``swapped_rows`` (the caller then swaps them).

    Returns
    -------
    LonLatCheck

    Raises
    ------
    InputError
        Non-numeric values, no complete row, values out of degree range (e.g. projected metres), or swapped
        columns with ``on_swap="raise"``.
    """
    if on_swap not in ("raise", "warn"):
        raise ValueError(f"on_swap must be 'raise' or 'warn', got {on_swap!r}")
    lon = _numeric(df, lon_column, source)
    lat = _numeric(df, lat_column, source)
    ok = np.isfinite(lon) & np.isfinite(lat)
    n_rows, n_missing = len(df), int((~ok).sum())
    if not ok.any():
        raise InputError(f"{source} has no row with both {lon_column!r} and {lat_column!r} filled.")
    lo, la, idx = lon[ok], lat[ok], df.index[ok]
    names = f"{lon_column!r} and {lat_column!r}"

    in_cn = _in_box(lo, la)
    sw_cn = _in_box(la, lo)
    world_swapped = (np.abs(la) > 90) & (np.abs(la) <= 180) & (np.abs(lo) <= 90)
    swapped = bool(
        (sw_cn.mean() >= 0.5 and sw_cn.sum() > in_cn.sum()) or (world_swapped.mean() >= 0.5 and not in_cn.any())
    )
    messages = []
    if swapped:
        msg = (
            f"Columns {names} of {source} look swapped: {lon_column!r} holds {_span(lo)} (latitudes) and "
            f"{lat_column!r} holds {_span(la)} (longitudes); name them the other way round "
            f"(--lon-column {lat_column} --lat-column {lon_column}, or lon_column/lat_column in a study file), "
            "or pass --fix-swapped."
        )
        if on_swap == "raise":
            raise InputError(msg)
        logger.warning(msg)
        messages.append(msg)
        lo, la = la, lo
        in_cn, sw_cn = sw_cn, in_cn
        world_swapped = (np.abs(la) > 90) & (np.abs(la) <= 180) & (np.abs(lo) <= 90)
    if in_cn.mean() >= 0.5:
        row_swapped = sw_cn & ~in_cn
        row_outside = ~in_cn & ~sw_cn
    else:
        row_swapped = world_swapped
        row_outside = np.zeros(len(lo), dtype=bool)
    world_bad = ((np.abs(la) > 90) | (np.abs(lo) > 180)) & ~row_swapped
    if world_bad.mean() > 0.5:
        raise InputError(
            f"Columns {names} of {source} are not degrees ({lon_column!r} {_span(lo)}, {lat_column!r} "
            f"{_span(la)}): projected coordinates in metres must be read as a layer with its CRS."
        )
    if world_bad.any():
        raise InputError(
            f"{source} has coordinates out of range (|lat| > 90 or |lon| > 180) in rows {_rows(idx[world_bad])}."
        )
    swapped_rows = tuple(idx[row_swapped])
    outside = tuple(idx[row_outside & ~world_bad])
    if swapped_rows:
        msg = f"{source}: rows {_rows(swapped_rows)} have longitude and latitude the wrong way round."
        if on_swap == "raise":
            raise InputError(msg)
        logger.warning(msg)
        messages.append(msg)
    if outside:
        msg = f"{source}: rows {_rows(outside)} lie outside China unlike the other rows."
        logger.warning(msg)
        messages.append(msg)
    if n_missing:
        logger.info("%s: %d row(s) without coordinates", source, n_missing)
    return LonLatCheck(
        lon_column=lon_column,
        lat_column=lat_column,
        n_rows=n_rows,
        n_missing=n_missing,
        swapped=swapped,
        share_in_china=float(in_cn.mean()),
        swapped_rows=swapped_rows,
        outside_china_rows=outside,
        message=" ".join(messages),
    )


def points_from_table(
    df: pd.DataFrame,
    *,
    lon_column: Hashable | None = None,
    lat_column: Hashable | None = None,
    source: str = "table",
    on_swap: str = "raise",
    missing: str = "raise",
) -> gpd.GeoDataFrame:
    """Build WGS84-labelled points (EPSG:4326) from a ledger's coordinate columns.

    The coordinates are used as they are: GCJ-02/BD-09 ledgers are converted afterwards with
    :func:`lifecircle.geo.inputs.chinese_crs.to_wgs84` (:func:`coord_system_hint` may tell which).

    Parameters
    ----------
    df : pandas.DataFrame
        The ledger (not modified); its index and all columns are kept.
    lon_column, lat_column : optional
        Coordinate columns; detected with :func:`detect_lonlat_columns` when omitted.
    source : str, optional
        File or layer name for messages.
    on_swap : {"raise", "fix"}, optional
        Swapped columns or rows raise :class:`InputError`, or are swapped back with a warning.
    missing : {"raise", "drop"}, optional
        Rows without coordinates raise :class:`InputError` naming them, or are dropped with a warning.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    if on_swap not in ("raise", "fix"):
        raise ValueError(f"on_swap must be 'raise' or 'fix', got {on_swap!r}")
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    lon_col, lat_col = detect_lonlat_columns(df, lon_column=lon_column, lat_column=lat_column, source=source)
    check = check_lonlat(df, lon_col, lat_col, source=source, on_swap="raise" if on_swap == "raise" else "warn")
    if check.swapped:
        lon_col, lat_col = lat_col, lon_col
    lon = _numeric(df, lon_col, source)
    lat = _numeric(df, lat_col, source)
    if check.swapped_rows:
        flip = df.index.isin(list(check.swapped_rows))
        lon, lat = np.where(flip, lat, lon), np.where(flip, lon, lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = df.copy()
    if not ok.all():
        if missing == "raise":
            raise InputError(
                f"{source} has {int((~ok).sum())} row(s) without coordinates (rows {_rows(df.index[~ok])})."
            )
        logger.warning("%s: dropping %d row(s) without coordinates", source, int((~ok).sum()))
        out, lon, lat = out[ok], lon[ok], lat[ok]
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
