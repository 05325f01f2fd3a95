"""Writing results: all files of a run appear together or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lifecircle.errors import InputError
from lifecircle.folder import write_csv, write_gpkg, write_json

__all__ = ["check_output_folder", "file_sha256", "input_hashes", "staged_directory", "write_csv", "write_gpkg",
           "write_json"]  # fmt: skip

log = logging.getLogger(__name__)


def check_output_folder(out_dir: str | Path) -> None:
    """Raise :class:`~lifecircle.errors.InputError` when ``out_dir`` cannot be an output folder.

    It must be a folder, or not exist yet below a folder that does and that this user may write in. Checked
    before any work, so a long run does not end on a folder it cannot make.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"The output folder {out_dir} is an existing file.")
    if out_dir.is_dir():
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise InputError(f"The output folder {out_dir} is not writable.")
        return
    ancestor = out_dir.resolve().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"The output folder {out_dir} cannot be made: {ancestor} is a file, not a folder.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"The output folder {out_dir} cannot be made: {ancestor} is not writable.")


@contextmanager
def staged_directory(out_dir: str | Path, *, job: str, inputs: Iterable[str | Path | None] = ()) -> Iterator[Path]:
    """Stage output files in a temporary folder and move them into ``out_dir`` only when all were written.

    On any error the staged files are removed and ``out_dir`` is left as it was (neither it nor the folders
    above it are left behind when they did not exist). A run replaces the files the previous run of the same
    ``job`` wrote there (listed in ``.lifecircle-<job>.json``), so no stale output of an earlier run survives;
    other files are kept. The stage is a hidden folder inside an existing ``out_dir``, else beside it.

    Parameters
    ----------
    out_dir
        The output folder.
    job
        Which command writes (``analyze``, ``site``, ``isochrones``, ``report``...).
    inputs
        The run's input files: when one of them would be replaced or removed, nothing is moved and an
        :class:`~lifecircle.errors.InputError` names it.
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    exists = out_dir.is_dir()
    made = [] if exists else _make_parents(out_dir.resolve().parent)
    # staged inside an existing output folder (its parent may not be writable), else beside it
    try:
        stage = Path(tempfile.mkdtemp(prefix=".lifecircle-stage-", dir=out_dir if exists else out_dir.resolve().parent))
    except OSError as exc:  # e.g. a system folder that root may "write" but that takes no files
        _remove_empty(made)
        raise InputError(f"The output folder {out_dir} cannot be written: {exc.strerror or exc}.") from None
    manifest = out_dir / f".lifecircle-{job}.json"
    try:
        yield stage
        written = sorted(item.name for item in stage.iterdir())
        previous = set(json.loads(manifest.read_text(encoding="utf-8"))) if manifest.is_file() else set()
        _refuse_to_replace_inputs(out_dir, set(written) | {Path(name).name for name in previous}, inputs)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in written:
            target = out_dir / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(stage / name, target)
        for name in sorted(previous - set(written)):
            stale = out_dir / Path(name).name
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink(missing_ok=True)
        manifest.write_text(json.dumps(written, ensure_ascii=False), encoding="utf-8")
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        _remove_empty(made)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _make_parents(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; return the folders made, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir()
    return missing[::-1]


def _remove_empty(made: list[Path]) -> None:
    """Remove the folders a failed run made (outermost first in ``made``), those it left empty."""
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


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
