"""Partitioned coverage on Dask equals the single-process coverage on real extracts (Yuma and Phoenix, Arizona)."""

from __future__ import annotations

import logging
import os
import signal
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.network.partition import partition_extract, region_graph
from lifecircle.geo.reach.coverage import coverage
from lifecircle.geo.walk import Walk

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

from lifecircle.planning.distributed import connect, dask_coverage  # noqa: E402

pytestmark = pytest.mark.shared
YUMA = "osm/yuma_az_residential.osm.pbf"
SNAP_M = 100.0


@pytest.fixture(scope="module")
def yuma():
    """The Yuma extract, its whole graph, and compounds and services placed at random near its streets."""
    path = shared_file(YUMA)
    G = network_from_osm(path)
    rng = np.random.default_rng(21)
    nodes = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    pick = nodes[rng.choice(len(nodes), 700, replace=False)] + rng.normal(0, 3e-4, (700, 2))
    polygons = gpd.GeoSeries(shapely.points(pick[:500]), crs=4326).to_crs(32611).buffer(40).to_crs(4326)
    compounds = gpd.GeoDataFrame(
        {"name": [f"c{i}" for i in range(500)]},
        geometry=polygons.to_numpy(),
        index=pd.Index([f"C{i}" for i in range(500)], name="compound_id"),
        crs=4326,
    )
    services = gpd.GeoDataFrame(
        {"category": rng.choice(["clinic", "shop", "school"], 200)},
        geometry=shapely.points(pick[500:]),
        index=pd.Index([f"S{i}" for i in range(200)], name="service_id"),
        crs=4326,
    )
    return path, G, compounds, services


def assert_same(single, tiled, limit_by_category):
    """Covered flags, services within and walks within the search radius (the longest limit) equal; beyond it no
    walk is claimed."""
    a, b = single.table, tiled.table
    assert list(a["compound_id"]) == list(b["compound_id"]) and list(a["category"]) == list(b["category"])
    assert (a["covered"] == b["covered"]).all()
    assert (a["services_within"] == b["services_within"]).all()
    within = (a["walk_m"] <= max(limit_by_category.values())).to_numpy()
    assert within.sum() > 100 and (~within).sum() > 10  # both kinds occur
    np.testing.assert_allclose(b["walk_m"][within], a["walk_m"][within], atol=1e-6)
    assert (a["nearest_service_id"][within] == b["nearest_service_id"][within]).all()
    assert b["walk_m"][~within & (b["reach"] != "off_network").to_numpy()].isna().all()
    assert set(b["reach"][~within]) <= {"beyond_search_radius", "off_network"}
    assert list(a["reach"] == "off_network") == list(b["reach"] == "off_network")
    cols = ["compound_id", "service_id"]
    pa, pb = (p.sort_values(cols).reset_index(drop=True) for p in (single.pairs, tiled.pairs))
    assert pa[cols].equals(pb[cols])
    np.testing.assert_allclose(pb["walk_m"], pa["walk_m"], atol=1e-6)
    assert list(single.services_off_network) == list(tiled.services_off_network)
    assert list(single.compounds_off_network) == list(tiled.compounds_off_network)


def test_partition_holds_the_whole_graph(yuma, tmp_path):
    path, G, _, _ = yuma
    part = partition_extract(path, tmp_path / "cells", cell_km=2.0)
    H = region_graph(part, (-1e9, -1e9, 1e9, 1e9))
    edges = sorted((u, v, d["length"], d.get("highway")) for u, v, d in G.edges(data=True))
    assert edges == sorted((u, v, d["length"], d.get("highway")) for u, v, d in H.edges(data=True))


@pytest.mark.slow
@pytest.mark.parametrize("tile_km", [4.0, 8.0])
def test_tiles_on_two_workers_equal_one_process(yuma, tmp_path, caplog, tile_km):
    path, G, compounds, services = yuma
    walk = Walk(limit_min=8, category_limit_min={"clinic": 12})
    single = coverage(G, compounds, services, walk=walk.with_limit(minutes=12), max_snap_m=SNAP_M)
    from lifecircle.planning.thresholds import apply_thresholds

    single = apply_thresholds(single, services, default_m=walk.limit_m, limits_m={"clinic": walk.limit_m_of("clinic")})
    with distributed.Client(distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None)) as client:
        with caplog.at_level(logging.INFO, logger="lifecircle.planning.distributed"):
            tiled = dask_coverage(
                path,
                compounds,
                services,
                walk=walk,
                max_snap_m=SNAP_M,
                tile_km=tile_km,
                scheduler=client,
                work_dir=tmp_path,
            )
        client.cluster.close()
    assert 4 <= tiled.params["tiles"] <= 40
    assert sum("done" in r.message for r in caplog.records) == tiled.params["tiles"]
    limits = {"all": walk.limit_m, "shop": walk.limit_m, "school": walk.limit_m, "clinic": walk.limit_m_of("clinic")}
    assert_same(single, tiled, limits)


@pytest.mark.slow
def test_worker_processes_equal_one_process(yuma, tmp_path):
    path, G, compounds, services = yuma
    walk = Walk(limit_min=10)
    single = coverage(G, compounds, services, walk=walk, max_snap_m=SNAP_M)
    with distributed.Client(distributed.LocalCluster(n_workers=2, processes=True, dashboard_address=None)) as client:
        tiled = dask_coverage(
            path, compounds, services, walk=walk, max_snap_m=SNAP_M, tile_km=6.0, scheduler=client, work_dir=tmp_path
        )
        client.cluster.close()
    assert_same(single, tiled, dict.fromkeys(["all", "shop", "school", "clinic"], walk.limit_m))


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line_within_ten_seconds():
    start = time.perf_counter()
    with pytest.raises(InputError, match="did not answer") as caught:
        connect("tcp://127.0.0.1:9")
    assert time.perf_counter() - start < 10
    assert "\n" not in str(caught.value)


class _KillOneWorker(logging.Handler):
    """On the first finished tile, end one worker process (its nanny starts a new one; its tiles are rerun)."""

    def __init__(self, client):
        super().__init__()
        self.client, self.killed = client, []

    def emit(self, record):
        if self.killed or "done" not in record.getMessage():
            return
        victim = sorted(self.client.scheduler_info()["workers"])[0]
        self.killed.append(victim)
        pid = self.client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_worker_killed_mid_run_gives_the_same_result(yuma, tmp_path):
    path, G, compounds, services = yuma
    walk = Walk(limit_min=10)
    single = coverage(G, compounds, services, walk=walk, max_snap_m=SNAP_M)
    logger = logging.getLogger("lifecircle.planning.distributed")
    with distributed.Client(distributed.LocalCluster(n_workers=2, processes=True, dashboard_address=None)) as client:
        killer = _KillOneWorker(client)
        logger.addHandler(killer)
        old_level = logger.level
        logger.setLevel(logging.INFO)
        try:
            tiled = dask_coverage(
                path,
                compounds,
                services,
                walk=walk,
                max_snap_m=SNAP_M,
                tile_km=4.0,
                scheduler=client,
                work_dir=tmp_path,
            )
        finally:
            logger.removeHandler(killer)
            logger.setLevel(old_level)
        assert killer.killed and killer.killed[0] not in client.scheduler_info()["workers"]  # it really died
        client.cluster.close()
    assert_same(single, tiled, dict.fromkeys(["all", "shop", "school", "clinic"], walk.limit_m))


PHOENIX = "osm/phoenix_az303_bench.osm.pbf"


@pytest.fixture(scope="module")
def phoenix():
    """The Phoenix benchmark extract (~60k walk nodes, 14 km square), its whole graph, and 1,500 compounds and 300
    services in four categories placed at random near its streets."""
    path = shared_file(PHOENIX)
    G = network_from_osm(path)
    rng = np.random.default_rng(7)
    nodes = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    pick = nodes[rng.choice(len(nodes), 1800, replace=False)] + rng.normal(0, 3e-4, (1800, 2))
    polygons = gpd.GeoSeries(shapely.points(pick[:1500]), crs=4326).to_crs(32612).buffer(40).to_crs(4326)
    compounds = gpd.GeoDataFrame(
        {"name": [f"c{i}" for i in range(1500)]},
        geometry=polygons.to_numpy(),
        index=pd.Index([f"C{i}" for i in range(1500)], name="compound_id"),
        crs=4326,
    )
    services = gpd.GeoDataFrame(
        {"category": rng.choice(["convenience", "health", "community", "elderly"], 300)},
        geometry=shapely.points(pick[1500:]),
        index=pd.Index([f"S{i}" for i in range(300)], name="service_id"),
        crs=4326,
    )
    return path, G, compounds, services


@pytest.mark.slow
def test_phoenix_tiles_on_two_workers_equal_one_process(phoenix, tmp_path):
    path, G, compounds, services = phoenix
    walk = Walk(limit_min=10, category_limit_min={"health": 15})
    single = coverage(G, compounds, services, walk=walk.with_limit(minutes=15), max_snap_m=SNAP_M)
    from lifecircle.planning.thresholds import apply_thresholds

    single = apply_thresholds(single, services, default_m=walk.limit_m, limits_m={"health": walk.limit_m_of("health")})
    with distributed.Client(distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None)) as client:
        tiled = dask_coverage(
            path, compounds, services, walk=walk, max_snap_m=SNAP_M, tile_km=5.0, scheduler=client, work_dir=tmp_path
        )
        client.cluster.close()
    assert 4 <= tiled.params["tiles"] <= 16  # 5 km tiles of the metric grid over a 14 km square
    limits = dict.fromkeys(["all", "convenience", "community", "elderly"], walk.limit_m)
    assert_same(single, tiled, {**limits, "health": walk.limit_m_of("health")})
