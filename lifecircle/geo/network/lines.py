"""Walking networks from local road layers (planning-bureau centrelines, footpath surveys), and merging with OSM.

:func:`network_from_lines` nodes a line layer where lines cross — but only lines on the same level: a bridge
(level 1) crossing a street (level 0) does not meet it; lines of different levels meet only at shared ends.
:func:`merge_networks` fills the gaps of an OSM network with the local segments OSM lacks and reports what each
source added.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.ops import substring

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.crs import metric_crs_for_lonlat
from lifecircle.geo.network.graph import prepare_network

log = logging.getLogger(__name__)

LEVEL_COLUMNS = ("level", "z_level", "zlevel", "layer")  # looked for when no level column is named
DEFAULT_SNAP_M = 0.5
DEFAULT_JOIN_M = 20.0
DEFAULT_COVER_M = 8.0
_RESERVED = {"geometry", "length", "osmid", "private", "reversed"}


def _read_lines(source: str | Path | gpd.GeoDataFrame, layer: str | None) -> tuple[gpd.GeoDataFrame, str]:
    if isinstance(source, gpd.GeoDataFrame):
        return source.copy(), "the line layer"
    path = Path(source)
    if not path.exists():
        raise InputError(f"Line layer {path} does not exist.")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:
        raise InputError(f"Line layer {path} could not be read: {exc}.") from exc
    return gdf, str(path)


def network_from_lines(
    source: str | Path | gpd.GeoDataFrame,
    *,
    level_column: str | None = None,
    layer: str | None = None,
    snap_m: float = DEFAULT_SNAP_M,
) -> nx.MultiDiGraph:
    """Build the walking network from a line layer of road centrelines or footpaths.

    Parameters
    ----------
    source
        A Shapefile, GeoPackage or GeoJSON path (any CRS, which must be declared), or a GeoDataFrame of lines.
    level_column
        Column giving each line's level (0 ground, 1 bridge, -1 tunnel, ...). Lines of one level are split where
        they cross; lines of different levels connect only where their ends meet. Without it, ``level``,
        ``z_level``, ``zlevel`` or ``layer`` are used when present, else every line is on one level.
    layer
        Layer name inside a GeoPackage.
    snap_m
        Line ends closer than this are one node (digitising noise).

    Returns
    -------
    networkx.MultiDiGraph
        In a metric CRS (the layer's own if projected, else the local UTM zone): nodes with ``x``/``y``, both
        directions of every piece with ``length`` (metres), ``geometry`` (oriented from ``u`` to ``v``),
        ``level`` and the layer's other columns as attributes.

    Raises
    ------
    InputError
        The file is missing or unreadable, has no CRS, no lines, or the named level column is absent.
    """
    gdf, name = _read_lines(source, layer)
    if gdf.crs is None:
        raise InputError(f"{name} does not declare its coordinate reference system.")
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    gdf = gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])].explode(index_parts=False)
    if gdf.empty:
        raise InputError(f"{name} holds no lines.")
    if gdf.crs.is_geographic:
        lon, lat = shapely.get_coordinates(gdf.geometry.to_numpy()).T
        gdf = gdf.to_crs(metric_crs_for_lonlat(lon, lat, source_crs=gdf.crs))
    crs = gdf.crs
    if level_column is None:
        level_column = next((c for c in LEVEL_COLUMNS if c in gdf.columns), None)
    elif level_column not in gdf.columns:
        raise InputError(f"{name} has no level column {level_column!r}.")
    if level_column is not None:
        levels = pd.to_numeric(gdf[level_column], errors="coerce").fillna(0).to_numpy(dtype=float)
        log.info("line layer levels from column %r: %s", level_column, sorted(set(levels.tolist())))
    else:
        levels = np.zeros(len(gdf))
    attr_cols = [c for c in gdf.columns if c != gdf.geometry.name and c not in _RESERVED]
    lines = gdf.geometry.to_numpy()

    pieces, piece_level, piece_source = [], [], []
    for level in np.unique(levels):
        members = np.flatnonzero(levels == level)
        noded = shapely.get_parts(shapely.node(shapely.multilinestrings(lines[members])))
        noded = noded[shapely.length(noded) > 0]
        # each piece inherits the attributes of the line it lies on
        tree = shapely.STRtree(lines[members])
        _, nearest = tree.query_nearest(shapely.line_interpolate_point(noded, 0.5, normalized=True), all_matches=False)
        pieces.append(noded)
        piece_level.append(np.full(len(noded), level))
        piece_source.append(members[nearest])
    pieces = np.concatenate(pieces)
    piece_level = np.concatenate(piece_level)
    piece_source = np.concatenate(piece_source)

    # nodes: piece ends, merged within snap_m (across levels too: shared ends connect)
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, i)) for i in (0, -1)])
    pairs = cKDTree(ends).query_pairs(snap_m, output_type="ndarray")
    n_ends = len(ends)
    adjacency = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_ends, n_ends))
    _, cluster = connected_components(adjacency, directed=False)
    first = pd.Series(np.arange(n_ends)).groupby(cluster).first().to_numpy()
    node_xy = ends[first]
    u, v = cluster[: len(pieces)], cluster[len(pieces) :]
    loop = u == v
    if loop.any():
        log.info("%d closed line pieces touch nothing and are left out", int(loop.sum()))
    keep = ~loop
    pieces, piece_level, piece_source, u, v = pieces[keep], piece_level[keep], piece_source[keep], u[keep], v[keep]
    length = shapely.length(pieces)
    attrs = gdf[attr_cols].iloc[piece_source].reset_index(drop=True)
    records = attrs.astype(object).where(attrs.notna(), None).to_dict("records")

    G = nx.MultiDiGraph(crs=crs, source=name, simplified=False)
    used = np.unique(np.concatenate([u, v]))
    G.add_nodes_from((int(i), {"x": float(node_xy[i, 0]), "y": float(node_xy[i, 1])}) for i in used.tolist())
    reverse = shapely.reverse(pieces)
    rows = zip(u.tolist(), v.tolist(), length.tolist(), piece_level.tolist(), records, pieces, reverse, strict=True)
    for a, b, d, lev, rec, geom, back in rows:
        clean = {k: val for k, val in rec.items() if val is not None}
        G.add_edge(a, b, **clean, length=d, level=lev, geometry=geom)
        G.add_edge(b, a, **clean, length=d, level=lev, geometry=back, reversed=True)
    if G.number_of_edges() == 0:
        raise NetworkError(f"{name} holds no usable line piece.")
    log.info("walking network from %s: %d nodes, %d directed edges", name, len(G), G.number_of_edges())
    return G


@dataclass(frozen=True, eq=False)
class MergeReport:
    """What each source added to a merged network.

    Attributes
    ----------
    table
        One row per source — ``osm``, ``local added``, ``local already in OSM``, ``connections`` — with
        ``km`` (street length, each street counted once), ``segments`` and ``nodes`` (new nodes).
    join_m, cover_m
        The distances used.
    """

    table: pd.DataFrame
    join_m: float
    cover_m: float

    def km(self, source: str) -> float:
        """Kilometres of street of one source row."""
        return float(self.table.loc[source, "km"])


def _undirected_edges(G: nx.MultiDiGraph) -> list[tuple]:
    """One (u, v, data) per undirected node pair."""
    seen: set[tuple] = set()
    out = []
    for u, v, d in G.edges(data=True):
        key = (u, v) if str(u) <= str(v) else (v, u)
        if u == v or key in seen:
            continue
        seen.add(key)
        out.append((u, v, d))
    return out


def _edge_lines(G: nx.MultiDiGraph, edges: list[tuple], transformer: pyproj.Transformer | None) -> np.ndarray:
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    lines = np.array(
        [d["geometry"] if d.get("geometry") is not None else shapely.LineString([xy[u], xy[v]]) for u, v, d in edges],
        dtype=object,
    )
    if transformer is not None:
        lines = shapely.transform(lines, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
    return lines


def merge_networks(
    osm_G: nx.MultiDiGraph,
    lines_G: nx.MultiDiGraph,
    *,
    join_m: float = DEFAULT_JOIN_M,
    cover_m: float = DEFAULT_COVER_M,
) -> tuple[nx.MultiDiGraph, MergeReport]:
    """Fill the gaps of an OSM walking network with local line segments that OSM lacks.

    A local segment is already in OSM when points at 10 %, 50 % and 90 % of it all lie within ``cover_m`` of an
    OSM street; the others are added. Their ends that are dead ends in the local layer, or that met a local
    segment already in OSM, are joined to the nearest point of the nearest OSM street within ``join_m`` (the
    street is split there).

    Parameters
    ----------
    osm_G
        The OSM walking network (not modified).
    lines_G
        A network from :func:`network_from_lines` (any CRS; not modified).
    join_m
        Largest connector from a local end to an OSM street, in metres.
    cover_m
        Largest offset of a local segment from an OSM street that still counts as the same street.

    Returns
    -------
    (networkx.MultiDiGraph, MergeReport)
        The merged graph in ``osm_G``'s CRS (added edges carry ``source="local"``, connectors
        ``source="connector"`` and ``highway="footway"``), and the report.
    """
    net = prepare_network(osm_G)
    osm_crs = pyproj.CRS.from_user_input(osm_G.graph["crs"])
    lines_crs = pyproj.CRS.from_user_input(lines_G.graph["crs"])
    to_work = None if lines_crs == net.crs else pyproj.Transformer.from_crs(lines_crs, net.crs, always_xy=True)
    to_osm = None if net.crs == osm_crs else pyproj.Transformer.from_crs(net.crs, osm_crs, always_xy=True)

    local = _undirected_edges(lines_G)
    lines = _edge_lines(lines_G, local, to_work)
    samples = np.stack([shapely.line_interpolate_point(lines, f, normalized=True) for f in (0.1, 0.5, 0.9)], axis=1)
    (idx, _), _ = net.tree.query_nearest(samples.ravel(), max_distance=cover_m, return_distance=True)
    near = np.zeros(samples.size, dtype=bool)
    near[idx] = True
    covered = near.reshape(samples.shape).all(axis=1)
    added = np.flatnonzero(~covered)

    G = osm_G.copy()
    node_ids = {n: -(i + 1) for i, n in enumerate(lines_G.nodes)}  # negative ids never clash with OSM ids
    local_xy = {n: (d["x"], d["y"]) for n, d in lines_G.nodes(data=True)}
    added_nodes = sorted({n for i in added.tolist() for n in local[i][:2]}, key=str)
    if added_nodes:
        pts = np.array([local_xy[n] for n in added_nodes], dtype=float)
        if to_work is not None:
            pts = np.column_stack(to_work.transform(pts[:, 0], pts[:, 1]))
        work_xy = dict(zip(added_nodes, pts.tolist(), strict=True))
        out = pts if to_osm is None else np.column_stack(to_osm.transform(pts[:, 0], pts[:, 1]))
        G.add_nodes_from(
            (node_ids[n], {"x": float(x), "y": float(y)}) for n, (x, y) in zip(added_nodes, out, strict=True)
        )
    else:
        work_xy = {}
    out_lines = lines[added]
    if to_osm is not None and len(out_lines):
        out_lines = shapely.transform(out_lines, lambda c: np.column_stack(to_osm.transform(c[:, 0], c[:, 1])))
    lengths = shapely.length(lines[added])
    for i, geom, length in zip(added.tolist(), out_lines, lengths.tolist(), strict=True):
        a, b, data = local[i]
        attrs = {k: val for k, val in data.items() if k not in ("geometry", "reversed", "length")}
        attrs["source"] = "local"
        G.add_edge(node_ids[a], node_ids[b], **attrs, length=length, geometry=geom)
        G.add_edge(node_ids[b], node_ids[a], **attrs, length=length, geometry=shapely.reverse(geom), reversed=True)

    # ends to join: dead ends of the local layer, and ends that met a local segment already in OSM
    covered_nodes = {n for i in np.flatnonzero(covered).tolist() for n in local[i][:2]}
    to_join = [n for n in added_nodes if n in covered_nodes or lines_G.degree(n) <= 2]  # degree counts both directions
    n_conn, conn_km, split_nodes = _connect(
        G, net, to_osm, [node_ids[n] for n in to_join], [work_xy[n] for n in to_join], join_m, -(len(node_ids) + 1)
    )

    osm_km = float(shapely.length(net.segment_lines).sum()) / 1000
    table = pd.DataFrame(
        {
            "km": [osm_km, float(lengths.sum()) / 1000, float(shapely.length(lines[covered]).sum()) / 1000, conn_km],
            "segments": [len(net.segment_u), len(added), int(covered.sum()), n_conn],
            "nodes": [net.n_nodes, len(added_nodes), 0, split_nodes],
        },
        index=pd.Index(["osm", "local added", "local already in OSM", "connections"], name="source"),
    )
    log.info("merged networks:\n%s", table.to_string())
    return G, MergeReport(table=table, join_m=float(join_m), cover_m=float(cover_m))


def _connect(
    G: nx.MultiDiGraph,
    net,
    to_osm: pyproj.Transformer | None,
    nodes: list,
    xy: list,
    join_m: float,
    first_id: int,
) -> tuple[int, float, int]:
    """Join local nodes to the nearest point of the nearest OSM segment (split there). Returns count, km, splits."""
    if not nodes:
        return 0, 0.0, 0
    pts = shapely.points(np.asarray(xy, dtype=float))
    pi, seg = net.tree.query_nearest(pts, max_distance=join_m, all_matches=False)
    if len(pi) == 0:
        return 0, 0.0, 0
    seg_lines = net.segment_lines[seg]
    along = shapely.line_locate_point(seg_lines, pts[pi])
    seg_len = shapely.length(seg_lines)
    targets: list = []
    new_nodes = 0
    # group joins by segment; split each touched segment once at all its join points
    frame = pd.DataFrame({"p": pi, "seg": seg, "along": along, "len": seg_len})
    for s, group in frame.groupby("seg", sort=False):
        line = net.segment_lines[s]
        u_id, v_id = net.node_ids[net.segment_u[s]], net.node_ids[net.segment_v[s]]
        total = float(group["len"].iloc[0])
        at: dict[float, object] = {}
        for p, a in zip(group["p"].tolist(), group["along"].tolist(), strict=True):
            if a <= 1.0:
                targets.append((p, u_id))
            elif a >= total - 1.0:
                targets.append((p, v_id))
            else:
                key = round(a, 3)
                if key not in at:
                    at[key] = first_id - new_nodes
                    new_nodes += 1
                targets.append((p, at[key]))
        if at:
            _split_segment(G, line, u_id, v_id, sorted(at.items()), to_osm)
    count, km = 0, 0.0
    for p, target in targets:
        a = nodes[p]
        gx, gy = G.nodes[a]["x"], G.nodes[a]["y"]
        tx, ty = G.nodes[target]["x"], G.nodes[target]["y"]
        d = float(np.hypot(*(np.asarray(xy[p]) - _work_xy(net, G, target, to_osm))))
        attrs = {"highway": "footway", "source": "connector", "length": d}
        G.add_edge(a, target, **attrs, geometry=shapely.LineString([(gx, gy), (tx, ty)]))
        G.add_edge(target, a, **attrs, geometry=shapely.LineString([(tx, ty), (gx, gy)]), reversed=True)
        count += 1
        km += d / 1000
    return count, km, new_nodes


def _work_xy(net, G: nx.MultiDiGraph, node, to_osm: pyproj.Transformer | None) -> np.ndarray:
    x, y = G.nodes[node]["x"], G.nodes[node]["y"]
    if to_osm is None:
        return np.array([x, y])
    return np.array(to_osm.transform(x, y, direction="INVERSE"))


def _split_segment(G: nx.MultiDiGraph, line, u_id, v_id, cuts: list, to_osm: pyproj.Transformer | None) -> None:
    """Replace the edges between ``u_id`` and ``v_id`` by a chain through new nodes at the cut distances."""
    total = line.length
    dists = [0.0] + [d for d, _ in cuts] + [total]
    chain = [u_id] + [key for _, key in cuts] + [v_id]
    for d, key in cuts:
        p = line.interpolate(d)
        x, y = (p.x, p.y) if to_osm is None else to_osm.transform(p.x, p.y)
        G.add_node(key, x=float(x), y=float(y))
    originals = [(a, b, k, dict(data)) for a, b, k, data in G.edges(keys=True, data=True) if {a, b} == {u_id, v_id}]
    for a, b, k, data in originals:
        G.remove_edge(a, b, key=k)
        forward = a == u_id
        for i in range(len(chain) - 1):
            part = substring(line, dists[i], dists[i + 1])
            if to_osm is not None:
                part = shapely.transform(part, lambda c: np.column_stack(to_osm.transform(c[:, 0], c[:, 1])))
            attrs = {**data, "length": data["length"] * (dists[i + 1] - dists[i]) / total if total else 0.0}
            if forward:
                G.add_edge(chain[i], chain[i + 1], **{**attrs, "geometry": part})
            else:
                G.add_edge(chain[i + 1], chain[i], **{**attrs, "geometry": shapely.reverse(part)})
