"""A coverage analysis: coverage per compound and category, branches, status, and the summary a planner reads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.cores import machine_cores
from lifecircle.geo.crs import to_crs
from lifecircle.geo.inputs.branches import BY_NAME_KEY, branch_column_flags, match_branch_list
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, POPULATION_COLUMNS, find_column
from lifecircle.geo.inputs.layers import COORD_SYSTEM_KEY
from lifecircle.geo.inputs.shift_check import detect_gcj02_shift
from lifecircle.geo.network.barriers import Barriers
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import (
    ALL,
    DEFAULT_MAX_WALK_MIN,
    CoverageResult,
    Origins,
)
from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M, ShapeOptions, area_share, isochrones
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.validate import QUALITY_KEY, quality_notes, weight_values
from lifecircle.geo.walk import DEFAULT_SPEED_KMH, Walk, prepared
from lifecircle.planning.compliance import check_standard
from lifecircle.planning.reachability import (
    STATUSES,
    UNREACHABLE_REACH,
    blank_unreachable_shares,
    compound_status,
    headline_counts,
    network_notes,
    unreachable_summary,
)
from lifecircle.planning.rollups import governance_columns, rollup_all
from lifecircle.planning.standards import Standard
from lifecircle.planning.thresholds import coverage_within_limits

if TYPE_CHECKING:
    from lifecircle.planning.network_store import StreetCellsSlot

log = logging.getLogger(__name__)

BRANCH_COLUMNS = ("has_branch", "branch", "支部", "有支部", "党支部")


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything one coverage analysis found.

    Attributes
    ----------
    compounds
        The compounds (input CRS) with ``has_branch``, ``status``, ``reach`` and per-category
        ``walk_min_<category>`` / ``covered_<category>`` columns; indexed by ``compound_id``.
    services
        The services as given, with ``compounds_served`` (compounds within the threshold) and ``on_network``.
    branches
        The branch points, when given.
    coverage
        The long per-compound, per-category result (:class:`~lifecircle.geo.reach.coverage.CoverageResult`).
    summary
        Counts and shares per category, branches, unreachable compounds and parameters (JSON-ready); also
        ``rollups`` (per street/community/grid), ``standard`` (compliance counts) and ``coordinate_checks``.
    rollups
        Governance roll-ups: level (``street``, ``community``, ``grid``) -> table indexed by the unit name.
    compliance
        Per-compound compliance with a planning standard (:func:`~lifecircle.planning.compliance.compliance`),
        or None when no standard was given.
    """

    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame | None
    coverage: CoverageResult
    summary: dict = field(default_factory=dict)
    rollups: dict = field(default_factory=dict)
    compliance: pd.DataFrame | None = None
    served_area: gpd.GeoDataFrame | None = None


def branch_presence(
    compounds: gpd.GeoDataFrame,
    branches: gpd.GeoDataFrame | None = None,
    *,
    branch_column: str | None = None,
) -> pd.Series | None:
    """Whether each compound has its own party branch (支部建在小区).

    A compound has a branch when a branch point lies in it, a branch names it (a ``compound_id`` column, or a
    branch list by compound name: :func:`~lifecircle.geo.inputs.branches.match_branch_list`), or its branch
    attribute (``branch_column``, else ``has_branch``/``支部``...) says so: yes/no in any usual spelling, or the
    branch's name (:func:`~lifecircle.geo.inputs.branches.branch_column_flags`).

    Returns
    -------
    pandas.Series or None
        Boolean per compound id, with data-quality notes (empty cells, ambiguous and unmatched names) in its
        ``attrs`` (:func:`~lifecircle.geo.validate.quality_notes`); None when neither a branch layer nor a branch
        attribute is given.

    Raises
    ------
    InputError
        A missing or unreadable branch column, or a branch list whose names match no compound.
    """
    column = branch_column or find_column(compounds, BRANCH_COLUMNS)
    if branch_column is not None and branch_column not in compounds.columns:
        raise InputError(
            f"The compound layer has no branch column {branch_column!r}; its columns are "
            f"{', '.join(map(str, compounds.columns.drop(compounds.geometry.name)))}."
        )
    if branches is None and column is None:
        return None
    present = pd.Series(False, index=compounds.index, name="has_branch")
    notes: list[str] = []
    if column is not None:
        flags, column_notes = branch_column_flags(compounds[column], column=column, source="The compound layer")
        present |= flags
        notes += column_notes
    if branches is not None and not branches.empty and BY_NAME_KEY in branches.attrs:
        named = match_branch_list(branches, compounds, source=branches.attrs.get("source", "The branch list"))
        present |= compounds.index.isin(named.compound_ids.dropna())
        notes += named.notes
    elif branches is not None and not branches.empty:
        if "compound_id" in branches.columns:
            named = branches["compound_id"].dropna().astype(str)
            present |= compounds.index.isin(named)
        located = gpd.sjoin(
            to_crs(branches[["geometry"]], compounds.crs),
            compounds[["geometry"]].reset_index(drop=True),
            predicate="within",
            how="inner",
        )
        inside = np.zeros(len(compounds), dtype=bool)
        inside[located["index_right"].to_numpy(dtype=np.int64)] = True
        present |= inside
    for note in notes:
        log.warning(note)
    present.attrs[QUALITY_KEY] = notes
    return present


def branch_points(compounds: gpd.GeoDataFrame, branches: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The branches to draw: as given, or a branch list by compound name placed inside the compounds it names."""
    if branches is None or branches.empty or BY_NAME_KEY not in branches.attrs:
        return branches
    return match_branch_list(branches, compounds, source=branches.attrs.get("source", "The branch list")).located


def analyze(
    network: nx.MultiDiGraph | PreparedNetwork | None,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    branches: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    branch_column: str | None = None,
    category_column: str | None = "category",
    max_walk_min: float | None = DEFAULT_MAX_WALK_MIN,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    max_walk_m: float | None = None,
    category_max_walk_min: Mapping[str, float] | None = None,
    category_max_walk_m: Mapping[str, float] | None = None,
    standard: Standard | None = None,
    standard_categories: Mapping[str, str | Sequence[str]] | None = None,
    governance: Mapping[str, str | None] | None = None,
    check_shift: bool = True,
    origins: Origins | None = None,
    served_area: bool = False,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    walk: Walk | None = None,
    barriers: Barriers | None = None,
    street_cells: StreetCellsSlot | None = None,
    coverage: CoverageResult | None = None,
    coverage_done: Callable[[], None] | None = None,
) -> Analysis:
    """Run a coverage analysis on layers already read.

    Parameters
    ----------
    network
        The walking network (may be None when ``coverage`` is given, without served areas or shift check).
    compounds, services
        Compound polygons indexed by ``compound_id`` and service points indexed by ``service_id``.
    branches, gates
        Optional branch points and gate points.
    branch_column
        Compound attribute saying whether it has a branch (auto-detected when None).
    category_column
        Service column holding categories.
    max_walk_min, speed_kmh, max_snap_m
        Walking threshold in minutes, walking speed, and the snap limit in metres.
    max_walk_m
        The threshold as a distance (planning standards give distances); overrides ``max_walk_min``.
    category_max_walk_min, category_max_walk_m
        Thresholds of single categories (minutes or metres), overriding the general one for that category:
        its ``covered`` column, ``services_within`` and the compounds its services serve use its own limit.
    standard, standard_categories
        A planning standard level (:func:`~lifecircle.planning.standards.load_standard`) to check each compound
        against, and the map facility key -> categories (by default a facility matches a category named like
        its key, Chinese name or English name).
    governance
        Columns of the compounds holding their street (街道), community (社区) and grid (网格):
        ``{"street": "街道", "community": "社区", "grid": "网格"}``; auto-detected when None.
    check_shift
        Check compounds, services and branches declared WGS84 for a GCJ-02/BD-09 shift against the streets.
    origins
        Where walks start, already attached to ``network`` (for example gated origins that walked the compound's
        own internal roads, :func:`lifecircle.geo.walkers.gated.gated_origins`); ``network`` must then be prepared.
    walk
        Speed, limits (per category too) and edge costs in one value (:class:`~lifecircle.geo.walk.Walk`);
        when given, ``max_walk_min``, ``speed_kmh``, ``max_walk_m`` and the per-category thresholds are not used.
    served_area, catchment_m
        Also draw each category's served area at the threshold from the streets really reached
        (:func:`lifecircle.geo.reach.isochrones.isochrones`, catchment width ``catchment_m``) and add ``area_share``
        (the share of each compound's area inside it) to the coverage table.
    barriers
        Water, railways and motorways the served areas never reach across
        (:func:`lifecircle.geo.network.barriers.barriers_for`).
    street_cells
        Where the served areas' street cells are kept between runs (the network cache,
        :meth:`~lifecircle.planning.network_store.LoadedNetwork.cells_slot`): read from it, or built and stored.
    coverage
        The coverage already computed with ``walk``'s limits (in tiles on Dask:
        :func:`lifecircle.planning.distributed.dask_coverage`); the network is then used only for served areas and
        the shift check.
    coverage_done
        Called once the coverage is known, before the served areas (the run's progress moves on).

    Returns
    -------
    Analysis
    """
    has_branch = _check_inputs(compounds, branches, branch_column=branch_column, governance=governance)
    if walk is None:
        walk = Walk(
            speed_kmh=speed_kmh,
            limit_min=DEFAULT_MAX_WALK_MIN if max_walk_min is None else max_walk_min,
            limit_dist_m=max_walk_m,
            category_limit_min=category_max_walk_min or {},
            category_limit_m=category_max_walk_m or {},
        )
    net = None if network is None else prepared(network, walk)
    result = coverage if coverage is not None else coverage_within_limits(
        _required(net), compounds, services, walk=walk, category_column=category_column, gates=gates,
        max_snap_m=max_snap_m, origins=origins,
    )  # fmt: skip
    served_gdf = None
    if served_area:
        if coverage_done is not None:
            coverage_done()
        net = _required(net)
        served_gdf, result = _with_served_area(
            net, compounds, services, result, category_column=category_column, catchment_m=catchment_m,
            max_snap_m=max_snap_m, barriers=barriers, street_cells=street_cells,
        )  # fmt: skip
    layers = {"compounds": compounds, "services": services, "branches": branches}
    checks = _shift_checks(net, layers) if check_shift and net is not None else {}
    return _assemble(
        result, compounds, services, branches, has_branch=has_branch, checks=checks, standard=standard,
        standard_categories=standard_categories, governance=governance, served_gdf=served_gdf,
    )  # fmt: skip


def _required(net: PreparedNetwork | None) -> PreparedNetwork:
    """The network, which the coverage and served areas need."""
    if net is None:
        raise ValueError("analyze() needs the walking network unless the coverage is given, without served areas")
    return net


def _check_inputs(
    compounds: gpd.GeoDataFrame,
    branches: gpd.GeoDataFrame | None,
    *,
    branch_column: str | None,
    governance: Mapping[str, str | None] | None,
) -> pd.Series | None:
    """Refuse text or negative weights, missing governance columns and bad branch data before any work; returns
    whether each compound has a branch (:func:`branch_presence`)."""
    for column in filter(None, (find_column(compounds, HOUSEHOLD_COLUMNS), find_column(compounds, POPULATION_COLUMNS))):
        weight_values(compounds, column)  # text or negative weights are refused before any work
    governance_columns(compounds, governance)  # and governance columns that are not there
    return branch_presence(compounds, branches, branch_column=branch_column)  # and branch data


def _assemble(
    result: CoverageResult,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    branches: gpd.GeoDataFrame | None,
    *,
    has_branch: pd.Series | None,
    checks: dict,
    standard: Standard | None,
    standard_categories: Mapping[str, str | Sequence[str]] | None,
    governance: Mapping[str, str | None] | None,
    served_gdf: gpd.GeoDataFrame | None,
) -> Analysis:
    """The analysis from the coverage: per-compound and per-service tables, compliance, roll-ups and summary."""
    table = result.table
    wide = _compound_table(compounds, result, has_branch)
    services_out = _service_table(services, result)
    comp, standard_entry = None, None
    if standard is not None:
        comp, standard_entry = check_standard(table, standard, standard_categories, result.categories)
        wide["standard_missing"] = comp["missing_names"].reindex(wide.index)
        wide["standard_compliant"] = comp["compliant"].reindex(wide.index)

    summary = summarize(wide, result, has_branch=has_branch)
    if standard_entry is not None:
        summary["standard"] = standard_entry
    levels = governance_columns(wide, governance)
    rollups = rollup_all(wide, levels=levels) if levels else {}
    summary["governance_columns"] = levels
    summary["rollups"] = {level: _records(frame) for level, frame in rollups.items()}
    summary.update(_checks_summary(checks, result, compounds, services, branches, has_branch))
    return Analysis(
        compounds=wide,
        services=services_out,
        branches=branch_points(compounds, branches),
        coverage=result,
        summary=summary,
        rollups=rollups,
        compliance=comp,
        served_area=served_gdf,
    )


def _compound_table(compounds: gpd.GeoDataFrame, result: CoverageResult, has_branch: pd.Series | None):
    """Per compound: branch, reach, walk and coverage per category, status."""
    table = result.table
    wide = compounds.copy()
    wide.attrs = {}
    wide["has_branch"] = has_branch if has_branch is not None else pd.NA
    overall = table[table["category"] == ALL].set_index("compound_id")
    wide["reach"] = overall["reach"].reindex(wide.index)
    for category in result.categories:
        rows = table[table["category"] == category].set_index("compound_id").reindex(wide.index)
        wide[f"walk_min_{category}"] = rows["walk_min"].round(2)
        wide[f"covered_{category}"] = rows["covered"].astype(bool)
    wide["status"] = compound_status(wide[f"covered_{ALL}"], has_branch, wide["reach"].isin(UNREACHABLE_REACH))
    return wide


def _service_table(services: gpd.GeoDataFrame, result: CoverageResult) -> gpd.GeoDataFrame:
    """Per service: compounds served and whether it is on the network."""
    served = result.pairs.groupby("service_id")["compound_id"].nunique()
    services_out = services.copy()
    services_out.attrs = {}
    services_out["compounds_served"] = served.reindex(services_out.index).fillna(0).astype(int)
    services_out["on_network"] = ~services_out.index.isin(result.services_off_network)
    return services_out


def _checks_summary(checks: dict, result: CoverageResult, compounds, services, branches, has_branch=None) -> dict:
    """The coordinate checks and data-quality notes of the summary."""
    return {
        "coordinate_checks": {
            name: {
                "suspected": d.suspected,
                "median_given_m": _round(d.median_given_m),
                "median_if_gcj02_m": _round(d.median_if_gcj02_m),
                "n_points": d.n_points,
            }
            for name, d in checks.items()
        },
        "data_quality": [
            *quality_notes(compounds),
            *quality_notes(services),
            *([] if branches is None else quality_notes(branches)),
            *([] if has_branch is None else quality_notes(has_branch)),
            *network_notes(result),
            *(d.message for d in checks.values() if d.shifted),
        ],
    }


def _with_served_area(
    net: PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    result: CoverageResult,
    *,
    category_column: str | None,
    catchment_m: float,
    max_snap_m: float,
    barriers: Barriers | None = None,
    street_cells: StreetCellsSlot | None = None,
) -> tuple[gpd.GeoDataFrame, CoverageResult]:
    """Served areas per category at the threshold, and ``area_share`` in the coverage table."""
    minutes = result.params["max_walk_min"]
    shape = ShapeOptions(catchment_m=catchment_m)
    cells = None if street_cells is None else street_cells.load(shape)
    iso = isochrones(
        net,
        services,
        minutes=[minutes],
        speed_kmh=result.params["speed_kmh"],
        options=shape,
        category_column=category_column,
        max_snap_m=max_snap_m,
        per_service=False,
        barriers=barriers,
        street_cells=cells,
        workers=machine_cores(),
    )
    if street_cells is not None and cells is None and iso.street_cells is not None:
        street_cells.save(shape, iso.street_cells)
    shares = area_share(compounds, iso.served_area, break_min=minutes, workers=machine_cores())
    key = ["compound_id", "category"]
    table = result.table.merge(shares.astype({"compound_id": object}), on=key, how="left")
    table["area_share"] = table["area_share"].fillna(0.0).round(4)
    table = blank_unreachable_shares(table)  # empty, not 0, for compounds nobody walks to
    return iso.served_area, replace(result, table=table)


def _round(value: float, digits: int = 1) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.reset_index().astype(object)
    return out.where(out.notna(), None).to_dict(orient="records")


def _shift_checks(net: PreparedNetwork, layers: Mapping[str, gpd.GeoDataFrame | None]) -> dict:
    """GCJ-02/BD-09 shift diagnoses of the layers declared WGS84 (or CGCS2000, or undeclared)."""
    lines = gpd.GeoSeries(net.segment_lines, crs=net.crs)
    out = {}
    for name, layer in layers.items():
        if layer is None or layer.empty or layer.attrs.get(COORD_SYSTEM_KEY) in ("gcj02", "bd09"):
            continue
        out[name] = detect_gcj02_shift(layer.geometry, lines, name=name)
    return out


def summarize(compounds: gpd.GeoDataFrame, result: CoverageResult, *, has_branch: pd.Series | None) -> dict:
    """Counts and shares per category (compounds, and households/population when a column gives them)."""
    table = result.table
    households = find_column(compounds, HOUSEHOLD_COLUMNS)
    population = find_column(compounds, POPULATION_COLUMNS)
    weights = {"compounds": pd.Series(1.0, index=compounds.index)}
    if households:
        weights["households"] = weight_values(compounds, households).fillna(0)
    if population:
        weights["population"] = weight_values(compounds, population).fillna(0)
    categories = {}
    overall = table[table["category"] == ALL].set_index("compound_id")["reach"].reindex(compounds.index)
    overall_lost = overall.fillna("off_network").isin(UNREACHABLE_REACH)
    for category in result.categories:
        rows = table[table["category"] == category].set_index("compound_id")
        covered = rows["covered"].reindex(compounds.index).fillna(False).astype(bool)
        entry = {}
        for name, weight in weights.items():
            total = float(weight.sum())
            hit = float(weight[covered].sum())
            entry[f"{name}_covered"] = round(hit, 3) if name != "compounds" else int(hit)
            entry[f"{name}_share"] = round(hit / total, 4) if total > 0 else None
        for name, weight in weights.items():  # unreachable compounds apart from those not covered
            entry.update(headline_counts(name, weight, covered, overall_lost))
        walk = rows["walk_min"]
        entry["median_walk_min"] = None if walk.isna().all() else round(float(walk.median()), 2)
        entry["unreachable"] = int(rows["reach"].isin(UNREACHABLE_REACH).sum())
        categories[category] = entry
    reach = table[table["category"] == ALL].set_index("compound_id")["reach"]
    status_counts = compounds["status"].value_counts()
    return {
        "compounds": len(compounds),
        "households": float(weights["households"].sum()) if "households" in weights else None,
        "population": float(weights["population"].sum()) if "population" in weights else None,
        "categories": categories,
        "status": {status: int(status_counts.get(status, 0)) for status in STATUSES},
        "compounds_without_branch": None if has_branch is None else int((~has_branch).sum()),
        "unreachable_compounds": unreachable_summary(reach),
        "services_off_network": len(result.services_off_network),
        "parameters": dict(result.params),
        "weight_columns": {"households": households, "population": population},
    }
