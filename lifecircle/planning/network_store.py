"""The walking network of a job, loaded once and kept in the network cache between runs.

:class:`LoadedNetwork` is what a job walks on: the graph, the prepared network for a walk, the street lines and the
street layer the map draws (merged and simplified), the network sources table, the barriers and a slot for the
street cells of served areas. Each comes from the network cache (:mod:`lifecircle.geo.network.cache`) when an
earlier run stored it for the same file content and options, and is built (and stored) otherwise; the graph itself
is parsed only when something still needs it (compound roads, open blocks, hills, walker profiles), so a second
``analyze`` on the same district skips reading the extract and preparing the network. Results are the same with and
without the cache.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from lifecircle.geo.network.cache import NetworkCache, key_text, layer_digest
from lifecircle.geo.network.packing import Unpackable, pack, pack_frame, unpack, unpack_frame
from lifecircle.geo.walk import Walk

if TYPE_CHECKING:
    import geopandas as gpd

    from lifecircle.geo.network.barriers import Barriers
    from lifecircle.geo.network.graph import PreparedNetwork
    from lifecircle.geo.reach.shapes import ShapeOptions
    from lifecircle.geo.reach.streetcells import StreetCells

log = logging.getLogger(__name__)

__all__ = ["LoadedNetwork", "StreetCellsSlot", "open_network"]

GraphLoader = Callable[[], tuple[nx.MultiDiGraph, dict[str, pd.DataFrame]]]


def _cost_key(walk: Walk) -> dict:
    """What of a walk changes edge costs: the DEM's content (``"unreadable"``: never cached) and the steps factor."""
    return {
        "weight": walk.cost_weight,
        "dem": None if walk.dem is None else layer_digest(walk.dem) or "unreadable",
        "steps_factor": walk.steps_factor if walk.prices_steps else 1.0,
    }


def _get(cache: NetworkCache | None, kind: str, key: str) -> tuple[dict, dict] | None:
    return None if cache is None else cache.get(kind, key)


def _put(cache: NetworkCache | None, kind: str, key: str, build: Callable[[], tuple[dict, Any]]) -> None:
    """Store what ``build`` packs; a value the cache cannot hold is not stored (logged, never an error)."""
    if cache is None:
        return
    try:
        arrays, spec = build()
    except Unpackable as exc:
        log.debug("network cache: %s not stored (%s)", kind, exc)
        return
    cache.put(kind, key, arrays, spec)


def _unpacked(entry: tuple[dict, dict] | None, read: Callable[[dict, dict], Any], kind: str) -> Any:
    """The object an entry holds, or None when it does not fit what this lifecircle reads (a miss)."""
    if entry is None:
        return None
    try:
        return read(*entry)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        log.debug("network cache: %s entry does not fit (%s), a miss", kind, exc)
        return None


class LoadedNetwork:
    """The walking network of a job (see the module docstring).

    Parameters
    ----------
    load
        Reads the graph and its tables (:func:`lifecircle.planning.inputs.load_graph`), called at most once.
    key
        What identifies the network (file content digests and loading options); None: never cached.
    cache
        The cache folder; None: nothing is read from or written to a cache.
    osm_path
        The OSM extract the network comes from (its barriers are read from it too), when it is one.
    """

    def __init__(
        self,
        load: GraphLoader,
        *,
        key: dict | None = None,
        cache: NetworkCache | None = None,
        osm_path: Path | None = None,
    ) -> None:
        self._load = load
        self._key = key
        self._cache = cache if key is not None else None
        self.osm_path = osm_path
        self._cost_graphs: dict[str, tuple[nx.MultiDiGraph, str]] = {}

    @classmethod
    def of_graph(cls, graph: nx.MultiDiGraph, tables: dict[str, pd.DataFrame] | None = None) -> LoadedNetwork:
        """A graph already in memory (never cached)."""
        return cls(lambda: (graph, dict(tables or {})))

    @property
    def cached(self) -> bool:
        """Whether this network is read from and stored in the cache."""
        return self._cache is not None

    def _text(self, what: str, **more: Any) -> str:
        return key_text({"network": self._key, "what": what, **more})

    @functools.cached_property
    def _loaded(self) -> tuple[nx.MultiDiGraph, dict[str, pd.DataFrame]]:
        return self._load()

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The walking graph as loaded (parsed from the file on first use)."""
        return self._loaded[0]

    def cost_graph(self, walk: Walk) -> tuple[nx.MultiDiGraph, str]:
        """The graph with the walk's edge costs and their attribute (:meth:`Walk.cost_graph`), built once."""
        key = repr((walk.cost_weight, walk.dem, walk.steps_factor))
        if key not in self._cost_graphs:
            self._cost_graphs[key] = walk.cost_graph(self.graph)
        return self._cost_graphs[key]

    def prepared(self, walk: Walk, *, public: bool = False) -> PreparedNetwork:
        """The network prepared with the walk's edge costs; ``public``: without private ways (from the cache when
        stored)."""
        from lifecircle.geo.network.graph import prepare_network
        from lifecircle.geo.walkers.gated import public_graph

        costs = _cost_key(walk) if self.cached else {}
        cache = None if costs.get("dem") == "unreadable" else self._cache
        text = self._text("prepared", costs=costs, public=public)
        found = _unpacked(_get(cache, "prepared", text), unpack, "prepared")
        if found is not None:
            return found
        graph, weight = self.cost_graph(walk)
        net = prepare_network(public_graph(graph) if public else graph, weight=weight)
        _put(cache, "prepared", text, lambda: pack(net))
        return net

    @functools.cached_property
    def _extras(self) -> tuple[gpd.GeoDataFrame, dict[str, pd.DataFrame]]:
        text = self._text("streets")
        found = _unpacked(_get(self._cache, "streets", text), _read_extras, "streets")
        if found is not None:
            return found
        from lifecircle.maps.streets import street_edges

        graph, tables = self._loaded
        streets = street_edges(graph)
        _put(self._cache, "streets", text, lambda: _pack_extras(streets, tables))
        return streets, tables

    @property
    def streets(self) -> gpd.GeoDataFrame:
        """The street layer of the map (:func:`lifecircle.maps.streets.street_edges` of the graph)."""
        return self._extras[0]

    @functools.cached_property
    def street_layer(self) -> gpd.GeoDataFrame:
        """The streets as the map draws them and an analysis folder keeps them
        (:func:`lifecircle.maps.streets.street_layer`: merged per class and name, simplified, WGS84)."""
        from lifecircle.maps.streets import street_layer

        text = self._text("street_layer")
        found = _unpacked(_get(self._cache, "street_layer", text), _read_layer, "street_layer")
        if found is not None:
            return found
        layer = street_layer(self.streets)
        _put(self._cache, "street_layer", text, lambda: _pack_layer(layer))
        return layer

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables loading made (``network_sources`` when local road lines were merged)."""
        return self._extras[1] if self.cached else self._loaded[1]

    def barriers(self, layer: str | Path | None = None) -> Barriers | None:
        """The barriers of the network's extract (cached) plus an office's own layer
        (:func:`lifecircle.geo.network.barriers.barriers_for`)."""
        from lifecircle.geo.network.barriers import barriers_for, barriers_from_layer, barriers_from_osm

        if self.osm_path is None or not self.cached:
            return barriers_for(self.osm_path, layer)
        text = self._text("barriers")
        found = _unpacked(_get(self._cache, "barriers", text), unpack, "barriers")
        if found is None:
            found = barriers_from_osm(self.osm_path)
            stored = found
            _put(self._cache, "barriers", text, lambda: pack(stored))
        if layer is not None:
            own = barriers_from_layer(layer)
            found = own if found is None else found + own
        return found if found is not None and len(found) else None

    def cells_slot(
        self, walk: Walk, *, public: bool = False, barrier_layer: str | Path | None = None
    ) -> StreetCellsSlot | None:
        """Where the street cells of served areas on :meth:`prepared` are kept (None when not cached)."""
        layer = None if barrier_layer is None else layer_digest(barrier_layer)
        costs = _cost_key(walk)
        if not self.cached or costs["dem"] == "unreadable" or (barrier_layer is not None and layer is None):
            return None
        return StreetCellsSlot(
            self._cache,
            lambda options: self._text("cells", costs=costs, public=public, barrier_layer=layer, options=options),
        )


def open_network(
    source: str | Path | nx.MultiDiGraph,
    *,
    layers: tuple = (),
    include_private: bool = False,
    merge_lines: Path | None = None,
    level_column: str | None = None,
    use_cache: bool = True,
) -> LoadedNetwork:
    """The walking network a job names (:func:`lifecircle.planning.inputs.load_graph`), cached when it is a local
    file and ``use_cache``; parsed only when first needed."""
    from lifecircle.geo.network.osm import _is_osm_file
    from lifecircle.planning.inputs import load_graph, network_file

    def load() -> tuple[nx.MultiDiGraph, dict[str, pd.DataFrame]]:
        return load_graph(
            source, layers=layers, include_private=include_private, merge_lines=merge_lines, level_column=level_column
        )

    path = network_file(source)
    if isinstance(source, nx.MultiDiGraph):
        return LoadedNetwork(load)
    osm_path = path if path is not None and _is_osm_file(path) else None
    digests = [layer_digest(p) for p in (path, merge_lines) if p is not None]
    if path is None or not use_cache or None in digests:  # unreadable files: the loader says what is wrong
        return LoadedNetwork(load, osm_path=osm_path)
    key = {
        "source": digests[0],
        "suffix": "".join(path.suffixes[-2:]).lower(),
        "include_private": include_private,
        "merge_lines": digests[1] if merge_lines is not None else None,
        "level_column": level_column,
    }
    return LoadedNetwork(load, key=key, cache=NetworkCache(), osm_path=osm_path)


@dataclasses.dataclass(frozen=True, eq=False)
class StreetCellsSlot:
    """The cache entry of the street cells of one prepared network, barriers and shape options."""

    cache: NetworkCache | None
    key: Callable[[dict], str]

    def load(self, options: ShapeOptions) -> StreetCells | None:
        """The stored cells, or None."""
        text = self.key(dataclasses.asdict(options))
        return _unpacked(_get(self.cache, "cells", text), unpack, "cells")

    def save(self, options: ShapeOptions, cells: StreetCells) -> None:
        """Store the cells built."""
        _put(self.cache, "cells", self.key(dataclasses.asdict(options)), lambda: pack(cells))


def _pack_extras(streets: gpd.GeoDataFrame, tables: dict[str, pd.DataFrame]) -> tuple[dict, dict]:
    arrays: dict = {}
    spec = {
        "streets": pack_frame(streets, "streets", arrays),
        "tables": {name: pack_frame(frame, f"tables.{k}", arrays) for k, (name, frame) in enumerate(tables.items())},
    }
    return arrays, spec


def _read_extras(arrays: dict, spec: dict) -> tuple[gpd.GeoDataFrame, dict[str, pd.DataFrame]]:
    streets = unpack_frame(spec["streets"], "streets", arrays)
    tables = {name: unpack_frame(s, f"tables.{k}", arrays) for k, (name, s) in enumerate(spec["tables"].items())}
    return streets, tables


def _pack_layer(layer: gpd.GeoDataFrame) -> tuple[dict, dict]:
    arrays: dict = {}
    return arrays, {"layer": pack_frame(layer, "layer", arrays)}


def _read_layer(arrays: dict, spec: dict) -> gpd.GeoDataFrame:
    return unpack_frame(spec["layer"], "layer", arrays)
