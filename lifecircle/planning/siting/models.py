"""The three siting models: cover-all (LSCP), max-coverage (MCLP) and p-median.

Each is built from a :class:`CoverageMatrix` (``from_matrix``) or from snapped layers (``from_layers``) and
solved by ``.solve()`` (:class:`~lifecircle.planning.siting.engine.SitingModel`): reduce → greedy + local search
→ Lagrangian bound, rounding and variable fixing (and LP rounding) → MILP on what fixing leaves, warm-started →
best proven bound → ranked plan. Each model here only says how to reduce, formulate, start and bound itself.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np

from lifecircle.errors import InputError
from lifecircle.planning.siting.engine import SitingModel
from lifecircle.planning.siting.formulation import cover_model, max_cover_model, median_model
from lifecircle.planning.siting.greedy import greedy_cover, greedy_max, greedy_median, swap_max, swap_median
from lifecircle.planning.siting.lagrange import LagrangeResult, cover_lagrange, max_cover_lagrange
from lifecircle.planning.siting.lagrange_median import fix_median, median_lagrange
from lifecircle.planning.siting.matrix import CoverageMatrix
from lifecircle.planning.siting.plan import ranked_plan
from lifecircle.planning.siting.reduce import reduce_instance

log = logging.getLogger(__name__)

__all__ = ["CoverAll", "MaxCoverage", "PMedian"]


def _capacity_vector(capacity, n: int) -> np.ndarray | None:
    if capacity is None:
        return None
    cap = np.broadcast_to(np.asarray(capacity, dtype=float), (n,)).copy()
    if not np.isfinite(cap).all() or (cap < 0).any():
        raise InputError("Site capacities must be finite and non-negative.")
    return cap


def _continued(previous: LagrangeResult, lag: LagrangeResult, *, bound: float) -> LagrangeResult:
    """``lag`` continued from ``previous`` on the same instance: ``bound``, ``lag``'s fixings, both runs' effort."""
    return replace(
        lag, bound=bound, iterations=previous.iterations + lag.iterations, seconds=previous.seconds + lag.seconds
    )


class MaxCoverage(SitingModel):
    """Maximal covering (MCLP): the best ``k`` new sites by newly covered weight; optional budget/capacity."""

    name = "max_coverage"
    kind = "max"
    sense = "max"

    @classmethod
    def from_matrix(
        cls, matrix: CoverageMatrix, *, k: int | None = None, budget: float | None = None, capacity=None
    ) -> MaxCoverage:
        """Build the model.

        Parameters
        ----------
        matrix : CoverageMatrix
        k : int, optional
            Number of new sites (at most).
        budget : float, optional
            Total cost limit, with ``matrix.costs`` per candidate (1 each when absent).
        capacity : float or array-like, optional
            Weight one site can serve (per candidate when an array); compounds may be split across sites.
        """
        if k is None and budget is None:
            raise InputError("Max-coverage needs the number of sites (k) or a budget.")
        if k is not None and int(k) < 0:
            raise InputError("The number of new sites must be zero or more.")
        if budget is not None and float(budget) < 0:
            raise InputError("The budget must be zero or more.")
        return cls(
            matrix,
            k=None if k is None else int(k),
            budget=None if budget is None else float(budget),
            capacity=_capacity_vector(capacity, matrix.shape[1]),
        )

    def _reduce(self, dominance):
        return reduce_instance(
            self.matrix,
            kind="max",
            capacity=self.params["capacity"],
            dominance=dominance,
            max_rounds=6 if dominance else 0,
        )

    def _milp(self, inst):
        return max_cover_model(inst, k=self.params["k"], budget=self.params["budget"])

    def _greedy(self, inst):
        return greedy_max(inst, k=self.params["k"], budget=self.params["budget"])[0]

    def _plain(self) -> bool:
        return self.params["capacity"] is None and self.params["budget"] is None and self.params["k"] is not None

    def _improve(self, inst, cols):
        return swap_max(inst, cols) if self._plain() and len(cols) else None

    def _lp_rounding(self):
        return self._plain()

    def _lagrange(self, inst, incumbent, previous=None):
        if not self._plain():
            return None
        lag = max_cover_lagrange(
            inst, k=self.params["k"], incumbent=incumbent, start=None if previous is None else previous.multipliers
        )
        if previous is not None and previous.bound < lag.bound:  # keep the better bound (both valid)
            lag = _continued(previous, lag, bound=previous.bound)
        return lag

    def _sub_milp(self, sub, n_open):
        return max_cover_model(sub, k=self.params["k"] - n_open, budget=None)

    def _evaluate(self, sel):
        m = self.matrix
        hit = np.asarray(m.cover[:, sel].sum(axis=1)).ravel() > 0 if len(sel) else np.zeros(m.shape[0], bool)
        return float(m.weights[hit & ~m.covered].sum())

    def _round_bound(self, bound):
        w = self.matrix.weights
        if math.isfinite(bound) and np.all(w == np.round(w)) and self.params["capacity"] is None:
            return float(math.floor(bound + 1e-6))
        return bound


class CoverAll(SitingModel):
    """Set covering (LSCP): fewest new sites (or least cost) so every reachable compound is covered."""

    name = "cover_all"
    kind = "cover"
    sense = "min"

    @classmethod
    def from_matrix(cls, matrix: CoverageMatrix, *, capacity=None, use_costs: bool = True) -> CoverAll:
        """Build the model.

        Parameters
        ----------
        matrix : CoverageMatrix
        capacity : float or array-like, optional
            Weight one site can serve; every reachable compound must then be fully served.
        use_costs : bool
            Minimise total cost (``matrix.costs``) instead of the number of sites when costs are present.
        """
        return cls(
            matrix,
            capacity=_capacity_vector(capacity, matrix.shape[1]),
            use_costs=bool(use_costs and matrix.costs is not None),
        )

    def _costs(self):
        return self.matrix.site_costs if self.params["use_costs"] else np.ones(self.matrix.shape[1])

    def _reduce(self, dominance):
        m = self.matrix
        if not self.params["use_costs"] and m.costs is not None:
            m = CoverageMatrix(
                m.cover, m.walk_m, m.compound_ids, m.site_ids, m.weights, m.covered, m.existing_walk_m, None, m.limit_m
            )
        return reduce_instance(
            m, kind="cover", capacity=self.params["capacity"], dominance=dominance, max_rounds=6 if dominance else 0
        )

    def _milp(self, inst):
        return cover_model(inst)

    def _greedy(self, inst):
        return greedy_cover(inst)

    def _lagrange(self, inst, incumbent, previous=None):
        if self.params["capacity"] is not None:
            return None
        return cover_lagrange(inst, incumbent=incumbent, integer_costs=bool(np.all(inst.cost == np.round(inst.cost))))

    def _sub_milp(self, sub, n_open):
        return cover_model(sub)

    def _fixed_value(self, inst):
        return float(self._costs()[inst.fixed].sum())

    def _evaluate(self, sel):
        return float(self._costs()[sel].sum())

    def _round_bound(self, bound):
        c = self._costs()
        if math.isfinite(bound) and np.all(c == np.round(c)):
            return float(math.ceil(bound - 1e-6))
        return bound


class PMedian(SitingModel):
    """p-median: ``k`` new sites minimising total weighted walking distance.

    Each compound walks to its nearest new site or keeps its nearest existing service (``existing_walk_m``);
    a compound with neither is charged ``unserved_m``.
    """

    name = "p_median"
    kind = "median"
    sense = "min"

    @classmethod
    def from_matrix(cls, matrix: CoverageMatrix, *, k: int, unserved_m: float | None = None) -> PMedian:
        """Build the model.

        Parameters
        ----------
        matrix : CoverageMatrix
            Must carry walking distances.
        k : int
            Number of new sites (at most).
        unserved_m : float, optional
            Distance charged to a compound no existing or new site serves; default twice ``matrix.limit_m``
            (compounds with no candidate and no existing service are reported unreachable instead).
        """
        if matrix.walk_m is None:
            raise InputError("p-median needs a coverage matrix with walking distances.")
        if int(k) < 0:
            raise InputError("The number of new sites must be zero or more.")
        if unserved_m is None:
            if matrix.limit_m is None:
                raise InputError("p-median needs unserved_m when the matrix has no walking limit.")
            unserved_m = 2.0 * matrix.limit_m
        return cls(matrix, k=int(k), unserved_m=float(unserved_m), capacity=None)

    def _fallback(self):
        m = self.matrix
        ex = m.existing_walk_m if m.existing_walk_m is not None else np.full(m.shape[0], np.inf)
        return np.where(np.isfinite(ex), ex, self.params["unserved_m"])

    def _reduce(self, dominance):
        # candidate dominance (a pair expansion, 0.3 s on Phoenix 5k x 2.5k) is left to the Lagrangian fixing,
        # which closes those candidates and more in a fraction of that; identical compounds are still merged
        return reduce_instance(
            self.matrix,
            kind="median",
            unserved_m=self.params["unserved_m"],
            dominance=False,
            max_rounds=6 if dominance else 0,
        )

    def _milp(self, inst):
        return median_model(inst, k=self.params["k"])

    def _greedy(self, inst):
        return greedy_median(inst, k=self.params["k"])[0]

    @staticmethod
    def _savings_form(inst) -> bool:
        """Every group has a finite fallback walk (the swap search and the Lagrangian bound need one)."""
        return inst.fallback is not None and bool(np.isfinite(inst.fallback).all())

    def _improve(self, inst, cols):
        return swap_median(inst, cols) if self._savings_form(inst) and len(cols) else None

    def _lagrange(self, inst, incumbent, previous=None):
        if not self._savings_form(inst):
            return None
        lag = median_lagrange(
            inst, k=self.params["k"], incumbent=incumbent, start=None if previous is None else previous.multipliers
        )
        if previous is None:
            return lag
        return _continued(previous, lag, bound=max(previous.bound, lag.bound))  # the better bound (both valid)

    def _fix(self, inst, lag):
        return fix_median(inst, lag.ones, lag.zeros)

    def _sub_milp(self, sub, n_open):
        return median_model(sub, k=self.params["k"] - n_open)

    def _evaluate(self, sel):
        m = self.matrix
        fb = self._fallback()
        reach = (np.diff(m.cover.indptr) > 0) | np.isfinite(
            m.existing_walk_m if m.existing_walk_m is not None else np.full(m.shape[0], np.inf)
        )
        best = fb.copy()
        if len(sel):
            pick = np.zeros(m.shape[1], dtype=bool)
            pick[sel] = True
            e = pick[m.cover.indices]
            rows = np.repeat(np.arange(m.shape[0]), np.diff(m.cover.indptr))[e]
            np.minimum.at(best, rows, m.walk_m[e])
        ok = reach & (m.weights > 0)
        return float((m.weights[ok] * best[ok]).sum())

    def _plan(self, sel_ids):
        return ranked_plan(self.matrix, sel_ids, unserved_m=self.params["unserved_m"], by="distance")
