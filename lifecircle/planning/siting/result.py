"""The frozen result every siting model returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["SitingResult"]


def _num(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass(frozen=True, eq=False)
class SitingResult:
    """Answer of one siting model.

    Attributes
    ----------
    model : str
        ``"cover_all"``, ``"max_coverage"`` or ``"p_median"``.
    site_ids : tuple
        Selected new sites in the order a planner should build them (marginal-gain ranking).
    objective : float
        Sites (or their cost) for cover-all; newly covered weight for max-coverage; total weighted
        walking metres for p-median.
    bound : float
        Proven bound on the optimum (upper for max-coverage, lower otherwise).
    gap : float
        Relative gap between objective and bound; 0 when proven optimal, inf without a bound.
    solver : str
        ``"highs"``, ``"scipy"``, ``"cbc"`` or ``"greedy"`` (``"+greedy"`` when the heuristic start was kept);
        ``"greedy+lagrange"`` when the Lagrangian bound (or fixing) proved the heuristic answer optimal and no
        MILP ran. ``stats["bound_source"]`` says which bound is reported (``milp``, ``lp``, ``lagrange``).
    status : str
        ``"optimal"`` (proven), ``"time_limit"`` (stopped with an incumbent, not proven), ``"heuristic"``
        (greedy answer with a bound), ``"infeasible"``.
    seconds : float
        Wall time of reduce + greedy + bound + solve.
    plan : pandas.DataFrame
        Indexed by ``site_id`` in build order: rank, marginal gain, newly covered compounds/weight, cumulative
        coverage.
    covered_ids : tuple
        Compounds covered after building the sites (existing coverage included).
    unreachable_ids : tuple
        Compounds no candidate (and, p-median, no existing service) reaches.
    parameters : dict
        Model parameters as given.
    stats : dict
        Reduction sizes, greedy objective, timings.
    """

    model: str
    site_ids: tuple
    objective: float
    bound: float
    gap: float
    solver: str
    status: str
    seconds: float
    plan: pd.DataFrame
    covered_ids: tuple
    unreachable_ids: tuple
    parameters: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        """True only when the solver proved optimality."""
        return self.status == "optimal"

    def to_dict(self) -> dict:
        """JSON-ready summary (the content of ``siting.json``)."""
        return {
            "model": self.model,
            "objective": _num(self.objective),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "solver": self.solver,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "sites": [str(s) for s in self.site_ids],
            "n_covered": len(self.covered_ids),
            "unreachable": [str(c) for c in self.unreachable_ids],
            "parameters": {k: _num(v) for k, v in self.parameters.items()},
            "stats": {k: _num(v) for k, v in self.stats.items()},
        }
