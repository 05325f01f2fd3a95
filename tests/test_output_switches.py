"""``analyze --no-report`` / ``--no-map`` (and ``[output] report``/``map`` of a study file): the folder holds only
what was written, its manifest names nothing absent, and ``report``/``publish`` still work on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecircle import folder
from lifecircle.manifest import read_manifest
from lifecircle.planning.cli import main
from lifecircle.planning.study import load_study
from tests.test_cli import _analyze, cau_inputs  # noqa: F401  (the fixture)


def _files(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}


def _manifest_names(out: Path) -> set[str]:
    manifest = read_manifest(out)
    assert manifest is not None and manifest.complete
    return set(manifest.owned())


@pytest.mark.slow
def test_no_map_no_report_then_report_and_publish(cau_inputs, tmp_path, capsys):  # noqa: F811
    full, bare = tmp_path / "full", tmp_path / "bare"
    assert _analyze(cau_inputs, full) == 0
    assert _analyze(cau_inputs, bare, "--no-map", "--no-report") == 0
    skipped = {folder.MAP.name, folder.REPORT_HTML.name, folder.REPORT_XLSX.name}
    assert skipped <= _files(full)
    assert _files(bare) == _files(full) - skipped  # every table, layer and the summary all the same
    assert _manifest_names(bare) == _files(bare)  # the manifest names no file that was not written
    assert (bare / folder.COVERAGE.name).read_bytes() == (full / folder.COVERAGE.name).read_bytes()
    summary = json.loads((bare / folder.SUMMARY.name).read_text(encoding="utf-8"))
    assert folder.MAP.name not in json.dumps(summary)

    capsys.readouterr()
    assert main(["report", str(bare)]) == 0  # the report of a folder without a map: no map, said so
    assert "no map.html" in capsys.readouterr().err
    page = (bare / folder.REPORT_HTML.name).read_text(encoding="utf-8")
    assert "<iframe" not in page.lower()
    assert (bare / folder.REPORT_XLSX.name).stat().st_size > 0
    assert _manifest_names(bare) == _files(bare)
    assert not (bare / folder.MAP.name).exists()

    site = tmp_path / "site"  # publish draws the overview map itself
    assert main(["-q", "publish", str(bare), "--out", str(site)]) == 0
    assert list(site.rglob(folder.MAP.name))


@pytest.mark.slow
def test_rerun_without_map_removes_the_old_map(cau_inputs, tmp_path):  # noqa: F811
    out = tmp_path / "again"
    assert _analyze(cau_inputs, out) == 0
    assert (out / folder.MAP.name).is_file()
    assert _analyze(cau_inputs, out, "--no-map") == 0  # a stale map of the earlier run would mislead
    assert not (out / folder.MAP.name).exists()
    assert (out / folder.REPORT_HTML.name).is_file() and folder.MAP.name not in _manifest_names(out)


HEAD = '[study]\nnetwork = "x.osm"\n[compounds]\npath = "c.gpkg"\n[services]\npath = "s.csv"\n'


def test_study_file_output_switches(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(HEAD + "[output]\nmap = false\nreport = false\n", encoding="utf-8")
    parsed = load_study(study, check_files=False)
    assert parsed.map is False and parsed.report is False
    study.write_text(HEAD, encoding="utf-8")
    assert load_study(study, check_files=False).map is True


@pytest.mark.slow
def test_progress_names_each_long_stage(cau_inputs, tmp_path, capsys):  # noqa: F811
    args = ["analyze", "--network", str(cau_inputs["network"]), "--compounds", str(cau_inputs["compounds"])]
    args += ["--services", str(cau_inputs["services"]), "--out", str(tmp_path / "p"), "--no-map"]
    assert main(args) == 0
    err = capsys.readouterr().err  # not a terminal: one line per step done
    done = [line.split("] ", 1)[1] for line in err.splitlines() if line.startswith("lifecircle: [")]
    expected = ["load network", "coverage", "served areas", "write tables", "write report"]
    assert done == ["read layers done", *(f"{s} done" for s in expected)]
    assert "[6/6]" in err
