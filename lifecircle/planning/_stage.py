"""The stage folder of a run and the file-system steps of committing it (used by :mod:`.outputs`).

A stage is a hidden folder named ``.lifecircle-stage-<key>-<random>`` (``key`` from the output folder's name,
so a stage is found again by the next run into the same folder) beside the output folder, or inside it when the
folder cannot be swapped whole. The run holds an exclusive ``flock`` on the stage folder while it lives: a stage
or previous result nobody holds is left over from a killed run and is removed (or, for a previous result whose
new folder never arrived, put back) by the next run.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from lifecircle.errors import LifecircleError
from lifecircle.folder import MANIFEST, OLD_PREFIX, STAGE_PREFIX, Manifest, safe_name

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no flock; a stage is then taken as left over when a day old
    fcntl = None

log = logging.getLogger(__name__)

JOBS = ("analyze", "site", "isochrones", "report", "test")
"""Jobs whose manifests of older lifecircle versions (``.lifecircle-<job>.json``) are recognised."""

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_FULL = re.compile(r"disk is full|no space left|disk quota", re.IGNORECASE)
_NEARLY_FULL_BYTES = 1 << 20
_STALE_WITHOUT_LOCKS_S = 24 * 3600


def key(out_dir: Path) -> str:
    """Short hash of the output folder's name: its stages and previous results carry it."""
    return hashlib.sha1(os.fsencode(out_dir.absolute().name)).hexdigest()[:10]


def is_ours(path: Path) -> bool:
    """A stage folder, previous result or manifest of lifecircle."""
    name = path.name
    return name.startswith((STAGE_PREFIX, OLD_PREFIX)) or name in (MANIFEST, MANIFEST + ".tmp")


def parent_writable(out_dir: Path) -> bool:
    """The folder can be swapped whole: its parent takes new entries and it is not a mount point."""
    parent = out_dir.absolute().parent
    return os.access(parent, os.W_OK | os.X_OK) and not os.path.ismount(out_dir)


@dataclass
class Stage:
    """A stage folder and the lock held on it while the run lives."""

    path: Path
    fd: int | None
    swapped: bool = False

    @classmethod
    def create(cls, out_dir: Path, *, inside: bool) -> Stage:
        """Make a locked stage inside ``out_dir`` or beside it."""
        where = out_dir if inside else out_dir.absolute().parent
        path = _new_folder(where, f"{STAGE_PREFIX}{key(out_dir)}-")
        return cls(path, lock(path, wait=False))

    def size(self) -> int:
        """Bytes written into the stage so far."""
        total = 0
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.path):
                with contextlib.suppress(OSError):
                    total += entry.stat(follow_symlinks=False).st_size
        return total

    def finish(self, manifest: Manifest) -> None:
        """Write the complete manifest: from now on the stage is a whole result."""
        manifest.write(self.path)

    def swap_into(self, out_dir: Path) -> Path | None:
        """Put the stage in place of ``out_dir``; return where the previous result now is (None if there was none).

        With ``renameat2(RENAME_EXCHANGE)`` the two folders trade names in one step; otherwise the previous
        result is renamed aside first, and :func:`clean_stale` puts it back if the run dies before the stage
        takes its place.
        """
        if not out_dir.exists():
            os.rename(self.path, out_dir)
            self.swapped = True  # from here on, the stage's path is never removed whole
            return None
        with contextlib.suppress(OSError):
            os.chmod(self.path, out_dir.stat().st_mode & 0o7777)
        if _exchange(self.path, out_dir):
            self.swapped = True
            return self.path
        old = _new_folder(out_dir.absolute().parent, f"{OLD_PREFIX}{key(out_dir)}-")
        os.rmdir(old)
        os.rename(out_dir, old)
        try:
            os.rename(self.path, out_dir)
        except OSError:
            os.rename(old, out_dir)  # the previous result back in place at once
            raise
        self.swapped = True
        return old

    def remove(self) -> None:
        """Remove the stage unless it was swapped in, and release the lock; safe to call twice."""
        if not self.swapped and self.path.is_dir() and not self.path.is_symlink():
            shutil.rmtree(self.path, ignore_errors=True)
        unlock(self.fd)
        self.fd = None


def _new_folder(where: Path, prefix: str) -> Path:
    """A new folder with a random name; its permissions follow the umask, as any folder the user makes (a
    temporary folder's 0700 would become the output folder's)."""
    for _ in range(100):
        path = where / f"{prefix}{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free name for a stage folder", str(where))


def lock(folder: Path, *, wait: bool) -> int | None:
    """An exclusive ``flock`` on a folder: the descriptor holding it (see :func:`unlock`), or None where the
    system has no ``flock``. Raises BlockingIOError when another process holds it and ``wait`` is false."""
    if fcntl is None or not hasattr(os, "O_DIRECTORY"):
        return None
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BaseException:
        os.close(fd)
        raise
    return fd


def unlock(fd: int | None) -> None:
    """Release a lock of :func:`lock`."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def read_complete(path: Path) -> bool:
    """The folder's manifest marks a complete result."""
    with contextlib.suppress(OSError, ValueError, RecursionError):
        return json.loads((path / MANIFEST).read_text(encoding="utf-8")).get("complete") is True
    return False


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system or file system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def clean_stale(out_dir: Path) -> None:
    """Remove stages left by killed runs into ``out_dir``; put back a previous result whose successor never came."""
    parent = out_dir.absolute().parent
    candidates = []
    if parent.is_dir():
        candidates += sorted(parent.glob(f"{STAGE_PREFIX}{key(out_dir)}-*"))
        candidates += sorted(parent.glob(f"{OLD_PREFIX}{key(out_dir)}-*"))
    if out_dir.is_dir() and not out_dir.is_symlink():
        candidates += sorted(out_dir.glob(f"{STAGE_PREFIX}*"))
        with contextlib.suppress(FileNotFoundError):
            (out_dir / (MANIFEST + ".tmp")).unlink()
    for path in candidates:
        if path.is_symlink() or not path.is_dir():
            continue
        try:
            fd = lock(path, wait=False)
        except OSError:  # BlockingIOError: a run still writes it
            continue
        if fd is None and time.time() - path.stat().st_mtime < _STALE_WITHOUT_LOCKS_S:
            continue
        try:
            if not out_dir.exists() and read_complete(path):
                os.rename(path, out_dir)
                log.warning("put back %s: the run that was replacing it was killed", out_dir)
            else:
                shutil.rmtree(path, ignore_errors=True)
                log.info("removed %s, left by a run that was killed", path)
        finally:
            unlock(fd)


def legacy_names(out_dir: Path) -> set[str]:
    """Files listed by manifests of older lifecircle versions (plain names only)."""
    names: set[str] = set()
    for job in JOBS:
        path = out_dir / f".lifecircle-{job}.json"
        if not path.is_file() or path.is_symlink():
            continue
        with contextlib.suppress(OSError, ValueError, RecursionError):
            listed = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(listed, list):
                names |= {n for n in listed if safe_name(n)}
    return names


def remove_legacy_manifests(out_dir: Path) -> None:
    """Remove the manifests of older lifecircle versions (the new manifest replaces them)."""
    for job in JOBS:
        with contextlib.suppress(FileNotFoundError):
            (out_dir / f".lifecircle-{job}.json").unlink()


def link_or_copy(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` as a hard link (no copy, no space), else as a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def make_parents(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; return the folders made, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir()
    return missing[::-1]


def remove_empty(made: list[Path]) -> None:
    """Remove the folders a failed run made (outermost first in ``made``), those it left empty."""
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def commit_lock(out_dir: Path) -> Iterator[None]:
    """One commit at a time into the folders of ``out_dir``'s parent (an exclusive ``flock`` on the parent;
    on ``out_dir`` itself where the parent cannot be opened)."""
    try:
        fd = lock(out_dir.absolute().parent, wait=True)
    except OSError:
        fd = lock(out_dir, wait=True) if out_dir.is_dir() else None
    try:
        yield
    finally:
        unlock(fd)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the commit's few renames run; they act right after."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While it lasts, SIGTERM acts as Ctrl-C (KeyboardInterrupt): stages are removed, one line is printed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def disk_error(
    exc: BaseException, out_dir: Path, *, written_bytes: int, previous_bytes: int = 0
) -> LifecircleError | None:
    """A one-line error when ``exc`` came from a full disk (or quota); None otherwise.

    It names the folder, the space free, what the run had written when the disk filled and, when a previous
    result is there, its size (the best guess of what the new one needs).
    """
    if not isinstance(exc, Exception) or isinstance(exc, LifecircleError):  # a user's mistake stays what it is
        return None
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    full = full or bool(_FULL.search(str(exc)))
    where = out_dir.absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return None
    if not full and free > _NEARLY_FULL_BYTES:
        return None
    if not full and not isinstance(exc, (OSError, RuntimeError)) and "gpkg" not in str(exc).lower():
        return None
    needed = max(written_bytes, previous_bytes)
    guess = f"about {_mb(previous_bytes)} like the previous result" if previous_bytes else f"over {_mb(needed)}"
    return LifecircleError(
        f"The disk holding {out_dir} is full ({_mb(free)} free): the results need {guess} "
        f"({_mb(written_bytes)} were written when it filled); free space or choose another --out, then run again. "
        "Nothing was changed."
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.0f} kB"
