"""Study files: a whole coverage study described in one TOML file, validated on load.

Every command reads one (``lifecircle run study.toml``; ``lifecircle analyze|site|isochrones --study study.toml``,
flags overriding the file), and notebooks share the API::

    study = load_study("study.toml")                  # InputError naming the file, table and key
    result = run_study(study.with_overrides(max_walk_min=15))   # lifecircle.planning.jobs
    result.compounds                                    # GeoDataFrame per compound (status, walks, compliance)

A study names the network, the layers with their columns, encodings and coordinate systems (``gcj02`` ledgers
from Amap are converted to WGS84 on reading), categories grouping ledger values (便民服务点, 超市 -> one category),
thresholds per category, the walk (speed, steps, hills), branches, gates, a planning standard (``gb50180-10``: a
distance), the outputs, and what else to run: siting, isochrones, publishing. ``lifecircle init`` writes
:data:`~lifecircle.planning.study_template.TEMPLATE`, a commented example.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import normalize_coord_system
from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.walk import DEFAULT_LIMIT_MIN, DEFAULT_SPEED_KMH, DEFAULT_STEPS_FACTOR, Walk
from lifecircle.planning.adequacy import AdequacyOptions
from lifecircle.planning.hours import HoursOptions
from lifecircle.planning.inputs import AUTO_NETWORK, LayerSpec
from lifecircle.planning.options import (
    ANALYSIS_DIR,
    ISOCHRONES_DIR,
    PUBLISH_DIR,
    SITE_DIR,
    DaskOptions,
    IsochroneOptions,
    MapOptions,
    PublishOptions,
    SitingOptions,
)
from lifecircle.planning.study_parts import STEPS, parse_parts
from lifecircle.planning.study_template import TEMPLATE, write_template
from lifecircle.planning.walking import WalkingOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

__all__ = ["STEPS", "TEMPLATE", "Study", "load_study", "parse_study", "write_template"]


@dataclass(frozen=True)
class Study:
    """A validated study (see :data:`TEMPLATE` for the file form). Paths are absolute.

    Attributes
    ----------
    name, source
        Study name and the file it was read from (None when built in Python or from flags).
    network
        OSM extract, GraphML or road-centreline layer path, ``place:NAME``, ``bbox:W,S,E,N`` or ``auto``.
    compounds, services, branches, gates, candidates
        How to read each layer (compounds may be absent for isochrones alone).
    category_column, branch_column, households_column, population_column
        Column overrides (None: auto-detected).
    governance
        Level (``street``, ``community``, ``grid``) -> compound column.
    categories
        Category -> the ledger values grouped into it.
    max_walk_min, max_walk_m
        General threshold (minutes, or metres which win); None: the standard's distance, else 10 minutes.
    speed_kmh, max_snap_m, steps_factor, dem
        Walking speed, the largest distance from a street, the time multiplier of steps and a DEM for hills.
    category_max_walk_min, category_max_walk_m
        Thresholds of single categories.
    standard, standard_facilities, include_recommended
        Planning standard level (``gb50180-10`` or a TOML path), facility key -> categories, and whether
        recommended facilities are checked too.
    walking
        Walking scenarios (gated compounds, open blocks, walker profiles, local road lines).
    adequacy
        Capacity against demand (2SFCA / E2SFCA, ``[adequacy]``): method, capacity and demand columns, norms.
    hours
        Opening hours (``[hours]``): the services' hours column and a moment to answer coverage at.
    buildings
        A building layer (楼栋, ``study.buildings``): walks also start from each building (``buildings.csv``).
    building_group_column, buildings_from_osm
        The building layer's group column (楼栋党小组; default: detected), and whether the OSM extract's
        ``building=*`` polygons inside compounds stand in for a building layer.
    study_area
        Outline drawn on the map (optional).
    barriers
        A layer of water, railways or walls nobody walks across (optional), besides those read from an OSM
        network file: served areas and isochrones never reach across them.
    network_cache
        Read the prepared network from the network cache and store it there (``--no-cache``: neither).
    out_dir, output_coord_system, lang, offline_map, report, map, served_area, catchment_m, basemap, tianditu_key
        Outputs of the analysis (served areas: the street area each category serves, on the map and as
        ``area_share``; ``report``/``map`` false: no ``report.html``/``report.xlsx``, no ``map.html``).
    siting, site_dir, isochrones, isochrones_dir, publish, publish_dir
        The other jobs' options and folders.
    dask
        Coverage in tiles on Dask (``[dask]``: ``scheduler``, ``tile_km``); one process when no scheduler is set.
    steps
        What ``lifecircle run`` does, in order (a subset of :data:`STEPS`).
    """

    network: str
    compounds: LayerSpec | None
    services: LayerSpec
    name: str = "lifecircle study"
    source: Path | None = None
    branches: LayerSpec | None = None
    gates: LayerSpec | None = None
    candidates: LayerSpec | None = None
    category_column: str | None = None
    branch_column: str | None = None
    households_column: str | None = None
    population_column: str | None = None
    governance: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)
    max_walk_min: float | None = None
    max_walk_m: float | None = None
    speed_kmh: float = DEFAULT_SPEED_KMH
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    steps_factor: float = DEFAULT_STEPS_FACTOR
    dem: Path | None = None
    category_max_walk_min: dict = field(default_factory=dict)
    category_max_walk_m: dict = field(default_factory=dict)
    standard: str | None = None
    standard_facilities: dict | None = None
    include_recommended: bool = False
    out_dir: Path = Path(ANALYSIS_DIR)
    output_coord_system: str = "wgs84"
    lang: str | None = None
    offline_map: bool = True
    report: bool = True
    map: bool = True
    walking: WalkingOptions = field(default_factory=WalkingOptions)
    adequacy: AdequacyOptions = field(default_factory=AdequacyOptions)
    hours: HoursOptions = field(default_factory=HoursOptions)
    buildings: Path | None = None
    building_group_column: str | None = None
    buildings_from_osm: bool = False
    study_area: Path | None = None
    barriers: Path | None = None
    network_cache: bool = True
    served_area: bool = True
    catchment_m: float = DEFAULT_CATCHMENT_M
    basemap: str = "osm"
    tianditu_key: str | None = None
    siting: SitingOptions = field(default_factory=SitingOptions)
    site_dir: Path = Path(SITE_DIR)
    isochrones: IsochroneOptions = field(default_factory=IsochroneOptions)
    isochrones_dir: Path = Path(ISOCHRONES_DIR)
    publish: PublishOptions = field(default_factory=PublishOptions)
    publish_dir: Path = Path(PUBLISH_DIR)
    dask: DaskOptions = field(default_factory=DaskOptions)
    steps: tuple[str, ...] = ("analysis",)

    def with_overrides(self, **changes) -> Study:
        """A copy with the given fields changed; None values are ignored (unset command-line flags).

        A new ``max_walk_min`` drops a distance threshold from the file and vice versa. Option groups
        (``siting``, ``isochrones``, ``publish``, ``walking``) take a mapping of their own fields, merged the same
        way.
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InputError(f"Unknown study setting {unknown[0]!r}.")
        changes = {k: v for k, v in changes.items() if v is not None}
        for key, value in list(changes.items()):
            current = getattr(self, key)
            if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
                changes[key] = replace(current, **{k: v for k, v in value.items() if v is not None})
        if "max_walk_min" in changes and "max_walk_m" not in changes:
            changes["max_walk_m"] = None
        elif "max_walk_m" in changes and "max_walk_min" not in changes:
            changes["max_walk_min"] = None
        for key in ("out_dir", "site_dir", "isochrones_dir", "publish_dir", "dem", "buildings"):
            if key in changes:
                changes[key] = Path(changes[key])
        if "output_coord_system" in changes:
            changes["output_coord_system"] = normalize_coord_system(changes["output_coord_system"])
        return replace(self, **changes)

    def walk(self, *, standard_m: float | None = None) -> Walk:
        """The study's :class:`~lifecircle.geo.walk.Walk` (a standard's distance when no threshold is set)."""
        distance = self.max_walk_m
        if distance is None and self.max_walk_min is None:
            distance = standard_m
        return Walk(
            speed_kmh=self.speed_kmh,
            limit_min=DEFAULT_LIMIT_MIN if self.max_walk_min is None else self.max_walk_min,
            limit_dist_m=distance,
            category_limit_min=self.category_max_walk_min,
            category_limit_m=self.category_max_walk_m,
            steps_factor=self.steps_factor,
            dem=self.dem,
        )

    def map_options(self) -> MapOptions:
        """How the study's maps are drawn."""
        return MapOptions(
            offline=self.offline_map, lang=self.lang, basemap=self.basemap, tianditu_key=self.tianditu_key
        )

    def require_compounds(self, job: str) -> LayerSpec:
        """The compound layer, which ``job`` needs."""
        if self.compounds is None:
            where = f"{Path(self.source).name}: " if self.source else ""
            raise InputError(f"{where}{job} needs compounds: the [compounds] table is missing.")
        return self.compounds

    def parameters(self) -> dict:
        """The study's settings as JSON-ready values (recorded in ``summary.json``; files by name only)."""
        walking = {
            key: (value.name if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value)
            for key, value in dataclasses.asdict(self.walking).items()
        }
        walking["dem"] = None if self.dem is None else self.dem.name
        walking["steps_factor"] = self.steps_factor
        return {
            "name": self.name,
            "file": None if self.source is None else Path(self.source).name,
            "categories": {k: list(v) for k, v in self.categories.items()},
            "standard": self.standard,
            "walking": walking,
        }


def is_network_file(network: str) -> bool:
    """Whether a study's network names a file (not ``place:``, ``bbox:`` or ``auto``)."""
    lower = network.strip().lower()
    return not (lower.startswith(("place:", "bbox:")) or lower == AUTO_NETWORK)


def parse_study(
    doc: Mapping, *, base: Path, source: str = "study", check_files: bool = True, compounds_required: bool = True
) -> Study:
    """Validate a study document (the parsed TOML) and return a :class:`Study`.

    ``compounds_required=False`` accepts a study without ``[compounds]`` when it is read for isochrones alone.

    Raises
    ------
    InputError
        A missing or unknown key, or a value of the wrong form; the message names the file, table and key.
    """
    parts = parse_parts(doc, base=base, source=source, check_files=check_files, compounds_required=compounds_required)
    return Study(**parts)


def load_study(path: str | Path, *, check_files: bool = True, compounds_required: bool = True) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path
        The TOML file; relative paths inside it are relative to its folder.
    check_files
        Check that the input files named exist.
    compounds_required
        Refuse a study without ``[compounds]`` (every job but isochrones needs them).

    Returns
    -------
    Study

    Raises
    ------
    InputError
        Missing file, invalid TOML, or a key of the wrong form (the message names the file, table and key).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"Study file {path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a study file (`lifecircle init` writes one).") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Study file {path} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise InputError(f"Study file {path} is not UTF-8 text; save it as UTF-8.") from None
    except RecursionError:
        raise InputError(f"Study file {path} nests tables or arrays too deeply.") from None
    study = parse_study(
        doc,
        base=path.resolve().parent,
        source=path.name,
        check_files=check_files,
        compounds_required=compounds_required,
    )
    return replace(study, source=path.resolve())
