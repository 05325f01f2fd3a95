"""Names for new sites that people can find: the streets they stand on (中山路与汉中路交叉口附近).

A street candidate takes the name of the nearest named street within :data:`ON_STREET_M`; when another
street with a different name passes within :data:`CORNER_M`, the site is named after the crossing. Sites on
unnamed streets keep their numbered name; names that repeat get a number.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["CORNER_M", "ON_STREET_M", "street_site_names"]

ON_STREET_M = 30.0
"""A site stands on a street this close to it."""
CORNER_M = 40.0
"""A second street this close makes the site a corner."""
_CJK = re.compile(r"[\u3400-\u9fff]")


def _metric(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    return gdf.to_crs(crs) if gdf.crs is not None and crs is not None and gdf.crs != crs else gdf


def _words(a: str, b: str | None) -> str:
    chinese = bool(_CJK.search(a + (b or "")))
    if b is None:
        return f"{a}附近" if chinese else f"near {a}"
    return f"{a}与{b}交叉口附近" if chinese else f"near {a} and {b}"


def street_site_names(sites: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> pd.Series:
    """A name for each site after the streets it stands on; sites near no named street keep ``sites["name"]``.

    Parameters
    ----------
    sites
        Candidate points with a ``name`` column (their numbered names).
    streets
        Street lines with a ``name`` column (:func:`lifecircle.maps.streets.street_edges`).

    Returns
    -------
    pandas.Series
        Names, indexed like ``sites``; Chinese words when the street names are Chinese.
    """
    fallback = sites["name"].astype(object) if "name" in sites.columns else pd.Series(sites.index, index=sites.index)
    names = streets["name"] if "name" in streets.columns else pd.Series(dtype=object)
    named = streets[names.notna() & (names.astype(str).str.strip() != "")]
    if named.empty or sites.empty:
        return fallback.copy()
    crs = sites.crs if sites.crs is None or sites.crs.is_projected else sites.estimate_utm_crs()
    pts = _metric(sites, crs).geometry.to_numpy()
    lines = _metric(named, crs)
    geoms, labels = lines.geometry.to_numpy(), lines["name"].astype(str).str.strip().to_numpy()
    site_pos, line_pos = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=CORNER_M)
    if len(site_pos) == 0:
        return fallback.copy()
    pairs = pd.DataFrame(
        {"site": site_pos, "name": labels[line_pos], "d": shapely.distance(pts[site_pos], geoms[line_pos])}
    ).sort_values(["site", "d"], kind="stable")
    nearest = pairs.drop_duplicates("site").set_index("site")
    nearest = nearest[nearest["d"] <= ON_STREET_M]
    other = pairs[pairs["site"].isin(nearest.index)]
    other = other[other["name"].to_numpy() != nearest.loc[other["site"], "name"].to_numpy()]
    second = other.drop_duplicates("site").set_index("site")["name"]
    out = fallback.copy()
    out.iloc[nearest.index.to_numpy()] = [_words(a, second.get(i)) for i, a in nearest["name"].items()]
    on_street = np.zeros(len(out), dtype=bool)
    on_street[nearest.index.to_numpy()] = True
    return _numbered(out, on_street)


def _numbered(names: pd.Series, on_street: np.ndarray) -> pd.Series:
    """Street names that repeat get a number in order (中山路附近 1, 中山路附近 2...); numbered names stay."""
    out = names.astype(object).copy()
    street = out[on_street].astype(str)
    repeated = (street.map(street.value_counts()) > 1).to_numpy()
    rank = street.groupby(street).cumcount() + 1
    out.loc[street.index[repeated]] = (street[repeated] + " " + rank[repeated].astype(str)).to_numpy()
    return out
