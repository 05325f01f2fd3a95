"""Writing results: an output folder is, at every instant, wholly the previous run or wholly the new one.

A run writes into a hidden stage folder; when every file is written, the stage gets its manifest (the files of
each job with their SHA-256 hashes, marked complete) and is swapped with the output folder in one atomic
exchange of names (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, undone on the next run if
interrupted between them). The previous result is then removed, file by file, only where it is what lifecircle
wrote (its hash matches the manifest). A folder that also holds other files (``--force``) cannot be swapped:
there the manifest is first marked incomplete (so ``report`` and ``publish`` refuse it), lifecircle's files are
replaced one by one, and the mark is set again. lifecircle never deletes or overwrites a file or folder it did
not write; a non-empty folder it did not make is refused unless ``force``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from lifecircle.errors import InputError, LifecircleError
from lifecircle.folder import MANIFEST, Manifest, read_manifest, write_csv, write_gpkg, write_json
from lifecircle.folder import safe_name as folder_name_ok
from lifecircle.planning import _stage
from lifecircle.planning._stage import Stage, disk_error, signals_deferred, terminate_as_interrupt

log = logging.getLogger(__name__)

__all__ = ["check_output_folder", "claim_output_folder", "file_sha256", "input_hashes", "staged_directory",
           "terminate_as_interrupt", "write_csv", "write_gpkg", "write_json"]  # fmt: skip

NAME_MAX_BYTES = 255


def check_output_folder(out_dir: str | Path) -> None:
    """Raise :class:`~lifecircle.errors.InputError` when ``out_dir`` cannot be an output folder.

    It must be a folder (or a symbolic link to one), or not exist yet below a folder that does and that this
    user may write in; no part of its name may be longer than the 255 bytes file systems allow. Checked before
    any work, so a long run does not end on a folder it cannot make.
    """
    out_dir = Path(out_dir)
    for part in out_dir.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX_BYTES:
            raise InputError(
                f"The output folder name {part[:40]}… is {size} bytes long; file systems allow {NAME_MAX_BYTES}."
            )
    if out_dir.is_symlink() and not out_dir.exists():
        raise InputError(
            f"The output folder {out_dir} is a symbolic link to {os.readlink(out_dir)}, which does not exist."
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"The output folder {out_dir} is an existing file.")
    if out_dir.is_dir():
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise InputError(f"The output folder {out_dir} is not writable.")
        return
    ancestor = out_dir.absolute().parent
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise InputError(f"The output folder {out_dir} cannot be made: {ancestor} is a broken symbolic link.")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"The output folder {out_dir} cannot be made: {ancestor} is a file, not a folder.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"The output folder {out_dir} cannot be made: {ancestor} is not writable.")


def claim_output_folder(out_dir: str | Path, *, force: bool = False) -> None:
    """Refuse a non-empty folder that lifecircle did not make, unless ``force``.

    With ``force`` the folder gets an empty manifest: lifecircle may write its files there from now on, and
    keeps every file already in it (a file or folder of the same name as an output stops the run instead).
    """
    check_output_folder(out_dir)
    out_dir = _target(Path(out_dir))
    if not out_dir.is_dir() or _is_lifecircle_folder(out_dir):
        return
    others = sorted(p.name for p in out_dir.iterdir() if not _stage.is_ours(p))
    if not others:
        return
    if not force:
        shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
        raise InputError(
            f"The output folder {out_dir} holds files lifecircle did not write ({shown}): choose a new or empty "
            "folder, or add --force to write beside them (they are kept)."
        )
    Manifest().write(out_dir)
    log.info("%s is now an output folder of lifecircle; its %d other entries are kept", out_dir, len(others))


def _is_lifecircle_folder(out_dir: Path) -> bool:
    return read_manifest(out_dir) is not None or bool(_stage.legacy_names(out_dir))


def _target(out_dir: Path) -> Path:
    """The folder itself when ``out_dir`` is a symbolic link to one (the link stays)."""
    return out_dir.resolve() if out_dir.is_symlink() and out_dir.is_dir() else out_dir


@dataclass(frozen=True)
class _Before:
    """The output folder before the run: its manifest, what in it is lifecircle's, and how to commit."""

    manifest: Manifest
    verified: dict[str, str]  # name -> SHA-256 of the files whose hash is one the manifest gives them
    stats: dict[str, tuple[int, int, int]]  # name -> (size, mtime_ns, inode) of those files now
    legacy: frozenset[str]  # files listed by an older lifecircle (no hashes: replaced, never removed)
    foreign: tuple[str, ...]  # entries that are not lifecircle's
    swap: bool  # the whole folder may be swapped


def _survey(out_dir: Path) -> _Before:
    """What in ``out_dir`` is lifecircle's: files listed in its manifest with their hash (not hashed again when
    size, modification time and inode are those recorded)."""
    if not out_dir.is_dir():
        return _Before(Manifest(), {}, {}, frozenset(), (), swap=True)
    manifest = read_manifest(out_dir) or Manifest()
    owned, current = manifest.accepted(), manifest.owned()
    legacy = frozenset(_stage.legacy_names(out_dir))
    verified: dict[str, str] = {}
    stats: dict[str, tuple[int, int, int]] = {}
    foreign: list[str] = []
    for entry in sorted(out_dir.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name == MANIFEST or _stage.is_ours(entry) or name in {f".lifecircle-{j}.json" for j in _stage.JOBS}:
            continue
        found = _stat(entry) if name in owned else None
        digest: str | None = None
        if found is not None:
            known = manifest.stats.get(name) == found and name in current
            digest = current[name] if known else file_sha256(entry)
        if found is not None and digest is not None and digest in owned[name]:
            verified[name], stats[name] = digest, found
        elif not (name in legacy and entry.is_file() and not entry.is_symlink()):
            foreign.append(name)
    has_manifest = (out_dir / MANIFEST).is_file()
    swap = manifest.made and has_manifest and not foreign and not legacy and _stage.parent_writable(out_dir)
    return _Before(manifest, verified, stats, legacy, tuple(foreign), swap)


def _stat(path: Path) -> tuple[int, int, int] | None:
    """Size, modification time (ns) and inode of a regular file (never through a link); None otherwise."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def _with_stats(manifest: Manifest, where: Path) -> Manifest:
    """The manifest with the size, time and inode of its files as they are in ``where``."""
    stats = {name: st for name in manifest.owned() if (st := _stat(where / name)) is not None}
    return replace(manifest, stats=stats)


@contextmanager
def staged_directory(out_dir: str | Path, *, job: str, inputs: Iterable[str | Path | None] = ()) -> Iterator[Path]:
    """Stage output files in a hidden folder; commit them to ``out_dir`` only when all were written.

    On any error (or Ctrl-C, or SIGTERM under the command line) the stage is removed and ``out_dir`` is left as
    it was (folders made for it are removed again). A run replaces the files the previous run of the same ``job``
    wrote there, so nothing of an earlier run survives beside the new one; files of other jobs stay.

    Parameters
    ----------
    out_dir
        The output folder.
    job
        Which command writes (``analyze``, ``site``, ``isochrones``, ``report``...).
    inputs
        The run's input files: when one of them would be replaced or removed, nothing is moved and an
        :class:`~lifecircle.errors.InputError` names it.

    Raises
    ------
    InputError
        ``out_dir`` is not usable, holds files lifecircle did not write (see :func:`claim_output_folder`), or the
        disk filled up (the message names the folder and the space the run needed).
    """
    check_output_folder(out_dir)
    out_dir = _target(Path(out_dir))
    _stage.clean_stale(out_dir)
    claim_output_folder(out_dir)
    before = _survey(out_dir)
    made = [] if out_dir.is_dir() else _stage.make_parents(out_dir.absolute().parent)
    committing = False
    try:
        stage = Stage.create(out_dir, inside=not before.swap)
    except OSError as exc:  # e.g. a system folder that root may "write" but that takes no files
        _stage.remove_empty(made)
        raise InputError(f"The output folder {out_dir} cannot be written: {exc.strerror or exc}.") from None
    try:
        yield stage.path
        written = _written(stage.path)
        committing = True
        with signals_deferred(), _stage.commit_lock(out_dir):
            before = _survey(out_dir)  # again: another run may have committed meanwhile
            _refuse_to_replace_inputs(out_dir, set(written) | set(before.manifest.jobs.get(job, {})), inputs)
            if before.swap and stage.path.parent != out_dir:
                _commit_swap(out_dir, stage, job, written, before)
            else:
                _commit_in_place(out_dir, stage, job, written, before)
    except BaseException as exc:
        written_bytes = stage.size()
        stage.remove()
        _stage.remove_empty(made)
        previous = sum((out_dir / name).stat().st_size for name in before.verified if (out_dir / name).is_file())
        full = disk_error(exc, out_dir, written_bytes=written_bytes, previous_bytes=previous)
        if full is not None:
            raise full from None
        if committing and isinstance(exc, OSError):  # e.g. a file of the folder held open by another program
            raise LifecircleError(
                f"The output folder {out_dir} could not be replaced ({exc.strerror or exc}: {exc.filename}); "
                "close any program using its files and run again."
            ) from None
        raise
    finally:
        stage.remove()


def _written(stage: Path) -> list[str]:
    """The files a job wrote into its stage (plain names, regular files; anything else is not committed)."""
    names = []
    for entry in sorted(stage.iterdir(), key=lambda p: p.name):
        if folder_name_ok(entry.name) and entry.is_file() and not entry.is_symlink():
            names.append(entry.name)
        else:
            log.debug("not committed: %s", entry)
    return names


def _new_manifest(before: _Before, job: str, written: dict[str, str], *, complete: bool) -> Manifest:
    """The manifest after ``job`` wrote ``written``: other jobs keep their files, except names now rewritten."""
    jobs = {
        other: {n: before.verified[n] for n in files if n not in written and n in before.verified}
        for other, files in before.manifest.jobs.items()
        if other != job
    }
    jobs = {other: files for other, files in jobs.items() if files}
    jobs[job] = dict(written)
    return Manifest(jobs=jobs, complete=complete)


def _commit_swap(out_dir: Path, stage: Stage, job: str, written: list[str], before: _Before) -> None:
    """Complete the stage (other jobs' files linked in, manifest) and swap it with ``out_dir``."""
    digests = {name: file_sha256(stage.path / name) for name in written}
    manifest = _new_manifest(before, job, digests, complete=True)
    for files in manifest.jobs.values():
        for name in files:
            if name not in digests:
                _stage.link_or_copy(out_dir / name, stage.path / name)
    stage.finish(replace(_with_stats(manifest, stage.path), made=True))
    old = stage.swap_into(out_dir)
    if old is not None:
        _remove_previous(old, before)


def _remove_previous(old: Path, before: _Before) -> None:
    """Remove the previous result (now at ``old``): only files whose hash is what lifecircle wrote."""
    for name in before.verified:
        path = old / name
        if _stat(path) == before.stats[name]:  # the very file found (and hashed or known) before the swap
            path.unlink()
    for name in (MANIFEST, MANIFEST + ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            (old / name).unlink()
    try:
        old.rmdir()
    except OSError:
        left = sorted(p.name for p in old.iterdir())
        log.warning("kept %s: it holds %s, which lifecircle did not write", old, ", ".join(left[:5]))


def _commit_in_place(out_dir: Path, stage: Stage, job: str, written: list[str], before: _Before) -> None:
    """Replace lifecircle's files one by one in a folder that holds other files, marked incomplete meanwhile."""
    for name in written:
        target = out_dir / name
        if not (target.exists() or target.is_symlink()) or name in before.verified:
            continue
        if name in before.legacy and target.is_file() and not target.is_symlink():
            continue
        what = "a folder" if target.is_dir() and not target.is_symlink() else "a file"
        raise InputError(
            f"{target} is {what} lifecircle did not write (or one changed since): move it away, then run again."
        )
    digests = {name: file_sha256(stage.path / name) for name in written}
    others = {n for other, files in before.manifest.jobs.items() if other != job for n in files}
    previous = set(before.manifest.jobs.get(job, {})) | (set(before.manifest.previous) - others)
    pending = replace(  # while files move, the old and the new file are both lifecircle's
        _new_manifest(before, job, digests, complete=False),
        previous=dict(before.verified),
        made=before.manifest.made,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    pending.write(out_dir)
    for name in written:
        os.replace(stage.path / name, out_dir / name)
    for name in sorted(previous - set(written)):
        path = out_dir / name
        if name in before.verified and _stat(path) == before.stats[name]:
            path.unlink()
    kept = sorted(n for n in before.legacy - set(written) if (out_dir / n).exists())
    if kept:
        log.warning(
            "kept %s in %s: an older lifecircle listed them without hashes, so they cannot be proved its own; "
            "delete them if they are not yours",
            ", ".join(kept),
            out_dir,
        )
    _stage.remove_legacy_manifests(out_dir)
    final = _with_stats(_new_manifest(before, job, digests, complete=True), out_dir)
    replace(final, made=before.manifest.made).write(out_dir)


def _refuse_to_replace_inputs(out_dir: Path, names: set[str], inputs: Iterable[str | Path | None]) -> None:
    """Raise when a file the run would write or remove in ``out_dir`` is one of its input files."""
    touched = {(out_dir / name).resolve() for name in names}
    for path in inputs:
        if path is not None and Path(path).exists() and Path(path).resolve() in touched:
            raise InputError(
                f"The output folder {out_dir} would overwrite the input file {path}: "
                "choose another output folder or move the input."
            )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file (for recording which data a result came from)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(inputs: dict[str, str | Path | None]) -> dict[str, dict]:
    """File name and SHA-256 of each input (directories and downloads are listed without a hash).

    Only the name is kept, never the folder: outputs are published and handed around, and the hash
    identifies the file without telling where it lives on the user's machine.
    """
    out = {}
    for role, path in inputs.items():
        if path is None:
            continue
        p = Path(path)
        out[role] = {"file": p.name if p.exists() else str(path), "sha256": file_sha256(p) if p.is_file() else None}
    return out
