"""Walking networks as osmnx-style ``networkx.MultiDiGraph``: from OSM files, GraphML, or osmnx when online.

Every builder returns a graph in osmnx conventions: ``G.graph["crs"]`` set, nodes with ``x``/``y``, edges with
``length`` in metres, ``highway``, ``osmid``; both directions of every walkable way (one-way streets are walkable
both ways). Graphs from OSM files are unsimplified: every edge is a straight segment between two OSM nodes, so
snapping to an edge is exact without edge geometries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from lifecircle.errors import InputError, NetworkError
from lifecircle.geo.network.walkfilter import is_private, is_walkable

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_009.0  # osmnx.distance.EARTH_RADIUS_M
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml", ".osm.xml")
_EDGE_TAGS = ("highway", "name", "access", "foot", "service", "bridge", "tunnel", "layer", "incline")
#: Graph attribute of networks whose ways already passed the walk filter (saved GraphML keeps it).
WALK_FILTERED = "osmnx walk, applied by lifecircle"
#: Way tags the walk filter reads that osmnx leaves out of graphs unless ``ox.settings.useful_tags_way`` keeps them.
WALK_TAGS = ("foot", "sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def great_circle_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between arrays of WGS84 points (haversine, osmnx's radius)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlam = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _is_osm_file(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in OSM_SUFFIXES)


@dataclass(frozen=True, eq=False)
class OsmSegments:
    """The walkable segments of an OSM extract as arrays (one per pair of consecutive way nodes).

    ``u``/``v`` are OSM node ids, ``ui``/``vi`` their positions in ``node_ids``/``node_xy`` (WGS84 lon, lat),
    ``way`` the position of the segment's way in ``way_attrs`` (the edge tags of :func:`network_from_osm`).
    """

    u: np.ndarray
    v: np.ndarray
    ui: np.ndarray
    vi: np.ndarray
    way: np.ndarray
    node_ids: np.ndarray
    node_xy: np.ndarray
    way_attrs: list[dict]


def osm_segments(path: Path, *, include_private: bool = False) -> OsmSegments:
    """Read the walkable segments of an OSM file once (the reading half of :func:`network_from_osm`).

    Raises
    ------
    InputError
        The file cannot be read as OSM data.
    NetworkError
        The file holds no walkable way.
    """
    import osmium

    us: list[int] = []
    vs: list[int] = []
    way_of_segment: list[int] = []
    way_attrs: list[dict] = []
    coords: dict[int, tuple[float, float]] = {}
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for obj in processor:
            if not obj.is_way():
                continue
            tags = dict(obj.tags)
            if not is_walkable(tags, include_private=include_private):
                continue
            attrs = {key: tags[key] for key in _EDGE_TAGS if key in tags}
            attrs["oneway"] = tags.get("oneway", "no") in ("yes", "true", "1", "-1")
            attrs["osmid"] = obj.id
            if include_private:
                attrs["private"] = is_private(tags)
            way_index = len(way_attrs)
            way_attrs.append(attrs)
            previous = None
            for ref in obj.nodes:
                location = ref.location
                if not location.valid():
                    previous = None  # node missing from a clipped extract: split the way here
                    continue
                coords[ref.ref] = (location.lon, location.lat)
                if previous is not None and previous != ref.ref:
                    us.append(previous)
                    vs.append(ref.ref)
                    way_of_segment.append(way_index)
                previous = ref.ref
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        raise InputError(f"Network file {path} could not be read as OSM data: {exc}.") from exc

    if not us:
        raise NetworkError(f"Network file {path} holds no walkable way (osmnx 'walk' filter).")

    node_ids = np.fromiter(coords.keys(), dtype=np.int64, count=len(coords))
    node_xy = np.array(list(coords.values()), dtype=float)
    position = {node: i for i, node in enumerate(node_ids.tolist())}
    return OsmSegments(
        u=np.asarray(us, dtype=np.int64),
        v=np.asarray(vs, dtype=np.int64),
        ui=np.fromiter((position[n] for n in us), dtype=np.int64, count=len(us)),
        vi=np.fromiter((position[n] for n in vs), dtype=np.int64, count=len(vs)),
        way=np.asarray(way_of_segment, dtype=np.int64),
        node_ids=node_ids,
        node_xy=node_xy,
        way_attrs=way_attrs,
    )


def network_from_osm(
    path: str | Path,
    *,
    include_private: bool = False,
    bbox: Sequence[float] | None = None,
) -> nx.MultiDiGraph:
    """Build the walking network from an OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``).

    Ways pass osmnx's ``walk`` filter (see :mod:`~lifecircle.geo.network.walkfilter`). Ways whose nodes are missing from
    a clipped extract are split at the gaps rather than dropped.

    Parameters
    ----------
    path
        The OSM file; read with pyosmium, which handles XML, compressed XML and PBF alike.
    include_private
        Also keep ``access=private`` ways (edges carry ``private=True``), for gated-compound rules.
    bbox
        Optional ``(west, south, east, north)`` in WGS84 degrees: keep only segments with an end inside it.

    Returns
    -------
    networkx.MultiDiGraph
        In EPSG:4326, both directions of every walkable segment, ``length`` in metres.

    Raises
    ------
    InputError
        The file is missing or is not an OSM file.
    NetworkError
        The file holds no walkable way.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Network file {path} does not exist.")
    if not _is_osm_file(path):
        raise InputError(f"Network file {path} is not an OSM extract (.osm, .osm.bz2, .osm.pbf).")

    segments = osm_segments(path, include_private=include_private)
    u, v, ui, vi, way_idx = segments.u, segments.v, segments.ui, segments.vi, segments.way
    node_ids, node_xy, way_attrs = segments.node_ids, segments.node_xy, segments.way_attrs

    if bbox is not None:
        west, south, east, north = bbox
        inside = (node_xy[:, 0] >= west) & (node_xy[:, 0] <= east) & (node_xy[:, 1] >= south) & (node_xy[:, 1] <= north)
        keep = inside[ui] | inside[vi]
        u, v, ui, vi, way_idx = u[keep], v[keep], ui[keep], vi[keep], way_idx[keep]
        if len(u) == 0:
            raise NetworkError(f"Network file {path} has no walkable way inside the bounding box {tuple(bbox)}.")

    length_m = great_circle_m(node_xy[ui, 1], node_xy[ui, 0], node_xy[vi, 1], node_xy[vi, 0])
    G = nx.MultiDiGraph(crs="EPSG:4326", source=str(path), simplified=False, walk_filter=WALK_FILTERED)
    used = np.unique(np.concatenate([ui, vi]))
    G.add_nodes_from((int(node_ids[i]), {"x": float(node_xy[i, 0]), "y": float(node_xy[i, 1])}) for i in used.tolist())
    rows = list(zip(u.tolist(), v.tolist(), way_idx.tolist(), length_m.tolist(), strict=True))
    _add_edges(G, ((a, b, {**way_attrs[w], "length": d, "reversed": False}) for a, b, w, d in rows))
    _add_edges(G, ((b, a, {**way_attrs[w], "length": d, "reversed": True}) for a, b, w, d in rows))
    log.info("walking network from %s: %d nodes, %d directed edges", path.name, len(G), 2 * len(rows))
    return G


def _add_edges(G: nx.MultiDiGraph, edges: Iterable[tuple[int, int, dict]]) -> None:
    """``G.add_edges_from(edges)`` for nodes already in ``G``, written into its adjacency directly (7× faster).

    Each edge gets the next free key of its node pair and its own data dict, in order, exactly as networkx's
    :meth:`~networkx.MultiDiGraph.add_edge` does (``tests/test_network_cache.py`` checks the graphs are equal).
    """
    succ, pred = G._succ, G._pred
    for a, b, data in edges:
        keydict = succ[a].get(b)
        if keydict is None:
            keydict = succ[a][b] = {}
            pred[b][a] = keydict
            key = 0
        else:
            key = len(keydict)
            while key in keydict:
                key += 1
        keydict[key] = data
    clear = getattr(nx, "_clear_cache", None)  # networkx >= 3.3 caches views of the adjacency
    if clear is not None:
        clear(G)


def network_from_graphml(path: str | Path, *, include_private: bool = False) -> nx.MultiDiGraph:
    """Load a walking network saved as GraphML by osmnx (``ox.save_graphml``) or by lifecircle.

    A graph of OSM ways (edges with ``highway`` tags) gets the same walk filter as an OSM extract: edges with no
    ``highway`` tag (building or landuse outlines of ``ox.graph_from_xml``) or failing it (motorways, ``foot=no``,
    private access) are left out, and a street stored in one direction only (a drive network's one-way street)
    gains its reverse. A graph without any ``highway`` tag is a user's own network and is kept whole.

    Parameters
    ----------
    path
        The GraphML file.
    include_private
        Keep ``access=private`` ways, flagged ``private=True`` on their edges.

    Raises
    ------
    InputError
        The file is missing or is not an osmnx GraphML graph, or its OSM ways lack the ``foot`` and ``sidewalk``
        tags the walk filter reads (osmnx drops them unless ``ox.settings.useful_tags_way`` keeps them).
    NetworkError
        The graph has no edge, or no walkable one.
    """
    import osmnx as ox

    path = Path(path)
    if not path.exists():
        raise InputError(f"Network file {path} does not exist.")
    try:
        G = ox.load_graphml(path)
    except Exception as exc:
        raise InputError(f"Network file {path} could not be read as an osmnx GraphML graph: {exc}.") from exc
    if "crs" not in G.graph:
        raise InputError(f"Network file {path} does not say its coordinate reference system (graph attribute 'crs').")
    if G.number_of_edges() == 0:
        raise NetworkError(f"Network file {path} holds no edges.")
    walkable = walkable_graph(G, include_private=include_private, source=f"Network file {path}")
    _require_walk_tags(G, path)
    return walkable


def _require_walk_tags(G: nx.MultiDiGraph, path: Path) -> None:
    """Refuse a graph of OSM ways saved without the tags the walk filter reads (``foot``, ``sidewalk``).

    osmnx keeps only ``ox.settings.useful_tags_way`` on its edges, by default without ``foot`` and ``sidewalk``:
    its graph would walk ``foot=no`` roads and roads drawn with ``sidewalk=separate``. A graph that lifecircle
    filtered itself, or a user's own network without OSM tags, needs none.
    """
    if G.graph.get("walk_filter") == WALK_FILTERED:
        return
    keys = set()
    osm_ways = False
    for *_, data in G.edges(keys=True, data=True):
        osm_ways = osm_ways or "highway" in data
        keys.update(k for k in WALK_TAGS if k in data)
    if osm_ways and not keys:
        raise InputError(
            f"Network file {path} has no foot or sidewalk tags on any street, so lifecircle cannot leave out "
            "foot=no roads and roads walked on separate sidewalks; save the GraphML with those tags kept "
            '(ox.settings.useful_tags_way += ["foot", "sidewalk", "sidewalk:both", "sidewalk:left", '
            '"sidewalk:right"] before building the graph) or pass the OSM extract (.osm, .osm.pbf) instead.'
        )


def walkable_graph(
    G: nx.MultiDiGraph, *, include_private: bool = False, source: str = "The network"
) -> nx.MultiDiGraph:
    """The walking network within a graph of OSM ways, both directions of every street (``G`` is not modified).

    Edges are judged by their tags as :func:`lifecircle.geo.network.walkfilter.is_walkable` judges ways; an edge merged
    from several ways by simplification (list-valued tags) is walkable when each of its ways is. A graph with no
    ``highway`` tag on any edge is returned as a copy, unfiltered.

    Raises
    ------
    NetworkError
        No edge is walkable.
    """
    edges = list(G.edges(keys=True, data=True))
    if not any("highway" in d for *_, d in edges):
        return G.copy()
    keep = [(u, v, k, d) for u, v, k, d in edges if _edge_walkable(d, include_private)]
    if not keep:
        raise NetworkError(f"{source} holds no walkable way (osmnx 'walk' filter).")
    H = nx.MultiDiGraph(**G.graph)
    H.add_edges_from((u, v, k, dict(d)) for u, v, k, d in keep)
    H.add_nodes_from((n, G.nodes[n]) for n in list(H.nodes))
    directed = {(u, v) for u, v, _, _ in keep}
    added = 0
    for u, v, _, d in keep:
        if (v, u) not in directed:
            back = {**d, "reversed": not d.get("reversed", False)}
            if "geometry" in d:
                back["geometry"] = d["geometry"].reverse()
            H.add_edge(v, u, **back)
            added += 1
    if include_private:
        for *_, d in H.edges(keys=True, data=True):
            d.setdefault("private", is_private({k: _tag_text(d.get(k)) for k in ("access", "service")}))
    dropped = len(edges) - len(keep)
    if dropped or added:
        log.info("%s: %d edges not walkable left out, %d one-way edges walkable both ways", source, dropped, added)
    return H


def _tag_text(value) -> str:
    """A tag value as text; list values (edges merged by simplification) joined with ';'."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ";".join(map(str, value))
    return str(value)


def _edge_walkable(data: dict, include_private: bool) -> bool:
    """Whether every way of an edge passes the walk filter (tags read from the edge's attributes)."""
    if "highway" not in data:
        return False
    highways = data["highway"] if isinstance(data["highway"], (list, tuple, set)) else [data["highway"]]
    tags = {key: _tag_text(value) for key, value in data.items() if isinstance(value, (str, list, tuple, set))}
    return all(is_walkable({**tags, "highway": str(h)}, include_private=include_private) for h in highways)


def network_from_bbox(
    bbox: Sequence[float], *, cache_dir: str | Path = "lifecircle-cache", include_private: bool = False
) -> nx.MultiDiGraph:
    """Download the walking network of a WGS84 bounding box ``(west, south, east, north)`` with osmnx.

    Needs the internet; responses are cached in ``cache_dir`` so a second run works offline.

    Raises
    ------
    NetworkError
        The download failed (for example with no internet connection).
    """
    import osmnx as ox

    _use_cache(cache_dir)
    try:
        G = ox.graph_from_bbox(
            tuple(bbox), network_type="all" if include_private else "walk", simplify=False, retain_all=True
        )
    except Exception as exc:
        raise NetworkError(
            f"Could not download the walking network for bbox {tuple(bbox)} ({exc}); "
            "offline, pass an .osm/.osm.pbf extract with --network."
        ) from exc
    return G


def network_from_place(
    place: str, *, cache_dir: str | Path = "lifecircle-cache", include_private: bool = False
) -> nx.MultiDiGraph:
    """Download the walking network of a named place (geocoded by Nominatim) with osmnx, cached on disk.

    Raises
    ------
    NetworkError
        Geocoding or download failed (for example with no internet connection).
    """
    import osmnx as ox

    _use_cache(cache_dir)
    try:
        G = ox.graph_from_place(
            place, network_type="all" if include_private else "walk", simplify=False, retain_all=True
        )
    except Exception as exc:
        raise NetworkError(
            f"Could not download the walking network of {place!r} ({exc}); "
            "offline, pass an .osm/.osm.pbf extract with --network."
        ) from exc
    return G


def _use_cache(cache_dir: str | Path) -> None:
    import osmnx as ox

    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir)


def load_network(source: str | Path, *, include_private: bool = False) -> nx.MultiDiGraph:
    """Build the walking network from what a user names on the command line.

    Parameters
    ----------
    source
        An OSM extract, a GraphML file, or ``place:<name>`` / ``bbox:<west>,<south>,<east>,<north>`` to download
        with osmnx (online only, cached).
    include_private
        Keep ``access=private`` ways, flagged on the edges.
    """
    text = str(source)
    if text.startswith("place:"):
        return network_from_place(text.removeprefix("place:"), include_private=include_private)
    if text.startswith("bbox:"):
        try:
            bbox = [float(part) for part in text.removeprefix("bbox:").split(",")]
        except ValueError:
            bbox = []
        west, south, east, north = bbox if len(bbox) == 4 else (np.nan,) * 4
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):  # NaN fails every comparison
            raise InputError(
                f"Network {text!r}: a bbox is 'bbox:west,south,east,north' in WGS84 degrees, west below east "
                "and south below north."
            )
        return network_from_bbox(bbox, include_private=include_private)
    path = Path(text)
    if path.suffix.lower() == ".graphml":
        return network_from_graphml(path, include_private=include_private)
    if not path.exists():
        raise InputError(f"Network file {path} does not exist.")
    if _is_osm_file(path):
        return network_from_osm(path, include_private=include_private)
    raise InputError(
        f"Network file {path} has an unknown format: give an OSM extract (.osm, .osm.bz2, .osm.pbf) or GraphML."
    )
