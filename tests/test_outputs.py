"""Staged output folders: all files or none, nothing left behind by a failed run."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecircle.errors import InputError
from lifecircle.planning.outputs import check_output_folder, input_hashes, staged_directory


def test_failed_run_leaves_no_folders_it_made(tmp_path):
    out = tmp_path / "a" / "b" / "c"
    with pytest.raises(InputError, match="boom"), staged_directory(out, job="test") as stage:
        (stage / "coverage.csv").write_text("x")
        raise InputError("boom")
    assert list(tmp_path.iterdir()) == []


def test_successful_run_makes_the_folders_and_moves_every_file(tmp_path):
    out = tmp_path / "a" / "b"
    with staged_directory(out, job="test") as stage:
        assert stage.parent == tmp_path / "a"  # beside the new folder
        (stage / "one.csv").write_text("1")
        (stage / "two.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == [".lifecircle-test.json", "one.csv", "two.json"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]  # no stage left


def test_an_existing_folder_is_staged_inside_and_keeps_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with staged_directory(tmp_path, job="test") as stage:
        assert stage.parent == tmp_path  # its parent need not be writable
        (stage / "one.csv").write_text("1")
    with pytest.raises(InputError), staged_directory(tmp_path, job="test") as stage:
        raise InputError("second run fails")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lifecircle-test.json", "notes.txt", "one.csv"]


def test_output_folder_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is an existing file"):
        check_output_folder(tmp_path / "file")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file" / "out")
    check_output_folder(tmp_path / "new" / "deeper")  # may be made


def test_input_hashes_name_files_not_folders(tmp_path):
    (tmp_path / "小区.geojson").write_text("{}")
    got = input_hashes({"compounds": tmp_path / "小区.geojson", "network": "place:攀枝花市东区", "gates": None})
    assert got["compounds"]["file"] == "小区.geojson" and len(got["compounds"]["sha256"]) == 64
    assert got["network"] == {"file": "place:攀枝花市东区", "sha256": None} and "gates" not in got


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, a folder that takes no new files")
def test_a_folder_that_takes_no_files_is_one_error(tmp_path):
    out = "/proc/lifecircle-out"
    with pytest.raises(InputError, match=r"cannot be (written|made)"), staged_directory(out, job="test"):
        pass
