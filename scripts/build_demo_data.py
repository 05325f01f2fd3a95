"""Build the Chinese demo's office inputs from the shipped Beijing Haidian Xueyuan Road OpenStreetMap extract.

Run from the repository root (the outputs are committed; rerun only when the recipe changes)::

    .venv/bin/python scripts/build_demo_data.py

It reads ``lifecircle/data/beijing_haidian_cau_xueyuanlu.osm.bz2`` (© OpenStreetMap contributors, ODbL) and writes
into ``lifecircle/data/demo_xueyuan/`` the three files a street office (街道办) holds:

- ``xiaoqu.shp`` (+ .shx/.dbf/.prj, no .cpg): compounds (小区) as a GBK-encoded shapefile with 编号, 名称, 户数
  (estimated), 街道, 社区;
- ``fuwu_taizhang.xlsx``: the service ledger (服务设施台账) with a title row above the header, 高德经度/高德纬度 in
  GCJ-02, office categories and 营业时间 where OSM has ``opening_hours`` (as ledgers write them);
- ``zhibu_mingdan.xlsx``: the party-branch list (党支部名单) by compound name (支部名称, 所在小区).

The recipe (what every column means and which parts are estimates or illustrations) is in
``lifecircle/data/README.md``; keep the two in step.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from osmium.geom import WKBFactory

from lifecircle.geo.inputs.chinese_crs import wgs84_to_gcj02

ROOT = Path(__file__).resolve().parents[1]
EXTRACT = ROOT / "lifecircle" / "data" / "beijing_haidian_cau_xueyuanlu.osm.bz2"
OUT = ROOT / "lifecircle" / "data" / "demo_xueyuan"
METRIC_CRS = "EPSG:32650"  # UTM 50N: Beijing

STREET = "学院路街道"
# 社区: the nearest of these named roads (an illustrative grouping, not official community boundaries)
COMMUNITY_ROADS = ("清华东路", "学清路", "双泉堡西路")

# households: residential floor area / M2_PER_HOUSEHOLD; floor area = footprint × building:levels, else the default
RESIDENTIAL_BUILDINGS = {"yes", "residential", "apartments", "house", "dormitory"}
DEFAULT_LEVELS = {"house": 3.0}
DEFAULT_LEVELS_OTHER = 6.0
M2_PER_HOUSEHOLD = 90.0
MIN_SHARE_INSIDE = 0.5  # a building belongs to a compound when at least half its footprint lies inside

# office categories from OSM tags, first match wins; a name containing 服务中心 (but not 卫生) is a 社区服务中心
CATEGORIES: dict[str, dict[str, set[str]]] = {
    "医疗卫生": {
        "amenity": {"hospital", "clinic", "doctors", "pharmacy", "dentist"},
        "healthcare": {"hospital", "clinic", "doctor", "pharmacy", "dentist", "centre"},
    },
    "托育/幼儿园": {"amenity": {"kindergarten", "childcare"}},
    "养老服务": {"amenity": {"nursing_home"}, "social_facility": {"nursing_home", "assisted_living", "group_home"}},
    "社区服务中心": {"amenity": {"community_centre", "townhall", "social_facility"}, "office": {"government"}},
    "便民服务点": {
        "shop": {"convenience", "supermarket", "greengrocer", "bakery", "laundry", "dry_cleaning", "hairdresser"},
        "amenity": {"post_office", "marketplace"},
    },
}
SERVICE_CENTRE_WORD = "服务中心"
WEEKDAYS_ZH = {"Mo": "一", "Tu": "二", "We": "三", "Th": "四", "Fr": "五", "Sa": "六", "Su": "日"}
KIND_ZH = {
    "convenience": "便利店",
    "supermarket": "超市",
    "greengrocer": "菜店",
    "bakery": "面包店",
    "laundry": "洗衣店",
    "dry_cleaning": "干洗店",
    "hairdresser": "理发店",
    "pharmacy": "药店",
    "marketplace": "市场",
    "post_office": "快递驿站",
    "kindergarten": "幼儿园",
}

# 营业时间 and 建筑面积 (m²) where OSM has none: typical of the kind of place in Beijing, illustrative (the README says
# so). Each kind lists ledger forms used in turn, so the ledger holds the forms offices write (8:00-20:00, 每天,
# 周一至周五, 工作日, 24小时, 全天, two rules with ；). One text is left as offices sometimes leave it, not a time
# (以门店公告为准): lifecircle names it and counts that service as "hours unknown".
HOURS_BY_NAME = {
    "中国农业大学东区社区卫生服务中心": "周一至周五 08:00-17:00；周六 08:00-12:00",
    "北京京城皮肤病医院": "每天 08:00-17:30",
    "精益口腔": "周二至周日 09:00-18:00",
    "同仁堂": "每天 08:30-20:30",
    "学院路社会服务中心": "工作日 9:00-17:00",
    "物美": "每天 07:30-22:00",
    "全时": "24小时",
    "all day 24小时便利店": "24小时",
    "近邻宝": "全天",
    "味多美": "7:00-22:00",
    "好利来": "8:00-22:00",
}
HOURS_BY_KIND = {
    "convenience": ("7:00-23:00", "24小时", "每天 06:30-22:30", "8:00-22:00"),
    "pharmacy": ("8:00-22:00",),
    "kindergarten": ("周一至周五 07:30-17:30",),
    "bakery": ("8:00-21:00",),
    "hairdresser": ("9:30-21:30", "10:00-22:00", "以门店公告为准"),
    "marketplace": ("周一至周日 06:00-19:00",),
    "laundry": ("周一至周六 9:00-19:00",),
    "greengrocer": ("6:30-20:00",),
    "supermarket": ("每天 08:00-21:00",),
}
AREA_BY_NAME = {
    "中国农业大学东区社区卫生服务中心": 1200,
    "北京京城皮肤病医院": 2500,
    "物美": 1500,
    "学院路社会服务中心": 800,
}
AREA_BY_KIND = {
    "convenience": 80, "pharmacy": 100, "dentist": 150, "kindergarten": 1800, "bakery": 60, "hairdresser": 40,
    "marketplace": 400, "laundry": 30, "greengrocer": 60, "supermarket": 300, "post_office": 20,
}  # fmt: skip

# the branch list: one branch per named compound except these (so the demo shows compounds without a branch), a
# near-variant spelling for two (full-width digits, a 小区 suffix: matched by name normalisation), and one branch
# that sits in no compound of the layer (the street office's own; listed as unmatched, never dropped)
NO_BRANCH = ("大华花园别墅", "学士居")
VARIANT_SPELLING = {"清华东路27号院": "清华东路２７号院", "静淑苑": "静淑苑小区"}
UNMATCHED_BRANCH = ("学院路街道机关第一党支部", "街道办事处机关")


def _tags(obj) -> dict[str, str]:
    return {tag.k: tag.v for tag in obj.tags}


def read_extract(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Residential areas, buildings and tagged features (points; areas as a point inside) of the extract, WGS84."""
    wkb = WKBFactory()
    residential, buildings, features = [], [], []
    keys = ("landuse", "building", "amenity", "shop", "healthcare", "office", "social_facility", "highway")
    processor = osmium.FileProcessor(str(path)).with_areas().with_locations()
    for obj in processor.with_filter(osmium.filter.KeyFilter(*keys)):
        tags = _tags(obj)
        if obj.is_area():
            osm_id = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
            try:
                geom = shapely.from_wkb(wkb.create_multipolygon(obj))
            except RuntimeError:  # an area clipped at the extract's edge
                continue
            if tags.get("landuse") == "residential":
                residential.append({"osm_id": osm_id, "name": tags.get("name"), "geometry": geom})
            if "building" in tags:
                buildings.append(
                    {
                        "osm_id": osm_id,
                        "building": tags["building"],
                        "levels": pd.to_numeric(tags.get("building:levels"), errors="coerce"),
                        "geometry": geom,
                    }
                )
            features.append({"osm_id": osm_id, "tags": tags, "geometry": geom.representative_point()})
        elif obj.is_node():
            geom = shapely.Point(obj.location.lon, obj.location.lat)
            features.append({"osm_id": f"n{obj.id}", "tags": tags, "geometry": geom})
        elif obj.is_way() and "highway" in tags and tags.get("name"):
            try:
                line = shapely.from_wkb(wkb.create_linestring(obj))
            except RuntimeError:  # nodes outside the extract
                continue
            features.append({"osm_id": f"w{obj.id}", "tags": tags, "geometry": line})
    crs = "EPSG:4326"
    return (
        gpd.GeoDataFrame(residential, crs=crs),
        gpd.GeoDataFrame(buildings, crs=crs),
        gpd.GeoDataFrame(features, crs=crs),
    )


def estimate_households(compounds_m: gpd.GeoSeries, buildings_m: gpd.GeoDataFrame) -> np.ndarray:
    """Households per compound: residential floor area of its buildings / ``M2_PER_HOUSEHOLD`` (an estimate)."""
    homes = buildings_m[buildings_m["building"].isin(RESIDENTIAL_BUILDINGS)]
    default = homes["building"].map(DEFAULT_LEVELS).fillna(DEFAULT_LEVELS_OTHER)
    floor_m2 = homes.geometry.area * homes["levels"].fillna(default)
    out = np.zeros(len(compounds_m))
    for i, geom in enumerate(compounds_m):
        inside = homes.geometry.intersection(geom).area >= MIN_SHARE_INSIDE * homes.geometry.area
        out[i] = floor_m2[inside].sum()
    return np.maximum(1, np.round(out / M2_PER_HOUSEHOLD)).astype(int)


def build_compounds(residential: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, roads: gpd.GeoDataFrame):
    """The compound layer: 编号, 名称, 户数 (estimated), 街道, 社区 (illustrative), OSM id; WGS84."""
    res_m = residential.to_crs(METRIC_CRS).reset_index(drop=True)
    roads_m = roads.to_crs(METRIC_CRS)
    centres = res_m.geometry.centroid
    names = []
    for name, centre in zip(res_m["name"], centres, strict=True):
        if isinstance(name, str) and name:
            names.append(name)
        else:  # the extract's one unnamed residential area is named after its nearest street
            nearest = roads_m.iloc[int(np.argmin(roads_m.distance(centre).to_numpy()))]
            names.append(f"未命名小区（近{nearest['name']}）")
    community_dist = np.column_stack(
        [[roads_m[roads_m["name"] == road].distance(c).min() for c in centres] for road in COMMUNITY_ROADS]
    )
    communities = [f"{COMMUNITY_ROADS[k]}社区" for k in community_dist.argmin(axis=1)]
    out = gpd.GeoDataFrame(
        {
            "编号": [f"XQ{i + 1:02d}" for i in range(len(res_m))],
            "名称": names,
            "户数": estimate_households(res_m.geometry, buildings.to_crs(METRIC_CRS)),
            "街道": STREET,
            "社区": communities,
            "OSM": res_m["osm_id"],
        },
        geometry=residential.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    return out.sort_values("编号").reset_index(drop=True)


def _category(tags: dict[str, str]) -> str | None:
    for category, rules in CATEGORIES.items():
        for key, values in rules.items():
            if values.intersection(v.strip() for v in tags.get(key, "").split(";")):
                return category
    if SERVICE_CENTRE_WORD in tags.get("name", "") and "卫生" not in tags.get("name", ""):
        return "社区服务中心"
    return None


def hours_as_ledger(text: str) -> str:
    """OSM ``opening_hours`` as a ledger writes it (``Mo-Sa 08:00-18:00`` -> ``周一至周六 08:00-18:00``).

    Only a day range with times, times alone and ``24/7`` are rewritten; any other value is kept verbatim.
    """
    text = text.strip()
    if text == "24/7":
        return "24小时"
    match = re.fullmatch(r"(?:(Mo|Tu|We|Th|Fr|Sa|Su)-(Mo|Tu|We|Th|Fr|Sa|Su) )?(\d\d:\d\d-\d\d:\d\d)", text)
    if match is None:
        return text
    first, last, times = match.groups()
    if first is None or (first, last) == ("Mo", "Su"):
        return f"每天 {times}"
    return f"周{WEEKDAYS_ZH[first]}至周{WEEKDAYS_ZH[last]} {times}"


def _osm_kind(tags: dict[str, str]) -> str | None:
    """The first shop/amenity value of a place (its kind), e.g. ``convenience`` of ``convenience;hairdresser``."""
    for key in ("shop", "amenity"):
        if tags.get(key):
            return tags[key].split(";")[0].strip()
    return None


def ledger_hours(tags: dict[str, str], turn: dict[str, int]) -> str:
    """营业时间: OSM's ``opening_hours`` as a ledger writes it, else the form of the place's name or kind (in turn)."""
    if tags.get("opening_hours"):
        return hours_as_ledger(tags["opening_hours"])
    name = tags.get("name", "")
    if name in HOURS_BY_NAME:
        return HOURS_BY_NAME[name]
    kind = _osm_kind(tags) or ""
    forms = HOURS_BY_KIND.get(kind)
    if not forms:
        return ""
    turn[kind] = turn.get(kind, -1) + 1
    return forms[turn[kind] % len(forms)]


def ledger_area(tags: dict[str, str]) -> int | None:
    """建筑面积 (m²) of the place's name or kind (illustrative)."""
    return AREA_BY_NAME.get(tags.get("name", "")) or AREA_BY_KIND.get(_osm_kind(tags) or "")


def _kind(tags: dict[str, str]) -> str:
    for key in ("shop", "amenity", "healthcare"):
        for value in tags.get(key, "").split(";"):
            if value in KIND_ZH:
                return KIND_ZH[value]
    return "服务点"


def build_ledger(features: gpd.GeoDataFrame) -> pd.DataFrame:
    """The service ledger: 序号, 名称, 类别, 高德经度, 高德纬度 (GCJ-02), 营业时间, 建筑面积 (m²), 数据来源 (OSM id)."""
    points = features[features.geom_type == "Point"]
    categories = points["tags"].map(_category)
    chosen = points[categories.notna()].assign(类别=categories[categories.notna()])
    order = {name: i for i, name in enumerate(CATEGORIES)}
    chosen = chosen.assign(_order=chosen["类别"].map(order)).sort_values(["_order", "osm_id"], kind="stable")
    lon, lat = wgs84_to_gcj02(chosen.geometry.x.to_numpy(), chosen.geometry.y.to_numpy())
    names = [t.get("name") or f"{_kind(t)}（未命名）" for t in chosen["tags"]]
    turn: dict[str, int] = {}
    return pd.DataFrame(
        {
            "序号": np.arange(1, len(chosen) + 1),
            "名称": names,
            "类别": chosen["类别"].to_numpy(),
            "高德经度": np.round(lon, 6),
            "高德纬度": np.round(lat, 6),
            "营业时间": [ledger_hours(t, turn) for t in chosen["tags"]],
            "建筑面积": [ledger_area(t) for t in chosen["tags"]],
            "数据来源": [f"OSM {i}" for i in chosen["osm_id"]],
        }
    )


def build_branches(compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """The branch list by compound name (支部名称, 所在小区), with the variants described above."""
    rows = []
    for name in compounds["名称"]:
        if name in NO_BRANCH or name.startswith("未命名"):
            continue
        rows.append((f"{name}党支部", VARIANT_SPELLING.get(name, name)))
    rows.append(UNMATCHED_BRANCH)
    return pd.DataFrame(
        {"序号": range(1, len(rows) + 1), "支部名称": [r[0] for r in rows], "所在小区": [r[1] for r in rows]}
    )


def write_titled_xlsx(table: pd.DataFrame, path: Path, *, title: str, sheet: str) -> None:
    """An office workbook: a merged title row above the header, then the table (fixed timestamps: reproducible)."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.columns))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(list(table.columns))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
    for col, width in zip("ABCDEFGH", (6, 28, 14, 14, 14, 36, 10, 18), strict=False):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    stamp = pd.Timestamp("2026-01-01").to_pydatetime()
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "lifecircle scripts/build_demo_data.py"
    book.save(path)


def write_gbk_shapefile(compounds: gpd.GeoDataFrame, path: Path) -> None:
    """The compounds as an office's shapefile: GBK attribute text and no .cpg saying so (read by sniffing)."""
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    compounds.to_file(path, driver="ESRI Shapefile", encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=EXTRACT, help="the OSM extract (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args(argv)
    residential, buildings, features = read_extract(args.extract)
    roads = features[features.geom_type == "LineString"].assign(name=lambda f: f["tags"].map(lambda t: t["name"]))
    compounds = build_compounds(residential, buildings, roads)
    ledger = build_ledger(features)
    branches = build_branches(compounds)
    args.out.mkdir(parents=True, exist_ok=True)
    write_gbk_shapefile(compounds, args.out / "xiaoqu.shp")
    write_titled_xlsx(
        ledger,
        args.out / "fuwu_taizhang.xlsx",
        title="学院路街道公共服务设施台账（据 OpenStreetMap 数据整理，坐标为高德 GCJ-02）",
        sheet="服务设施",
    )
    write_titled_xlsx(branches, args.out / "zhibu_mingdan.xlsx", title="学院路街道党支部名单（示例）", sheet="支部")
    print(f"{len(compounds)} compounds, {len(ledger)} services, {len(branches)} branches -> {args.out}")
    print(compounds.drop(columns="geometry").to_string(index=False))
    print(ledger["类别"].value_counts().to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
