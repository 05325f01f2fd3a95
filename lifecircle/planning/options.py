"""Frozen options of the jobs: how to draw the map, where to site, which isochrones, how to publish.

Each job takes its options as one value, built once from the command line or a study file (flags override the
file). The walk itself (speed, limits, edge costs) is :class:`lifecircle.geo.walk.Walk`; which walking scenarios
are compared is :class:`lifecircle.planning.walking.WalkingOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M, DEFAULT_MINUTES
from lifecircle.maps import check_basemap
from lifecircle.planning.siting.options import CANDIDATE_SOURCES, MODELS, SitingOptions

__all__ = [
    "CANDIDATE_SOURCES",
    "MODELS",
    "DaskOptions",
    "IsochroneOptions",
    "MapOptions",
    "PublishOptions",
    "SitingOptions",
]


ANALYSIS_DIR = "lifecircle-out"
SITE_DIR = "lifecircle-site-plan"
ISOCHRONES_DIR = "lifecircle-isochrones"
PUBLISH_DIR = "lifecircle-site"
"""The default folders of the jobs (relative to the working folder, or to a study file)."""


@dataclass(frozen=True)
class MapOptions:
    """How to draw and save the map: offline (inlined Leaflet, the default), language (also the report's), basemap."""

    offline: bool = True
    lang: str | None = None
    basemap: str = "osm"
    tianditu_key: str | None = None
    data_date: str | None = None

    def __post_init__(self) -> None:
        check_basemap(self.basemap, self.tianditu_key)  # before any work, not after the analysis


@dataclass(frozen=True)
class IsochroneOptions:
    """Which isochrones to draw (``lifecircle isochrones``).

    Attributes
    ----------
    minutes
        The breaks, in minutes (e.g. 5, 10, 15).
    catchment_m
        Width of the street catchments.
    rings
        Also write non-overlapping rings (0-5, 5-10...).
    workers
        Processes across service points; None: one per core of the machine.
    """

    minutes: tuple[float, ...] = tuple(DEFAULT_MINUTES)
    catchment_m: float = DEFAULT_CATCHMENT_M
    rings: bool = False
    workers: int | None = None


@dataclass(frozen=True)
class PublishOptions:
    """How to publish analysis folders as a static site (``lifecircle publish``)."""

    online: bool = False
    lang: str | None = None


DEFAULT_TILE_KM = 4.0


@dataclass(frozen=True)
class DaskOptions:
    """Whether coverage is computed in tiles on Dask (``--scheduler``, ``--tile-km``; ``[dask]`` in a study).

    Attributes
    ----------
    scheduler
        None (one process, the default), ``local`` (a LocalCluster sized to the machine) or ``tcp://HOST:PORT``.
    tile_km
        Tile side in km (each tile is one task: its streets plus a halo of the walking limit).
    """

    scheduler: str | None = None
    tile_km: float = DEFAULT_TILE_KM
