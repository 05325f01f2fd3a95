"""Reading compounds, services, branches and gates from the files planners have.

Vector files (GeoJSON, GeoPackage, Shapefile, GeoParquet) and ledgers with longitude/latitude columns (CSV, XLSX).
Every reader returns a GeoDataFrame with its CRS set, indexed by a string id, with a ``name`` column.

Chinese data realities are handled here by the dedicated modules: shapefile and CSV text encodings are detected
(:mod:`lifecircle.geo.inputs.encoding`), ledger coordinate columns are found and checked for swapped longitude/latitude
(:mod:`lifecircle.geo.inputs.coords`), and layers declared in GCJ-02 (Amap, Tencent) or BD-09 (Baidu) are converted to
WGS84 right after reading (:mod:`lifecircle.geo.inputs.chinese_crs`). The declared system is kept in
``gdf.attrs["lifecircle_coord_system"]`` so later steps can check WGS84-declared layers for a GCJ-02 shift.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj

from lifecircle.errors import InputError
from lifecircle.geo import validate
from lifecircle.geo.crs import ensure_crs
from lifecircle.geo.inputs.branches import BY_NAME_KEY, COMPOUND_NAME_COLUMNS
from lifecircle.geo.inputs.chinese_crs import normalize_coord_system, to_wgs84
from lifecircle.geo.inputs.columns import find_column
from lifecircle.geo.inputs.coords import check_lonlat, coord_system_hint, detect_lonlat_columns, points_from_table
from lifecircle.geo.inputs.encoding import read_ledger, read_shapefile

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml", ".zip"}
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls"}
ID_NAMES = ("id", "编号", "序号", "fid")
NAME_NAMES = ("name", "名称", "小区名称", "name_zh", "名字")
BRANCH_NAME_COLUMNS = ("支部名称", "name", "名称", "branch_name", "支部", "名字")
ALL_CATEGORY = "all"  # the category of every service together, in every result
UNCATEGORISED = "uncategorised"
CATEGORY_NAMES = ("category", "类别", "类型", "分类")
COORD_SYSTEM_KEY = "lifecircle_coord_system"
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09", "cgcs2000")


def _find_column(df: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], source: str) -> str | None:
    if wanted is not None:
        validate.require_columns(df, [wanted], source)
        return wanted
    return find_column(df, candidates)


def _table_points(
    df: pd.DataFrame,
    *,
    lon_column: str | None,
    lat_column: str | None,
    crs: str | None,
    on_swap: str,
    source: str,
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Points of a ledger and the coordinate system its column names hint at (``经度(GCJ02)`` -> gcj02)."""
    lon, lat = detect_lonlat_columns(df, lon_column=lon_column, lat_column=lat_column, source=source)
    hint = coord_system_hint(lon) or coord_system_hint(lat)
    if crs is not None and pyproj.CRS.from_user_input(crs).is_projected:
        # projected coordinates (metres) in a table: no degree checks, the given CRS says what they are
        x = pd.to_numeric(df[lon], errors="coerce")
        y = pd.to_numeric(df[lat], errors="coerce")
        gdf = gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=gpd.points_from_xy(x, y), crs=crs)
        return gdf, hint
    check = check_lonlat(df, lon, lat, source=source, on_swap="warn") if on_swap == "fix" else None
    gdf = points_from_table(df, lon_column=lon, lat_column=lat, source=source, on_swap=on_swap, missing="drop")
    notes = []
    if len(df) > len(gdf):
        notes.append(f"{source}: {len(df) - len(gdf)} rows without coordinates were left out.")
    if check is not None and (check.swapped or check.swapped_rows):
        notes.append(f"{check.message} They were swapped back.")
    # the CRS is declared by the caller: by the user, or WGS84 (with a warning) when nobody says
    gdf = gdf.drop(columns=[lon, lat]).set_crs(None, allow_override=True)
    for note in notes:
        validate.add_quality_note(gdf, note)
    return gdf, hint


def _first_of_several_layers(path: Path, source: str) -> str | None:
    """When a file holds several layers and none was named, warn and return the first (which is read)."""
    import pyogrio

    try:
        names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # unreadable files are reported by the reader itself
        return None
    if len(names) < 2:
        return None
    log.warning(
        "%s holds %d layers (%s); reading the first, %r. Name another with --layer ROLE=NAME "
        '(e.g. --layer compounds=%s) or layer = "..." in a study file.',
        source,
        len(names),
        ", ".join(names),
        names[0],
        names[1],
    )
    return names[0]


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
    coord_system: str | None = None,
    sheet: str | int | None = None,
    on_swap: str = "raise",
) -> gpd.GeoDataFrame:
    """Read any supported file as a GeoDataFrame with a CRS, in WGS84 terms.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile, GeoParquet, or CSV/TSV/XLSX with longitude/latitude columns.
    layer
        Layer name inside a multi-layer file (GeoPackage).
    crs
        CRS of the coordinates when the file does not declare it or declares it wrongly.
    lon_column, lat_column
        Coordinate columns of a table, when not auto-detected (``lon``/``lng``/``经度``, ``lat``/``纬度``, also
        qualified names such as ``经度(GCJ02)``).
    encoding
        Text encoding of a Shapefile's attributes or a CSV, when not auto-detected (``.cpg``, UTF-8 or GBK).
    coord_system
        What the coordinates really are: ``wgs84`` (the default), ``gcj02`` (Amap/Gaode, Tencent), ``bd09``
        (Baidu) or ``cgcs2000`` (EPSG:4490, taken as WGS84). GCJ-02 and BD-09 layers are converted to WGS84.
        When None, a table's column names may say it (``高德经度`` -> gcj02), else WGS84.
    sheet
        Sheet name or 0-based index of an Excel ledger (the first sheet by default).
    on_swap
        ``"raise"``: swapped longitude/latitude columns of a table are an error; ``"fix"``: they are swapped
        back and reported as a data-quality note.

    Returns
    -------
    geopandas.GeoDataFrame
        With ``attrs["lifecircle_coord_system"]`` the declared system.

    Raises
    ------
    InputError
        The file is missing, unreadable, of an unknown format, empty, or its coordinates are not usable.
    """
    path = Path(path)
    source = path.name
    if not path.exists():
        raise InputError(f"File {path} does not exist.")
    if on_swap not in ("raise", "fix"):
        raise InputError(f"{source}: on_swap must be 'raise' or 'fix', got {on_swap!r}.")
    system = None if coord_system is None else normalize_coord_system(coord_system)
    suffix = path.suffix.lower()
    hint = None
    try:
        if suffix in PARQUET_SUFFIXES:
            gdf = gpd.read_parquet(path)
        elif suffix in TABLE_SUFFIXES:
            kw = {"encoding": encoding} if encoding and suffix not in {".xlsx", ".xlsm", ".xls"} else {}
            table = read_ledger(path, sheet=sheet, **kw)
            gdf, hint = _table_points(
                table, lon_column=lon_column, lat_column=lat_column, crs=crs, on_swap=on_swap, source=source
            )
        elif suffix == ".shp":
            gdf = read_shapefile(path, encoding=encoding)
        elif suffix in VECTOR_SUFFIXES or path.is_dir():
            kwargs = {"layer": layer} if layer else {}
            if not layer:
                first = _first_of_several_layers(path, source)
                if first is not None:
                    kwargs["layer"] = first  # said once, here, rather than by pyogrio too
            if encoding and (path.is_dir() or suffix == ".dbf"):  # GeoJSON and GeoPackage text is UTF-8
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
        if "not recognized as being in a supported file format" in str(exc) or path.stat().st_size == 0:
            raise InputError(
                f"{source} is not a readable {suffix} file: it is empty, damaged, or another format under that name."
            ) from exc
        raise InputError(f"{source} could not be read: {str(exc).rstrip('.')}.") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError(f"{source} has no geometry.")
    validate.require_not_empty(gdf, source)
    gdf = validate.drop_missing_geometry(gdf, source)  # before any CRS check: empty bounds say nothing
    attrs = dict(gdf.attrs)
    if system is None and hint in ("gcj02", "bd09"):
        log.info("%s: the coordinate columns are named for %s; converting from %s to WGS84", source, hint, hint)
        system = hint
    elif system == "wgs84" and hint in ("gcj02", "bd09"):
        validate.add_quality_note(
            gdf,
            f"{source} is declared wgs84 but its coordinate columns are named for {hint}; "
            f"check the coordinate system (declare it {hint} if the ledger comes from that map).",
        )
        attrs = dict(gdf.attrs)
    if gdf.crs is None and crs is None and (system is not None or hint is not None) and suffix in TABLE_SUFFIXES:
        gdf = gdf.set_crs("EPSG:4326")  # a declared lon/lat system needs no warning
    gdf = ensure_crs(gdf, crs=crs, source=source)
    system = system or "wgs84"
    if system in ("gcj02", "bd09"):
        gdf = to_wgs84(gdf, system, name=source)
    elif system == "cgcs2000" and gdf.crs.is_geographic:
        gdf = to_wgs84(gdf, system, name=source)
    gdf.attrs = {**attrs, COORD_SYSTEM_KEY: system}
    return gdf


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
    noted).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile (GBK/GB18030 detected) or GeoParquet of compound polygons.
    id_column, name_column
        Columns of the ids and names; default ``id`` (else numbered ``C1``...) and ``name``/``名称``.
    **read_kw
        How to read the file, as for :func:`read_layer`: ``layer``, ``crs``, ``lon_column``/``lat_column``,
        ``encoding``, ``coord_system``, ``sheet``, ``on_swap``.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in WGS84 indexed by ``compound_id`` (text), with a ``name`` column and the layer's other columns.

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

    Parameters
    ----------
    path
        Points (GeoJSON, GeoPackage, Shapefile, GeoParquet) or a CSV/XLSX ledger with longitude/latitude columns
        (``高德经度``-like names are read as GCJ-02 and converted to WGS84).
    id_column, name_column, category_column
        Columns of the ids, names and categories, when not the usual names.
    **read_kw
        How to read the file, as for :func:`read_layer`: ``layer``, ``crs``, ``lon_column``/``lat_column``,
        ``encoding``, ``coord_system``, ``sheet``, ``on_swap``.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in WGS84 indexed by ``service_id`` (text) with ``name`` and ``category`` columns.

    Raises
    ------
    InputError
        Lines, an empty layer, duplicate ids, unreadable coordinates, or the reserved category name ``all``.
    """
    gdf = read_points(
        path, what="services", id_name="service_id", prefix="S", id_column=id_column, name_column=name_column, **read_kw
    )
    source = Path(path).name
    column = _find_column(gdf, category_column, CATEGORY_NAMES, source)
    if column is None:
        gdf["category"] = "service"
        return gdf
    values = gdf[column].astype("string").str.strip()
    blank = values.isna() | (values == "")
    if blank.any():
        examples = ", ".join(map(str, gdf.index[blank][:5]))
        validate.add_quality_note(
            gdf,
            f"{source}: {blank.sum()} services have no category in column {column!r} ({examples}); "
            f"they are counted in 'all' and as category {UNCATEGORISED!r}.",
        )
    reserved = values.str.lower() == ALL_CATEGORY
    if reserved.any():
        raise InputError(
            f"{source}: column {column!r} uses the category name {ALL_CATEGORY!r}, which lifecircle keeps for "
            f"'any service' (rows {', '.join(map(str, gdf.index[reserved][:5]))}); rename that category."
        )
    gdf["category"] = values.fillna("").astype(object).where(~blank, UNCATEGORISED)
    return gdf


def read_study_area(path: str | Path, **read_kw) -> gpd.GeoDataFrame:
    """Read a study-area outline (district, street): polygons, invalid ones repaired.

    Raises
    ------
    InputError
        Not polygons, or empty.
    """
    source = Path(path).name
    gdf = read_layer(path, **read_kw)
    validate.require_geometry_type(gdf, validate.POLYGONAL, source, "the study area")
    area = validate.repair_polygons(gdf, source)
    area.attrs["source"] = source
    return area


def read_branches(path: str | Path, *, compound_column: str | None = None, **read_kw) -> gpd.GeoDataFrame:
    """Read party branches (支部), indexed by ``branch_id``: points, or a list naming the compound of each branch.

    A table (CSV/XLSX) without longitude/latitude columns is read as a list by compound name when a column names
    the compound (``compound_column``, else 所在小区/小区名称/compound_name...): the branches then have no
    geometry, a ``compound_name`` column, and ``attrs[BY_NAME_KEY]`` the column's name; they are matched to the
    compounds by :func:`lifecircle.geo.inputs.branches.match_branch_list`. Otherwise branches are points (a
    ``compound_id`` column is kept when present).

    Parameters
    ----------
    path
        Branch points, or a CSV/XLSX list of branches by compound name.
    compound_column
        The list's column naming each branch's compound (default: 所在小区, 小区名称, compound_name...).
    **read_kw
        How to read the file, as for :func:`read_layer`: ``layer``, ``crs``, ``lon_column``/``lat_column``,
        ``encoding``, ``coord_system``, ``sheet``, ``on_swap``.

    Raises
    ------
    InputError
        ``compound_column`` is not a column of the table, or a table has neither coordinates nor a compound column.
    """
    path = Path(path)
    if path.suffix.lower() in TABLE_SUFFIXES and path.exists():
        named = _branch_list_by_name(path, compound_column=compound_column, read_kw=read_kw)
        if named is not None:
            return named
    return read_points(path, what="branches", id_name="branch_id", prefix="B", **read_kw)


def _branch_list_by_name(path: Path, *, compound_column: str | None, read_kw: dict) -> gpd.GeoDataFrame | None:
    """A branch table naming compounds, when it has no coordinates (None when it has: read it as points)."""
    source = path.name
    kw = (
        {"encoding": read_kw["encoding"]} if read_kw.get("encoding") and path.suffix.lower() in {".csv", ".txt"} else {}
    )
    table = read_ledger(path, sheet=read_kw.get("sheet"), **kw)
    column = _find_column(table, compound_column, COMPOUND_NAME_COLUMNS, source)
    try:
        detect_lonlat_columns(table, lon_column=read_kw.get("lon_column"), lat_column=read_kw.get("lat_column"))
    except InputError:
        if column is None:
            raise InputError(
                f"{source} has neither longitude/latitude columns nor a column naming each branch's compound "
                f"(所在小区, 小区名称, compound_name; or name it with --branch-compound-column); its columns are "
                f"{', '.join(map(str, table.columns))}."
            ) from None
    else:
        return None
    validate.require_not_empty(table, source)
    table = table.rename(columns={column: "compound_name"}) if column != "compound_name" else table
    names = [c for c in BRANCH_NAME_COLUMNS if c in table.columns and c != "compound_name"]
    gdf = gpd.GeoDataFrame(table, geometry=[None] * len(table), crs="EPSG:4326")
    gdf = _identify(
        gdf,
        id_column=read_kw.get("id_column"),
        name_column=read_kw.get("name_column") or (names[0] if names else None),
        id_name="branch_id",
        prefix="B",
        source=source,
    )
    gdf.attrs = {BY_NAME_KEY: column, COORD_SYSTEM_KEY: "wgs84", "source": source}
    log.info("%s: %d branches listed by the compound they sit in (column %r)", source, len(gdf), column)
    return gdf


def read_gates(path: str | Path, **read_kw) -> gpd.GeoDataFrame:
    """Read compound gates, indexed by ``gate_id``; a ``compound_id`` column names the compound when present.

    Parameters
    ----------
    path
        Gate points (any layer format, or a ledger with longitude/latitude columns).
    **read_kw
        How to read the file, as for :func:`read_layer`: ``layer``, ``crs``, ``lon_column``/``lat_column``,
        ``encoding``, ``coord_system``, ``sheet``, ``on_swap``.

    Raises
    ------
    InputError
        Not points, an empty layer, or duplicate ids.
    """
    return read_points(path, what="gates", id_name="gate_id", prefix="G", **read_kw)
