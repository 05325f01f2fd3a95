"""Plain arrays from the network's dataclasses and tables, and back: what the network cache stores.

:func:`pack` turns a frozen dataclass of the package (a :class:`~lifecircle.geo.network.graph.PreparedNetwork`,
street cells, barriers) into named NumPy arrays and a JSON-ready description; :func:`unpack` rebuilds an equal
object from them. Nothing is pickled: numbers stay arrays, geometries become WKB (exact to the bit), sparse
matrices their CSR arrays, CRSs their text, spatial trees are rebuilt from what they index, and nested
dataclasses are looked up by name among lifecircle's own classes only. :func:`pack_frame` / :func:`unpack_frame`
do the same for (Geo)DataFrames with number, text and geometry columns.

A value of any other kind raises :class:`Unpackable`: the caller then does not cache (never an error for a user).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

__all__ = ["Unpackable", "pack", "pack_frame", "unpack", "unpack_frame"]

Arrays = dict[str, np.ndarray]
_OWN_PACKAGE = "lifecircle."
#: How the k-d trees of the package are built (:func:`lifecircle.geo.network.segment_index.build_segment_index`).
KDTREE_OPTIONS = {"balanced_tree": False, "compact_nodes": False}


class Unpackable(TypeError):
    """A value the cache cannot store as plain arrays."""


def pack(obj: Any) -> tuple[Arrays, dict]:
    """Named arrays and a JSON-ready description of a frozen dataclass of the package (see the module)."""
    arrays: Arrays = {}
    return arrays, _pack_value(obj, "o", arrays, {})


def unpack(arrays: Arrays, spec: dict) -> Any:
    """The object :func:`pack` described (``KeyError``/``ValueError`` when the arrays do not fit ``spec``)."""
    return _unpack_value(spec, arrays, {})


def _pack_value(value: Any, name: str, arrays: Arrays, seen: dict[str, np.ndarray]) -> dict:
    """Describe ``value`` (arrays it needs are added to ``arrays`` under names starting with ``name``; a geometry
    array met before, such as the one a spatial tree indexes, is stored once: ``seen`` holds those packed by name)."""
    if isinstance(value, np.generic):
        return {"t": "json", "v": value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"t": "json", "v": value}
    if isinstance(value, np.ndarray):
        return _pack_array(value, name, arrays, seen)
    if isinstance(value, (sp.csr_array, sp.csr_matrix)):
        for part in ("data", "indices", "indptr"):
            arrays[f"{name}.{part}"] = getattr(value, part)
        return {"t": "csr", "n": name, "shape": list(value.shape), "matrix": isinstance(value, sp.csr_matrix)}
    if isinstance(value, pyproj.CRS):
        return {"t": "crs", "v": _crs_text(value)}
    if isinstance(value, shapely.STRtree):
        return {"t": "strtree", "g": _pack_array(value.geometries, name, arrays, seen)}
    if isinstance(value, cKDTree):
        arrays[name] = np.asarray(value.data)
        return {"t": "kdtree", "n": name, "leafsize": int(value.leafsize)}
    if isinstance(value, shapely.Geometry):
        arrays[name] = np.frombuffer(shapely.to_wkb(value), dtype=np.uint8)
        return {"t": "geom", "n": name, "prepared": bool(shapely.is_prepared(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith(_OWN_PACKAGE):
            raise Unpackable(f"{cls.__module__}.{cls.__qualname__} is not lifecircle's")
        fields = {
            f.name: _pack_value(getattr(value, f.name), f"{name}.{f.name}", arrays, seen)
            for f in dataclasses.fields(value)
        }
        return {"t": "dataclass", "cls": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    raise Unpackable(f"cannot store a {type(value).__name__} as arrays")


def _pack_array(values: np.ndarray, name: str, arrays: Arrays, seen: dict[str, np.ndarray]) -> dict:
    if values.dtype != object:
        arrays[name] = values
        return {"t": "array", "n": name}
    for other, kept in seen.items():
        if kept.shape == values.shape and _same_objects(kept, values):
            return {"t": "ref", "n": other}
    seen[name] = values
    if len(values) == 0 or bool(shapely.is_geometry(values).all()):
        _pack_bytes(shapely.to_wkb(values), name, arrays)
        return {"t": "geoms", "n": name, "shape": list(values.shape)}
    raise Unpackable(f"array {name} holds Python objects")


def _same_objects(one: np.ndarray, other: np.ndarray) -> bool:
    """Whether two object arrays hold the very same objects (a spatial tree's copy of the array it indexes)."""
    if one.size == 0 or one.ravel()[0] is not other.ravel()[0]:
        return False
    ids = np.frompyfunc(id, 1, 1)
    return bool(np.array_equal(ids(one.ravel()), ids(other.ravel())))


def _pack_bytes(chunks: np.ndarray, name: str, arrays: Arrays) -> None:
    """Byte strings as one ``uint8`` array and their end offsets."""
    flat = chunks.ravel()
    lengths = np.fromiter((len(c) for c in flat), dtype=np.int64, count=len(flat))
    arrays[f"{name}.bytes"] = np.frombuffer(b"".join(flat.tolist()), dtype=np.uint8)
    arrays[f"{name}.ends"] = np.cumsum(lengths)


def _unpack_bytes(name: str, arrays: Arrays) -> list[bytes]:
    data = arrays[f"{name}.bytes"].tobytes()
    ends = arrays[f"{name}.ends"].tolist()
    starts = [0, *ends[:-1]]
    return [data[a:b] for a, b in zip(starts, ends, strict=True)]


def _unpack_value(spec: dict, arrays: Arrays, done: dict[str, Any]) -> Any:
    kind = spec["t"]
    if kind == "json":
        return spec["v"]
    if kind == "array":
        return arrays[spec["n"]]
    if kind == "geoms":
        chunks = np.empty(len(arrays[f"{spec['n']}.ends"]), dtype=object)
        chunks[:] = _unpack_bytes(spec["n"], arrays)
        done[spec["n"]] = shapely.from_wkb(chunks).reshape(spec["shape"])
        return done[spec["n"]]
    if kind == "ref":
        return done[spec["n"]]
    if kind == "csr":
        name, shape = spec["n"], tuple(spec["shape"])
        parts = (arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"])
        return (sp.csr_matrix if spec["matrix"] else sp.csr_array)(parts, shape=shape)
    if kind == "crs":
        return pyproj.CRS.from_user_input(spec["v"])
    if kind == "strtree":
        return shapely.STRtree(_unpack_value(spec["g"], arrays, done))
    if kind == "kdtree":
        return cKDTree(arrays[spec["n"]], leafsize=spec["leafsize"], **KDTREE_OPTIONS)
    if kind == "geom":
        geom = shapely.from_wkb(arrays[spec["n"]].tobytes())
        if spec["prepared"]:
            shapely.prepare(geom)
        return geom
    if kind == "dataclass":
        cls = _own_class(spec["cls"])
        return cls(**{key: _unpack_value(field, arrays, done) for key, field in spec["fields"].items()})
    raise ValueError(f"unknown packed kind {kind!r}")


def _own_class(path: str) -> type:
    """A dataclass of lifecircle by ``module:qualname`` (never anything outside the package)."""
    module, _, qualname = path.partition(":")
    if not module.startswith(_OWN_PACKAGE):
        raise ValueError(f"{path} is not lifecircle's")
    cls = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"{path} is not a dataclass")
    return cls


def _crs_text(crs: pyproj.CRS) -> str:
    """Text that gives back an equal CRS (its authority code when that round-trips, else WKT)."""
    srs = crs.srs
    if srs:
        again = pyproj.CRS.from_user_input(srs)
        if again == crs and again.to_string() == crs.to_string():
            return srs
    return crs.to_wkt()


def pack_frame(frame: pd.DataFrame, name: str, arrays: Arrays) -> dict:
    """Describe a (Geo)DataFrame with a default index: number columns as arrays, text and lists as JSON, geometry
    as WKB."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        raise Unpackable("only frames with a default index are stored")
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    columns = []
    for k, column in enumerate(frame.columns):
        key = f"{name}.{k}"
        values = frame[column]
        if column == geometry:
            _pack_bytes(shapely.to_wkb(values.to_numpy()), key, arrays)
            kind = "geometry"
        elif values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            text = json.dumps(values.tolist(), ensure_ascii=False, allow_nan=True)
            arrays[key] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
            kind = "json"
        elif isinstance(values.dtype, np.dtype):
            arrays[key] = values.to_numpy()
            kind = "array"
        else:
            raise Unpackable(f"column {column!r} has dtype {values.dtype}")
        columns.append({"name": column, "kind": kind, "dtype": str(values.dtype)})
    crs = None if geometry is None or frame.crs is None else _crs_text(frame.crs)
    return {"columns": columns, "geometry": geometry, "crs": crs, "rows": len(frame)}


def unpack_frame(spec: dict, name: str, arrays: Arrays) -> pd.DataFrame:
    """The frame :func:`pack_frame` described."""
    data: dict[str, Any] = {}
    for k, column in enumerate(spec["columns"]):
        key = f"{name}.{k}"
        if column["kind"] == "geometry":
            chunks = np.empty(len(arrays[f"{key}.ends"]), dtype=object)
            chunks[:] = _unpack_bytes(key, arrays)
            data[column["name"]] = shapely.from_wkb(chunks)
        elif column["kind"] == "json":
            values = json.loads(arrays[key].tobytes().decode("utf-8"))
            data[column["name"]] = pd.Series(values, dtype=column["dtype"])
        else:
            data[column["name"]] = arrays[key]
    if spec["geometry"] is None:
        return pd.DataFrame(data, index=pd.RangeIndex(spec["rows"]))
    return gpd.GeoDataFrame(data, geometry=spec["geometry"], crs=spec["crs"])
