"""The command line at the edges of writing: one line for each problem, nothing half-written, nothing leaked.

Each case failed before (a traceback, ``Infinity`` in JSON, a folder path in summary.json, a user's folder
overwritten, an old table in the new report).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from conftest import flat_dem

from lifecircle import folder
from lifecircle.planning.cli import main

STEPS_OSM = Path(__file__).resolve().parent / "input_data" / "steps_flight.osm"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """A compound below a flight of steps and a service above it (tests/input_data/steps_flight.osm)."""
    where = tmp_path_factory.mktemp("edges")
    below = shapely.box(116.30095, 39.89985, 116.30105, 39.89993)
    for name, extra in (("with_street", {"街道": ["学院路街道"]}), ("plain", {})):
        gpd.GeoDataFrame({"id": ["c1"], "name": ["坡下小区"], **extra}, geometry=[below], crs=4326).to_file(
            where / f"{name}.geojson"
        )
    gpd.GeoDataFrame(
        {"id": ["s1"], "name": ["坡上卫生站"], "category": ["医疗"]},
        geometry=[shapely.Point(116.3010, 39.90278)],
        crs=4326,
    ).to_file(where / "services.geojson")
    return {"folder": where, "compounds": where / "with_street.geojson", "services": where / "services.geojson"}


def _args(inputs: dict, out: Path, *extra: str, compounds: Path | None = None) -> list[str]:
    return [
        "-q", "analyze", "--network", str(STEPS_OSM), "--compounds", str(compounds or inputs["compounds"]),
        "--services", str(inputs["services"]), "--minutes", "30", "--no-served-area", "--out", str(out), *extra,
    ]  # fmt: skip


def _one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lifecircle: error: ") and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def _strict_json(path: Path) -> dict:
    def refuse(constant):
        raise AssertionError(f"{path.name} holds {constant}, which is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_absurd_speed_writes_json_without_infinity(inputs, tmp_path, capsys):
    out = tmp_path / "fast"
    code = main(_args(inputs, out, "--speed-kmh", "1e308"))
    if code == 2:  # refused in one line is fine too
        _one_line_error(capsys)
        return
    assert code == 0
    summary = _strict_json(out / "summary.json")
    assert summary["schema_version"] == folder.SCHEMA_VERSION


@pytest.mark.slow
def test_summary_names_files_never_folders(inputs, tmp_path):
    secret = tmp_path / "机密文件夹"
    secret.mkdir()
    dem = flat_dem(secret / "dem.tif")
    out = tmp_path / "out"
    assert main(_args(inputs, out, "--dem", str(dem))) == 0
    text = (out / "summary.json").read_text(encoding="utf-8")
    assert str(secret) not in text and str(inputs["folder"]) not in text and "dem.tif" in text


@pytest.mark.slow
def test_dangling_symlinks_long_names_and_nested_files_are_one_line(inputs, tmp_path, capsys):
    dangling = tmp_path / "out-link"
    dangling.symlink_to(tmp_path / "gone")
    assert main(_args(inputs, dangling)) == 2
    _one_line_error(capsys, "symbolic link", "does not exist")
    assert main(_args(inputs, tmp_path / ("长" * 100))) == 2
    _one_line_error(capsys, "bytes long")
    target = tmp_path / "study-link.toml"
    target.symlink_to(tmp_path / "nowhere" / "study.toml")
    assert main(["init", str(target)]) == 2
    _one_line_error(capsys, "symbolic link")
    assert not (tmp_path / "nowhere").exists()
    nested = tmp_path / "nested.toml"
    nested.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    assert main(["run", str(nested)]) == 2
    _one_line_error(capsys, "nested.toml")
    report_dir = tmp_path / "deep"
    assert main(_args(inputs, report_dir)) == 0
    (report_dir / "summary.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert main(["report", str(report_dir)]) == 2
    _one_line_error(capsys, "summary.json")


@pytest.mark.slow
def test_a_folder_lifecircle_did_not_make_needs_force(inputs, tmp_path, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    assert main(_args(inputs, home)) == 2
    _one_line_error(capsys, "did not write", "--force")
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt"]
    assert main(_args(inputs, home, "--force")) == 0
    assert (home / "notes.txt").read_text() == "mine" and (home / "coverage.csv").is_file()
    folder.read_analysis(home)


@pytest.mark.slow
def test_nothing_of_an_earlier_run_reaches_the_new_one(inputs, tmp_path):
    out = tmp_path / "out"
    assert main(_args(inputs, out)) == 0
    assert (out / "rollup_street.csv").is_file()
    assert main(_args(inputs, out, compounds=inputs["folder"] / "plain.geojson")) == 0
    assert not (out / "rollup_street.csv").exists()
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert not any("street" in name or "街道" in name for name in book.sheetnames), book.sheetnames
    assert "学院路街道" not in (out / "report.html").read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lifecircle")]


@pytest.mark.slow
def test_report_of_a_folder_without_a_manifest_needs_force(inputs, tmp_path, capsys):
    out = tmp_path / "old"
    assert main(_args(inputs, out)) == 0
    for name in (folder.MANIFEST, "report.html", "report.xlsx"):
        (out / name).unlink()  # as an analysis folder of an old lifecircle, or one copied by hand
    assert main(["report", str(out)]) == 2
    _one_line_error(capsys, "did not write", "--force")
    assert main(["-q", "report", str(out), "--force"]) == 0
    assert (out / "report.html").is_file() and folder.require_complete(out) is not None


@pytest.mark.slow
def test_report_and_publish_refuse_an_unfinished_folder(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_args(inputs, out)) == 0
    manifest = folder.read_manifest(out)
    folder.Manifest(jobs=manifest.jobs, complete=False).write(out)  # as a kill mid-replacement leaves it
    assert main(["report", str(out)]) == 2
    _one_line_error(capsys, "unfinished")
    assert main(["publish", str(out), "--out", str(tmp_path / "site")]) == 2
    _one_line_error(capsys, "unfinished")
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def test_sigterm_during_a_run_cleans_up_and_says_one_line(inputs, tmp_path):
    out = tmp_path / "out"
    code = (
        "import sys, time\n"
        "from lifecircle.planning.jobs import analyze\n"
        "from lifecircle.planning.cli import main\n"
        "real = analyze.save_map\n"
        "def slow(fmap, path, **kw):\n"
        "    real(fmap, path, **kw)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "analyze.save_map = slow\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *_args(inputs, out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "writing"
    stages = [p for p in tmp_path.iterdir() if p.name.startswith(folder.STAGE_PREFIX)]
    assert len(stages) == 1  # the run is writing its stage
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["lifecircle: interrupted; nothing was written"]
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".lifecircle")]


def test_a_full_disk_is_one_line_naming_the_folder(inputs, tmp_path, capsys):
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode(errors='replace').strip()})")
    try:
        assert main(_args(inputs, mount / "out")) == 2
        _one_line_error(capsys, str(mount / "out"), "is full", "free")
        assert os.listdir(mount) == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
