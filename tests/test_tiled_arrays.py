"""A tile's network built from the partition's arrays (no networkx) equals the one built through its graph.

On real extracts: Hsinchu (Taiwan, a campus with flights of steps) for a plain walk and a walk pricing steps, and
Yuma (Arizona) for a plain walk. Every tile of a plan is compared: node ids and coordinates, both CSR cost matrices,
street segments (ends, costs, lines), components and the cost bound.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from lifecircle.geo.network.osm import osm_segments
from lifecircle.geo.network.partition import partition_extract, region_segments
from lifecircle.geo.reach.tiled import plan_tiles, tile_network
from lifecircle.geo.walk import Walk

pytestmark = pytest.mark.shared
HSINCHU = "osm/hsinchu_nctu_taiwan.osm.pbf"
YUMA = "osm/yuma_az_residential.osm.pbf"


def _layers(path, n_compounds: int, n_services: int, seed: int):
    """Compounds (40 m discs) and services placed at random near the extract's nodes."""
    seg = osm_segments(path)
    rng = np.random.default_rng(seed)
    n = n_compounds + n_services
    pick = seg.node_xy[rng.choice(len(seg.node_xy), n, replace=False)] + rng.normal(0, 2e-4, (n, 2))
    discs = gpd.GeoSeries(shapely.points(pick[:n_compounds]), crs=4326)
    utm = discs.estimate_utm_crs()
    compounds = gpd.GeoDataFrame(
        geometry=discs.to_crs(utm).buffer(40).to_crs(4326).to_numpy(),
        index=pd.Index([f"C{i}" for i in range(n_compounds)], name="compound_id"),
        crs=4326,
    )
    services = gpd.GeoDataFrame(
        {"category": rng.choice(["clinic", "shop"], n_services)},
        geometry=shapely.points(pick[n_compounds:]),
        index=pd.Index([f"S{i}" for i in range(n_services)], name="service_id"),
        crs=4326,
    )
    return compounds, services


def assert_same_network(a, b) -> None:
    """Two prepared networks hold the same nodes, costs and segments, bit for bit."""
    assert a.crs == b.crs
    assert a.node_ids.dtype == b.node_ids.dtype and np.array_equal(a.node_ids, b.node_ids)
    assert np.array_equal(a.node_xy, b.node_xy)
    for name in ("cost", "cost_reverse"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)
        assert np.array_equal(x.data, y.data)
    for name in ("segment_u", "segment_v", "segment_cost_uv", "segment_cost_vu", "component"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert shapely.equals_exact(a.segment_lines, b.segment_lines, tolerance=0).all()
    assert a.min_cost_per_m == b.min_cost_per_m
    for name in ("junction_node", "chain_a", "chain_b", "segment_chain", "segment_rank", "segment_fwd", "fwd_after"):
        assert np.array_equal(getattr(a.chains, name), getattr(b.chains, name)), name
    assert np.array_equal(a.chains.cost.data, b.chains.cost.data)


def _compare_tiles(path, tmp_path, walk: Walk, *, tile_km: float, n_compounds: int, n_services: int):
    """Every tile's network by both paths; the networks built (graph path)."""
    part = partition_extract(path, tmp_path / "cells", cell_km=tile_km)
    compounds, services = _layers(path, n_compounds, n_services, seed=3)
    tasks = plan_tiles(part, compounds, services, walk=walk, max_snap_m=100.0, tile_km=tile_km)
    assert len(tasks) >= 4
    built = []
    for task in tasks:
        by_graph, n_graph = tile_network(task, graph=True)
        by_arrays, n_arrays = tile_network(task)
        assert n_graph == n_arrays
        assert (by_graph is None) == (by_arrays is None)
        if by_graph is not None:
            assert_same_network(by_graph, by_arrays)
            built.append(by_graph)
    assert built
    return built


@pytest.mark.slow
def test_region_segments_of_an_empty_box_and_tags(tmp_path):
    part = partition_extract(shared_file(HSINCHU), tmp_path / "cells", cell_km=0.5)
    seg = region_segments(part, (0.0, 0.0, 1.0, 1.0))
    assert len(seg.node_ids) == len(seg.u) == 0
    assert all(len(e) == 0 for e in seg.directed_edges())
    whole = (-1e9, -1e9, 1e9, 1e9)
    assert region_segments(part, whole, highway=False).highway is None
    assert "steps" in set(region_segments(part, whole).highway)


@pytest.mark.slow
def test_tiles_by_arrays_equal_tiles_by_graph_with_steps_priced(tmp_path):
    path = shared_file(HSINCHU)
    plain = _compare_tiles(path, tmp_path / "plain", Walk(limit_min=5), tile_km=1.0, n_compounds=120, n_services=40)
    steps = _compare_tiles(
        path, tmp_path / "steps", Walk(limit_min=5, steps_factor=3.0), tile_km=1.0, n_compounds=120, n_services=40
    )
    # the steps walk priced something: some tile's costs differ from its plain lengths
    assert any(not np.array_equal(a.cost.data, b.cost.data) for a, b in zip(plain, steps, strict=True))


@pytest.mark.slow
def test_tiles_by_arrays_equal_tiles_by_graph_on_yuma(tmp_path):
    _compare_tiles(shared_file(YUMA), tmp_path, Walk(limit_min=8), tile_km=4.0, n_compounds=300, n_services=100)
