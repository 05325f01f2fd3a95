"""Test data for the maps tests: real OSM geometries (when the shared extracts exist) and synthetic
districts, with a coverage table in the core's contract computed by straight-line distance times a
detour factor (the maps code only renders the table; it does not care how it was computed)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

# ../shared/data beside the repo (the contract); in a nested git worktree, the nearest ancestor's
SHARED = next(
    (p / "shared" / "data" for p in Path(__file__).resolve().parents[1].parents if (p / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
)
OSM_BEIJING = SHARED / "osm" / "beijing_haidian_cau_xueyuanlu.osm.bz2"
DETOUR = 1.3
XSS_NAME = "<img src=x onerror=alert(1)>"
SCRIPT_NAME = "</script><script>alert(2)</script>"

AMENITY_CATEGORY = {
    "kindergarten": "kindergarten",
    "school": "school",
    "clinic": "clinic",
    "hospital": "clinic",
    "doctors": "clinic",
    "pharmacy": "pharmacy",
    "marketplace": "market",
}
SHOP_CATEGORY = {"convenience": "grocery", "supermarket": "grocery", "greengrocer": "grocery"}


def approx_coverage_table(compounds, services, *, minutes=10.0, speed_kmh=4.5):
    """Long coverage table (compound_id, category, walk_m, walk_min, nearest_service_id,
    services_within, covered, reach) from straight-line distance x DETOUR."""
    crs = compounds.estimate_utm_crs()
    cg = compounds.geometry.to_crs(crs).to_numpy()
    sg = services.geometry.to_crs(crs).to_numpy()
    d = shapely.distance(cg[:, None], sg[None, :]) * DETOUR  # (n_comp, n_svc)
    limit_m = minutes * speed_kmh * 1000 / 60
    frames = []
    cats = services["category"].to_numpy()
    for cat in ["all", *sorted(set(cats))]:
        cols = np.ones(len(sg), bool) if cat == "all" else cats == cat
        dc = d[:, cols]
        k = dc.argmin(axis=1)
        walk = dc[np.arange(len(cg)), k]
        frames.append(
            pd.DataFrame(
                {
                    "compound_id": compounds.index.astype(str),
                    "category": cat,
                    "walk_m": walk,
                    "walk_min": walk / (speed_kmh * 1000 / 60),
                    "nearest_service_id": services.index.to_numpy()[cols][k],
                    "services_within": (dc <= limit_m).sum(axis=1),
                    "covered": walk <= limit_m,
                    "reach": "ok",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def synthetic_district(n_compounds=60, n_services=24, *, seed=0, vertices=24, names=None):
    """Compounds (irregular polygons) and services (3 categories) near Beijing, in UTM 50N."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_compounds)))
    ij = np.stack(np.divmod(np.arange(n_compounds), side), axis=1).astype(float)
    centers = np.array([443000.0, 4427000.0]) + ij * 180.0 + rng.normal(0, 15, (n_compounds, 2))
    ang = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    radii = rng.uniform(45, 75, (n_compounds, vertices))
    ring = np.stack([np.cos(ang) * radii, np.sin(ang) * radii], axis=2) + centers[:, None, :]
    polys = shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))
    if names is None:
        names = [f"小区{i:04d}" for i in range(n_compounds)]
    comp = gpd.GeoDataFrame(
        {
            "name": names,
            "households": rng.integers(100, 2000, n_compounds),
            "population": rng.integers(300, 5000, n_compounds),
        },
        geometry=polys,
        crs="EPSG:32650",
        index=pd.Index([f"c{i:05d}" for i in range(n_compounds)], name="compound_id"),
    )
    lo, hi = centers.min(axis=0) - 100, centers.max(axis=0) + 100
    pts = rng.uniform(lo, hi, (n_services, 2))
    cats = np.array(["clinic", "grocery", "kindergarten"])[np.arange(n_services) % 3]
    svc = gpd.GeoDataFrame(
        {"name": [f"服务点{i}" for i in range(n_services)], "category": cats},
        geometry=shapely.points(pts),
        crs="EPSG:32650",
        index=pd.Index([f"s{i:04d}" for i in range(n_services)], name="service_id"),
    )
    return comp, svc


def with_status(compounds, table, *, seed=1):
    """Add has_branch (random) and status as planning defines it."""
    rng = np.random.default_rng(seed)
    out = compounds.copy()
    out["has_branch"] = rng.random(len(out)) < 0.7
    cov = table[table["category"] == "all"].set_index("compound_id")["covered"].reindex(out.index.astype(str))
    c = cov.fillna(False).to_numpy(bool)
    b = out["has_branch"].to_numpy(bool)
    out["status"] = np.select([c & b, ~c & b, c & ~b], ["covered", "no_service", "no_branch"], "neither")
    return out


def osm_beijing():
    """Named residential polygons and categorised amenity/shop nodes from the shared Beijing extract
    (EPSG:4326, Chinese names). Returns None when the extract is absent."""
    if not OSM_BEIJING.is_file():
        return None
    import osmium
    from osmium.geom import WKBFactory

    wkb = WKBFactory()
    comp_rows, svc_rows = [], []
    fp = (
        osmium.FileProcessor(str(OSM_BEIJING))
        .with_areas()
        .with_filter(osmium.filter.KeyFilter("landuse", "amenity", "shop"))
    )
    for o in fp:
        if o.is_area() and o.tags.get("landuse") == "residential":
            comp_rows.append((f"a{o.id}", o.tags.get("name"), shapely.from_wkb(wkb.create_multipolygon(o))))
        elif o.is_node():
            cat = AMENITY_CATEGORY.get(o.tags.get("amenity", "")) or SHOP_CATEGORY.get(o.tags.get("shop", ""))
            if cat:
                svc_rows.append((f"n{o.id}", o.tags.get("name") or "", cat, shapely.Point(o.lon, o.lat)))
    comp = gpd.GeoDataFrame(
        pd.DataFrame(comp_rows, columns=["compound_id", "name", "geometry"]).set_index("compound_id"),
        geometry="geometry",
        crs="EPSG:4326",
    )
    svc = gpd.GeoDataFrame(
        pd.DataFrame(svc_rows, columns=["service_id", "name", "category", "geometry"]).set_index("service_id"),
        geometry="geometry",
        crs="EPSG:4326",
    )
    comp["households"] = (comp.to_crs(comp.estimate_utm_crs()).area / 60).round().astype(int)
    comp["population"] = (comp["households"] * 2.6).round().astype(int)
    return comp, svc
