"""The manifest of an output folder: which files each job wrote (name, SHA-256, size/time/inode) and whether the
folder is complete. Only plain names inside the folder are ever accepted from it, and a manifest that is not
lifecircle's (or is damaged) is never trusted: read as None. Re-exported by :mod:`lifecircle.folder`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "SCHEMA_VERSION", "Manifest", "read_manifest", "safe_name"]

SCHEMA_VERSION = 1
"""Version of the folder's layout and of ``summary.json``; raised when a file changes meaning or shape."""

MANIFEST = ".lifecircle.json"
"""The folder's manifest: format, schema version, the files of each job with their hashes, the completeness mark."""

MANIFEST_FORMAT = "lifecircle-output-folder"


@dataclass(frozen=True)
class Manifest:
    """What the manifest of a folder says: the files of each job (name -> SHA-256) and whether it is complete.

    While a run replaces files in place (``complete`` is then false), ``previous`` holds the SHA-256 the files
    had before: either version is lifecircle's.
    """

    jobs: dict[str, dict[str, str]] = field(default_factory=dict)
    complete: bool = True
    schema_version: int = SCHEMA_VERSION
    previous: dict[str, str] = field(default_factory=dict)
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    made: bool = False
    """lifecircle made the folder itself (a stage swapped in): only then may a rerun replace the folder whole."""
    """Size, modification time (ns) and inode of each file when written: an unchanged file is not hashed again."""

    def owned(self) -> dict[str, str]:
        """Every file any job wrote, name -> SHA-256."""
        return {name: digest for files in self.jobs.values() for name, digest in files.items()}

    def accepted(self) -> dict[str, frozenset[str]]:
        """Every file any job wrote, name -> the SHA-256 digests it may have (two while replaced in place)."""
        out = {name: {digest} for name, digest in self.owned().items()}
        for name, digest in self.previous.items():
            out.setdefault(name, set()).add(digest)
        return {name: frozenset(digests) for name, digests in out.items()}

    def to_json(self) -> dict:
        """The manifest as written."""
        jobs = {job: dict(sorted(files.items())) for job, files in sorted(self.jobs.items())}
        head = {"format": MANIFEST_FORMAT, "schema_version": self.schema_version, "complete": self.complete}
        extra: dict[str, dict] = {"previous": dict(sorted(self.previous.items()))} if self.previous else {}
        if self.stats:
            extra["stat"] = {name: list(st) for name, st in sorted(self.stats.items())}
        if self.made:
            extra["made_folder"] = True
        return {**head, "jobs": jobs, **extra}

    def write(self, folder: Path) -> None:
        """Write the manifest into ``folder`` atomically (a temporary file renamed over the old one)."""
        path = Path(folder) / MANIFEST
        tmp = path.with_name(MANIFEST + ".tmp")
        tmp.unlink(missing_ok=True)  # a link left under this name is removed, never written through
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(json.dumps(self.to_json(), ensure_ascii=False, indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest; None when it has none, or when it is foreign or damaged (never trusted then).

    Only plain file names (no folder part, no ``..``, not hidden) with 64-hex-digit hashes are accepted, so a
    manifest can never point outside its folder.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        log.warning("%s is damaged; it is ignored and nothing it lists is removed", path)
        return None
    try:
        if data["format"] != MANIFEST_FORMAT or not isinstance(data["complete"], bool):
            raise ValueError("format")
        jobs = {str(job): _checked_files(files) for job, files in data["jobs"].items()}
        previous = _checked_files(data.get("previous", {}))
        version = int(data["schema_version"])
        stats = {
            name: (int(st[0]), int(st[1]), int(st[2]))
            for name, st in data.get("stat", {}).items()
            if safe_name(name) and isinstance(st, list) and len(st) == 3
        }
        made = data.get("made_folder") is True
        return Manifest(
            jobs=jobs, complete=data["complete"], schema_version=version, previous=previous, stats=stats, made=made
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        log.warning("%s is not a manifest lifecircle wrote; it is ignored and nothing it lists is removed", path)
        return None


def _checked_files(files) -> dict[str, str]:
    out = {}
    for name, digest in files.items():
        if not safe_name(name) or not (isinstance(digest, str) and len(digest) == 64):
            raise ValueError(name)
        int(digest, 16)
        out[name] = digest
    return out


def safe_name(name: object) -> bool:
    """A plain, visible file name: no folder part, not ``.``/``..``, not hidden, no NUL."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )
