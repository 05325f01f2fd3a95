"""``lifecircle analyze --scheduler ... --tile-km K``: the tiled run writes the single-process run's coverage."""

from __future__ import annotations

import json
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import osm_segments
from lifecircle.planning.cli import main
from lifecircle.planning.study import load_study

pytestmark = pytest.mark.shared
YUMA = "osm/yuma_az_residential.osm.pbf"
LIMIT_M = 8 * 4.5 * 1000 / 60  # --minutes 8 at 4.5 km/h


@pytest.fixture(scope="module")
def yuma_files(tmp_path_factory):
    """The Yuma extract and compound and service files placed at random near its streets."""
    path = shared_file(YUMA)
    folder = tmp_path_factory.mktemp("yuma_layers")
    nodes = osm_segments(path).node_xy
    rng = np.random.default_rng(21)
    pick = nodes[rng.choice(len(nodes), 400, replace=False)] + rng.normal(0, 3e-4, (400, 2))
    squares = gpd.GeoSeries(shapely.points(pick[:300]), crs=4326).to_crs(32611).buffer(40).to_crs(4326)
    gpd.GeoDataFrame(
        {"id": [f"C{i}" for i in range(300)], "name": [f"c{i}" for i in range(300)]},
        geometry=squares.to_numpy(),
        crs=4326,
    ).to_file(folder / "compounds.gpkg")
    gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(100)], "category": rng.choice(["clinic", "shop", "school"], 100)},
        geometry=shapely.points(pick[300:]),
        crs=4326,
    ).to_file(folder / "services.gpkg")
    return path, folder / "compounds.gpkg", folder / "services.gpkg"


def _args(files, out):
    network, compounds, services = files
    return [
        "analyze", "--network", str(network), "--compounds", str(compounds), "--services", str(services),
        "--out", str(out), "--minutes", "8", "--max-snap-m", "100", "--no-report", "--no-map",
    ]  # fmt: skip


@pytest.mark.slow
def test_tiled_cli_run_equals_the_single_process_run(yuma_files, tmp_path, capsys):
    assert main(["-q", *_args(yuma_files, tmp_path / "single")]) == 0
    capsys.readouterr()
    tiled = [*_args(yuma_files, tmp_path / "tiled"), "--scheduler", "local", "--tile-km", "4"]
    assert main(tiled) == 0
    err = capsys.readouterr().err
    a = pd.read_csv(tmp_path / "single" / "coverage.csv")
    b = pd.read_csv(tmp_path / "tiled" / "coverage.csv")
    assert list(a["compound_id"]) == list(b["compound_id"]) and list(a["category"]) == list(b["category"])
    assert (a["covered"] == b["covered"]).all()
    assert (a["services_within"] == b["services_within"]).all()
    within = (a["walk_m"] <= LIMIT_M).to_numpy()
    assert within.sum() > 100 and (~within).sum() > 10  # both kinds occur
    np.testing.assert_allclose(b["walk_m"][within], a["walk_m"][within], atol=0.05)  # both rounded to 0.1 m
    assert (a["nearest_service_id"][within] == b["nearest_service_id"][within]).all()
    assert b["walk_m"][~within].isna().all() and set(b["reach"][~within]) <= {"beyond_search_radius", "off_network"}
    summary = json.loads((tmp_path / "tiled" / "summary.json").read_text(encoding="utf-8"))
    assert summary["tiled"]["tile_km"] == 4.0 and "served_area" in summary["tiled"]["left_out"]
    tiles = summary["tiled"]["tiles"]
    assert 4 <= tiles <= 40
    assert err.count("tile done") == tiles  # progress: one line per tile (stderr is not a terminal here)
    single = json.loads((tmp_path / "single" / "summary.json").read_text(encoding="utf-8"))
    for category, entry in single["categories"].items():
        assert summary["categories"][category]["compounds_covered"] == entry["compounds_covered"]


def _empty_files(folder):
    """Files that exist (checks before any reading need nothing more)."""
    paths = [folder / name for name in ("city.osm.pbf", "compounds.gpkg", "services.gpkg")]
    for path in paths:
        path.write_bytes(b"")
    return paths


def test_scheduler_without_dask_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main([*_args(_empty_files(tmp_path), tmp_path / "out"), "--scheduler", "local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lifecircle[dask]" in err[0] and err[0].startswith("lifecircle: error:")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line_within_ten_seconds(yuma_files, tmp_path, capsys):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    start = time.perf_counter()
    assert main([*_args(yuma_files, tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert time.perf_counter() - start < 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not answer" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # imports distributed
def test_options_needing_the_whole_network_are_refused(tmp_path, capsys):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    args = [*_args(_empty_files(tmp_path), tmp_path / "out"), "--scheduler", "local", "--compound-roads"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--compound-roads" in err[0] and "whole network" in err[0]


def test_study_file_dask_table(tmp_path):
    for name in ("net.osm.pbf", "c.gpkg", "s.gpkg"):
        (tmp_path / name).write_bytes(b"")
    head = '[study]\nnetwork = "net.osm.pbf"\n[compounds]\npath = "c.gpkg"\n[services]\npath = "s.gpkg"\n'
    (tmp_path / "study.toml").write_text(head + '[dask]\nscheduler = "tcp://10.0.0.1:8786"\ntile_km = 6\n')
    study = load_study(tmp_path / "study.toml")
    assert study.dask.scheduler == "tcp://10.0.0.1:8786" and study.dask.tile_km == 6.0
    assert load_study(tmp_path / "study.toml").with_overrides(dask={"tile_km": 2.0}).dask.tile_km == 2.0
    (tmp_path / "study.toml").write_text(head + '[dask]\nscheduler = "10.0.0.1"\n')
    with pytest.raises(InputError, match=r"dask\.scheduler"):
        load_study(tmp_path / "study.toml")
    (tmp_path / "study.toml").write_text(head)
    assert load_study(tmp_path / "study.toml").dask.scheduler is None  # one process by default
