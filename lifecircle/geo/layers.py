"""Reading compounds, services, branches and gates from the files planners have.

Vector files (GeoJSON, GeoPackage, Shapefile, GeoParquet) and tables with longitude/latitude columns (CSV, XLSX).
Every reader returns a GeoDataFrame with its CRS set, indexed by a string id, with a ``name`` column.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo import validate
from lifecircle.geo.crs import ensure_crs

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml", ".zip"}
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xls"}
LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度", "wgs84_lon", "gcj02_lon")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat")
ID_NAMES = ("id", "编号", "序号", "fid")
NAME_NAMES = ("name", "名称", "小区名称", "name_zh", "名字")
CATEGORY_NAMES = ("category", "类别", "类型", "分类")


def _find_column(df: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], source: str) -> str | None:
    if wanted is not None:
        validate.require_columns(df, [wanted], source)
        return wanted
    by_lower = {str(c).strip().lower(): c for c in df.columns}
    for name in candidates:
        if name in by_lower:
            return by_lower[name]
    return None


def _read_table(path: Path, *, encoding: str | None) -> pd.DataFrame:
    if path.suffix.lower() in {".xlsx", ".xls"}:
        return pd.read_excel(path)
    if encoding is not None:
        return pd.read_csv(path, encoding=encoding)
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=candidate)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path.name}: the text is neither UTF-8 nor GBK/GB18030; name its encoding with --encoding.")


def _points_from_table(
    df: pd.DataFrame, *, lon_column: str | None, lat_column: str | None, source: str
) -> gpd.GeoDataFrame:
    lon = _find_column(df, lon_column, LON_NAMES, source)
    lat = _find_column(df, lat_column, LAT_NAMES, source)
    if lon is None or lat is None:
        raise InputError(
            f"{source} has no longitude/latitude columns (looked for lon/lng/longitude/经度 and lat/latitude/纬度); "
            "name them with --lon-column and --lat-column."
        )
    x = pd.to_numeric(df[lon], errors="coerce")
    y = pd.to_numeric(df[lat], errors="coerce")
    bad = x.isna() | y.isna()
    if bad.all():
        raise InputError(f"{source}: columns {lon!r} and {lat!r} hold no numbers.")
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=gpd.points_from_xy(x, y))
    gdf.loc[bad, "geometry"] = None
    if not bad.any() and (y.abs() > 90).any() and (x.abs() <= 90).all():
        raise InputError(
            f"{source}: column {lat!r} has values beyond ±90 while {lon!r} stays within ±90: "
            "longitude and latitude look swapped."
        )
    return gdf


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported file as a GeoDataFrame with a CRS.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile, GeoParquet, or CSV/XLSX with longitude/latitude columns.
    layer
        Layer name inside a multi-layer file (GeoPackage).
    crs
        CRS of the coordinates when the file does not declare it or declares it wrongly.
    lon_column, lat_column
        Coordinate columns of a table, when not auto-detected.
    encoding
        Text encoding of a Shapefile's attributes or a CSV, when not auto-detected.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    InputError
        The file is missing, unreadable, of an unknown format, or empty.
    """
    path = Path(path)
    source = path.name
    if not path.exists():
        raise InputError(f"File {path} does not exist.")
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            gdf = gpd.read_parquet(path)
        elif suffix in TABLE_SUFFIXES:
            gdf = _points_from_table(
                _read_table(path, encoding=encoding), lon_column=lon_column, lat_column=lat_column, source=source
            )
        elif suffix in VECTOR_SUFFIXES or path.is_dir():
            kwargs = {"layer": layer} if layer else {}
            if encoding:
                kwargs["encoding"] = encoding
            gdf = gpd.read_file(path, **kwargs)
        else:
            raise InputError(
                f"{source}: unknown file format {suffix!r}; "
                "use GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV or XLSX."
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{source} could not be read: {exc}.") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError(f"{source} has no geometry.")
    validate.require_not_empty(gdf, source)
    return ensure_crs(gdf, crs=crs, source=source)


def _identify(
    gdf: gpd.GeoDataFrame,
    *,
    id_column: str | None,
    name_column: str | None,
    id_name: str,
    prefix: str,
    source: str,
) -> gpd.GeoDataFrame:
    """Index a layer by string ids and give it a ``name`` column."""
    out = gdf.copy()
    out.attrs = dict(gdf.attrs)
    id_col = _find_column(out, id_column, (id_name, *ID_NAMES), source)
    if id_col is None:
        ids = pd.Index([f"{prefix}{i + 1}" for i in range(len(out))], name=id_name)
    else:
        if out[id_col].isna().any():
            raise InputError(
                f"{source}: column {id_col!r} has empty ids in rows {list(out.index[out[id_col].isna()][:5])}."
            )
        ids = pd.Index(out[id_col].astype(str).str.strip(), name=id_name)
        validate.require_unique_ids(ids, source, id_col)
        out = out.drop(columns=[id_col])
    out.index = ids
    name_col = _find_column(out, name_column, NAME_NAMES, source)
    if name_col is None:
        out["name"] = out.index.astype(str)
    elif name_col != "name":
        out["name"] = out[name_col]
    out["name"] = out["name"].fillna(pd.Series(out.index.astype(str), index=out.index)).astype(str)
    return out


def read_compounds(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    **read_kw,
) -> gpd.GeoDataFrame:
    """Read residential compounds (小区) as polygons indexed by ``compound_id``.

    Invalid polygons are repaired with ``make_valid`` (and noted); features without geometry are left out (and
    noted). Other keyword arguments go to :func:`read_layer`.

    Raises
    ------
    InputError
        Not polygons, empty, or duplicate ids.
    """
    source = Path(path).name
    gdf = read_layer(path, **read_kw)
    gdf = validate.drop_missing_geometry(gdf, source)
    validate.require_geometry_type(gdf, validate.POLYGONAL, source, "compounds")
    gdf = _identify(gdf, id_column=id_column, name_column=name_column, id_name="compound_id", prefix="C", source=source)
    return validate.repair_polygons(gdf, source)


def read_points(
    path: str | Path,
    *,
    what: str,
    id_name: str,
    prefix: str,
    id_column: str | None = None,
    name_column: str | None = None,
    **read_kw,
) -> gpd.GeoDataFrame:
    """Read a point layer indexed by ``id_name``; polygons are turned into points inside them (and noted).

    Raises
    ------
    InputError
        Lines, empty layer, or duplicate ids.
    """
    source = Path(path).name
    gdf = read_layer(path, **read_kw)
    gdf = validate.drop_missing_geometry(gdf, source)
    if gdf.geom_type.isin(validate.POLYGONAL).any():
        polygonal = gdf.geom_type.isin(validate.POLYGONAL)
        gdf = gdf.copy()
        gdf.loc[polygonal, "geometry"] = gdf.geometry[polygonal].representative_point()
        validate.add_quality_note(gdf, f"{source}: {polygonal.sum()} {what} are areas; a point inside each is used.")
    validate.require_geometry_type(gdf, {"Point"}, source, what)
    return _identify(gdf, id_column=id_column, name_column=name_column, id_name=id_name, prefix=prefix, source=source)


def read_services(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    category_column: str | None = None,
    **read_kw,
) -> gpd.GeoDataFrame:
    """Read service points indexed by ``service_id`` with a ``category`` column.

    The category comes from ``category_column``, else a ``category``/``类别``/``类型`` column, else every service
    is of category ``service``.
    """
    gdf = read_points(
        path, what="services", id_name="service_id", prefix="S", id_column=id_column, name_column=name_column, **read_kw
    )
    source = Path(path).name
    column = _find_column(gdf, category_column, CATEGORY_NAMES, source)
    if column is None:
        gdf["category"] = "service"
    else:
        gdf["category"] = gdf[column].fillna("unknown").astype(str).str.strip()
    return gdf


def read_branches(path: str | Path, **read_kw) -> gpd.GeoDataFrame:
    """Read party-branch points (支部), indexed by ``branch_id``; a ``compound_id`` column is kept when present."""
    return read_points(path, what="branches", id_name="branch_id", prefix="B", **read_kw)


def read_gates(path: str | Path, **read_kw) -> gpd.GeoDataFrame:
    """Read compound gates, indexed by ``gate_id``; a ``compound_id`` column names the compound when present."""
    return read_points(path, what="gates", id_name="gate_id", prefix="G", **read_kw)
