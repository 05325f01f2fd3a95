"""When an OSM extract's data date from: the file header, else the newest element timestamp.

Reports state the data version of the walking network. Overpass exports say it in ``<meta osm_base="..."/>``,
PBF files may carry ``osmosis_replication_timestamp`` in their header; API/CGImap exports say nothing, so the
newest ``timestamp`` of any element (the last edit included) is the best lower bound of the data date.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["OsmDate", "osm_data_date"]

_BASE = re.compile(rb'osm_base="([0-9T:\-Z]+)"')
_HEADER_TS = re.compile(rb'<osm[^>]*\stimestamp="([0-9T:\-Z]+)"')
_TS = re.compile(rb'timestamp="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"')
_MAX_SCAN_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class OsmDate:
    """The data date of an OSM file.

    Attributes
    ----------
    date : str
        ISO 8601 timestamp (UTC).
    source : str
        ``header`` (the file says when it was cut) or ``newest_element`` (the newest edit in it).
    """

    date: str
    source: str


def _open(path: Path):
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _xml_date(path: Path) -> OsmDate | None:
    newest = b""
    read = 0
    tail = b""
    with _open(path) as fh:
        head = fh.read(1 << 16)
        for pattern in (_BASE, _HEADER_TS):
            found = pattern.search(head)
            if found:
                return OsmDate(found.group(1).decode(), "header")
        block = head
        while block:
            data = tail + block
            stamps = _TS.findall(data)
            if stamps:
                newest = max(newest, max(stamps))
            tail = data[-64:]
            read += len(block)
            if read > _MAX_SCAN_BYTES:
                log.info("%s: stopped looking for the newest timestamp after %d MB", path.name, read >> 20)
                break
            block = fh.read(1 << 22)
    return OsmDate(newest.decode(), "newest_element") if newest else None


def _pbf_date(path: Path) -> OsmDate | None:
    import osmium

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        header = reader.header()
        stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp")
    finally:
        reader.close()
    if stamp:
        return OsmDate(str(stamp), "header")

    class _Newest(osmium.SimpleHandler):
        def __init__(self):
            super().__init__()
            self.newest = None

        def _seen(self, obj):
            ts = obj.timestamp
            if ts is not None and ts.year > 1970 and (self.newest is None or ts > self.newest):
                self.newest = ts

        node = way = relation = _seen

    handler = _Newest()
    handler.apply_file(str(path))
    if handler.newest is None:
        return None
    return OsmDate(handler.newest.strftime("%Y-%m-%dT%H:%M:%SZ"), "newest_element")


def osm_data_date(path: str | Path) -> OsmDate | None:
    """The data date of an OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf), or None when it cannot be told.

    Parameters
    ----------
    path
        The OSM file.

    Returns
    -------
    OsmDate or None
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        if path.name.lower().endswith(".pbf"):
            return _pbf_date(path)
        return _xml_date(path)
    except Exception as exc:  # a damaged file still gets analysed elsewhere; only the date is unknown
        log.info("%s: no data date (%s)", path.name, exc)
        return None
