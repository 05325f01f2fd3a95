"""How residents really walk, as options of an analysis: gated compounds, local roads, hills, walker profiles.

:class:`WalkingOptions` says which scenarios to take into account (the walk itself, speed, limits, steps and
hills, is a :class:`lifecircle.geo.walk.Walk`); :func:`build_walking` turns the loaded network into what
the main coverage runs on (the network, and gated origins when compounds' own roads count); :func:`walking_extras`
adds the comparisons a planner asks for (open blocks, slope, walker profiles) as tables and a summary.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import Origins
from lifecircle.geo.walk import Walk
from lifecircle.geo.walkers.gated import gated_origins, open_blocks_comparison, public_graph
from lifecircle.geo.walkers.gates import gates_from_osm
from lifecircle.geo.walkers.profiles import coverage_by_profile, get_profiles
from lifecircle.geo.walkers.terrain import slope_comparison
from lifecircle.planning.inputs import is_line_layer
from lifecircle.planning.network_store import LoadedNetwork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkingOptions:
    """What walking scenarios an analysis takes into account (all off: osmnx ``walk`` network, one walker).

    Speed, limits and edge costs (hills, steps) are the :class:`~lifecircle.geo.walk.Walk`'s.

    Attributes
    ----------
    compound_roads
        Residents use their own compound's internal roads, ``access=private`` included (never as shortcuts for
        anyone else), to reach its gates or the public streets.
    open_blocks
        Also run the 开放街区 scenario (internal roads public) and table what it changes.
    gates_from_osm
        Take gates from the OSM file's ``barrier=gate``/``entrance`` nodes on compound boundaries when no gates
        layer is given.
    profiles
        Walker profiles run together (``adult``, ``elderly``, ``child``, ``wheelchair``).
    merge_lines
        A local road-centreline layer merged into the OSM network to fill its gaps.
    level_column
        Column of a line layer giving its level (bridges and tunnels cross without meeting).
    """

    compound_roads: bool = False
    open_blocks: bool = False
    gates_from_osm: bool = False
    profiles: tuple[str, ...] = ()
    merge_lines: Path | None = None
    level_column: str | None = None

    @property
    def needs_private_roads(self) -> bool:
        """Whether the network must keep private ways (flagged)."""
        return self.compound_roads or self.open_blocks


@dataclass(frozen=True, eq=False)
class WalkingSetup:
    """What the main coverage runs on, and what building it found.

    ``graph`` (with every cost attribute: ``length``, ``effort_m`` with a DEM, ``walk_cost_m`` with priced steps)
    and ``streets`` (the map's street layer) come from ``source`` on first use: a network served by the cache is
    parsed only when something asks for its graph.
    """

    network: PreparedNetwork
    origins: Origins | None
    weight: str
    gates: gpd.GeoDataFrame | None
    source: LoadedNetwork
    walk: Walk
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    @functools.cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The walking graph with the walk's edge costs."""
        return self.source.cost_graph(self.walk)[0]

    @property
    def streets(self) -> gpd.GeoDataFrame:
        """The street layer of the map (:func:`lifecircle.maps.streets.street_layer`: one line per road class and
        street name, simplified, WGS84)."""
        return self.source.street_layer


def build_walking(
    graph: nx.MultiDiGraph | LoadedNetwork,
    compounds: gpd.GeoDataFrame,
    *,
    options: WalkingOptions,
    walk: Walk,
    gates: gpd.GeoDataFrame | None,
    max_snap_m: float,
    network_path: str | Path | None = None,
) -> WalkingSetup:
    """Turn the loaded network into the network (and origins) the main coverage runs on.

    The edge cost is the walk's (:meth:`~lifecircle.geo.walk.Walk.cost_graph`): with a DEM Tobler effort in
    flat-equivalent metres (``effort_m``), with a steps factor steps priced (``walk_cost_m``); with compound roads
    the public network is searched from gated origins that walked their own compound's internal roads first.
    ``graph`` is a graph, or a :class:`~lifecircle.planning.network_store.LoadedNetwork` whose prepared network
    may come from the network cache.
    """
    source = graph if isinstance(graph, LoadedNetwork) else LoadedNetwork.of_graph(graph)
    summary: dict = {"compound_roads": options.compound_roads, "dem": None, "weight": "length"}
    if options.gates_from_osm and gates is None:
        if network_path is None or is_line_layer(network_path):
            raise InputError("--gates-from-osm needs an OSM extract as --network.")
        gates = gates_from_osm(network_path, compounds)
        summary["gates_from_osm"] = len(gates)
        if gates.empty:
            gates = None
    weight = walk.cost_weight
    if walk.dem is not None:
        summary["dem"] = Path(walk.dem).name  # file names only, never folders (summary.json is handed around)
    if walk.prices_steps:
        summary["steps_factor"] = walk.steps_factor
    summary["weight"] = weight
    network = source.prepared(walk, public=options.needs_private_roads)
    origins = None
    if options.compound_roads:
        cost_graph, _ = source.cost_graph(walk)
        origins = gated_origins(cost_graph, network, compounds, gates=gates, weight=weight, max_snap_m=max_snap_m)
    return WalkingSetup(
        network=network, origins=origins, weight=weight, gates=gates, source=source, walk=walk, summary=summary
    )


def walking_extras(
    setup: WalkingSetup,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    options: WalkingOptions,
    walk: Walk,
    max_snap_m: float,
    category_column: str | None = "category",
) -> tuple[dict[str, pd.DataFrame], dict]:
    """The comparisons asked for: open blocks vs gated, hills vs flat, and coverage per walker profile.

    Returns
    -------
    tables, summary
        CSV-ready tables (``open_blocks``, ``slope_effect``, ``coverage_by_profile``, ``profiles_summary``) and
        their headline numbers.
    """
    tables: dict[str, pd.DataFrame] = {}
    summary: dict = {}
    max_walk_min = walk.max_walk_min
    kw = {"max_walk_min": max_walk_min, "speed_kmh": walk.speed_kmh, "max_snap_m": max_snap_m}
    if options.open_blocks:
        comparison = open_blocks_comparison(
            setup.graph,
            compounds,
            services,
            gates=setup.gates,
            weight=setup.weight,
            category_column=category_column,
            **kw,
        )
        tables["open_blocks"] = comparison.diff.reset_index()
        summary["open_blocks"] = comparison.summary
    if walk.dem is not None:
        flat_or_hilly = public_graph(setup.graph) if options.needs_private_roads else setup.graph
        # without gated origins (and priced steps) the main coverage ran on exactly this hilly network: reuse it
        hilly = setup.network if setup.origins is None and setup.weight == "effort_m" else None
        comparison = slope_comparison(
            flat_or_hilly, compounds, services, category_column=category_column, hilly=hilly, **kw
        )
        tables["slope_effect"] = comparison.diff.reset_index()
        summary["slope"] = comparison.summary
    if options.profiles:
        profiles = get_profiles(options.profiles)
        by_profile = coverage_by_profile(
            setup.graph,
            compounds,
            services,
            profiles=profiles,
            max_walk_min=max_walk_min,
            category_column=category_column,
            gates=setup.gates,
            max_snap_m=max_snap_m,
            weight=walk.base_weight(),  # a walker profile prices steps by its own rule
        )
        tables["coverage_by_profile"] = by_profile.table
        tables["profiles_summary"] = by_profile.summary.reset_index(drop=True)
        summary["profiles"] = [
            {k: (None if pd.isna(v) else v) for k, v in row.items()}
            for row in by_profile.summary.astype(object).to_dict(orient="records")
        ]
    return tables, summary
