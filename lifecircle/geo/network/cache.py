"""The network cache: what a network file becomes, stored once per file content and options, in the user's cache.

Planners run many analyses a day against one district. Reading an OSM extract and preparing its walking network
takes seconds each time; the cache keeps the result (the prepared network, the street layer, barriers, street
cells) as plain arrays (``.lcnet`` files: a JSON header, then raw arrays), so a second run loads them in a
fraction of that.

- **Where:** ``$LIFECIRCLE_CACHE_DIR`` when set, else the user's cache folder
  (``platformdirs.user_cache_dir("lifecircle")``, e.g. ``~/.cache/lifecircle/network``).
- **Key:** a SHA-256 of the network file's *content* (and of every other file that changes the network: merged
  road lines, a DEM, a barrier layer), every option that changes what is stored, :data:`NETWORK_FORMAT_VERSION`,
  lifecircle's version and a fingerprint of the source of the modules that build what is stored (so an upgraded
  or edited lifecircle never reads an entry of another). The key is stored in the entry and compared on reading.
- **Safe:** an entry is written to a temporary file in the same folder and moved into place with ``os.replace``,
  so concurrent runs never see half a file (two runs writing one key both write whole files; the last one wins).
  An entry that cannot be read — truncated, corrupt, another version — is a miss, logged at debug level, never an
  error. Nothing is pickled (:mod:`lifecircle.geo.network.packing`): a shared cache folder cannot run code.
- **Size:** entries unused the longest are removed when the folder grows past ``$LIFECIRCLE_CACHE_MAX_MB``
  (default 2048); :func:`clear_cache` empties it (``lifecircle cache --clear``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "NETWORK_FORMAT_VERSION",
    "NetworkCache",
    "cache_dir",
    "clear_cache",
    "code_fingerprint",
    "file_digest",
    "layer_digest",
]

#: Raised whenever what the cache stores changes meaning; every older entry is then a miss.
NETWORK_FORMAT_VERSION = 1
ENV_DIR = "LIFECIRCLE_CACHE_DIR"
ENV_MAX_MB = "LIFECIRCLE_CACHE_MAX_MB"
DEFAULT_MAX_MB = 2048
SUFFIX = ".lcnet"
MAGIC = b"lifecircle network cache\n"
_ALIGN = 64
#: Modules whose code decides what an entry holds (their source is part of every key).
BUILDERS = (
    "lifecircle.geo.crs",
    "lifecircle.geo.walk",
    "lifecircle.geo.network.osm",
    "lifecircle.geo.network.walkfilter",
    "lifecircle.geo.network.lines",
    "lifecircle.geo.network.graph",
    "lifecircle.geo.network.chains",
    "lifecircle.geo.network.costs",
    "lifecircle.geo.network.segment_index",
    "lifecircle.geo.network.barriers",
    "lifecircle.geo.network.packing",
    "lifecircle.geo.network.cache",
    "lifecircle.geo.walkers.terrain",
    "lifecircle.geo.walkers.gated",
    "lifecircle.geo.reach.streetcells",
    "lifecircle.geo.reach.cellunion",
    "lifecircle.geo.reach.sorting",
    "lifecircle.geo.reach.barriercut",
    "lifecircle.geo.reach.linecut",
    "lifecircle.geo.reach.shapes",
    "lifecircle.maps.streets",
    "lifecircle.planning.network_store",
)


def cache_dir() -> Path:
    """The folder of network cache entries (``$LIFECIRCLE_CACHE_DIR``, else the user's cache folder)."""
    given = os.environ.get(ENV_DIR)
    if given:
        return Path(given).expanduser()
    try:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("lifecircle", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lifecircle"
    return base / "network"


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's content (computed once per process while the file is unchanged)."""
    stat = os.stat(path)
    return _digest(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def layer_digest(path: str | Path) -> str | None:
    """SHA-256 over a file's content, with a shapefile's side files (``.dbf``, ``.prj``...); None when unreadable."""
    path = Path(path)
    try:
        if path.suffix.lower() != ".shp":
            return file_digest(path)
        parts = sorted(p for p in path.parent.glob(f"{glob_escape(path.stem)}.*") if p.is_file())
        return hashlib.sha256("".join(f"{p.suffix.lower()}:{file_digest(p)}" for p in parts).encode()).hexdigest()
    except OSError:
        return None


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the source of :data:`BUILDERS` (an edited or upgraded lifecircle never reads old entries)."""
    h = hashlib.sha256()
    for name in BUILDERS:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        h.update(name.encode())
        if origin and os.path.exists(origin):
            h.update(Path(origin).read_bytes())
    return h.hexdigest()


def key_text(parts: dict) -> str:
    """The canonical text of a key (with the format version, lifecircle's version and the code fingerprint)."""
    from lifecircle import __version__

    full = {**parts, "format": NETWORK_FORMAT_VERSION, "lifecircle": __version__, "code": code_fingerprint()}
    return json.dumps(full, sort_keys=True, default=str)


def _raw(array: np.ndarray) -> np.ndarray:
    """The bytes of a contiguous array, as a flat ``uint8`` view."""
    return array.reshape(-1).view(np.uint8)


def write_entry(f: BinaryIO, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write an entry: :data:`MAGIC`, the header length, a JSON header (``meta``, each array's dtype, shape and
    place, a checksum of the data) and the arrays' bytes, each at a multiple of 64 bytes."""
    table, offset = [], 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject:
            raise ValueError(f"array {name} holds Python objects")
        offset = -(-offset // _ALIGN) * _ALIGN
        table.append((name, array, offset))
        offset += array.nbytes
    checksum = 1
    for _, array, _ in table:
        checksum = zlib.adler32(_raw(array), checksum)
    header = {
        **meta,
        "arrays": [[name, array.dtype.str, list(array.shape), start] for name, array, start in table],
        "data_bytes": offset,
        "adler32": checksum,
    }
    text = json.dumps(header, default=str).encode("utf-8")
    start = -(-(len(MAGIC) + 8 + len(text)) // _ALIGN) * _ALIGN
    f.write(MAGIC + len(text).to_bytes(8, "little") + text + bytes(start - len(MAGIC) - 8 - len(text)))
    written = 0
    for _, array, at in table:
        f.write(bytes(at - written))
        f.write(_raw(array))
        written = at + array.nbytes


def read_entry(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and header of an entry (``ValueError`` when it is truncated, corrupt or not an entry)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buffer = bytearray(size)
        if f.readinto(buffer) != size:
            raise ValueError("short read")
    if buffer[: len(MAGIC)] != MAGIC:
        raise ValueError("not a network cache entry")
    length = int.from_bytes(buffer[len(MAGIC) : len(MAGIC) + 8], "little")
    body = len(MAGIC) + 8 + length
    if body > size:
        raise ValueError("truncated header")
    header = json.loads(bytes(buffer[len(MAGIC) + 8 : body]).decode("utf-8"))
    start = -(-body // _ALIGN) * _ALIGN
    if start + int(header["data_bytes"]) != size:
        raise ValueError("truncated data")
    data = memoryview(buffer)[start:]
    arrays, checksum = {}, 1
    for name, dtype_text, shape, at in header["arrays"]:
        dtype = np.dtype(dtype_text)
        if dtype.hasobject:
            raise ValueError("object arrays are never read")
        count = int(np.prod(shape, dtype=np.int64))
        array = np.frombuffer(data, dtype=dtype, count=count, offset=at).reshape(shape)
        checksum = zlib.adler32(_raw(array), checksum)
        arrays[name] = array
    if checksum != header["adler32"]:
        raise ValueError("checksum mismatch")
    return arrays, header


class NetworkCache:
    """Entries of one cache folder: :meth:`get` a stored entry by key, :meth:`put` one.

    Parameters
    ----------
    folder
        The cache folder (created on the first write); :func:`cache_dir` by default.
    max_bytes
        Entries unused the longest are removed when the folder holds more than this.
    """

    def __init__(self, folder: str | Path | None = None, *, max_bytes: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir()
        if max_bytes is None:
            try:
                max_bytes = int(float(os.environ.get(ENV_MAX_MB, DEFAULT_MAX_MB)) * 2**20)
            except ValueError:
                max_bytes = DEFAULT_MAX_MB * 2**20
        self.max_bytes = max_bytes

    def path(self, kind: str, key: str) -> Path:
        """The file of an entry."""
        return self.folder / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:40]}{SUFFIX}"

    def get(self, kind: str, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """The arrays and description stored under ``key``, or None (a miss: absent, unreadable or another key)."""
        path = self.path(kind, key)
        try:
            arrays, meta = read_entry(path)
            if meta.get("key") != key:
                log.debug("network cache: %s holds another key, a miss", path.name)
                return None
        except FileNotFoundError:
            log.debug("network cache: no %s entry %s", kind, path.name)
            return None
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.debug("network cache: %s is unreadable (%s), a miss", path.name, exc)
            return None
        try:
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass
        log.debug("network cache: %s entry %s read", kind, path.name)
        return arrays, meta["spec"]

    def put(self, kind: str, key: str, arrays: dict[str, np.ndarray], spec: Any) -> Path | None:
        """Store an entry atomically (temporary file, then ``os.replace``); None when the folder is not writable."""
        path = self.path(kind, key)
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=f".{kind}-", suffix=".tmp", delete=False) as f:
                tmp = Path(f.name)
                write_entry(f, arrays, {"key": key, "spec": spec})
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("network cache: could not write %s (%s)", path.name, exc)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            return None
        log.debug("network cache: %s entry %s written", kind, path.name)
        self.prune(keep=path)
        return path

    def entries(self) -> list[Path]:
        """The entry files of the folder."""
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.suffix == SUFFIX and p.is_file()]

    def prune(self, *, keep: Path | None = None) -> int:
        """Remove entries unused the longest until the folder holds at most ``max_bytes``; returns how many."""
        stats = []
        for p in self.entries():
            try:
                stats.append((p.stat().st_mtime, p.stat().st_size, p))
            except OSError:
                continue
        total = sum(size for _, size, _ in stats)
        removed = 0
        for _, size, p in sorted(stats, key=lambda s: s[0]):
            if total <= self.max_bytes:
                break
            if p == keep:
                continue
            p.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed


def clear_cache(folder: str | Path | None = None) -> tuple[int, int]:
    """Delete every entry (and stale temporary file) of the cache folder; returns (files, bytes) removed."""
    cache = NetworkCache(folder)
    if not cache.folder.is_dir():
        return 0, 0
    files, size = 0, 0
    stale: Iterable[Path] = cache.folder.glob(".*.tmp")
    for p in [*cache.entries(), *stale]:
        try:
            size += p.stat().st_size
            p.unlink()
            files += 1
        except OSError:
            continue
    return files, size
