"""Hills: elevation from a DEM and walking effort by Tobler's hiking function, different uphill and downhill.

Tobler (1993): walking speed ``6 · exp(-3.5 · |dh/dx + 0.05|)`` km/h, fastest on a gentle 5 % descent. Here it is
used relative to flat ground, so a walker's own flat speed (an adult's, an elderly walker's, ...) is kept::

    factor(grade) = exp(-3.5 · (|grade + 0.05| - 0.05))      # 1 on the flat, < 1 uphill and on steep descents

Each directed edge gets ``effort_m``: its flat-equivalent length, the sum over pieces of ``length / factor(grade)``
(long edges are sampled every ``sample_m`` along their geometry). Walking time is ``effort_m`` at the walker's
flat speed, so uphill and downhill differ and the graph becomes directed for time. Because ``effort_m`` is in
metres, the coverage engine runs unchanged with ``prepare_network(G, weight="effort_m")`` and the walker's
``speed_kmh``; ``walk_min`` is then the walking time on the slopes and ``walk_m`` the flat-equivalent distance.
"""

from __future__ import annotations

import logging
from pathlib import Path

import networkx as nx
import numpy as np
import pyproj
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import metric_crs_for_lonlat
from lifecircle.geo.network.graph import PreparedNetwork, prepare_network
from lifecircle.geo.reach.coverage import CoverageResult, coverage
from lifecircle.geo.validate import require_positive
from lifecircle.geo.walkers.compare import ScenarioComparison

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_M = 25.0
_MIN_PIECE_M = 0.05


def tobler_kmh(grade: np.ndarray | float) -> np.ndarray:
    """Tobler's hiking speed in km/h for a grade (rise over run; positive uphill)."""
    return 6.0 * np.exp(-3.5 * np.abs(np.asarray(grade, dtype=float) + 0.05))


def tobler_factor(grade: np.ndarray | float) -> np.ndarray:
    """Walking speed on ``grade`` relative to flat ground, by Tobler's function (1 at grade 0, peak 1.19 at -5 %)."""
    return np.exp(-3.5 * (np.abs(np.asarray(grade, dtype=float) + 0.05) - 0.05))


def is_steps(highway: object) -> bool:
    """True for ``highway=steps`` (also inside an osmnx list of highway values)."""
    if isinstance(highway, (list, tuple, set)):
        return "steps" in highway
    return highway == "steps"


def sample_dem(dem_path: str | Path, x: np.ndarray, y: np.ndarray, crs: pyproj.CRS | str) -> np.ndarray:
    """Elevation at points by bilinear interpolation of a DEM (GeoTIFF, any CRS).

    Parameters
    ----------
    dem_path
        The DEM raster, read with rasterio (band 1).
    x, y
        Point coordinates in ``crs``.
    crs
        CRS of the points; they are reprojected to the DEM's CRS.

    Returns
    -------
    numpy.ndarray
        Elevation in the DEM's units (metres), NaN outside the DEM or on nodata cells.
    """
    import rasterio
    from rasterio.windows import Window

    dem_path = Path(dem_path)
    if not dem_path.exists():
        raise InputError(f"DEM {dem_path} does not exist.")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    try:
        src = rasterio.open(dem_path)
    except Exception as exc:
        raise InputError(f"DEM {dem_path} could not be read as a raster: {exc}.") from exc
    with src:
        if src.crs is None:
            raise InputError(f"DEM {dem_path} does not declare its coordinate reference system.")
        dem_crs = pyproj.CRS.from_user_input(src.crs.to_wkt())
        if dem_crs != pyproj.CRS.from_user_input(crs):
            x, y = pyproj.Transformer.from_crs(crs, dem_crs, always_xy=True).transform(x, y)
        inverse = ~src.transform
        col = inverse.a * x + inverse.b * y + inverse.c - 0.5  # pixel-centre coordinates
        row = inverse.d * x + inverse.e * y + inverse.f - 0.5
        out = np.full(len(col), np.nan)
        inside = (col > -0.5) & (row > -0.5) & (col < src.width - 0.5) & (row < src.height - 0.5)
        if not inside.any():
            return out
        c0 = int(max(np.floor(col[inside].min()), 0))
        r0 = int(max(np.floor(row[inside].min()), 0))
        c1 = int(min(np.floor(col[inside].max()) + 2, src.width))
        r1 = int(min(np.floor(row[inside].max()) + 2, src.height))
        band = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True).astype(float).filled(np.nan)
    band = np.pad(band, 1, mode="edge")  # a border cell so every point has four neighbours
    cc, rr = col[inside] - c0 + 1, row[inside] - r0 + 1
    ci, ri = np.floor(cc).astype(np.int64), np.floor(rr).astype(np.int64)
    fc, fr = cc - ci, rr - ri
    top = band[ri, ci] * (1 - fc) + band[ri, ci + 1] * fc
    bottom = band[ri + 1, ci] * (1 - fc) + band[ri + 1, ci + 1] * fc
    out[inside] = top * (1 - fr) + bottom * fr
    return out


def apply_terrain(
    G: nx.MultiDiGraph,
    dem_path: str | Path,
    *,
    sample_m: float = DEFAULT_SAMPLE_M,
) -> nx.MultiDiGraph:
    """A copy of the walking graph with elevations and directed walking effort from a DEM.

    Walking time is ``effort_m`` at the walker's flat speed; steps are priced on top of it by the walk
    (:meth:`lifecircle.geo.walk.Walk.cost_graph`), not here.

    Parameters
    ----------
    G
        osmnx-style walking graph (not modified).
    dem_path
        GeoTIFF DEM in any CRS (metres of elevation).
    sample_m
        Edges longer than this are sampled along their geometry at about this spacing.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes gain ``elevation`` (m); each directed edge gains ``rise_m`` (end minus start), ``grade``,
        ``effort_m`` (flat-equivalent metres by Tobler, no step penalty). Where the DEM has no value the ground
        counts as flat (logged).
    """
    require_positive(sample_m, "The DEM sampling distance", "m")
    H = G.copy()
    nodes = list(H.nodes)
    edges = list(H.edges(keys=True, data=True))
    work, lines, ui, vi = _edge_lines(H, nodes, edges)
    length = np.fromiter((d["length"] for *_, d in edges), dtype=float, count=len(edges))
    effort, edge_rise, z_start, z_end, n_samples = _effort(lines, length, dem_path, work, sample_m)

    node_z = np.full(len(nodes), np.nan)
    node_z[ui] = z_start
    node_z[vi] = z_end
    nx.set_node_attributes(
        H, {n: float(e) for n, e in zip(nodes, node_z.tolist(), strict=True) if np.isfinite(e)}, "elevation"
    )
    grade_edge = np.divide(edge_rise, length, out=np.zeros_like(edge_rise), where=length > _MIN_PIECE_M)
    for (_, _, _, d), r, gr, ef in zip(edges, edge_rise.tolist(), grade_edge.tolist(), effort.tolist(), strict=True):
        d["rise_m"] = r
        d["grade"] = gr
        d["effort_m"] = ef
    H.graph["terrain"] = {"dem": str(dem_path), "sample_m": float(sample_m)}
    log.info(
        "terrain from %s: %d samples, effort %.1f%% above flat length",
        Path(dem_path).name,
        n_samples,
        100 * (effort.sum() / max(length.sum(), 1e-9) - 1),
    )
    return H


def _edge_lines(H: nx.MultiDiGraph, nodes: list, edges: list) -> tuple[pyproj.CRS, np.ndarray, np.ndarray, np.ndarray]:
    """Each directed edge as a line from its start to its end in a metric CRS: (that CRS, lines, start and end
    node positions)."""
    graph_crs = pyproj.CRS.from_user_input(H.graph["crs"])
    xy = np.array([(H.nodes[n]["x"], H.nodes[n]["y"]) for n in nodes], dtype=float)
    work = graph_crs if graph_crs.is_projected else metric_crs_for_lonlat(xy[:, 0], xy[:, 1], source_crs=graph_crs)
    to_work = None if work == graph_crs else pyproj.Transformer.from_crs(graph_crs, work, always_xy=True)
    node_xy = xy if to_work is None else np.column_stack(to_work.transform(xy[:, 0], xy[:, 1]))
    position = {n: i for i, n in enumerate(nodes)}
    ui = np.fromiter((position[u] for u, _, _, _ in edges), dtype=np.int64, count=len(edges))
    vi = np.fromiter((position[v] for _, v, _, _ in edges), dtype=np.int64, count=len(edges))
    lines = shapely.linestrings(np.stack([node_xy[ui], node_xy[vi]], axis=1))
    geoms = np.array([d.get("geometry") for *_, d in edges], dtype=object)
    curved = np.array([g is not None for g in geoms], dtype=bool)
    if curved.any():
        g = geoms[curved]
        if to_work is not None:
            g = shapely.transform(g, lambda c: np.column_stack(to_work.transform(c[:, 0], c[:, 1])))
        start = shapely.get_point(g, 0)
        flip = shapely.distance(start, shapely.points(node_xy[ui[curved]])) > shapely.distance(
            start, shapely.points(node_xy[vi[curved]])
        )
        g[flip] = shapely.reverse(g[flip])
        lines[curved] = g
    return work, lines, ui, vi


def _effort(
    lines: np.ndarray, length: np.ndarray, dem_path: str | Path, work: pyproj.CRS, sample_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Tobler effort of each edge from DEM samples along it: (effort_m, rise_m, start and end elevations,
    number of samples)."""
    # sample points: n_i pieces per edge, ends included, all in one array
    pieces = np.maximum(np.ceil(length / sample_m), 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(pieces + 1)])
    edge_of = np.repeat(np.arange(len(lines)), pieces + 1)
    k = np.arange(offsets[-1]) - offsets[edge_of]
    fractions = k / pieces[edge_of]
    pts = shapely.line_interpolate_point(lines[edge_of], fractions, normalized=True)
    pxy = shapely.get_coordinates(pts)
    z = sample_dem(dem_path, pxy[:, 0], pxy[:, 1], work)
    missing = np.isnan(z)
    if missing.all():
        raise InputError(f"The DEM {dem_path} does not cover the walking network.")
    if missing.any():
        log.warning("%d of %d terrain samples fall outside the DEM or on nodata: taken as flat", missing.sum(), len(z))
    # rise of each piece: consecutive samples of one edge (NaN ends give a flat piece)
    rise = np.diff(z)
    same_edge = edge_of[1:] == edge_of[:-1]
    piece_edge = edge_of[:-1][same_edge]
    rise = np.nan_to_num(rise[same_edge], nan=0.0)
    piece_len = (length / pieces)[piece_edge]
    grade = np.divide(rise, piece_len, out=np.zeros_like(rise), where=piece_len > _MIN_PIECE_M)
    effort = np.bincount(piece_edge, weights=piece_len / tobler_factor(grade), minlength=len(lines))
    z_start, z_end = z[offsets[:-1]], z[offsets[1:] - 1]
    edge_rise = np.nan_to_num(z_end - z_start, nan=0.0)
    return effort, edge_rise, z_start, z_end, len(z)


def slope_comparison(
    G_terrain: nx.MultiDiGraph,
    compounds,
    services,
    *,
    category: str = "all",
    hilly: PreparedNetwork | None = None,
    **coverage_kw,
) -> ScenarioComparison:
    """Coverage on flat ground and on the hills, and what slope changed, compound by compound.

    Parameters
    ----------
    G_terrain
        A graph from :func:`apply_terrain` (edges carry ``length`` and ``effort_m``).
    compounds, services
        As for :func:`lifecircle.geo.reach.coverage.coverage`.
    category
        Category compared in the diff.
    hilly
        ``G_terrain`` already prepared with ``weight="effort_m"`` (the main coverage's network), so that it is not
        prepared twice.
    coverage_kw
        Passed to :func:`lifecircle.geo.reach.coverage.coverage` (``max_walk_min``, ``speed_kmh``, ``gates``, ...).

    Returns
    -------
    ScenarioComparison
        ``diff`` columns ``walk_min_flat``, ``walk_min_slope``, ``delta_min``, ``covered_flat``,
        ``covered_slope``, ``change``; ``summary`` counts compounds that lost coverage to the hills.
    """
    flat: CoverageResult = coverage(prepare_network(G_terrain, weight="length"), compounds, services, **coverage_kw)
    hilly_net = hilly if hilly is not None else prepare_network(G_terrain, weight="effort_m")
    on_hills: CoverageResult = coverage(hilly_net, compounds, services, **coverage_kw)
    return ScenarioComparison.of(flat, on_hills, labels=("flat", "slope"), category=category)
