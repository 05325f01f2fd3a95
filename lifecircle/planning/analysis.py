"""A coverage analysis: coverage per compound and category, branches, status, and the summary a planner reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.coverage import ALL, DEFAULT_MAX_WALK_MIN, DEFAULT_SPEED_KMH, CoverageResult, coverage
from lifecircle.geo.crs import to_crs
from lifecircle.geo.graph import PreparedNetwork
from lifecircle.geo.snapping import DEFAULT_MAX_SNAP_M
from lifecircle.geo.validate import quality_notes

log = logging.getLogger(__name__)

STATUSES = ("covered", "no_service", "no_branch", "neither")
HOUSEHOLD_COLUMNS = ("households", "户数", "住户数", "总户数")
POPULATION_COLUMNS = ("population", "人口", "常住人口", "人数", "居民人数")
BRANCH_COLUMNS = ("has_branch", "branch", "支部", "有支部", "党支部")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "是", "有", "已建", "√"}


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
        The long per-compound, per-category result (:class:`~lifecircle.geo.coverage.CoverageResult`).
    summary
        Counts and shares per category, branches, unreachable compounds and parameters (JSON-ready).
    """

    compounds: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame | None
    coverage: CoverageResult
    summary: dict = field(default_factory=dict)


def find_column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first column of ``df`` whose name (case-insensitive) is one of ``names``."""
    by_lower = {str(c).strip().lower(): c for c in df.columns}
    return next((by_lower[n] for n in names if n in by_lower), None)


def branch_presence(
    compounds: gpd.GeoDataFrame,
    branches: gpd.GeoDataFrame | None = None,
    *,
    branch_column: str | None = None,
) -> pd.Series | None:
    """Whether each compound has its own party branch (支部建在小区).

    A compound has a branch when a branch point lies in it (or names it in a ``compound_id`` column), or when its
    branch attribute (``branch_column``, else ``has_branch``/``支部``...) is true.

    Returns
    -------
    pandas.Series or None
        Boolean per compound id, or None when neither a branch layer nor a branch attribute is given.
    """
    column = branch_column or find_column(compounds, BRANCH_COLUMNS)
    if branch_column is not None and branch_column not in compounds.columns:
        raise InputError(f"The compound layer has no branch column {branch_column!r}.")
    if branches is None and column is None:
        return None
    present = pd.Series(False, index=compounds.index, name="has_branch")
    if column is not None:
        values = compounds[column]
        if values.dtype == bool:
            present |= values.fillna(False)
        else:
            present |= values.astype(str).str.strip().str.lower().isin(TRUE_WORDS)
    if branches is not None and not branches.empty:
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
    return present


def compound_status(covered: pd.Series, has_branch: pd.Series | None) -> pd.Series:
    """Status per compound: ``covered``, ``no_service``, ``no_branch`` or ``neither`` (no branch data: first two)."""
    if has_branch is None:
        return pd.Series(np.where(covered, "covered", "no_service"), index=covered.index, name="status")
    status = np.select(
        [covered & has_branch, ~covered & has_branch, covered & ~has_branch],
        ["covered", "no_service", "no_branch"],
        default="neither",
    )
    return pd.Series(status, index=covered.index, name="status")


def analyze(
    network: nx.MultiDiGraph | PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    branches: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    branch_column: str | None = None,
    category_column: str | None = "category",
    max_walk_min: float = DEFAULT_MAX_WALK_MIN,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> Analysis:
    """Run a coverage analysis on layers already read.

    Parameters
    ----------
    network
        The walking network.
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

    Returns
    -------
    Analysis
    """
    result = coverage(
        network,
        compounds,
        services,
        max_walk_min=max_walk_min,
        speed_kmh=speed_kmh,
        category_column=category_column,
        gates=gates,
        max_snap_m=max_snap_m,
    )
    table = result.table
    wide = compounds.copy()
    wide.attrs = {}
    has_branch = branch_presence(compounds, branches, branch_column=branch_column)
    wide["has_branch"] = has_branch if has_branch is not None else pd.NA
    overall = table[table["category"] == ALL].set_index("compound_id")
    wide["reach"] = overall["reach"].reindex(wide.index)
    for category in result.categories:
        rows = table[table["category"] == category].set_index("compound_id").reindex(wide.index)
        wide[f"walk_min_{category}"] = rows["walk_min"].round(2)
        wide[f"covered_{category}"] = rows["covered"].astype(bool)
    wide["status"] = compound_status(wide[f"covered_{ALL}"], has_branch)

    served = result.pairs.groupby("service_id")["compound_id"].nunique()
    services_out = services.copy()
    services_out.attrs = {}
    services_out["compounds_served"] = served.reindex(services_out.index).fillna(0).astype(int)
    services_out["on_network"] = ~services_out.index.isin(result.services_off_network)

    summary = summarize(wide, result, has_branch=has_branch)
    summary["data_quality"] = [
        *quality_notes(compounds),
        *quality_notes(services),
        *([] if branches is None else quality_notes(branches)),
        *_network_notes(result),
    ]
    return Analysis(compounds=wide, services=services_out, branches=branches, coverage=result, summary=summary)


def _network_notes(result: CoverageResult) -> list[str]:
    notes = []
    snap = result.params["max_snap_m"]
    if len(result.compounds_off_network):
        ids = ", ".join(map(str, result.compounds_off_network[:10]))
        notes.append(
            f"{len(result.compounds_off_network)} compounds lie farther than {snap:.0f} m from any walkable street "
            f"and are reported unreachable ({ids})."
        )
    if len(result.services_off_network):
        ids = ", ".join(map(str, result.services_off_network[:10]))
        notes.append(
            f"{len(result.services_off_network)} services lie farther than {snap:.0f} m from any walkable street "
            f"and serve no compound ({ids})."
        )
    return notes


def summarize(compounds: gpd.GeoDataFrame, result: CoverageResult, *, has_branch: pd.Series | None) -> dict:
    """Counts and shares per category (compounds, and households/population when a column gives them)."""
    table = result.table
    households = find_column(compounds, HOUSEHOLD_COLUMNS)
    population = find_column(compounds, POPULATION_COLUMNS)
    weights = {"compounds": pd.Series(1.0, index=compounds.index)}
    if households:
        weights["households"] = pd.to_numeric(compounds[households], errors="coerce").fillna(0)
    if population:
        weights["population"] = pd.to_numeric(compounds[population], errors="coerce").fillna(0)
    categories = {}
    for category in result.categories:
        rows = table[table["category"] == category].set_index("compound_id")
        covered = rows["covered"].reindex(compounds.index).fillna(False).astype(bool)
        entry = {}
        for name, weight in weights.items():
            total = float(weight.sum())
            hit = float(weight[covered].sum())
            entry[f"{name}_covered"] = round(hit, 3) if name != "compounds" else int(hit)
            entry[f"{name}_share"] = round(hit / total, 4) if total > 0 else None
        walk = rows["walk_min"]
        entry["median_walk_min"] = None if walk.isna().all() else round(float(walk.median()), 2)
        entry["unreachable"] = int((rows["reach"] != "ok").sum())
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
        "unreachable_compounds": {
            "off_network": int((reach == "off_network").sum()),
            "no_service_connected": int((reach == "no_service_connected").sum()),
        },
        "services_off_network": len(result.services_off_network),
        "parameters": dict(result.params),
        "weight_columns": {"households": households, "population": population},
    }
