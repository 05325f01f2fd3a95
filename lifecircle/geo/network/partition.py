"""An OSM extract read once into square cells on disk, so each tile of a partitioned run reads only its own streets.

:func:`partition_extract` reads the extract's walkable segments (the same walk filter as
:func:`~lifecircle.geo.network.osm.network_from_osm`) and writes one Parquet file per ``cell_km`` cell of the
network's metric CRS (every segment in each cell its bounding box touches) with the tags of its ways beside it
(``<ix>_<iy>.ways.parquet``), and ``partition.json``. :func:`region_graph` then builds the walking graph of one
box from the cells it touches:
every segment whose bounding box meets the box, with exactly the node coordinates, lengths and tags the whole-extract
graph gives them::

    part = partition_extract("city.osm.pbf", "work/city.cells", cell_km=4.0)
    G = region_graph(part, (x0, y0, x1, y1))   # box in part.crs metres; G in EPSG:4326 like network_from_osm

:func:`region_segments` gives the same box's segments as arrays (node ids, lon/lat, ends, lengths, ``highway``)
with the graph's node and edge order, for :func:`~lifecircle.geo.network.graph.prepare_arrays` to build the same
network without networkx.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyproj

from lifecircle.errors import InputError
from lifecircle.geo.crs import metric_crs_for_lonlat
from lifecircle.geo.network.osm import WALK_FILTERED, great_circle_m, osm_segments

log = logging.getLogger(__name__)

__all__ = ["PartitionedExtract", "RegionSegments", "partition_extract", "region_graph", "region_segments"]

MANIFEST = "partition.json"
_WAY_COLUMNS = ("highway", "name", "access", "foot", "service", "bridge", "tunnel", "layer", "incline")


@dataclass(frozen=True)
class PartitionedExtract:
    """Where a partitioned extract lies and how its cells are laid out.

    Attributes
    ----------
    root
        The folder holding ``partition.json`` and ``cells/<ix>_<iy>.parquet`` (segments) and ``.ways.parquet``.
    crs
        The metric CRS (WKT) of the cell grid: the UTM zone of the whole extract, so every tile works in the CRS
        the whole-extract network would.
    cell_m
        Cell side in metres.
    cells
        The ``(ix, iy)`` cells holding segments.
    source
        The extract's file name.
    include_private
        Whether ``access=private`` ways were kept (flagged).
    """

    root: Path
    crs: str
    cell_m: float
    cells: frozenset[tuple[int, int]]
    source: str
    include_private: bool = False

    def cells_in(self, box_m: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        """The stored cells a box (metric ``minx, miny, maxx, maxy``) touches."""
        x0, y0, x1, y1 = (int(np.floor(c / self.cell_m)) for c in box_m)
        return sorted((ix, iy) for ix, iy in self.cells if x0 <= ix <= x1 and y0 <= iy <= y1)


def partition_extract(
    path: str | Path, out_dir: str | Path, *, cell_km: float, include_private: bool = False
) -> PartitionedExtract:
    """Read an OSM extract once and write its walkable segments into ``cell_km`` cells under ``out_dir``.

    Raises
    ------
    InputError
        The extract is missing or unreadable, or ``cell_km`` is not positive.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Network file {path} does not exist (a partitioned run needs an OSM extract).")
    if not cell_km > 0:
        raise InputError(f"The tile size must be a positive number of km, not {cell_km!r}.")
    seg = osm_segments(path, include_private=include_private)
    lon, lat = seg.node_xy[:, 0], seg.node_xy[:, 1]
    crs = metric_crs_for_lonlat(lon, lat)
    x, y = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    cell_m = float(cell_km) * 1000.0
    frame = pd.DataFrame(
        {
            "seg": np.arange(len(seg.u), dtype=np.int64),
            "u": seg.u,
            "v": seg.v,
            "ulon": lon[seg.ui],
            "ulat": lat[seg.ui],
            "vlon": lon[seg.vi],
            "vlat": lat[seg.vi],
            "way": seg.way,
        }
    )
    ux, uy, vx, vy = x[seg.ui], y[seg.ui], x[seg.vi], y[seg.vi]
    lo_x, hi_x = np.floor(np.minimum(ux, vx) / cell_m), np.floor(np.maximum(ux, vx) / cell_m)
    lo_y, hi_y = np.floor(np.minimum(uy, vy) / cell_m), np.floor(np.maximum(uy, vy) / cell_m)
    root = Path(out_dir)
    (root / "cells").mkdir(parents=True, exist_ok=True)
    parts: dict[tuple[int, int], list[np.ndarray]] = {}
    span = np.column_stack([lo_x, hi_x, lo_y, hi_y]).astype(np.int64)
    for dx in range(int((span[:, 1] - span[:, 0]).max()) + 1):  # segments longer than a cell go in every cell
        for dy in range(int((span[:, 3] - span[:, 2]).max()) + 1):
            rows = np.flatnonzero((span[:, 0] + dx <= span[:, 1]) & (span[:, 2] + dy <= span[:, 3]))
            keys = np.column_stack([span[rows, 0] + dx, span[rows, 2] + dy])
            for key, members in _group_rows(keys, rows):
                parts.setdefault(key, []).append(members)
    ways = _ways_frame(seg.way_attrs)
    for (ix, iy), members in parts.items():
        cell = frame.iloc[np.concatenate(members)]
        cell.to_parquet(root / "cells" / f"{ix}_{iy}.parquet", index=False)
        ways.iloc[np.unique(cell["way"].to_numpy())].to_parquet(root / "cells" / f"{ix}_{iy}.ways.parquet", index=False)
    part = PartitionedExtract(
        root=root,
        crs=crs.to_wkt(),
        cell_m=cell_m,
        cells=frozenset(parts),
        source=path.name,
        include_private=include_private,
    )
    manifest = {"crs": part.crs, "cell_m": cell_m, "cells": sorted(parts), "source": path.name}
    (root / MANIFEST).write_text(json.dumps({**manifest, "include_private": include_private}), encoding="utf-8")
    log.info("partitioned %s: %d segments in %d cells of %.1f km", path.name, len(frame), len(parts), cell_km)
    return part


def _group_rows(keys: np.ndarray, rows: np.ndarray):
    """``((ix, iy), rows)`` for each distinct cell key."""
    if len(rows) == 0:
        return
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    keys, rows = keys[order], rows[order]
    breaks = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
    for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(rows)], strict=True):
        yield (int(keys[start, 0]), int(keys[start, 1])), rows[start:stop]


def _ways_frame(way_attrs: list[dict]) -> pd.DataFrame:
    """The ways' edge tags as columns (missing tags empty)."""
    columns = {name: [d.get(name) for d in way_attrs] for name in _WAY_COLUMNS}
    columns["oneway"] = [bool(d.get("oneway", False)) for d in way_attrs]
    columns["osmid"] = [int(d["osmid"]) for d in way_attrs]
    columns["private"] = [d.get("private") for d in way_attrs]
    columns["way"] = list(range(len(way_attrs)))
    return pd.DataFrame(columns)


def region_graph(part: PartitionedExtract, box_m: tuple[float, float, float, float]) -> nx.MultiDiGraph:
    """The walking graph of every segment whose bounding box meets ``box_m`` (metric, in ``part.crs``).

    Nodes, lengths and tags are those :func:`~lifecircle.geo.network.osm.network_from_osm` gives the same
    segments, so walks inside the box cost exactly what they cost on the whole extract's graph.
    An empty graph (no edge) when no segment meets the box.
    """
    cells = part.cells_in(box_m)
    G = nx.MultiDiGraph(crs="EPSG:4326", source=part.source, simplified=False, walk_filter=WALK_FILTERED)
    seg = _box_segments(part, cells, box_m)
    if seg.empty:
        return G
    ways = pd.concat([pd.read_parquet(part.root / "cells" / f"{ix}_{iy}.ways.parquet") for ix, iy in cells])
    ways = ways.drop_duplicates("way").set_index("way")
    attrs = _way_attrs(ways, seg["way"].unique(), include_private=part.include_private)
    nodes = pd.concat(
        [
            pd.DataFrame({"id": seg["u"], "x": seg["ulon"], "y": seg["ulat"]}),
            pd.DataFrame({"id": seg["v"], "x": seg["vlon"], "y": seg["vlat"]}),
        ]
    ).drop_duplicates("id")
    G.add_nodes_from((int(n), {"x": float(x), "y": float(y)}) for n, x, y in nodes.itertuples(index=False))
    length_m = great_circle_m(seg["ulat"].to_numpy(), seg["ulon"].to_numpy(), seg["vlat"].to_numpy(), seg["vlon"])
    rows = list(
        zip(seg["u"].tolist(), seg["v"].tolist(), seg["way"].tolist(), np.asarray(length_m).tolist(), strict=True)
    )
    G.add_edges_from((a, b, {**attrs[w], "length": d, "reversed": False}) for a, b, w, d in rows)
    G.add_edges_from((b, a, {**attrs[w], "length": d, "reversed": True}) for a, b, w, d in rows)
    return G


@dataclass(frozen=True, eq=False)
class RegionSegments:
    """The walkable segments of a box as arrays: what :func:`region_graph` holds, without a graph.

    Attributes
    ----------
    node_ids
        OSM node ids, in the order of the graph's nodes.
    node_lonlat
        Their WGS84 ``(lon, lat)``, shape ``(n, 2)``.
    u, v
        Node positions of each segment's ends (one row per segment; the graph has both directions).
    length_m
        Great-circle length of each segment (the graph's ``length``).
    highway
        Each segment's ``highway`` tag (``None`` when absent), what steps pricing reads; ``None`` when not read.
    """

    node_ids: np.ndarray
    node_lonlat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray | None

    def directed_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both directions of every segment in the order the graph lists its edges.

        Returns
        -------
        edge_u, edge_v, segment
            Node positions of each directed edge and the segment it walks, ordered as
            :func:`~lifecircle.geo.network.graph.edge_table` reads :func:`region_graph`'s graph: by start node,
            then by the first edge added between the two nodes (all segments forward, then all reversed), then
            by the edge's own turn.
        """
        n = len(self.u)
        src, dst = np.concatenate([self.u, self.v]), np.concatenate([self.v, self.u])
        turn = np.arange(2 * n)
        _, first, inverse = np.unique(src * len(self.node_ids) + dst, return_index=True, return_inverse=True)
        order = np.lexsort((turn, first[inverse], src))
        return src[order], dst[order], turn[order] % max(n, 1)


def region_segments(
    part: PartitionedExtract, box_m: tuple[float, float, float, float], *, highway: bool = True
) -> RegionSegments:
    """The segments :func:`region_graph` would build its graph of, as arrays (same nodes, order and lengths).

    ``highway=False`` leaves the ways' tags unread (``RegionSegments.highway`` is then ``None``).
    """
    cells = part.cells_in(box_m)
    seg = _box_segments(part, cells, box_m)
    if seg.empty:
        empty = np.empty(0, np.int64)
        return RegionSegments(empty, np.empty((0, 2)), empty, empty, np.empty(0), np.empty(0, dtype=object))
    length_m = great_circle_m(seg["ulat"].to_numpy(), seg["ulon"].to_numpy(), seg["vlat"].to_numpy(), seg["vlon"])
    ends = np.concatenate([seg["u"].to_numpy(np.int64), seg["v"].to_numpy(np.int64)])
    lon = np.concatenate([seg["ulon"].to_numpy(float), seg["vlon"].to_numpy(float)])
    lat = np.concatenate([seg["ulat"].to_numpy(float), seg["vlat"].to_numpy(float)])
    ids, first, inverse = np.unique(ends, return_index=True, return_inverse=True)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(ids))  # nodes in order of first appearance, as drop_duplicates keeps
    at = np.sort(first)
    position = rank[inverse]
    return RegionSegments(
        node_ids=ends[at],
        node_lonlat=np.column_stack([lon[at], lat[at]]),
        u=position[: len(seg)],
        v=position[len(seg) :],
        length_m=np.asarray(length_m, dtype=float),
        highway=_highway(part, cells, seg["way"].to_numpy()) if highway else None,
    )


def _highway(part: PartitionedExtract, cells: list[tuple[int, int]], way: np.ndarray) -> np.ndarray:
    """The ``highway`` tag of each way in ``way`` (``None`` when absent), from the cells' way tables."""
    frames = [
        pd.read_parquet(part.root / "cells" / f"{ix}_{iy}.ways.parquet", columns=["way", "highway"]) for ix, iy in cells
    ]
    tag = pd.concat(frames).drop_duplicates("way").set_index("way")["highway"].reindex(way)
    return tag.astype(object).where(tag.notna(), None).to_numpy(dtype=object)


def _box_segments(
    part: PartitionedExtract, cells: list[tuple[int, int]], box_m: tuple[float, float, float, float]
) -> pd.DataFrame:
    """The stored segments of ``cells`` whose bounding box meets ``box_m``, each once, in the cells' order."""
    frames = [pd.read_parquet(part.root / "cells" / f"{ix}_{iy}.parquet") for ix, iy in cells]
    if not frames:
        return pd.DataFrame(columns=["seg", "u", "v", "ulon", "ulat", "vlon", "vlat", "way"])
    seg = pd.concat(frames, ignore_index=True).drop_duplicates("seg")
    to_m = pyproj.Transformer.from_crs(4326, pyproj.CRS.from_wkt(part.crs), always_xy=True)
    ux, uy = to_m.transform(seg["ulon"].to_numpy(), seg["ulat"].to_numpy())
    vx, vy = to_m.transform(seg["vlon"].to_numpy(), seg["vlat"].to_numpy())
    x0, y0, x1, y1 = box_m
    meets = (np.maximum(ux, vx) >= x0) & (np.minimum(ux, vx) <= x1) & (np.maximum(uy, vy) >= y0)
    return seg[meets & (np.minimum(uy, vy) <= y1)]


def _way_attrs(ways: pd.DataFrame, used: np.ndarray, *, include_private: bool) -> dict[int, dict]:
    """Edge tags of the ways used, as :func:`~lifecircle.geo.network.osm.osm_segments` made them."""
    out: dict[int, dict] = {}
    records = ways.loc[used].to_dict("records")
    for w, row in zip(used.tolist(), records, strict=True):
        attrs = {k: row[k] for k in _WAY_COLUMNS if row[k] is not None and not pd.isna(row[k])}
        attrs["oneway"] = bool(row["oneway"])
        attrs["osmid"] = int(row["osmid"])
        if include_private:
            attrs["private"] = bool(row["private"])
        out[w] = attrs
    return out


def load_partition(root: str | Path) -> PartitionedExtract:
    """A partitioned extract written earlier by :func:`partition_extract`."""
    root = Path(root)
    meta = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    return PartitionedExtract(
        root=root,
        crs=meta["crs"],
        cell_m=float(meta["cell_m"]),
        cells=frozenset(tuple(c) for c in meta["cells"]),
        source=meta["source"],
        include_private=bool(meta.get("include_private", False)),
    )
