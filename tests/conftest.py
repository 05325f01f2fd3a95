"""Shared fixtures: real OSM extracts from ../shared/data, hand-made OSM files, small synthetic graphs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

REPO = Path(__file__).resolve().parents[1]
INPUT_DATA = Path(__file__).resolve().parent / "input_data"
SHARED_DATA = REPO.parent / "shared" / "data"
if not SHARED_DATA.is_dir() and os.environ.get("LIFECIRCLE_SHARED_DATA"):  # worktrees: set it to the shared folder
    SHARED_DATA = Path(os.environ["LIFECIRCLE_SHARED_DATA"])
METRIC_CRS = "EPSG:32650"  # UTM 50N (Beijing): synthetic graphs are laid out in metres here


@pytest.fixture(autouse=True)
def _own_network_cache(monkeypatch, tmp_path_factory) -> None:
    """Every test starts with an empty network cache of its own, never the user's (``$LIFECIRCLE_CACHE_DIR``)."""
    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(tmp_path_factory.mktemp("network-cache")))


@pytest.fixture(autouse=True)
def _lifecircle_log_level() -> None:
    """Each test starts at Python's default log levels: a CLI run with ``-q`` (in a test or a module-scoped fixture
    before it) sets the root and package loggers to ERROR, and a later test's caplog would see no warning."""
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("lifecircle").setLevel(logging.NOTSET)


def shared_file(relative: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(
            f"shared data {relative} not found at {SHARED_DATA} "
            "(../shared beside the repository, or set LIFECIRCLE_SHARED_DATA)"
        )
    return path


@pytest.fixture
def walk_rules_osm() -> Path:
    """Hand-made OSM file exercising the walk filter (see the comments inside it)."""
    return INPUT_DATA / "walk_rules.osm"


@pytest.fixture(scope="session")
def cau_osm() -> Path:
    """Beijing, Haidian, Xueyuan Road (2026 OSM extract)."""
    return shared_file("osm/beijing_haidian_cau_xueyuanlu.osm.bz2")


def make_graph(
    nodes: dict[int, tuple[float, float]],
    edges: list[tuple],
    *,
    crs: str = METRIC_CRS,
    both_ways: bool = True,
) -> nx.MultiDiGraph:
    """An osmnx-style graph in a metric CRS.

    ``edges`` holds ``(u, v)`` or ``(u, v, attrs)``; ``length`` defaults to the straight distance.
    """
    G = nx.MultiDiGraph(crs=crs)
    for node, (x, y) in nodes.items():
        G.add_node(node, x=float(x), y=float(y))
    for edge in edges:
        u, v = edge[0], edge[1]
        attrs = dict(edge[2]) if len(edge) > 2 else {}
        (x1, y1), (x2, y2) = nodes[u], nodes[v]
        attrs.setdefault("length", float(np.hypot(x2 - x1, y2 - y1)))
        G.add_edge(u, v, **attrs)
        if both_ways:
            G.add_edge(v, u, **attrs)
    return G


def points(coords: list[tuple[float, float]], *, ids: list[str], crs: str = METRIC_CRS, **columns) -> gpd.GeoDataFrame:
    """Points indexed by ids, with extra columns."""
    return gpd.GeoDataFrame(
        {"name": ids, **columns},
        geometry=shapely.points(np.asarray(coords, dtype=float)),
        index=ids,
        crs=crs,
    )


def squares(
    centres: list[tuple[float, float]], *, ids: list[str], half_m: float = 10.0, crs: str = METRIC_CRS, **columns
):
    """Square compounds around centres, indexed by ids."""
    geoms = [shapely.box(x - half_m, y - half_m, x + half_m, y + half_m) for x, y in centres]
    gdf = gpd.GeoDataFrame({"name": ids, **columns}, geometry=geoms, index=ids, crs=crs)
    gdf.index.name = "compound_id"
    return gdf


def flat_dem(path: Path, elevation_m: float = 50.0) -> Path:
    """A level DEM (GeoTIFF, EPSG:4326, 40 × 60 cells of 0.0001°) over Beijing's Xueyuan Road demo, at ``path``."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path, "w", driver="GTiff", width=40, height=60, count=1, dtype="float32", crs="EPSG:4326",
        transform=from_origin(116.2990, 39.9040, 0.0001, 0.0001),
    ) as dst:  # fmt: skip
        dst.write(np.full((60, 40), elevation_m, dtype="float32"), 1)
    return path


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (:mod:`_browser`), closed at its end; skips without Chromium."""
    from _browser import ARGS, CHROMIUM, require_chromium

    sync_api = require_chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def pytest_collection_modifyitems(config, items):
    """The fast tier (``pytest -m "not slow"``) leaves out every browser test and the Dask cluster tests as well."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
        elif item.module.__name__ == "test_distributed":
            item.add_marker(pytest.mark.slow)
