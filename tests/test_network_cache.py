"""The network cache: entries round-trip exactly, any damaged or foreign entry is a miss, keys follow file content
and options, concurrent writers never leave half an entry, and outputs are the same with and without the cache."""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from lifecircle.data.demo import XUEYUAN_DIR, XUEYUAN_EXTRACT
from lifecircle.geo.network import osm
from lifecircle.geo.network.cache import NetworkCache, clear_cache, read_entry
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.packing import Unpackable, pack, unpack
from lifecircle.geo.walk import Walk
from lifecircle.maps import streets as map_streets
from lifecircle.planning import inputs as planning_inputs
from lifecircle.planning.network_store import open_network

INPUT_DATA = Path(__file__).resolve().parent / "input_data"


def _same(a, b, where: str = "") -> None:
    """Assert two packed values are equal, field by field (geometries exactly, to the bit)."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray) and a.dtype == object:
        assert a.shape == b.shape and bool(np.all(shapely.equals_exact(a, b, tolerance=0))), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), where
    elif sp.issparse(a):
        assert a.shape == b.shape and (a != b).nnz == 0, where
    elif isinstance(a, shapely.STRtree):
        _same(a.geometries, b.geometries, where)
    elif isinstance(a, shapely.Geometry):
        assert shapely.equals_exact(a, b, tolerance=0), where
    elif hasattr(a, "data") and hasattr(a, "query"):  # cKDTree
        np.testing.assert_array_equal(a.data, b.data)
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    return osm.network_from_osm(XUEYUAN_EXTRACT)


@pytest.mark.slow
def test_fast_edge_building_equals_networkx(demo_graph, monkeypatch):
    """The adjacency written directly is networkx's own: same nodes, edges, keys, data and order, both ways."""
    monkeypatch.setattr(osm, "_add_edges", lambda G, edges: G.add_edges_from(edges))
    reference = osm.network_from_osm(XUEYUAN_EXTRACT)
    assert list(demo_graph.nodes(data=True)) == list(reference.nodes(data=True))
    assert list(demo_graph.edges(keys=True, data=True)) == list(reference.edges(keys=True, data=True))
    for n in reference:
        assert list(demo_graph._pred[n].items()) == list(reference._pred[n].items())
    assert demo_graph.graph == reference.graph


@pytest.mark.slow
def test_prepared_network_round_trip(demo_graph, tmp_path):
    """A prepared network read back from an entry is equal to the one stored, and snaps points alike."""
    net = prepare_network(demo_graph)
    cache = NetworkCache(tmp_path)
    cache.put("prepared", "k", *pack(net))
    back = unpack(*cache.get("prepared", "k"))
    _same(net, back)
    assert back.crs == net.crs and back.crs.to_string() == net.crs.to_string()
    rng = np.random.default_rng(0)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    xy = rng.uniform(lo, hi, size=(500, 2))
    a = back.segment_index.tree.query(xy, k=3)
    b = net.segment_index.tree.query(xy, k=3)
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.slow
def test_street_cells_round_trip(demo_graph, tmp_path):
    from lifecircle.geo.network.barriers import barriers_from_osm
    from lifecircle.geo.reach.streetcells import StreetCells

    net = prepare_network(demo_graph)
    cells = StreetCells.build(net, catchment_m=100.0, barriers=barriers_from_osm(XUEYUAN_EXTRACT))
    cache = NetworkCache(tmp_path)
    arrays, spec = pack(cells)
    assert spec["fields"]["tree"]["g"] == {"t": "ref", "n": "o.cells"}  # the cells the tree indexes: stored once
    cache.put("cells", "k", arrays, spec)
    back = unpack(*cache.get("cells", "k"))
    _same(cells, back)
    assert all(a is b for a, b in zip(back.tree.geometries, back.cells, strict=True))  # parsed once


def test_python_objects_are_never_packed():
    @dataclasses.dataclass
    class Foreign:
        x: int

    with pytest.raises(Unpackable):
        pack(Foreign(1))
    with pytest.raises(Unpackable):
        pack(np.array([{"a": 1}], dtype=object))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "other_key"])
def test_damaged_entry_is_a_miss(tmp_path, damage, caplog):
    cache = NetworkCache(tmp_path)
    arrays = {"a": np.arange(1000, dtype=np.int64), "b": np.linspace(0, 1, 77)}
    path = cache.put("prepared", "key", arrays, {"n": 1})
    assert path is not None
    got = cache.get("prepared", "key")
    assert got is not None and np.array_equal(got[0]["a"], arrays["a"]) and got[1] == {"n": 1}
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "flip":
        data[-100] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04 not an entry at all" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        cache.path("prepared", "another key").write_bytes(bytes(data))  # a file under the wrong name
        assert cache.get("prepared", "another key") is None
        return
    with caplog.at_level("DEBUG", logger="lifecircle.geo.network.cache"):
        assert cache.get("prepared", "key") is None
    assert "a miss" in caplog.text


def test_unwritable_folder_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert NetworkCache(blocker / "cache").put("prepared", "k", {"a": np.zeros(3)}, {}) is None


def _osm_copy(tmp_path: Path, name: str = "net.osm") -> Path:
    path = tmp_path / name
    shutil.copy(INPUT_DATA / "walk_rules.osm", path)
    return path


@pytest.mark.slow
def test_second_open_skips_parsing(tmp_path, monkeypatch):
    """A second open of the same file and options reads the prepared network, the street lines and the map's street
    layer from the cache."""
    path = _osm_copy(tmp_path)
    first = open_network(path)
    net, streets, layer = first.prepared(Walk()), first.streets, first.street_layer
    monkeypatch.setattr(planning_inputs, "load_graph", _refuse)
    second = open_network(path)
    _same(net, second.prepared(Walk()))
    pd.testing.assert_frame_equal(streets, second.streets, check_exact=True)
    monkeypatch.setattr(map_streets, "_merged_lines", _refuse)
    pd.testing.assert_frame_equal(layer, second.street_layer, check_exact=True)
    assert "_loaded" not in vars(second)  # the graph was never parsed


def _refuse(*args, **kwargs):
    raise AssertionError("the network was parsed although it is cached")


def _entries(folder: Path) -> int:
    return len(NetworkCache(folder).entries())


@pytest.mark.slow
def test_changed_content_or_option_is_a_miss(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(folder))
    path = _osm_copy(tmp_path)
    open_network(path).prepared(Walk())
    assert _entries(folder) == 1
    calls = []
    real = planning_inputs.load_graph
    monkeypatch.setattr(planning_inputs, "load_graph", lambda *a, **k: calls.append(k) or real(*a, **k))
    open_network(path).prepared(Walk())  # a hit
    assert calls == []
    open_network(path, include_private=True).prepared(Walk())  # another option: parsed again
    open_network(path).prepared(Walk(steps_factor=2.0))  # steps priced: another prepared network
    assert len(calls) == 2 and _entries(folder) == 3
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('v="footway"', 'v="path"', 1), encoding="utf-8")  # same size class, new content
    open_network(path).prepared(Walk())
    assert len(calls) == 3
    open_network(path, use_cache=False).prepared(Walk())  # --no-cache: parsed, nothing stored
    assert len(calls) == 4 and _entries(folder) == 4


def _writer(folder: str, seed: int, rounds: int) -> None:
    cache = NetworkCache(folder)
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        n = int(rng.integers(10_000, 400_000))
        cache.put("prepared", "same key", {"a": np.full(n, seed, dtype=np.int64)}, {"seed": seed, "n": n})


@pytest.mark.slow
def test_concurrent_writers_leave_whole_entries(tmp_path):
    """Two processes writing one key while this one reads: every read is a miss or a whole, consistent entry."""
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), seed, 20)) for seed in (1, 2)]
    for w in writers:
        w.start()
    cache, seen = NetworkCache(tmp_path), 0
    while any(w.is_alive() for w in writers):
        got = cache.get("prepared", "same key")
        if got is not None:
            arrays, spec = got
            assert len(arrays["a"]) == spec["n"] and np.all(arrays["a"] == spec["seed"])
            seen += 1
    for w in writers:
        w.join(timeout=60)
        assert w.exitcode == 0
    arrays, spec = cache.get("prepared", "same key")
    assert np.all(arrays["a"] == spec["seed"]) and len(arrays["a"]) == spec["n"]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    assert seen > 0


def test_prune_and_clear(tmp_path):
    cache = NetworkCache(tmp_path, max_bytes=3 * 80_000)
    for k in range(5):
        cache.put("prepared", f"k{k}", {"a": np.zeros(10_000)}, {})  # 80 kB each
    kept = cache.entries()
    assert len(kept) <= 3 and cache.path("prepared", "k4") in kept  # the newest stays
    files, size = clear_cache(tmp_path)
    assert files == len(kept) and size > 0 and cache.entries() == []
    _, header = read_entry(cache.put("prepared", "k", {"a": np.zeros(1)}, {}))
    assert header["key"] == "k"


def test_cache_command(tmp_path, monkeypatch, capsys):
    from lifecircle.planning.cli import main

    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(tmp_path))
    NetworkCache().put("prepared", "k", {"a": np.zeros(1000)}, {})
    assert main(["cache"]) == 0
    assert f"{tmp_path}: 1 entries" in capsys.readouterr().out
    assert main(["cache", "--clear"]) == 0
    assert "1 files removed" in capsys.readouterr().out and NetworkCache().entries() == []


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--compound-roads", "--steps-factor", "2")], ids=["default", "gated-steps"])
def test_cli_outputs_identical_cold_warm_and_without_cache(tmp_path, monkeypatch, options):
    """``analyze`` on the shipped Xueyuan Road extract: cold, warm and ``--no-cache`` write the same files; the warm
    run builds no street cells and, unless gated origins need the graph, does not parse the extract."""
    from lifecircle.geo.reach.streetcells import StreetCells
    from lifecircle.planning.cli import main

    folder = tmp_path / "cache"
    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(folder))
    base = ["-q", "analyze", "--network", str(XUEYUAN_EXTRACT), "--compounds", str(XUEYUAN_DIR / "xiaoqu.shp")]
    base += ["--services", str(XUEYUAN_DIR / "fuwu_taizhang.xlsx"), *options]
    outs = {run: tmp_path / run for run in ("cold", "warm", "nocache")}
    assert main([*base, "--out", str(outs["cold"])]) == 0
    kinds = {p.name.split("-")[0] for p in NetworkCache(folder).entries()}
    assert kinds == {"prepared", "streets", "street_layer", "barriers", "cells"}
    with monkeypatch.context() as warm:
        if not options:
            warm.setattr(planning_inputs, "load_graph", _refuse)
        warm.setattr(StreetCells, "build", _refuse)
        warm.setattr(map_streets, "_merged_lines", _refuse)  # the map's street layer comes from the cache too
        assert main([*base, "--out", str(outs["warm"])]) == 0
    assert main([*base, "--out", str(outs["nocache"]), "--no-cache"]) == 0
    assert_same_outputs(outs["cold"], outs["warm"])
    assert_same_outputs(outs["cold"], outs["nocache"])


def _text(path: Path) -> bytes:
    """An HTML output without what changes on every run: folium's random element ids and the writing time."""
    text = re.sub(rb"_[0-9a-f]{32}", b"_id", path.read_bytes())
    return re.sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC", b"(time)", text)


def assert_same_outputs(one: Path, other: Path) -> None:
    assert (one / "coverage.csv").read_bytes() == (other / "coverage.csv").read_bytes()
    for name in ("map.html", "report.html"):
        assert _text(one / name) == _text(other / name), name
    for name in ("served_area.gpkg", "compounds.gpkg"):  # GeoPackages hold their writing time: compare contents
        a, b = gpd.read_file(one / name), gpd.read_file(other / name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert bool(np.all(shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0))), name


@pytest.mark.slow
def test_isochrones_command_cold_warm_and_without_cache(tmp_path, monkeypatch):
    """``isochrones`` reads the prepared network and street cells from the cache too, with the same files."""
    from lifecircle.geo.reach.streetcells import StreetCells
    from lifecircle.planning.cli import main

    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(tmp_path / "cache"))
    base = ["-q", "isochrones", "--network", str(XUEYUAN_EXTRACT), "--minutes", "5,10", "--workers", "1"]
    base += ["--services", str(XUEYUAN_DIR / "fuwu_taizhang.xlsx")]
    outs = {run: tmp_path / run for run in ("cold", "warm", "nocache")}
    assert main([*base, "--out", str(outs["cold"])]) == 0
    with monkeypatch.context() as warm:
        warm.setattr(planning_inputs, "load_graph", _refuse)
        warm.setattr(StreetCells, "build", _refuse)
        warm.setattr(map_streets, "_merged_lines", _refuse)  # the map's street layer comes from the cache too
        assert main([*base, "--out", str(outs["warm"])]) == 0
    assert main([*base, "--out", str(outs["nocache"]), "--no-cache"]) == 0
    for run in ("warm", "nocache"):
        for layer in ("per_service", "served_area"):
            a = gpd.read_file(outs["cold"] / "isochrones.gpkg", layer=layer)
            b = gpd.read_file(outs[run] / "isochrones.gpkg", layer=layer)
            pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
            assert bool(np.all(shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0))), layer
        geojson = "isochrones_served_area.geojson"
        assert (outs["cold"] / geojson).read_bytes() == (outs[run] / geojson).read_bytes()


@pytest.mark.slow
def test_site_command_cold_warm_and_without_cache(tmp_path, monkeypatch):
    """``site`` plans on the cached prepared network and names street sites from the cached street lines."""
    from lifecircle.planning.cli import main

    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(tmp_path / "cache"))
    base = ["-q", "site", "--network", str(XUEYUAN_EXTRACT), "--add", "2", "--minutes", "5"]
    base += ["--compounds", str(XUEYUAN_DIR / "xiaoqu.shp"), "--services", str(XUEYUAN_DIR / "fuwu_taizhang.xlsx")]
    outs = {run: tmp_path / run for run in ("cold", "warm", "nocache")}
    assert main([*base, "--out", str(outs["cold"])]) == 0
    with monkeypatch.context() as warm:
        warm.setattr(planning_inputs, "load_graph", _refuse)
        assert main([*base, "--out", str(outs["warm"])]) == 0
    assert main([*base, "--out", str(outs["nocache"]), "--no-cache"]) == 0
    sites = (outs["cold"] / "sites.csv").read_bytes()
    assert "路".encode() in sites  # street sites named after streets
    for run in ("warm", "nocache"):
        for name in ("sites.csv", "before_after.csv", "critical_services.csv"):
            assert (outs["cold"] / name).read_bytes() == (outs[run] / name).read_bytes(), (run, name)
        assert _text(outs["cold"] / "map.html") == _text(outs[run] / "map.html"), run


@pytest.mark.slow
def test_merged_lines_table_is_cached(tmp_path, monkeypatch):
    """With local road lines merged, the network sources table comes back from the cache with the network."""
    lines = gpd.read_file(XUEYUAN_DIR / "xiaoqu.shp").boundary.to_frame("geometry").iloc[:5]
    path = tmp_path / "lines.geojson"
    lines.to_file(path)
    first = open_network(XUEYUAN_EXTRACT, merge_lines=path)
    net, tables = first.prepared(Walk()), first.tables
    assert list(tables) == ["network_sources"]
    monkeypatch.setattr(planning_inputs, "load_graph", _refuse)
    second = open_network(XUEYUAN_EXTRACT, merge_lines=path)
    _same(net, second.prepared(Walk()))
    pd.testing.assert_frame_equal(tables["network_sources"], second.tables["network_sources"], check_exact=True)
    lines.iloc[:3].to_file(path)  # other lines: another network
    with pytest.raises(AssertionError, match="parsed although it is cached"):
        open_network(XUEYUAN_EXTRACT, merge_lines=path).prepared(Walk())
