"""The analysis folder: written by analyze, read back by the one reader, names and schema in one place."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import make_graph, points, squares

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.planning.analysis import analyze
from lifecircle.planning.jobs.analyze import write_analysis
from lifecircle.planning.options import MapOptions


@pytest.fixture
def written(tmp_path):
    G = make_graph({0: (0, 0), 1: (1000, 0), 2: (2000, 0)}, [(0, 1), (1, 2)])
    compounds = squares(
        [(100, 30), (1900, 30), (1000, 30)],
        ids=["007", "B", "C"],
        half_m=20,
        households=[100, 300, 50],
        街道=["一", "一", "二"],
    )
    services = points([(0, 5), (2000, 5)], ids=["s1", "0002"], category=["幼儿园", "卫生站"])
    analysis = analyze(G, compounds, services, max_walk_min=10, served_area=True)
    out = tmp_path / "out"
    write_analysis(analysis, out, inputs={}, map_options=MapOptions(lang="zh"))
    return analysis, out


@pytest.mark.slow
def test_round_trip(written):
    analysis, out = written
    back = folder.read_analysis(out)
    assert back.summary["schema_version"] == folder.SCHEMA_VERSION
    assert next(iter(back.summary)) == "schema_version"
    table = analysis.coverage.table
    assert set(table.columns) <= set(back.coverage.columns)
    assert back.coverage["compound_id"].tolist() == table["compound_id"].astype(str).tolist()  # "007" keeps its zeros
    np.testing.assert_allclose(back.coverage["walk_m"], table["walk_m"].round(1), equal_nan=True)
    assert back.compounds.index.tolist() == analysis.compounds.index.astype(str).tolist()
    assert back.services.index.tolist() == ["s1", "0002"]
    assert back.served_area is not None and set(back.served_area["category"]) >= {"幼儿园", "卫生站"}
    assert "rollup_street" in back.tables and len(back.tables["rollup_street"]) == 2
    on_disk = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    # every file written is one the folder module names
    known = {f.name for f in folder.FILES} | {folder.rollup_name(level) for level in folder.GOVERNANCE_LEVELS}
    assert on_disk <= known, on_disk - known


@pytest.mark.slow
def test_publish_keeps_the_served_areas(written, tmp_path):
    from lifecircle.maps import publish_site

    _, out = written
    index = publish_site([out], tmp_path / "site", lang="en")
    page = (index.parent / "out" / "map.html").read_text(encoding="utf-8")
    # the served area of each category is a layer of the published map (the label names it)
    from lifecircle.maps.labels import label

    for category in ("幼儿园", "卫生站"):
        names = [label("layer_served", lang, category=category) for lang in ("zh", "en")]
        assert any(n in page or json.dumps(n)[1:-1] in page for n in names), category
    assert (index.parent / "out" / "data" / folder.SERVED_AREA.name).is_file()


def test_non_finite_numbers_are_null(tmp_path):
    folder.write_json(
        {"speed": math.inf, "n": np.float64("nan"), "ok": np.int64(3), "nested": [-math.inf]}, tmp_path / "a.json"
    )
    text = (tmp_path / "a.json").read_text(encoding="utf-8")
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"speed": None, "n": None, "ok": 3, "nested": [None]}


def test_deeply_nested_json_is_one_line(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        folder.read_json(path)


def test_manifest_that_points_outside_is_never_trusted(tmp_path):
    for files in (
        {"../x": "0" * 64},
        {"/etc/passwd": "0" * 64},
        {"a/b": "0" * 64},
        {".lifecircle.json": "0" * 64},
        {"a": "zz"},
    ):
        data = {"format": folder.MANIFEST_FORMAT, "schema_version": 1, "complete": True, "jobs": {"analyze": files}}
        (tmp_path / folder.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
        assert folder.read_manifest(tmp_path) is None
    (tmp_path / folder.MANIFEST).write_text("{", encoding="utf-8")
    assert folder.read_manifest(tmp_path) is None
    with pytest.raises(InputError, match="damaged"):
        folder.require_complete(tmp_path)
