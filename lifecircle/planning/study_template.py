"""The commented study template that ``lifecircle init`` writes."""

from __future__ import annotations

import os
from pathlib import Path

from lifecircle.errors import InputError
from lifecircle.geo.walk import DEFAULT_SPEED_KMH

__all__ = ["TEMPLATE", "write_template"]

TEMPLATE = """\
# lifecircle study file (TOML, UTF-8). Run it with:  lifecircle run study.toml
# or one step of it:  lifecircle analyze --study study.toml  (also site, isochrones)
# Paths are relative to this file. Lines starting with # are comments; uncomment what you need.
# Flags override the file: lifecircle run study.toml --out other-folder --minutes 15 --speed-kmh 4

[study]
name = "学院路街道十分钟生活圈评估"
network = "data/haidian.osm.pbf"        # OSM extract (.osm, .osm.bz2, .osm.pbf), GraphML, or "place:海淀区, 北京"
# study_area = "data/街道范围.geojson"    # outline drawn on the map
# buildings = "data/楼栋.shp"             # 楼栋: walks also start from each building (户数 or footprint x 层数)
# building_group_column = "楼栋党小组"    # default: 楼栋党小组 / 党小组 / group
# buildings_from_osm = true              # no building layer: the extract's building=* inside compounds

[compounds]                              # residential compounds (小区), polygons
path = "data/compounds.shp"              # Shapefile (GBK or UTF-8, detected), GeoPackage, GeoJSON...
# id_column = "编号"                     # default: id / 编号
# name_column = "小区名称"               # default: name / 名称 / 小区名称
coord_system = "wgs84"                   # wgs84 | gcj02 (Amap/Gaode, Tencent) | bd09 (Baidu) | cgcs2000
# encoding = "gbk"                       # only when detection fails
# households_column = "户数"             # default: households / 户数
# branch_column = "有支部"               # yes/是/有 marks a compound with its own party branch
street_column = "街道"                   # governance roll-ups; leave out the ones you do not have
community_column = "社区"
# grid_column = "网格"

[services]                               # service points, e.g. an Excel ledger
path = "data/便民服务台账.xlsx"           # CSV (UTF-8, BOM or GBK) or XLSX with longitude/latitude columns
# sheet = "台账"                         # default: the first sheet
category_column = "类别"                 # default: category / 类别 / 类型
# lon_column = "经度"                    # default: detected (lon, lng, 经度, 高德经度, ...)
# lat_column = "纬度"
coord_system = "gcj02"                   # coordinates copied from Amap are GCJ-02
# fix_swapped = true                     # swap longitude/latitude back when a ledger has them the wrong way round

# [branches]                             # party-branch points (optional)
# path = "data/branches.csv"
# coord_system = "gcj02"

# [gates]                                # compound gates (optional): walks start at the gates
# path = "data/gates.geojson"

[walk]
minutes = 10                             # or: distance_m = 500 (a standard below gives a distance by itself)
speed_kmh = {speed_kmh}
max_snap_m = 300                         # farther than this from any walkable street: unreachable

# [walking]                              # how residents walk (the options of `lifecircle analyze`)
# compound_roads = true                  # residents use their own compound's internal roads, never others'
# open_blocks = true                     # also compare with internal roads open to all (开放街区)
# gates_from_osm = true                  # gates from the OSM file's gate/entrance nodes
# dem = "data/dem.tif"                   # hills: uphill and downhill walking by Tobler's function
# steps_factor = 2                       # steps take 2× the time of level ground (default 1), DEM or not
# profiles = ["adult", "elderly", "child", "wheelchair"]   # walkers at their own speeds, run together
# merge_lines = "data/道路中心线.shp"      # local road centrelines merged into the OSM network
# level_column = "层级"                   # level of road lines: bridges and tunnels do not meet

[categories]                             # group ledger values into categories (others keep their own name)
"便民服务" = ["便民服务点", "超市", "便利店"]
"医疗卫生" = ["社区卫生服务站", "社区卫生服务中心", "诊所"]

[thresholds]                             # minutes for single categories (others use walk.minutes)
"医疗卫生" = 15
# [thresholds_m]                         # or metres
# "幼儿园" = 300

# [standard]                             # check each compound against a planning standard level
# level = "gb50180-5"                    # gb50180-15 (1000 m) | gb50180-10 (500 m) | gb50180-5 (300 m) | my.toml#level
# include_recommended = false
# [standard.facilities]                  # facility key of the standard -> your categories
# community_health_station = "医疗卫生"
# neighbourhood_shops = ["便民服务"]

[output]
dir = "lifecircle-out"
coord_system = "wgs84"                   # gcj02 to overlay the GeoPackages on Amap
lang = "zh"                              # zh | en (map and report)
online_map = false                       # true: the map loads Leaflet from the internet (default: opens offline)
report = true                            # report.html and report.xlsx
map = true                               # map.html (false: no map, the report without one either)
served_area = true                       # the street area each category serves (map layers, area_share)
# catchment_m = 45                       # street catchment width of served areas
# basemap = "osm"                        # osm | light | amap | tianditu | none

# [adequacy]                             # 供需: capacity against demand (adequacy.csv, load per service)
# method = "2sfca"                       # 2sfca (the walking limit) | e2sfca (distance-decay zones)
# capacity_column = "医生"                # service capacity (default 1 each); demand: households
# norm = 0.002                           # capacity per household below which a covered compound is crowded
#                                        # (no norm by default: crowded / overloaded are judged only where set)
# [adequacy.norms]
# "卫生服务站" = 0.001

# [hours]                                # 三延: opening hours (opening_hours / 营业时间 columns are found)
# at = "周六 20:00"                       # coverage with only the services open then

# [dask]                                 # a whole city or province in tiles (pip install 'lifecircle[dask]')
# scheduler = "local"                    # local (this machine) | "tcp://HOST:8786" (a running Dask scheduler)
# tile_km = 4                            # tile side; no served areas in a tiled run

# [run]                                  # what `lifecircle run` does (default: the analysis only)
# steps = ["analysis", "siting", "isochrones", "publishing"]

# [site]                                 # `lifecircle site`: where to put new service points
# dir = "lifecircle-site-plan"
# add = 3                                # the best 3 new sites (or: cover_all = true)
# category = "便民服务"                   # plan this category (its own threshold applies); default any service
# candidates_from = "streets"            # or: candidate_spacing_m = 100, or a [candidates] layer
# solver = "highs"                       # highs | cbc | scipy | greedy
# [candidates]                           # candidate premises (optional)
# path = "data/可用房源.xlsx"

# [isochrones]                           # `lifecircle isochrones`: walking isochrones of the services
# dir = "lifecircle-isochrones"
# minutes = [5, 10, 15]
# rings = false

# [publish]                              # `lifecircle run` with "publishing": a static site of the results
# dir = "lifecircle-site"
""".replace("{speed_kmh}", f"{DEFAULT_SPEED_KMH:g}")


def write_template(path: str | Path) -> Path:
    """Write the commented study template :data:`TEMPLATE` to ``path`` (never over an existing file).

    Raises
    ------
    InputError
        ``path`` exists.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise InputError(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not exist; choose another name."
        )
    if path.exists():
        raise InputError(f"{path} already exists; choose another name or remove it first.")
    try:  # a broken link or a file above it, a long name, no permission: one line
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("x", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        with handle:
            handle.write(TEMPLATE)
    except OSError as exc:  # a full disk: the half-written template (made just now by this call) goes
        path.unlink(missing_ok=True)
        raise InputError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path
