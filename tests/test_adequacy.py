"""Adequacy (2SFCA / E2SFCA) against a hand computation and PySAL ``access`` on the same cost matrix."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from lifecircle.errors import InputError
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.reach.adequacy import adequacy, decay_weights
from lifecircle.geo.reach.coverage import coverage

fca = pytest.importorskip("access.fca", reason="PySAL access is the peer (pip install access, in the test extra)")
access_weights = pytest.importorskip("access.weights")


def _tiny():
    pairs = pd.DataFrame(
        {"compound_id": ["A", "B", "B"], "service_id": ["s1", "s1", "s2"], "walk_m": [100.0, 500.0, 200.0]}
    )
    demand = pd.Series([100.0, 50.0], index=["A", "B"])
    capacity = pd.Series([3.0, 1.0], index=["s1", "s2"])
    category = pd.Series(["clinic", "clinic"], index=["s1", "s2"])
    return pairs, demand, capacity, category


def test_hand_computation_2sfca():
    pairs, demand, capacity, category = _tiny()
    result = adequacy(pairs, demand, capacity, category, limit_m=600.0)
    ratio = result.ratios.set_index("compound_id")["access_ratio"]
    # R1 = 3 / (100 + 50) = 0.02, R2 = 1 / 50 = 0.02; A = R1, B = R1 + R2
    assert ratio["A"] == pytest.approx(0.02, abs=1e-12)
    assert ratio["B"] == pytest.approx(0.04, abs=1e-12)
    assert result.services.loc["s1", "demand_within"] == 150.0
    assert result.services.loc["s1", "load"] == pytest.approx(50.0)
    assert result.services.loc["s2", "load"] == pytest.approx(50.0)


def test_hand_computation_e2sfca():
    pairs, demand, capacity, category = _tiny()
    result = adequacy(pairs, demand, capacity, category, limit_m=600.0, method="e2sfca")
    ratio = result.ratios.set_index("compound_id")["access_ratio"]
    # zones of 600 m: <=200 weight 1, <=400 0.68, <=600 0.22; B-s1 (500 m) weighs 0.22, B-s2 (200 m) 1
    r1 = 3 / (100 + 0.22 * 50)
    assert ratio["A"] == pytest.approx(r1, abs=1e-12)
    assert ratio["B"] == pytest.approx(0.22 * r1 + 1 / 50, abs=1e-12)
    assert result.params["steps"][1] == [pytest.approx(2 / 3), 0.68]


def test_decay_weights_zones_and_limit():
    walk = np.array([0.0, 200.0, 200.1, 400.0, 599.0, 600.0, 600.1])
    limit = np.full(7, 600.0)
    np.testing.assert_array_equal(decay_weights(walk, limit), [1, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(decay_weights(walk, limit, method="e2sfca"), [1, 1, 0.68, 0.68, 0.22, 0.22, 0])
    with pytest.raises(InputError, match="adequacy method"):
        decay_weights(walk, limit, method="3sfca")


def _pysal(pairs, demand, capacity, category, cat, limit, method):
    """PySAL access's 2SFCA / E2SFCA on the same pairs (one category's services)."""
    members = category.index[category == cat]
    cost = pairs[pairs["service_id"].isin(members)].rename(
        columns={"compound_id": "origin", "service_id": "dest", "walk_m": "cost"}
    )
    demand_df = pd.DataFrame({"geoid": demand.index, "demand": demand.to_numpy()})
    supply_df = pd.DataFrame({"supply": capacity.loc[members]})
    weight_fn = None
    if method == "e2sfca":
        weight_fn = access_weights.step_fn({limit / 3: 1.0, limit * 2 / 3: 0.68, limit: 0.22})
    return fca.two_stage_fca(
        demand_df,
        supply_df,
        cost,
        max_cost=limit,
        demand_index="geoid",
        demand_name="demand",
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
        weight_fn=weight_fn,
    )


def _compare(pairs, demand, capacity, category, limits, method):
    result = adequacy(pairs, demand, capacity, category, limit_m=limits, method=method)
    ours = result.ratios.set_index(["category", "compound_id"])["access_ratio"]
    compared = 0
    for cat in sorted(set(category)):
        peer = _pysal(pairs, demand, capacity, category, cat, limits[cat], method)
        mine = ours.loc[cat]
        np.testing.assert_allclose(mine.reindex(peer.index).to_numpy(), peer.to_numpy(), rtol=0, atol=1e-9)
        # compounds PySAL leaves out have no service of the category within the limit: ratio 0
        assert (mine.drop(peer.index) == 0).all()
        compared += int((peer > 0).sum())
    return result, compared


@pytest.mark.parametrize("method", ["2sfca", "e2sfca"])
def test_equals_pysal_on_a_random_matrix(method):
    rng = np.random.default_rng(7)
    n_comp, n_serv = 60, 25
    comp = pd.Index([f"c{i}" for i in range(n_comp)])
    serv = pd.Index([f"s{i}" for i in range(n_serv)])
    walk = rng.uniform(0, 1500, (n_comp, n_serv))
    limits = {"clinic": 1000.0, "school": 800.0}
    category = pd.Series(rng.choice(list(limits), n_serv), index=serv)
    ci, si = np.nonzero(walk <= np.array([limits[c] for c in category])[None, :])
    pairs = pd.DataFrame({"compound_id": comp[ci], "service_id": serv[si], "walk_m": walk[ci, si]})
    demand = pd.Series(rng.integers(20, 2000, n_comp).astype(float), index=comp)
    capacity = pd.Series(rng.integers(1, 30, n_serv).astype(float), index=serv)
    _, compared = _compare(pairs, demand, capacity, category, limits, method)
    assert compared > 50


@pytest.mark.slow
@pytest.mark.parametrize("method", ["2sfca", "e2sfca"])
def test_equals_pysal_on_a_real_district(cau_osm, method):
    """Walks on the Xueyuan Road network (the coverage engine's pairs), capacities and households seeded."""
    from tests.test_coverage import _real_layers

    G = network_from_osm(cau_osm)
    compounds, services = _real_layers(cau_osm)
    result = coverage(G, compounds, services, max_walk_min=10)
    rng = np.random.default_rng(3)
    demand = pd.Series(rng.integers(50, 3000, len(compounds)).astype(float), index=compounds.index)
    capacity = pd.Series(rng.integers(1, 12, len(services)).astype(float), index=services.index)
    category = services["category"]
    limit = result.params["max_walk_m"]
    out, compared = _compare(result.pairs, demand, capacity, category, {c: limit for c in set(category)}, method)
    assert compared >= 10
    # the load of a service is the demand within its limit per capacity unit
    served = result.pairs.merge(demand.rename("d"), left_on="compound_id", right_index=True)
    if method == "2sfca":
        expected = (served.groupby("service_id")["d"].sum() / capacity).fillna(0.0)  # nobody within: load 0
        np.testing.assert_allclose(out.services["load"].reindex(expected.index), expected, rtol=1e-12)


# ------------------------------------------------------------------------- in an analysis, and on the command line


def _cau_analysis(cau_osm, **kwargs):
    from lifecircle.planning.analysis import analyze
    from tests.test_coverage import _real_layers

    compounds, services = _real_layers(cau_osm)
    rng = np.random.default_rng(11)
    compounds["households"] = rng.integers(50, 3000, len(compounds)).astype(float)
    compounds.loc[compounds.index[0], "households"] = np.nan  # a blank counts 0, with a warning
    services["doctors"] = rng.integers(1, 12, len(services)).astype(float)
    return analyze(network_from_osm(cau_osm), compounds, services, check_shift=False, **kwargs)


@pytest.mark.slow
def test_analysis_adequacy_per_category_limits_equals_pysal(cau_osm, caplog):
    from lifecircle.planning.adequacy import AdequacyOptions, with_adequacy

    analysis = _cau_analysis(cau_osm, max_walk_min=10, category_max_walk_min={"shop": 5})
    options = AdequacyOptions(method="e2sfca", capacity_column="doctors", norm=0.004, category_norms={"shop": 0.01})
    with caplog.at_level(logging.WARNING, logger="lifecircle"):  # a CLI test before may have quietened it
        out, table = with_adequacy(analysis, options)
    assert "have no households" in caplog.text
    assert list(table.columns) == ["compound_id", "category", "access_ratio"]
    assert set(table["category"]) == {"amenity", "shop"}
    speed = analysis.coverage.params["speed_kmh"] * 1000 / 60
    limits = {"amenity": 10 * speed, "shop": 5 * speed}
    demand = analysis.compounds["households"].fillna(0.0)
    capacity = analysis.services["doctors"]
    ours = table.set_index(["category", "compound_id"])["access_ratio"]
    for cat in ("amenity", "shop"):
        peer = _pysal(
            analysis.coverage.pairs, demand, capacity, analysis.services["category"], cat, limits[cat], "e2sfca"
        )
        # PySAL divides by zero for a service whose only compound within reach has no households (c0): infinity;
        # lifecircle lets such a service add nothing
        assert set(peer.index[np.isinf(peer)]) <= {"c0"}
        finite = peer[np.isfinite(peer)]
        np.testing.assert_allclose(ours.loc[cat].reindex(finite.index), finite, rtol=0, atol=1e-9)
    # crowded: covered and below the category's norm; overloaded: supply per household below it
    entry = out.summary["adequacy"]["categories"]["shop"]
    covered = out.compounds["covered_shop"]
    ratio = ours.loc["shop"].reindex(covered.index)
    assert entry["norm"] == 0.01
    assert entry["crowded_compounds"] == int((covered & (ratio < 0.01)).sum()) > 0
    shops = out.services[out.services["category"] == "shop"]
    with np.errstate(divide="ignore"):
        supply = shops["capacity"] / shops["demand_within"]
    assert entry["overloaded_services"] == int((supply < 0.01).sum())
    assert out.summary["adequacy"]["categories"]["amenity"]["norm"] == 0.004
    assert out.summary["adequacy"]["method"] == "e2sfca"


@pytest.mark.slow
def test_analysis_adequacy_refuses_text_capacity(cau_osm):
    from lifecircle.planning.adequacy import AdequacyOptions, with_adequacy

    analysis = _cau_analysis(cau_osm, max_walk_min=5)
    services = analysis.services.astype({"doctors": object})
    services.loc[services.index[2], "doctors"] = "三名"
    broken = type(analysis)(**{**analysis.__dict__, "services": services})
    with pytest.raises(InputError, match=r"'doctors' must hold numbers.*三名"):
        with_adequacy(broken, AdequacyOptions(method="2sfca", capacity_column="doctors"))
    with pytest.raises(InputError, match="no column 'beds'"):
        with_adequacy(analysis, AdequacyOptions(method="2sfca", capacity_column="beds"))


@pytest.mark.slow
def test_cli_adequacy_files(cau_osm, tmp_path):
    """analyze --adequacy writes adequacy.csv and per-service demand and load; supply is conserved (2SFCA)."""
    import geopandas as gpd

    from lifecircle.planning.cli import main
    from tests.test_cli import cau_inputs as _fixture

    inputs = _fixture.__wrapped__(_Factory(tmp_path), cau_osm)
    services = pd.read_csv(inputs["services"])
    services["医生"] = np.arange(len(services)) % 5 + 1
    services.to_csv(inputs["services"], index=False, encoding="utf-8-sig")
    out = tmp_path / "out"
    args = ["-q", "analyze", "--network", str(cau_osm), "--compounds", str(inputs["compounds"])]
    args += ["--services", str(inputs["services"]), "--out", str(out), "--no-served-area", "--minutes", "8"]
    assert main([*args, "--adequacy", "2sfca", "--capacity-column", "医生"]) == 0
    table = pd.read_csv(out / "adequacy.csv", dtype={"compound_id": str})
    assert list(table.columns) == ["compound_id", "category", "access_ratio"]
    layer = gpd.read_file(out / "services.gpkg").set_index("service_id")
    households = gpd.read_file(out / "compounds.gpkg").set_index("compound_id")["households"]
    for cat, rows in table.groupby("category"):
        mine = layer[layer["category"] == cat]
        weighted = (rows.set_index("compound_id")["access_ratio"] * households.reindex(rows["compound_id"])).sum()
        assert weighted == pytest.approx(mine.loc[mine["demand_within"] > 0, "capacity"].sum(), rel=1e-6)
        np.testing.assert_allclose(mine["load"], mine["demand_within"] / mine["capacity"], rtol=1e-3)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["adequacy"]["capacity_column"] == "医生"
    assert summary["adequacy"]["demand_column"] == "households"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "供需（2SFCA）" in page or "Capacity against demand (2SFCA)" in page
    assert main([*args, "--force", "--adequacy", "2sfca", "--capacity-column", "beds"]) == 2


class _Factory:
    def __init__(self, path):
        self.path = path

    def mktemp(self, name):
        folder = self.path / name
        folder.mkdir()
        return folder


def test_study_file_adequacy_table(tmp_path):
    from lifecircle.planning.study import load_study

    head = '[study]\nnetwork = "n.osm"\n[compounds]\npath = "c.gpkg"\n[services]\npath = "s.csv"\n'
    path = tmp_path / "study.toml"
    path.write_text(
        head
        + '[adequacy]\nmethod = "e2sfca"\ncapacity_column = "床位"\nnorm = 0.002\n[adequacy.norms]\n"卫生站" = 0.001\n',
        encoding="utf-8",
    )
    study = load_study(path, check_files=False)
    assert study.adequacy.method == "e2sfca" and study.adequacy.capacity_column == "床位"
    assert study.adequacy.norm == 0.002 and study.adequacy.category_norms == {"卫生站": 0.001}
    assert study.with_overrides(adequacy={"method": "2sfca"}).adequacy.capacity_column == "床位"
    path.write_text(head + '[adequacy]\nmethod = "3sfca"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"adequacy\.method"):
        load_study(path, check_files=False)
    path.write_text(head + "[adequacy]\nnorm = 0.002\nnrom = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown key adequacy\.nrom"):
        load_study(path, check_files=False)
    assert load_study(_write(path, head), check_files=False).adequacy.method is None


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path
