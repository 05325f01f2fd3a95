"""One walk: the speed, the limit and the edge-cost rules of a study, as one small frozen value.

A :class:`Walk` is built once (from the command line or a study file) and passed whole to the jobs, the siting
matrix and the maps' labels, so a walking speed is turned into metres per minute in one place only::

    walk = Walk(speed_kmh=4.5, limit_min=10.0, steps_factor=2.0)
    walk.metres_per_minute      # 75.0
    walk.limit_m                # 750.0
    graph, weight = walk.cost_graph(G)   # hills (Tobler, with a DEM) and steps priced into the edge cost

Edge costs are flat-equivalent metres: a walk's time is its cost at the walker's flat speed. Steps
(``highway=steps``) cost ``steps_factor`` times their length (or their slope-adjusted length with a DEM), so with
``steps_factor=3`` a flight of steps takes three times as long as level ground of the same length.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx
import numpy as np

from lifecircle.errors import InputError
from lifecircle.geo.validate import require_positive

__all__ = [
    "DEFAULT_LIMIT_MIN",
    "DEFAULT_SPEED_KMH",
    "DEFAULT_STEPS_FACTOR",
    "STEPS_COST",
    "Walk",
    "metres_per_minute",
    "prepared",
]

DEFAULT_SPEED_KMH = 4.5
DEFAULT_LIMIT_MIN = 10.0
DEFAULT_STEPS_FACTOR = 1.0  # steps cost as much as level ground (a DEM adds their slope)
STEPS_COST = "walk_cost_m"  # edge attribute written when steps cost more than their length


def metres_per_minute(speed_kmh: float) -> float:
    """Walking metres in one minute at ``speed_kmh`` (the one conversion of the package)."""
    return require_positive(speed_kmh, "Walking speed", "km/h") * 1000.0 / 60.0


def _frozen(mapping: Mapping[str, float] | None, what: str, unit: str) -> Mapping[str, float]:
    checked = {str(k): require_positive(v, f"{what} of {k!r}", unit) for k, v in (mapping or {}).items()}
    return MappingProxyType(checked)


@dataclass(frozen=True)
class Walk:
    """How far and how residents walk: speed, limit (per category too) and what edges cost.

    Attributes
    ----------
    speed_kmh
        Walking speed on flat ground, km/h.
    limit_min
        The walking-time limit in minutes (used unless ``limit_dist_m`` is given).
    limit_dist_m
        A walking-distance limit in metres (a planning standard's distance); wins over ``limit_min``.
    category_limit_min, category_limit_m
        Limits of single categories, in minutes or metres (metres win for a category in both).
    steps_factor
        ``highway=steps`` take this many times as long as level ground of the same length (at least 1).
    dem
        A DEM (GeoTIFF): edge costs follow Tobler's hiking function, different uphill and downhill.
    """

    speed_kmh: float = DEFAULT_SPEED_KMH
    limit_min: float = DEFAULT_LIMIT_MIN
    limit_dist_m: float | None = None
    category_limit_min: Mapping[str, float] = field(default_factory=dict)
    category_limit_m: Mapping[str, float] = field(default_factory=dict)
    steps_factor: float = DEFAULT_STEPS_FACTOR
    dem: Path | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "speed_kmh", require_positive(self.speed_kmh, "Walking speed", "km/h"))
        set_(self, "limit_min", require_positive(self.limit_min, "The walking-time threshold", "minutes"))
        if self.limit_dist_m is not None:
            set_(self, "limit_dist_m", require_positive(self.limit_dist_m, "The walking distance", "m"))
        set_(self, "category_limit_min", _frozen(self.category_limit_min, "The threshold", "minutes"))
        set_(self, "category_limit_m", _frozen(self.category_limit_m, "The distance threshold", "m"))
        factor = require_positive(self.steps_factor, "The effort multiplier of steps", "(× level ground)", at_least=1)
        set_(self, "steps_factor", factor)
        if self.dem is not None:
            set_(self, "dem", Path(self.dem))
        if not math.isfinite(self.limit_m) or not math.isfinite(self.max_walk_min):
            raise InputError(
                f"A walking speed of {self.speed_kmh:g} km/h makes the limit an endless walk; "
                "give the speed in km/h (4.5 is typical)."
            )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Walk:
        """The walk a result records in its parameters (``summary.json``'s ``parameters``, a coverage result's).

        Its speed (``speed_kmh``), general limit (``max_walk_min``) and per-category limits
        (``category_max_walk_min``), as the maps and pages that read the result back show them.
        """
        return cls(
            speed_kmh=float(params["speed_kmh"]),
            limit_min=float(params["max_walk_min"]),
            category_limit_min=dict(params.get("category_max_walk_min") or {}),
        )

    @property
    def metres_per_minute(self) -> float:
        """Flat-equivalent metres walked in one minute."""
        return metres_per_minute(self.speed_kmh)

    @property
    def limit_m(self) -> float:
        """The general limit in flat-equivalent metres."""
        if self.limit_dist_m is not None:
            return self.limit_dist_m
        return self.limit_min * self.metres_per_minute

    @property
    def max_walk_min(self) -> float:
        """The general limit in minutes (a distance limit converted at the walking speed)."""
        if self.limit_dist_m is None:
            return self.limit_min
        return self.limit_dist_m / self.metres_per_minute

    def limit_m_of(self, category: str) -> float:
        """The limit of one category in metres (its own, else the general one)."""
        if category in self.category_limit_m:
            return self.category_limit_m[category]
        if category in self.category_limit_min:
            return self.category_limit_min[category] * self.metres_per_minute
        return self.limit_m

    def limit_min_of(self, category: str) -> float:
        """The limit of one category in minutes (its own, else the general one)."""
        if category in self.category_limit_m:
            return self.category_limit_m[category] / self.metres_per_minute
        if category in self.category_limit_min:
            return self.category_limit_min[category]
        return self.max_walk_min

    def minutes(self, walk_m):
        """Minutes for flat-equivalent metres (numbers or arrays)."""
        return walk_m / self.metres_per_minute

    def metres(self, minutes):
        """Flat-equivalent metres for minutes (numbers or arrays)."""
        return minutes * self.metres_per_minute

    def with_limit(self, *, minutes: float | None = None, metres: float | None = None) -> Walk:
        """A copy with another general limit (a distance in metres wins)."""
        return replace(self, limit_min=self.limit_min if minutes is None else minutes, limit_dist_m=metres)

    @property
    def prices_steps(self) -> bool:
        """Whether steps cost more than their (slope-adjusted) length."""
        return not math.isclose(self.steps_factor, 1.0)

    def base_weight(self) -> str:
        """The edge attribute of the cost before steps: ``effort_m`` with a DEM, else ``length``."""
        return "effort_m" if self.dem is not None else "length"

    @property
    def cost_weight(self) -> str:
        """The edge attribute of :meth:`cost_graph`: ``walk_cost_m`` with priced steps, else :meth:`base_weight`."""
        return STEPS_COST if self.prices_steps else self.base_weight()

    def cost_graph(self, G: nx.MultiDiGraph, *, terrain_applied: bool = False) -> tuple[nx.MultiDiGraph, str]:
        """The graph and the edge attribute that hold this walk's edge cost (flat-equivalent metres).

        Parameters
        ----------
        G
            osmnx-style walking graph (not modified).
        terrain_applied
            ``G`` already carries ``effort_m`` from :func:`lifecircle.geo.walkers.terrain.apply_terrain`.

        Returns
        -------
        graph, weight
            ``G`` itself and ``length`` when nothing is priced; else a copy with ``effort_m`` (DEM) and/or
            ``walk_cost_m`` (steps priced).
        """
        weight = "length"
        if self.dem is not None:
            if not terrain_applied:
                from lifecircle.geo.walkers.terrain import apply_terrain

                G = apply_terrain(G, self.dem)
            weight = "effort_m"
        if not self.prices_steps:
            return G, weight
        return price_steps(G, weight=weight, factor=self.steps_factor), STEPS_COST


def prepared(G, walk: Walk | None = None):
    """``G`` prepared for searches with the walk's edge cost (plain length without a walk)."""
    from lifecircle.geo.network.graph import PreparedNetwork, prepare_network

    if isinstance(G, PreparedNetwork):
        return G
    if walk is None:
        return prepare_network(G)
    graph, weight = walk.cost_graph(G, terrain_applied="terrain" in G.graph)
    return prepare_network(graph, weight=weight)


def price_steps(G: nx.MultiDiGraph, *, weight: str, factor: float) -> nx.MultiDiGraph:
    """A copy of ``G`` whose edges carry ``walk_cost_m``: ``weight`` priced by :func:`steps_cost_m`."""
    from lifecircle.geo.walkers.terrain import is_steps

    H = G.copy()
    edges = list(H.edges(data=True))
    cost = np.array([float(d[weight]) for _, _, d in edges])
    steps = np.array([is_steps(d.get("highway")) for _, _, d in edges], dtype=bool)
    for (_, _, d), c in zip(edges, steps_cost_m(cost, steps, factor=factor).tolist(), strict=True):
        d[STEPS_COST] = c
    return H


def steps_cost_m(cost_m: np.ndarray, steps: np.ndarray, *, factor: float) -> np.ndarray:
    """Walking costs with steps priced: ``cost_m``, times ``factor`` where ``steps`` (``highway=steps``)."""
    return np.where(steps, cost_m * factor, cost_m)
