"""Output folders: wholly the previous run or wholly the new one; lifecircle removes only what it wrote.

The fault-injection part kills a forked run (SIGKILL, or SIGTERM handled as Ctrl-C) at every file-system step
of the commit and checks the folder each time, fills a tiny disk, and tries read-only folders and symlinks.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecircle import folder
from lifecircle.errors import InputError, LifecircleError
from lifecircle.planning import _stage, outputs
from lifecircle.planning.outputs import (
    check_output_folder,
    claim_output_folder,
    input_hashes,
    staged_directory,
    terminate_as_interrupt,
)

RUN_A = {"coverage.csv": "A\n", "summary.json": '{"run": "A"}', "rollup_street.csv": "street A\n"}
RUN_B = {"coverage.csv": "B\n", "summary.json": '{"run": "B"}', "report.html": "<p>B</p>"}


def write_run(out: Path, files: dict[str, str], *, job: str = "analyze", fail: bool = False) -> None:
    with staged_directory(out, job=job) as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
        if fail:
            raise InputError("boom")


def visible(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if not p.name.startswith(".")}


def leftovers(out: Path) -> list[str]:
    """Stages and previous results of lifecircle left beside or inside ``out``."""
    places = [out.parent, *([out] if out.is_dir() else [])]
    prefixes = (folder.STAGE_PREFIX, folder.OLD_PREFIX)
    return [p.name for place in places for p in place.iterdir() if p.name.startswith(prefixes)]


# ---------------------------------------------------------------------------------------------- basics


def test_failed_run_leaves_no_folders_it_made(tmp_path):
    with pytest.raises(InputError, match="boom"):
        write_run(tmp_path / "a" / "b" / "c", RUN_A, fail=True)
    assert list(tmp_path.iterdir()) == []


def test_new_folder_appears_whole_with_its_manifest(tmp_path):
    out = tmp_path / "a" / "b"
    write_run(out, RUN_A)
    assert visible(out) == RUN_A and leftovers(out) == []
    manifest = folder.require_complete(out)
    assert manifest is not None and manifest.complete and set(manifest.jobs["analyze"]) == set(RUN_A)
    digest = manifest.jobs["analyze"]["coverage.csv"]
    assert digest == outputs.file_sha256(out / "coverage.csv")


def test_a_new_folder_has_the_permissions_of_any_folder_the_user_makes(tmp_path):
    old = os.umask(0o022)
    try:
        write_run(tmp_path / "out", RUN_A)
        (tmp_path / "plain").mkdir()
    finally:
        os.umask(old)
    mode = (tmp_path / "out").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain").stat().st_mode & 0o777 == 0o755  # not a temporary folder's 0700
    (tmp_path / "out").chmod(0o750)
    write_run(tmp_path / "out", RUN_B)  # a rerun keeps what the user set
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750


def test_rerun_replaces_its_own_files_and_keeps_other_jobs(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    write_run(out, {"sites.csv": "site\n", "map.html": "site map"}, job="site")
    write_run(out, RUN_B)
    # the earlier analysis's rollup_street.csv is gone; the site plan stays; map.html went to the site job
    assert visible(out) == {**RUN_B, "sites.csv": "site\n", "map.html": "site map"}
    manifest = folder.require_complete(out)
    assert set(manifest.jobs["site"]) == {"sites.csv", "map.html"} and set(manifest.jobs["analyze"]) == set(RUN_B)
    assert leftovers(out) == []


def test_a_failed_rerun_leaves_the_previous_result(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    with pytest.raises(InputError):
        write_run(out, RUN_B, fail=True)
    assert visible(out) == RUN_A and leftovers(out) == []
    folder.require_complete(out)


def test_output_folder_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is an existing file"):
        check_output_folder(tmp_path / "file")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file" / "out")
    check_output_folder(tmp_path / "new" / "deeper")  # may be made


def test_a_name_longer_than_the_file_system_allows_is_one_error(tmp_path):
    long = "东" * 90  # 270 bytes in UTF-8
    with pytest.raises(InputError, match="is 270 bytes long; file systems allow 255"):
        write_run(tmp_path / long, RUN_A)
    write_run(tmp_path / ("东" * 85), RUN_A)  # 255 bytes: the stage beside it has a short name of its own
    assert leftovers(tmp_path / ("东" * 85)) == []


def test_input_hashes_name_files_not_folders(tmp_path):
    (tmp_path / "小区.geojson").write_text("{}")
    got = input_hashes({"compounds": tmp_path / "小区.geojson", "network": "place:攀枝花市东区", "gates": None})
    assert got["compounds"]["file"] == "小区.geojson" and len(got["compounds"]["sha256"]) == 64
    assert got["network"] == {"file": "place:攀枝花市东区", "sha256": None} and "gates" not in got


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, a folder that takes no new files")
def test_a_folder_that_takes_no_files_is_one_error():
    with (
        pytest.raises(InputError, match=r"cannot be (written|made)"),
        staged_directory("/proc/lifecircle-out", job="t"),
    ):
        pass


def test_a_run_that_commits_meanwhile_does_not_break_the_next_commit(tmp_path):
    out = tmp_path / "out"
    write_run(out, {**RUN_A, "sites.csv": "s"}, job="site")
    with staged_directory(out, job="analyze") as stage:
        for name, text in RUN_A.items():
            (stage / name).write_text(text, encoding="utf-8")
        write_run(out, {"sites.csv": "t"}, job="site")  # another run commits while this one writes
        write_run(out, RUN_B)
    assert visible(out) == {**RUN_A, "sites.csv": "t"} and leftovers(out) == []
    assert set(folder.require_complete(out).jobs["analyze"]) == set(RUN_A)


# ---------------------------------------------------------------------------------------------- never others' files


def test_a_folder_lifecircle_did_not_make_is_refused_unless_forced(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    (home / "coverage.csv").write_text("my own table")
    with pytest.raises(InputError, match=r"holds files lifecircle did not write \(coverage.csv, notes.txt\).*--force"):
        write_run(home, RUN_A)
    assert visible(home) == {"notes.txt": "mine", "coverage.csv": "my own table"} and leftovers(home) == []
    claim_output_folder(home, force=True)
    with pytest.raises(InputError, match=r"coverage.csv is a file lifecircle did not write"):
        write_run(home, RUN_A)  # forced, but never over the user's own coverage.csv
    assert (home / "coverage.csv").read_text() == "my own table"
    (home / "coverage.csv").unlink()
    write_run(home, RUN_A)
    write_run(home, RUN_B)
    assert visible(home) == {**RUN_B, "notes.txt": "mine"} and leftovers(home) == []
    folder.require_complete(home)


def test_an_empty_folder_is_used_and_never_replaced(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    inode = out.stat().st_ino
    write_run(out, RUN_A)
    write_run(out, RUN_B)
    assert visible(out) == RUN_B and leftovers(out) == []
    assert out.stat().st_ino == inode  # the user's folder itself stays: only lifecircle's files in it change
    made = tmp_path / "made"
    write_run(made, RUN_A)
    assert folder.read_manifest(made).made and not folder.read_manifest(out).made


def test_a_users_folder_named_like_an_output_is_never_deleted(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    (out / "report.html").mkdir()
    (out / "report.html" / "draft.docx").write_text("my draft")
    with pytest.raises(InputError, match=r"report.html is a folder lifecircle did not write"):
        write_run(out, RUN_B)
    assert (out / "report.html" / "draft.docx").read_text() == "my draft"
    assert visible(out / "report.html") == {"draft.docx": "my draft"} and leftovers(out) == []
    # a folder under the name of a file lifecircle wrote earlier is the user's too
    shutil.rmtree(out / "report.html")
    write_run(out, RUN_B)
    (out / "report.html").unlink()
    (out / "report.html").mkdir()
    (out / "report.html" / "x").write_text("x")
    write_run(out, RUN_A)
    assert (out / "report.html" / "x").read_text() == "x"


def test_a_changed_output_is_neither_overwritten_nor_removed(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    (out / "rollup_street.csv").write_text("street A, with my corrections\n")
    write_run(out, {"coverage.csv": "B\n", "summary.json": "{}"})  # rollup_street.csv is no longer lifecircle's
    assert (out / "rollup_street.csv").read_text() == "street A, with my corrections\n"
    (out / "coverage.csv").write_text("edited")
    with pytest.raises(InputError, match=r"coverage\.csv is a file lifecircle did not write"):
        write_run(out, RUN_B)
    assert (out / "coverage.csv").read_text() == "edited"


@pytest.mark.parametrize(
    "manifest",
    [
        "{not json",
        json.dumps({"format": "something else", "jobs": {"analyze": {"notes.txt": "0" * 64}}}),
        json.dumps(
            {
                "format": folder.MANIFEST_FORMAT,
                "schema_version": 1,
                "complete": True,
                "jobs": {"analyze": {"../outside.txt": "0" * 64, "notes.txt": "0" * 64}},
            }
        ),
        "[" * 100_000,
    ],
    ids=["damaged", "foreign", "points-outside", "deeply-nested"],
)
def test_a_foreign_or_damaged_manifest_deletes_nothing(tmp_path, manifest):
    (tmp_path / "outside.txt").write_text("secret")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / folder.MANIFEST).write_text(manifest, encoding="utf-8")
    with pytest.raises(InputError, match="holds files lifecircle did not write"):
        write_run(out, RUN_A)
    claim_output_folder(out, force=True)
    write_run(out, RUN_A)
    write_run(out, RUN_B)
    assert (tmp_path / "outside.txt").read_text() == "secret" and (out / "notes.txt").read_text() == "mine"
    assert visible(out) == {**RUN_B, "notes.txt": "mine"}


def test_a_manifest_of_an_older_lifecircle_lets_its_files_be_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name, text in RUN_A.items():
        (out / name).write_text(text)
    (out / ".lifecircle-analyze.json").write_text(json.dumps(sorted(RUN_A)))
    write_run(out, RUN_B)
    assert {k: v for k, v in visible(out).items() if k in RUN_B} == RUN_B
    assert (out / "rollup_street.csv").exists()  # unverifiable (no hash): kept, never removed
    assert not (out / ".lifecircle-analyze.json").exists()


def test_inputs_inside_the_output_folder_are_never_replaced(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    with pytest.raises(InputError, match="would overwrite the input file"):
        with staged_directory(out, job="analyze", inputs=[out / "coverage.csv"]) as stage:
            (stage / "coverage.csv").write_text("B")
    assert visible(out) == RUN_A


# ---------------------------------------------------------------------------------------------- symlinks


def test_symlinks(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    write_run(link, RUN_A)
    write_run(link, RUN_B)
    assert link.is_symlink() and visible(real) == RUN_B  # the results go where the link points; the link stays
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match=r"is a symbolic link to .*nowhere, which does not exist"):
        write_run(dangling, RUN_A)
    with pytest.raises(InputError, match="broken symbolic link"):
        write_run(dangling / "deeper", RUN_A)
    assert not (tmp_path / "nowhere").exists()


def test_an_output_name_that_is_a_symlink_is_never_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    out = tmp_path / "out"
    write_run(out, RUN_A)
    (out / "rollup_street.csv").unlink()
    (out / "rollup_street.csv").symlink_to(secret)  # where the previous run wrote a file
    (out / "report.html").symlink_to(secret)
    with pytest.raises(InputError, match=r"report\.html is a file lifecircle did not write"):
        write_run(out, RUN_B)
    (out / "report.html").unlink()
    write_run(out, {"coverage.csv": "B\n"})
    assert secret.read_text() == "secret" and (out / "rollup_street.csv").is_symlink()
    (out / (folder.MANIFEST + ".tmp")).symlink_to(secret)  # a link under the manifest's temporary name
    write_run(out, {"coverage.csv": "C\n"})
    assert secret.read_text() == "secret"
    manifest_link = tmp_path / "m"
    manifest_link.mkdir()
    (tmp_path / "elsewhere.json").write_text((out / folder.MANIFEST).read_text())
    (manifest_link / folder.MANIFEST).symlink_to(tmp_path / "elsewhere.json")
    assert folder.read_manifest(manifest_link) is None  # a manifest is never read through a link


# ---------------------------------------------------------------------------------------------- stale stages


def test_stale_stages_are_removed_and_a_live_one_is_kept(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    stale = _stage.Stage.create(out, inside=False)
    (stale.path / "coverage.csv").write_text("half")
    os.close(stale.fd)  # its run was killed: nobody holds it
    live = _stage.Stage.create(out, inside=False)  # another run, still writing
    other = tmp_path / f"{folder.STAGE_PREFIX}0123456789-abc"  # a stage of another folder
    other.mkdir()
    write_run(out, RUN_B)
    assert not stale.path.exists() and live.path.is_dir() and other.is_dir()
    live.remove()
    assert visible(out) == RUN_B


def test_a_previous_result_whose_successor_never_came_is_put_back(tmp_path):
    out = tmp_path / "out"
    write_run(out, RUN_A)
    old = tmp_path / f"{folder.OLD_PREFIX}{_stage.key(out)}-x1"
    out.rename(old)  # killed between the two renames of a swap without an atomic exchange
    write_run(out, {"coverage.csv": "C\n"}, job="site")
    assert visible(out) == {**RUN_A, "coverage.csv": "C\n"} and leftovers(out) == []


def test_without_an_atomic_exchange_the_swap_still_commits(tmp_path, monkeypatch):
    monkeypatch.setattr(_stage, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    write_run(out, RUN_A)
    write_run(out, RUN_B)
    assert visible(out) == RUN_B and leftovers(out) == []


def test_without_flock_rename_exchange_or_signal_masks_runs_still_commit(tmp_path, monkeypatch):
    """As on Windows: no flock (a left-over stage is told by its age), no renameat2, no signal masks."""
    monkeypatch.setattr(_stage, "fcntl", None)
    monkeypatch.setattr(_stage, "_exchange", lambda a, b: False)
    monkeypatch.delattr(signal, "pthread_sigmask")
    out = tmp_path / "out"
    write_run(out, RUN_A)
    fresh = _stage.Stage.create(out, inside=False)  # maybe another run's: kept
    old = _stage.Stage.create(out, inside=False)
    os.utime(old.path, (0, 0))  # a day old and more: left over
    write_run(out, RUN_B)
    assert visible(out) == RUN_B and fresh.path.is_dir() and not old.path.exists()
    fresh.remove()


def test_a_folder_that_cannot_be_replaced_is_one_error_and_stays_whole(tmp_path, monkeypatch):
    """As on Windows when a program holds a file of the folder open: the rename fails, the old result stays."""
    out = tmp_path / "out"
    write_run(out, RUN_A)
    real_rename = os.rename
    monkeypatch.setattr(_stage, "_exchange", lambda a, b: False)

    def held_open(src, dst):
        if Path(dst) == out and Path(src).name.startswith(folder.STAGE_PREFIX):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", held_open)
    with pytest.raises(LifecircleError, match=r"could not be replaced \(Permission denied.*close any program"):
        write_run(out, RUN_B)
    monkeypatch.undo()
    assert visible(out) == RUN_A and leftovers(out) == []
    folder.require_complete(out)


# ---------------------------------------------------------------------------------------------- kills

_STEPS = [(os, "rename"), (os, "replace"), (os, "link"), (os, "unlink"), (os, "rmdir"), (os, "mkdir"), (os, "fsync")]


def _killed_run(out: Path, files: dict[str, str], *, kill_at: int, sig: int) -> tuple[int, int]:
    """Fork a run that sends itself ``sig`` at the ``kill_at``-th file-system step of its commit.

    Returns the child's wait status and how many steps the commit took (when not killed).
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        os.close(read)
        status = 0
        try:
            counter = {"on": False, "n": 0}

            def counted(fn):
                def step(*args, **kwargs):
                    if counter["on"]:
                        counter["n"] += 1
                        if counter["n"] == kill_at:
                            os.kill(os.getpid(), sig)
                    return fn(*args, **kwargs)

                return step

            for module, name in _STEPS:
                setattr(module, name, counted(getattr(module, name)))
            _stage._exchange = counted(_stage._exchange)
            _stage.Stage.finish = counted(_stage.Stage.finish)
            with terminate_as_interrupt(), staged_directory(out, job="analyze") as stage:
                for name, text in files.items():
                    (stage / name).write_text(text, encoding="utf-8")
                counter["on"] = True
            os.write(write, str(counter["n"]).encode())
        except KeyboardInterrupt:
            status = 130
        except BaseException:
            status = 3
        finally:
            os._exit(status)
    os.close(write)
    _, wait_status = os.waitpid(pid, 0)
    steps = os.read(read, 64).decode() or "0"
    os.close(read)
    return wait_status, int(steps)


def _previous(out: Path, kind: str) -> None:
    if kind == "new":
        return
    if kind == "forced":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        claim_output_folder(out, force=True)
    write_run(out, RUN_A)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["new", "swap", "forced"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_kill_at_any_step_of_the_commit_leaves_one_whole_result(tmp_path, kind, sig):
    _, steps = _killed_run(tmp_path / "probe", RUN_B, kill_at=0, sig=sig)
    assert steps >= 3
    mine = {"notes.txt": "mine"} if kind == "forced" else {}
    for kill_at in range(1, steps + 2):
        base = tmp_path / str(kill_at)
        base.mkdir()
        out = base / "out"
        _previous(out, kind)
        status, _ = _killed_run(out, RUN_B, kill_at=kill_at, sig=sig)
        assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) in (0, 130), (kill_at, status)
        seen = visible(out) if out.is_dir() else None
        whole = [None, RUN_B] if kind == "new" else [{**RUN_A, **mine}, {**RUN_B, **mine}]
        manifest = folder.read_manifest(out) if out.is_dir() else None
        if kind == "forced" and manifest is not None and not manifest.complete:
            # replaced in place (the folder holds the user's files): marked unfinished meanwhile
            with pytest.raises(InputError, match="unfinished run"):
                folder.require_complete(out)
            assert seen["notes.txt"] == "mine"
        else:
            assert seen in whole, (kill_at, seen)
            if seen is not None:
                folder.require_complete(out)
        if kind == "forced":  # killed again at the same step: the files of both runs stay lifecircle's
            _killed_run(out, RUN_B, kill_at=kill_at, sig=sig)
        write_run(out, RUN_B)  # the next run cleans up and commits
        assert visible(out) == {**RUN_B, **mine} and leftovers(out) == [], kill_at
        folder.require_complete(out)


@pytest.mark.slow
def test_sigterm_in_the_command_line_cleans_up_and_says_one_line(tmp_path):
    out = tmp_path / "out"
    code = (
        "import sys, time\n"
        "from lifecircle.planning.outputs import staged_directory, terminate_as_interrupt\n"
        "try:\n"
        "    with terminate_as_interrupt(), staged_directory(sys.argv[1], job='analyze') as stage:\n"
        "        (stage / 'coverage.csv').write_text('half')\n"
        "        print('staged', flush=True)\n"
        "        time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    print('lifecircle: interrupted; nothing was written', file=sys.stderr)\n"
        "    sys.exit(130)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "staged"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip().splitlines() == ["lifecircle: interrupted; nothing was written"]
    assert not out.exists() and leftovers(out) == []


# ---------------------------------------------------------------------------------------------- full disks


def test_a_full_disk_is_one_error_naming_the_folder_and_the_space(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_run(out, RUN_A)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    message = r"The disk holding .*out is full \(.* free\): the results need about .* like the previous result"
    with pytest.raises(LifecircleError, match=message):
        with staged_directory(out, job="analyze") as stage:
            (stage / "coverage.csv").write_text("B" * 200_000)
            monkeypatch.setattr(Path, "write_text", full)
            (stage / "summary.json").write_text("{}")
    monkeypatch.undo()
    assert visible(out) == RUN_A and leftovers(out) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 512 kB tmpfs (needs root, as in CI, and a system that allows mounts; else the test skips)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode(errors='replace').strip()})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk(tiny_disk):
    import geopandas as gpd
    import shapely

    out = tiny_disk / "out"
    write_run(out, RUN_A)
    points = gpd.GeoDataFrame({"name": ["服务点" * 20] * 20_000}, geometry=shapely.points(range(20_000), 0), crs=4326)
    for writer in (
        lambda stage: (stage / "coverage.csv").write_bytes(os.urandom(2_000_000)),
        lambda stage: folder.write_gpkg(points, stage / "services.gpkg", layer="services"),
    ):
        with pytest.raises(LifecircleError, match=r"The disk holding .*out is full") as caught:
            with staged_directory(out, job="analyze") as stage:
                writer(stage)
        assert "\n" not in str(caught.value)
        assert visible(out) == RUN_A and leftovers(out) == []
        folder.require_complete(out)
    write_run(out, RUN_B)  # space enough once the stage is gone
    assert visible(out) == RUN_B


def test_a_read_only_folder_is_one_error(tiny_disk):
    out = tiny_disk / "out"
    write_run(out, RUN_A)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    try:
        with pytest.raises(InputError, match=r"(not writable|cannot be written)"):
            write_run(out, RUN_B)
        assert visible(out) == RUN_A
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions (the read-only mount test covers root)")
def test_permission_denied(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="not writable"):
            write_run(locked / "out", RUN_A)
        with pytest.raises(InputError, match="not writable"):
            write_run(locked, RUN_A)
    finally:
        locked.chmod(0o700)


def test_flock_is_per_stage(tmp_path):
    """The lock that tells a live stage from a stale one really excludes a second holder."""
    stage = _stage.Stage.create(tmp_path / "out", inside=False)
    fd = os.open(stage.path, os.O_RDONLY | os.O_DIRECTORY)
    with pytest.raises(BlockingIOError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    stage.remove()
    assert not stage.path.exists()


# ---------------------------------------------------------------------------------------------- properties

_NAMES = st.sampled_from(["coverage.csv", "summary.json", "map.html", "sites.csv", "rollup_street.csv", "备注.csv"])
_RUN = st.tuples(st.sampled_from(["analyze", "site", "report"]), st.dictionaries(_NAMES, st.text("ab东\n", max_size=5)))


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(runs=st.lists(_RUN, min_size=1, max_size=5), user_file=st.booleans())
def test_any_sequence_of_runs_leaves_exactly_the_latest_files(runs, user_file):
    """Whatever jobs run in whatever order, the folder holds each job's latest files (a later job takes over a
    name it writes too), the manifest matches the disk, and a file of the user's is never touched."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        if user_file:
            out.mkdir()
            (out / "mine.txt").write_text("mine")
            claim_output_folder(out, force=True)
        expected: dict[str, tuple[str, str]] = {}  # name -> (job, text)
        for job, files in runs:
            write_run(out, files, job=job)
            expected = {n: v for n, v in expected.items() if v[0] != job and n not in files}
            expected.update({n: (job, text) for n, text in files.items()})
        on_disk = visible(out) if out.is_dir() else {}
        assert on_disk == {
            **{n: text for n, (_, text) in expected.items()},
            **({"mine.txt": "mine"} if user_file else {}),
        }
        manifest = folder.require_complete(out) if out.is_dir() else None
        owned = manifest.owned() if manifest is not None else {}
        assert {n: job for job, files in (manifest.jobs.items() if manifest else ()) for n in files} == {
            n: job for n, (job, _) in expected.items()
        }
        assert all(outputs.file_sha256(out / n) == digest for n, digest in owned.items())
        assert leftovers(out) == []


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(files=st.dictionaries(st.text(max_size=12), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)))
def test_a_manifest_never_names_a_path_outside_its_folder(files):
    with tempfile.TemporaryDirectory() as tmp:
        data = {"format": folder.MANIFEST_FORMAT, "schema_version": 1, "complete": True, "jobs": {"analyze": files}}
        (Path(tmp) / folder.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
        manifest = folder.read_manifest(Path(tmp))
        if manifest is not None:
            for name in manifest.owned():
                target = (Path(tmp) / name).resolve()
                assert target.parent == Path(tmp).resolve() and not name.startswith(".")
