"""The what-if job without a browser: what it refuses (one-line errors, nothing written) and what the page holds."""

from __future__ import annotations

import base64
import json
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from lifecircle.errors import InputError, LifecircleError
from lifecircle.planning.cli import main
from lifecircle.planning.whatif_job import require_whatif_inputs, run_whatif


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from lifecircle.data.demo import xueyuan_inputs

    files = xueyuan_inputs()
    folder = tmp_path_factory.mktemp("whatif") / "out"
    assert main(["-q", "demo", "--out", str(folder)]) == 0
    return {"folder": folder, "network": Path(files.network)}


def page_payload(path: Path) -> dict:
    html = path.read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" id="lc-whatif-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(data)


def array(payload: dict, name: str) -> np.ndarray:
    spec = payload["arrays"][name]
    raw = zlib.decompress(base64.b64decode(spec["b"]))
    return np.frombuffer(raw, dtype=np.dtype(spec["t"]).newbyteorder("<"))


@pytest.mark.slow
def test_page_holds_the_analysis_and_its_network(demo, tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(demo["folder"], folder)
    result = run_whatif(folder, network=demo["network"])
    assert result.path == folder / "whatif.html"
    payload = page_payload(result.path)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert payload["max_walk_m"] == summary["parameters"]["max_walk_m"]
    assert len(payload["compound_ids"]) == summary["compounds"] == result.compounds
    assert payload["categories"] == sorted(set(summary["categories"]) - {"all"})
    assert pyproj.CRS(payload["crs"]) == pyproj.CRS(summary["parameters"]["crs"])
    # the CSR junction graph is consistent and every origin belongs to a compound
    ptr, idx = array(payload, "j_ptr"), array(payload, "j_idx")
    assert ptr[0] == 0 and ptr[-1] == len(idx) and np.all(np.diff(ptr) >= 0) and idx.max() < len(ptr) - 1
    assert set(array(payload, "o_comp")) <= set(range(result.compounds))
    # baseline pairs agree with coverage.csv's covered count
    table = pd.read_csv(folder / "coverage.csv", encoding="utf-8-sig")
    assert result.covered_pairs == int(table["covered"].sum())


@pytest.mark.slow
def test_another_network_file_is_refused(demo, tmp_path):
    from lifecircle.data.demo import load_demo

    folder = tmp_path / "out"
    shutil.copytree(demo["folder"], folder)
    with pytest.raises(InputError, match="SHA-256"):
        run_whatif(folder, network=load_demo().osm_path)
    assert not (folder / "whatif.html").exists()


@pytest.mark.slow
def test_a_page_that_would_answer_otherwise_is_not_written(demo, tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(demo["folder"], folder)
    table = pd.read_csv(folder / "coverage.csv", encoding="utf-8-sig")
    flip = table.index[table["covered"]][0]
    table.loc[flip, "covered"] = False
    table.to_csv(folder / "coverage.csv", index=False, encoding="utf-8-sig")
    with pytest.raises(LifecircleError, match="answers differently"):
        run_whatif(folder, network=demo["network"])
    assert not (folder / "whatif.html").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"network": "auto"}, "network as a file"),
        ({"network": "bbox:116.3,39.9,116.4,40.0"}, "network as a file"),
        ({"network": "no/such/extract.osm.pbf"}, "does not exist"),
        ({"gates": Path("gates.gpkg")}, "--gates"),
        ({"output_coord_system": "gcj02"}, "--output-coord-system gcj02"),
    ],
)
def test_analyses_the_page_cannot_repeat_are_refused_before_work(demo, kwargs, message):
    with pytest.raises(InputError, match=message):
        require_whatif_inputs(**{"network": demo["network"], **kwargs})


def test_walking_rules_are_named(demo):
    from types import SimpleNamespace

    walking = SimpleNamespace(compound_roads=True, open_blocks=False, gates_from_osm=False, dem=Path("d.tif"))
    with pytest.raises(InputError, match="--compound-roads, --dem"):
        require_whatif_inputs(network=demo["network"], walking=walking)


def test_cli_errors_are_one_line(demo, tmp_path, capsys):
    assert main(["what-if", str(tmp_path / "nowhere"), "--network", str(demo["network"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lifecircle: error:") and "does not exist" in err[0]


def test_cli_writes_the_page(demo, tmp_path, capsys):
    folder = tmp_path / "out"
    shutil.copytree(demo["folder"], folder)
    assert main(["what-if", str(folder), "--network", str(demo["network"]), "--lang", "en"]) == 0
    assert "whatif.html" in capsys.readouterr().out
    html = (folder / "whatif.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Export scenario" in html
    assert "https://" not in re.sub(r"<script>.*?</script>|<style>.*?</style>", "", html, flags=re.S)


@pytest.mark.slow
def test_the_page_is_listed_in_the_manifest_and_a_new_run_replaces_it(demo, tmp_path):
    from lifecircle.folder import read_manifest, require_complete
    from lifecircle.planning.outputs import file_sha256

    folder = tmp_path / "out"
    assert main(["-q", "demo", "--out", str(folder)]) == 0
    run_whatif(folder, network=demo["network"])
    manifest = require_complete(folder)
    assert manifest.jobs["analyze"]["whatif.html"] == file_sha256(folder / "whatif.html")
    assert main(["-q", "demo", "--out", str(folder)]) == 0  # lifecircle's own page never blocks a new run
    assert not (folder / "whatif.html").exists()  # and a page of the old analysis does not outlive it
    assert "whatif.html" not in read_manifest(folder).jobs["analyze"]


def test_compound_outlines_keep_every_polygon_of_a_repaired_shape():
    import geopandas as gpd
    import shapely

    from lifecircle.maps.whatif_data import compound_arrays

    nested = shapely.GeometryCollection(
        [shapely.MultiPolygon([shapely.box(2, 2, 3, 3), shapely.box(4, 4, 5, 5)]), shapely.LineString([(0, 0), (1, 1)])]
    )
    shapes = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), nested, shapely.box(6, 6, 7, 7)], crs=4326)
    payload = {"arrays": compound_arrays(shapes)}
    assert array(payload, "c_ring_ptr").tolist() == [0, 1, 3, 4]  # one ring, two (the line left out), one
    assert array(payload, "ring_ptr").tolist() == [0, 5, 10, 15, 20]
    assert array(payload, "ring_lon")[5:10].min() == 2 and array(payload, "ring_lat")[10:15].max() == 5


def test_the_network_is_found_by_its_recorded_name_and_content(demo, tmp_path, capsys):
    folder = tmp_path / "out"
    shutil.copytree(demo["folder"], folder)
    assert main(["-q", "what-if", str(folder)]) == 0  # the demo's extract ships with lifecircle
    assert (folder / "whatif.html").is_file()
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["inputs"]["network"]["file"] = "elsewhere.osm.pbf"
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert main(["-q", "what-if", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "elsewhere.osm.pbf" in err[0] and "--network" in err[0]
