"""Candidate sites: street points, compound points, candidate layers, and dropping the ones nobody can reach."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import make_graph, points, squares

from lifecircle.errors import InputError
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.reach.coverage import compound_origins
from lifecircle.planning.candidates import (
    attach_candidates,
    compound_candidates,
    read_candidates,
    street_candidates,
)


def _street(step_m: float, length_m: float = 2000.0):
    """A straight east-west street cut into pieces of ``step_m``."""
    n = int(length_m / step_m)
    nodes = {i: (i * step_m, 0.0) for i in range(n + 1)}
    return prepare_network(make_graph(nodes, [(i, i + 1) for i in range(n)]))


@pytest.fixture(scope="module")
def compounds():
    return squares([(1000, 30), (1900, 30)], ids=["u", "c"], households=[10, 10])


@pytest.mark.parametrize("step_m", [10.0, 500.0])
def test_street_candidates_near_uncovered_every_spacing(compounds, step_m):
    net = _street(step_m)
    sites = street_candidates(net, compounds, ["u"], spacing_m=100, near_m=300)
    xy = shapely.get_coordinates(sites.geometry.to_numpy())
    assert sites.index.name == "site_id" and sites.index.is_unique
    assert (sites["source"] == "street").all()
    assert np.allclose(xy[:, 1], 0.0)  # on the street
    # within reach of the uncovered compound only (the covered one at x=1900 gets nothing of its own)
    dist = shapely.distance(sites.geometry.to_numpy(), compounds.geometry["u"])
    assert dist.max() <= 300 + 1e-6
    # the street stretch within 300 m of "u" runs from x≈700 to x≈1300: candidates along it, ≤ 100 m apart
    x = np.sort(xy[:, 0])
    assert x.min() <= 800 and x.max() >= 1200
    assert np.diff(x).max() <= 100 + 1e-6
    assert 6 <= len(sites) <= 7


def test_street_candidates_density_does_not_follow_node_density(compounds):
    fine = street_candidates(_street(10.0), compounds, ["u"], spacing_m=100, near_m=300)
    coarse = street_candidates(_street(500.0), compounds, ["u"], spacing_m=100, near_m=300)
    assert abs(len(fine) - len(coarse)) <= 1


def test_street_candidates_nothing_to_cover(compounds):
    net = _street(100.0)
    assert street_candidates(net, compounds, [], spacing_m=100, near_m=300).empty
    with pytest.raises(InputError, match="spacing"):
        street_candidates(net, compounds, ["u"], spacing_m=0)
    with pytest.raises(InputError, match="spacing must be at least 5 m"):  # 1e-9 m would ask for terabytes
        street_candidates(net, compounds, ["u"], spacing_m=1e-9)


def test_compound_candidates_inside_each_compound(compounds):
    sites = compound_candidates(compounds)
    assert list(sites.index) == ["in_u", "in_c"]
    assert list(sites["compound_id"]) == ["u", "c"]
    assert sites.geometry.within(compounds.geometry.set_axis(sites.index)).all()
    only = compound_candidates(compounds, ["c"])
    assert list(only.index) == ["in_c"]


def test_attach_drops_off_network_and_unconnected():
    nodes = {0: (0, 0), 1: (500, 0), 10: (5000, 0), 11: (5100, 0)}
    net = prepare_network(make_graph(nodes, [(0, 1), (10, 11)]))
    comp = squares([(250, 30)], ids=["a"])
    sites = points([(100, 5), (400, 5), (5050, 5), (250, 2000)], ids=["ok1", "ok2", "island", "field"])
    origins = compound_origins(net, comp)
    cand = attach_candidates(net, sites, origins, max_snap_m=300)
    assert list(cand.sites.index) == ["ok1", "ok2"]
    assert list(cand.off_network) == ["field"]
    assert list(cand.unconnected) == ["island"]
    assert cand.n_dropped == 2
    assert len(cand.attachment) == 2 and cand.attachment.snapped.all()
    assert len(sites) == 4  # input untouched


def test_read_candidates_layer(tmp_path):
    layer = gpd.GeoDataFrame(
        {"id": ["r1", "r2"], "名称": ["社区活动室", "空置底商"], "rent": [3.0, 5.0]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.Point(50, 50)],
        crs="EPSG:32650",
    )
    path = tmp_path / "candidates.gpkg"
    layer.to_file(path)
    sites = read_candidates(path, cost_column="rent")
    assert list(sites.index) == ["r1", "r2"] and sites.index.name == "site_id"
    assert list(sites["name"]) == ["社区活动室", "空置底商"]
    assert (sites.geom_type == "Point").all()
    assert sites.geometry["r1"].within(shapely.box(0, 0, 10, 10))
    with pytest.raises(InputError, match="no cost column 'price'"):
        read_candidates(path, cost_column="price")
    layer.assign(rent=[3.0, 0.0]).to_file(tmp_path / "free.gpkg")
    with pytest.raises(InputError, match=r"positive numbers.*r2"):
        read_candidates(tmp_path / "free.gpkg", cost_column="rent")
    layer.iloc[:0].to_file(tmp_path / "empty.gpkg")
    with pytest.raises(InputError, match="empty"):
        read_candidates(tmp_path / "empty.gpkg")
