"""The site job: known answers on hand-built networks, infeasible compounds, outputs, errors, and real Beijing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import pytest
from conftest import make_graph, points, squares

from lifecircle.errors import InputError
from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.walk import Walk
from lifecircle.planning.cli import main
from lifecircle.planning.inputs import LayerSpec
from lifecircle.planning.jobs import site as site_job
from lifecircle.planning.jobs.site import OUTPUT_FILES, run_site
from lifecircle.planning.options import SitingOptions
from lifecircle.planning.outputs import claim_output_folder
from lifecircle.planning.siting import plan_sites
from lifecircle.planning.study import Study

SITES_COLUMNS = ["site_id", "name", "source", "lon", "lat", "rank", "new_compounds", "cum_compounds", "cum_share"]
BEFORE_AFTER_COLUMNS = [
    "compound_id",
    "name",
    "reach",
    "covered_before",
    "covered_after",
    "walk_min_before",
    "walk_min_after",
    "new_site_id",
    "outcome",
]


# A street along y=0 from x=0 to 3000 m (nodes every 100 m), and two islands: one with a compound and no
# candidate (x≈5000), one with a candidate and no compound (x≈8000). At 4 minutes and 4.5 km/h the limit is 300 m.
# The existing shop at x=0 covers c0. Cluster a (x≈1500): 3 compounds, 30 households; cluster b (x≈2800):
# 2 compounds, 100 households.
@pytest.fixture(scope="module")
def town():
    nodes = {i: (i * 100.0, 0.0) for i in range(31)}
    edges = [(i, i + 1) for i in range(30)]
    nodes.update({100: (5000.0, 0.0), 101: (5100.0, 0.0), 200: (8000.0, 0.0), 201: (8100.0, 0.0)})
    edges += [(100, 101), (200, 201)]
    graph = make_graph(nodes, edges)
    compounds = squares(
        [(100, 20), (1450, 20), (1500, 20), (1550, 20), (2750, 20), (2850, 20), (5050, 20)],
        ids=["c0", "a1", "a2", "a3", "b1", "b2", "i1"],
        households=[5, 10, 10, 10, 50, 50, 7],
    )
    services = points([(0, 5)], ids=["s0"], category=["shop"])
    candidates = points(
        [(1500, 5), (2800, 5), (200, 5), (8050, 5), (1500, 2000)],
        ids=["ka", "kb", "k0", "island", "field"],
        cost=[1.0, 3.0, 1.0, 1.0, 1.0],
    )
    return {
        "graph": graph,
        "net": prepare_network(graph),
        "compounds": compounds,
        "services": services,
        "candidates": candidates,
    }


def _plan(town, *, minutes=4, candidates=None, compounds=None, services=None, **options):
    return plan_sites(
        town["net"],
        town["compounds"] if compounds is None else compounds,
        town["services"] if services is None else services,
        options=SitingOptions(**options),
        walk=Walk(limit_min=minutes),
        candidates=candidates,
    )


def test_add_one_picks_the_heavier_cluster(town):
    plan = _plan(town, candidates=town["candidates"], add=1)
    assert plan.result.site_ids == ("kb",)
    assert plan.result.optimal and plan.summary["gap"] == 0
    assert plan.summary["objective"] == 100  # households newly covered
    ba = plan.before_after.set_index("compound_id")
    assert list(ba.index[ba["outcome"] == "newly_covered"]) == ["b1", "b2"]
    assert set(ba.loc[["b1", "b2"], "new_site_id"]) == {"kb"}
    assert ba.loc["c0", "outcome"] == "already_covered"
    assert set(ba.index[ba["outcome"] == "not_covered"]) == {"a1", "a2", "a3"}
    site = plan.sites.loc["kb"]
    assert (site["rank"], site["new_compounds"], site["new_households"]) == (1, 2, 100)
    assert site["cum_households"] == 105 and site["cum_share"] == pytest.approx(105 / 142, abs=1e-4)


def test_weights_decide(town):
    """Counting compounds instead of households, the three-compound cluster wins."""
    unweighted = town["compounds"].drop(columns="households")
    plan = _plan(town, compounds=unweighted, candidates=town["candidates"], add=1)
    assert plan.result.site_ids == ("ka",)
    assert "new_households" not in plan.sites.columns
    assert plan.summary["parameters"]["weight"] == "compounds"


def test_infeasible_compound_reported_and_dropped_candidates_counted(town):
    plan = _plan(town, candidates=town["candidates"], add=1)
    assert plan.summary["unreachable"] == ["i1"]
    assert plan.summary["compounds"]["unreachable"] == 1
    assert plan.before_after.set_index("compound_id").loc["i1", "outcome"] == "unreachable"
    assert plan.summary["candidates"] == {
        "source": "layer",
        "given": 5,
        "used": 3,
        "dropped": 2,
        "dropped_off_network": 1,
        "dropped_unconnected": 1,
    }
    assert list(plan.candidates.off_network) == ["field"] and list(plan.candidates.unconnected) == ["island"]


def test_cover_all_covers_the_rest_and_says_so(town):
    plan = _plan(town, candidates=town["candidates"], cover_all=True)
    assert plan.summary["model"] == "cover_all" and plan.result.optimal
    assert set(plan.result.site_ids) == {"ka", "kb"} and plan.summary["objective"] == 2
    ba = plan.before_after.set_index("compound_id")
    reachable = ba.index != "i1"
    assert ba.loc[reachable, "covered_after"].all() and not ba.loc["i1", "covered_after"]
    assert any("i1" in note and "cover-all" in note for note in plan.summary["notes"])
    # build order by marginal gain: the 100-household site first
    assert list(plan.sites.index) == ["kb", "ka"] and list(plan.sites["rank"]) == [1, 2]
    assert list(plan.sites["cum_compounds"]) == [3, 6]


def test_generated_street_candidates(town):
    plan = _plan(town, add=1)  # default: street points every 100 m near uncovered compounds
    assert plan.summary["candidates"]["source"] == "streets"
    assert (plan.sites["source"] == "street").all()
    ba = plan.before_after.set_index("compound_id")
    assert set(ba.index[ba["outcome"] == "newly_covered"]) == {"b1", "b2"}
    # the island compound (no service on its streets) is no demand by default: listed, never given a site
    assert plan.summary["unreachable"] == ["i1"] and plan.summary["set_aside_unreachable"] == ["i1"]
    cover = _plan(town, cover_all=True, candidate_spacing_m=50)
    assert (
        len(cover.result.site_ids) == 2 and not cover.before_after.set_index("compound_id").loc["i1", "covered_after"]
    )
    # asked for, it has street points of its own: not unreachable with generated candidates
    asked = _plan(town, add=1, include_unreachable=True)
    assert asked.summary["unreachable"] == []
    cover = _plan(town, cover_all=True, candidate_spacing_m=50, include_unreachable=True)
    assert cover.before_after["covered_after"].all()
    assert len(cover.result.site_ids) == 3  # cluster a, cluster b, the island


def test_compound_candidates(town):
    plan = _plan(town, candidates_from="compounds", add=1)
    (site,) = plan.result.site_ids
    assert site in {"in_b1", "in_b2"}
    assert set(plan.before_after.query("outcome == 'newly_covered'")["compound_id"]) == {"b1", "b2"}


def test_budget_with_costs(town):
    """kb costs 3, ka costs 1: a budget of 2 affords only ka (and the useless k0)."""
    plan = _plan(town, candidates=town["candidates"], add=2, budget=2, cost_column="cost")
    assert "kb" not in plan.result.site_ids and "ka" in plan.result.site_ids
    assert plan.summary["objective"] == 30


def test_p_median(town):
    plan = _plan(town, candidates=town["candidates"], add=1, model="pmedian")
    assert plan.result.site_ids == ("kb",) and plan.summary["model"] == "p_median"
    assert {"walk_m_saved", "cum_weighted_m"} <= set(plan.sites.columns)
    ba = plan.before_after
    assert (ba["walk_min_after"].fillna(np.inf) <= ba["walk_min_before"].fillna(np.inf)).all()


def test_after_never_worse_and_walks_shorten(town):
    plan = _plan(town, candidates=town["candidates"], add=2)
    ba = plan.before_after.set_index("compound_id")
    assert (ba["covered_after"] >= ba["covered_before"]).all()
    assert (ba["walk_min_after"].fillna(np.inf) <= ba["walk_min_before"].fillna(np.inf) + 1e-9).all()
    # a2 sits 15 m from site ka: access 15 m + 5 m + 15 m of compound representative-point offset at most
    assert ba.loc["a2", "walk_min_after"] < 1.0
    assert ba.loc["a2", "walk_min_before"] > 15


def test_critical_services(town):
    plan = _plan(town, candidates=town["candidates"], add=1)
    crit = plan.critical.set_index("service_id")
    assert list(crit.index) == ["s0"]
    assert crit.loc["s0", "sole_compounds"] == 1 and crit.loc["s0", "sole_households"] == 5
    assert crit.loc["s0", "compound_ids"] == "c0"
    backup = pd.concat([town["services"], points([(150, 5)], ids=["s1"], category=["shop"])])
    plan2 = _plan(town, services=backup, candidates=town["candidates"], add=1)
    assert plan2.critical.empty


def _write_layers(town, folder: Path) -> dict[str, LayerSpec]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key in ("compounds", "services", "candidates"):
        path = folder / f"{key}.gpkg"
        town[key].reset_index(names="id").to_file(path)
        paths[key] = LayerSpec(path=path)
    return paths


def _run_site(town, layers, out, **options):
    study = Study(
        network="(given)",
        max_walk_min=4,
        site_dir=out,
        siting=SitingOptions(**options),
        **layers,
    )
    return run_site(study, graph=town["graph"])


@pytest.mark.slow
def test_outputs_contract_and_consistency(town, tmp_path):
    layers = _write_layers(town, tmp_path / "in")
    out = tmp_path / "plan"
    _run_site(town, layers, out, cover_all=True)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(OUTPUT_FILES)
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype={"site_id": str})
    assert {*SITES_COLUMNS, "new_households", "cum_households"} <= set(sites.columns)
    before_after = pd.read_csv(out / "before_after.csv", encoding="utf-8-sig")
    assert list(before_after.columns[:2]) == ["compound_id", "name"] and set(BEFORE_AFTER_COLUMNS) <= set(
        before_after.columns
    )
    summary = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    assert next(iter(summary)) == "schema_version"  # the folder's format version comes first
    for key in (
        "model",
        "objective",
        "bound",
        "gap",
        "solver",
        "status",
        "seconds",
        "parameters",
        "candidates",
        "unreachable",
        "compounds",
        "notes",
        "inputs",
        "timings",
    ):
        assert key in summary
    assert summary["unreachable"] == ["i1"] and summary["candidates"]["dropped"] == 2
    # the plan's numbers are the before/after table's
    newly = before_after[before_after["outcome"] == "newly_covered"]
    assert newly["new_site_id"].value_counts().reindex(sites["site_id"]).tolist() == sites["new_compounds"].tolist()
    assert sites["cum_compounds"].iloc[-1] == before_after["covered_after"].sum()
    assert sites["cum_households"].iloc[-1] == before_after.loc[before_after["covered_after"], "households"].sum()
    gpkg = pyogrio.list_layers(out / "sites.gpkg")
    assert {"sites", "catchments"} <= set(gpkg[:, 0])
    catchments = gpd.read_file(out / "sites.gpkg", layer="catchments")
    assert len(catchments) == len(sites)
    html = (out / "map.html").read_text(encoding="utf-8")
    drawn, _ = json.JSONDecoder().raw_decode(html[html.index('"sites":') + len('"sites":') :])
    assert drawn["rank"] == [1, 2] and len(drawn["lat"]) == 2
    covers = [row[drawn["fields"].index("covers")] for row in drawn["values"]]
    assert covers == ["b1; b2", "a1; a2; a3"]  # each site's new catchment, in build order
    assert '"streets":{"names":' in html  # the network planned on, drawn as the map's street layer
    assert pd.read_csv(out / "critical_services.csv", encoding="utf-8-sig")["service_id"].tolist() == ["s0"]


@pytest.mark.slow
def test_atomic_on_error(town, tmp_path, monkeypatch):
    layers = _write_layers(town, tmp_path / "in")
    out = tmp_path / "plan"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work")
    claim_output_folder(out, force=True)  # a folder lifecircle did not make takes outputs only with --force

    def broken_map(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(site_job, "save_map", broken_map)
    with pytest.raises(RuntimeError, match="disk full"):
        _run_site(town, layers, out, add=1)
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "plan"]  # no staging folder left behind
    fresh = tmp_path / "never"
    with pytest.raises(InputError):
        _run_site(town, layers, fresh, add=0)
    assert not fresh.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"add": 0}, "at least 1"),
        ({"add": 2, "cover_all": True}, "not both"),
        ({}, "--add K"),
        ({"add": 1, "weight_column": "residents"}, "no weight column 'residents'"),
        ({"add": 1, "category": "pharmacy"}, "category 'pharmacy'"),
        ({"add": 1, "cost_column": "cost"}, "--cost-column needs a candidate layer"),
        ({"cover_all": True, "model": "pmedian"}, "lscp"),
        ({"add": 1, "model": "lscp"}, "--cover-all"),
        ({"add": 1, "candidates_from": "compounds", "candidate_spacing_m": 50}, "one source of candidates"),
        ({"cover_all": True, "budget": 3}, "--budget"),
        ({"add": 1, "capacity": -5}, "capacity"),
    ],
)
def test_bad_input_one_sentence(town, options, message):
    with pytest.raises(InputError, match=message) as info:
        _plan(town, **options)
    text = str(info.value)
    assert "\n" not in text and text.endswith(".")


def test_unusable_candidate_layers(town):
    with pytest.raises(InputError, match="empty"):
        _plan(town, candidates=town["candidates"].iloc[:0], add=1)
    with pytest.raises(InputError, match="None of the 2 candidates"):
        _plan(town, candidates=town["candidates"].loc[["island", "field"]], add=1)


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    out = tmp_path / "plan"
    code = main(
        [
            "site",
            "--network",
            "nowhere.osm",
            "--compounds",
            "c.gpkg",
            "--services",
            "s.gpkg",
            "--add",
            "2",
            "--cover-all",
            "--out",
            str(out),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lifecircle: error:") and "not both" in err[0]
    assert not out.exists()


# ------------------------------------------------------------------------------------------ real Beijing
@pytest.fixture(scope="module")
def beijing_inputs(tmp_path_factory, cau_osm):
    folder = tmp_path_factory.mktemp("bj_site")
    features = ox.features_from_xml(cau_osm, tags={"landuse": "residential", "amenity": True})
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    residential = features[polygonal & (features.get("landuse") == "residential")].reset_index()
    compounds = gpd.GeoDataFrame(
        {
            "id": [f"c{i}" for i in range(len(residential))],
            "name": residential["name"].fillna("无名小区").to_numpy(),
            "households": np.arange(len(residential)) * 50 + 200,
        },
        geometry=residential.geometry.to_numpy(),
        crs=4326,
    )
    compounds.to_file(folder / "compounds.gpkg")
    amenities = features[(features.geom_type == "Point") & features["amenity"].notna()].reset_index()
    wanted = amenities[amenities["amenity"].isin(["pharmacy", "hospital", "bank", "marketplace", "kindergarten"])]
    services = gpd.GeoDataFrame(
        {
            "id": [f"s{i}" for i in range(len(wanted))],
            "name": wanted["name"].fillna("").to_numpy(),
            "category": wanted["amenity"].to_numpy(),
        },
        geometry=wanted.geometry.to_numpy(),
        crs=4326,
    )
    services.to_file(folder / "services.gpkg")
    return {"network": cau_osm, "compounds": folder / "compounds.gpkg", "services": folder / "services.gpkg"}


@pytest.mark.slow
@pytest.mark.parametrize("mode", [["--add", "2"], ["--cover-all", "--candidate-spacing-m", "80"]])
def test_beijing_end_to_end(beijing_inputs, tmp_path, mode):
    out = tmp_path / "plan"
    code = main(
        [
            "-q",
            "site",
            "--network",
            str(beijing_inputs["network"]),
            "--compounds",
            str(beijing_inputs["compounds"]),
            "--services",
            str(beijing_inputs["services"]),
            "--minutes",
            "5",
            "--out",
            str(out),
            "--offline",
            *mode,
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(OUTPUT_FILES)
    summary = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    ba = pd.read_csv(out / "before_after.csv", encoding="utf-8-sig")
    assert len(ba) == 10 and summary["status"] == "optimal"
    assert summary["candidates"]["source"] == "streets" and summary["candidates"]["used"] > 50
    # after ≥ before, compound by compound
    assert (ba["covered_after"] >= ba["covered_before"]).all()
    assert (ba["walk_min_after"].fillna(np.inf) <= ba["walk_min_before"].fillna(np.inf) + 1e-9).all()
    assert ba["covered_after"].sum() > ba["covered_before"].sum()
    # the plan's cumulative numbers are the before/after table's
    assert sites["cum_compounds"].iloc[-1] == ba["covered_after"].sum() == summary["compounds"]["covered_after"]
    assert sites["new_compounds"].sum() == (ba["outcome"] == "newly_covered").sum()
    assert sites["cum_households"].iloc[-1] == pytest.approx(ba.loc[ba["covered_after"], "households"].sum())
    assert np.all(np.diff(sites["new_households"]) <= 1e-9)  # marginal gains in build order never grow
    assert sites["lon"].between(116.2, 116.5).all() and sites["lat"].between(39.9, 40.1).all()
    if "--cover-all" in mode:
        reachable = ba["outcome"] != "unreachable"
        assert ba.loc[reachable, "covered_after"].all()
        assert summary["objective"] == len(sites)
    else:
        assert len(sites) == 2


@pytest.mark.parametrize("solver", ["cbc", "greedy", "scipy"])
def test_other_solvers_same_answer(town, solver):
    plan = _plan(town, candidates=town["candidates"], add=1, solver=solver, time_limit_s=20)
    assert plan.result.site_ids == ("kb",) and plan.summary["objective"] == 100
    assert plan.summary["parameters"]["solver"] == solver
    assert plan.summary["bound"] is not None and plan.summary["bound"] >= 100


def test_capacity_splits_a_cluster(town):
    """One site serves at most 60 households: cluster b (2 × 50) needs two sites to be fully served."""
    cand = pd.concat([town["candidates"], points([(2790, 5)], ids=["kb2"], cost=[1.0])])
    one = _plan(town, candidates=cand, add=1, capacity=60)
    assert one.result.site_ids[0] in {"kb", "kb2"} and one.summary["objective"] == pytest.approx(60)
    ba = one.before_after.set_index("compound_id")
    assert ba.loc[["b1", "b2"], "covered_after"].sum() == 1  # one fully served, the other only in part
    assert one.sites["new_compounds"].tolist() == [1] and one.sites["new_households"].tolist() == [60]
    two = _plan(town, candidates=cand, add=2, capacity=60)
    assert set(two.result.site_ids) == {"kb", "kb2"} and two.summary["objective"] == pytest.approx(100)
    ba = two.before_after
    newly = ba[ba["outcome"] == "newly_covered"]
    assert set(newly["compound_id"]) == {"b1", "b2"} and newly["new_site_id"].nunique() == 2
    assert two.sites["cum_compounds"].iloc[-1] == ba["covered_after"].sum()


def test_capacity_below_every_weight_is_said(town, caplog):
    with caplog.at_level(logging.WARNING, logger="lifecircle.planning.siting.planner"):
        tiny = _plan(town, add=1, capacity=1)
    assert "below the weight of every uncovered compound" in caplog.text
    assert tiny.sites["new_compounds"].sum() == 0


@pytest.mark.slow
def test_cli_says_when_no_site_is_needed(beijing_inputs, tmp_path, capsys):
    compounds = gpd.read_file(beijing_inputs["compounds"])
    inside = gpd.GeoDataFrame({"id": compounds["id"] + "_s"}, geometry=compounds.representative_point(), crs=4326)
    inside.to_file(tmp_path / "inside.gpkg")  # a service in every compound
    args = ["site", "--network", str(beijing_inputs["network"]), "--compounds", str(beijing_inputs["compounds"])]
    args += ["--services", str(tmp_path / "inside.gpkg"), "--add", "1"]
    assert main([*args, "--out", str(tmp_path / "plan")]) == 0
    assert "所有小区都已被现有服务覆盖：无需新增服务点。" in capsys.readouterr().out  # Chinese names: a Chinese run
