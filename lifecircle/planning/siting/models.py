"""The three siting models: cover-all (LSCP), max-coverage (MCLP) and p-median.

Each is built from a :class:`CoverageMatrix` (``from_matrix``) or from snapped layers (``from_layers``) and
solved by ``.solve()``: reduce → greedy + local search → Lagrangian bound, rounding and variable fixing
(and LP rounding) → MILP on what fixing leaves, warm-started → best proven bound → ranked plan.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from lifecircle.errors import InputError
from lifecircle.planning.siting.formulation import MilpModel, cover_model, max_cover_model, median_model
from lifecircle.planning.siting.greedy import greedy_cover, greedy_max, greedy_median, swap_max
from lifecircle.planning.siting.lagrange import LagrangeResult, cover_lagrange, fix_instance, max_cover_lagrange
from lifecircle.planning.siting.matrix import CoverageMatrix, build_coverage_matrix
from lifecircle.planning.siting.plan import ranked_plan
from lifecircle.planning.siting.reduce import ReducedInstance, reduce_instance
from lifecircle.planning.siting.result import SitingResult
from lifecircle.planning.siting.solvers import (
    INFEASIBLE,
    NO_SOLUTION,
    OPTIMAL,
    SOLVERS,
    MilpOutcome,
    relative_gap,
    solve_cbc,
    solve_highs,
    solve_lp_bound,
    solve_scipy,
)

log = logging.getLogger(__name__)

__all__ = ["CoverAll", "MaxCoverage", "PMedian"]


def _capacity_vector(capacity, n: int) -> np.ndarray | None:
    if capacity is None:
        return None
    cap = np.broadcast_to(np.asarray(capacity, dtype=float), (n,)).copy()
    if not np.isfinite(cap).all() or (cap < 0).any():
        raise InputError("Site capacities must be finite and non-negative.")
    return cap


class _SitingModel:
    """Shared build/solve machinery; subclasses define the model-specific hooks."""

    name = ""
    kind = ""
    sense = "max"

    def __init__(self, matrix: CoverageMatrix, **params):
        if not isinstance(matrix, CoverageMatrix):
            raise InputError("Siting models are built from a CoverageMatrix.")
        self.matrix = matrix
        self.params = dict(params)

    def __repr__(self) -> str:
        p = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k != "capacity")
        return f"{type(self).__name__}({self.matrix!r}, {p})"

    @classmethod
    def from_layers(
        cls,
        net,
        compounds_att,
        candidates_att,
        *,
        limit_m: float,
        compound_ids=None,
        site_ids=None,
        weights=None,
        existing_walk_m=None,
        costs=None,
        **model_kwargs,
    ):
        """Build the walking coverage matrix from snapped layers, then the model.

        Parameters
        ----------
        net : PreparedNetwork
            Prepared walking network (``lifecircle.geo.network.graph.prepare_network``).
        compounds_att, candidates_att : Attachment
            Compounds and candidates snapped to ``net``.
        limit_m : float
            Walking limit in metres.
        compound_ids, site_ids, weights, existing_walk_m, costs :
            See :func:`build_coverage_matrix`.
        **model_kwargs :
            Passed to :meth:`from_matrix` (``k``, ``budget``, ``capacity``...).
        """
        matrix = build_coverage_matrix(
            net,
            compounds_att,
            candidates_att,
            limit_m,
            compound_ids=compound_ids,
            site_ids=site_ids,
            weights=weights,
            existing_walk_m=existing_walk_m,
            costs=costs,
        )
        return cls.from_matrix(matrix, **model_kwargs)

    # ------------------------------------------------------------------ hooks
    def _reduce(self, dominance: bool) -> ReducedInstance:
        raise NotImplementedError

    def _milp(self, inst: ReducedInstance) -> MilpModel:
        raise NotImplementedError

    def _greedy(self, inst: ReducedInstance) -> np.ndarray | None:
        raise NotImplementedError

    def _evaluate(self, sel: np.ndarray) -> float:
        """Objective of original candidate positions ``sel`` on the full matrix (uncapacitated models)."""
        raise NotImplementedError

    def _round_bound(self, bound: float) -> float:
        return bound

    def _plan(self, sel_ids):
        return ranked_plan(self.matrix, sel_ids, capacity=self.params.get("capacity"))

    # ------------------------------------------------------------------ solve
    def _model_value(self, model: MilpModel, x: np.ndarray) -> tuple[float, np.ndarray | None]:
        """Objective (model space) of site vector ``x`` and a full start vector when one can be built."""
        full = model.full_start(x)
        if full is not None:
            return float(model.c @ full + model.offset), full
        lp = solve_highs(model.with_sites_fixed(x), time_limit_s=60)
        if lp.status != OPTIMAL:
            return math.nan, None
        return lp.objective, lp.x

    def _improve(self, inst: ReducedInstance, cols: np.ndarray) -> np.ndarray | None:
        """Local search from a heuristic solution (reduced column positions); None when the model has none."""
        return None

    def _lagrange(
        self, inst: ReducedInstance, incumbent: float, previous: LagrangeResult | None = None
    ) -> LagrangeResult | None:
        """Lagrangian bound and fixing for the reduced instance (model space); None when not available.

        ``previous``: an earlier result on the same instance to continue from (its bound stays valid).
        """
        return None

    def _closed(self, value: float, bound: float, inst: ReducedInstance) -> bool:
        """True when ``bound`` proves ``value`` (model space) optimal after rounding."""
        fixed = self._fixed_value(inst)
        return relative_gap(value + fixed, self._round_bound(bound + fixed), self.sense) == 0.0

    def _lp_rounding(self) -> bool:
        """Whether LP rounding + local search is worth trying for a better incumbent."""
        return False

    def _sub_milp(self, sub: ReducedInstance, n_open: int) -> MilpModel:
        """The MILP of an instance left after Lagrangian fixing with ``n_open`` sites already opened."""
        raise NotImplementedError

    def _run_backend(self, model, *, solver, time_limit_s, mip_rel_gap, start, start_sites, threads):
        if solver == "highs":
            return solve_highs(
                model,
                time_limit_s=time_limit_s,
                mip_rel_gap=mip_rel_gap,
                threads=threads,
                start=start,
                start_sites=None if start is not None else start_sites,
            )
        if solver == "scipy":
            return solve_scipy(model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
        return solve_cbc(model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, start=start)

    def _solve_milp(
        self,
        model,
        inst,
        lag,
        g_x,
        g_val,
        g_full,
        *,
        solver,
        t0,
        time_limit_s,
        mip_rel_gap,
        warm_start,
        threads,
        stats,
        lp_known=None,
    ) -> MilpOutcome:
        """MILP (on the instance Lagrangian fixing leaves, when it fixes anything), combined with every bound.

        Returns an outcome in the model space of ``model``; its bound is the best of the MILP bound, the
        Lagrangian bound and (when not proven optimal) the LP bound.
        """
        m = inst.A.shape[1]
        maxi = model.sense == "max"
        remaining = max(1.0, float(time_limit_s) - (time.perf_counter() - t0))
        fix = None
        if lag is not None and (lag.ones.size or lag.zeros.size):
            fix = fix_instance(inst, lag.ones, lag.zeros, kind=self.kind)
            stats.update(
                {k: v for k, v in fix.sub.stats.items() if k.startswith(("lagrange_", "groups_after", "columns_after"))}
            )
        if fix is not None and (
            fix.infeasible
            or fix.sub.A.shape[0] == 0
            or fix.sub.A.shape[1] == 0
            or (self.kind == "max" and self.params["k"] - fix.ones.size <= 0)
        ):
            # no strictly better solution respects the fixings: the incumbent is optimal
            stats.update(solve_s=0.0, bound_source="lagrange fixing")
            return MilpOutcome(g_x, g_val, g_val, OPTIMAL, 0.0, "greedy+lagrange")
        if fix is not None:
            sub_model = self._sub_milp(fix.sub, fix.ones.size)
            x_sub = None if g_x is None else g_x[fix.free]
            start = sub_model.full_start(x_sub) if (warm_start and x_sub is not None) else None
            sub = self._run_backend(
                sub_model,
                solver=solver,
                time_limit_s=remaining,
                mip_rel_gap=mip_rel_gap,
                start=start,
                start_sites=x_sub if warm_start else None,
                threads=threads,
            )
            x = None
            obj = math.nan
            if sub.x is not None:
                x = fix.lift(sub.x, m)
                obj = sub.objective + fix.constant
            sub_bound = sub.bound + fix.constant if math.isfinite(sub.bound) else (math.inf if maxi else -math.inf)
            # every solution better than the incumbent respects the fixings
            bound = max(g_val, sub_bound) if maxi else min(g_val, sub_bound)
            outcome = MilpOutcome(x, obj, bound, sub.status, sub.seconds, sub.solver)
        else:
            start = g_full if (warm_start and g_full is not None) else None
            outcome = self._run_backend(
                model,
                solver=solver,
                time_limit_s=remaining,
                mip_rel_gap=mip_rel_gap,
                start=start,
                start_sites=g_x if warm_start else None,
                threads=threads,
            )
        stats.update(solve_s=outcome.seconds)
        src = "milp"
        bound = outcome.bound
        if lag is not None and (not math.isfinite(bound) or (lag.bound < bound if maxi else lag.bound > bound)):
            bound, src = lag.bound, "lagrange"
        if outcome.status not in (OPTIMAL, INFEASIBLE):
            # the solver may stop before its root LP: the interior-point LP bound can be tighter
            tb = time.perf_counter()
            lpb = lp_known if lp_known is not None else self._lp_bound(model, inst, remaining)[0]
            stats.update(bound_s=time.perf_counter() - tb, lp_bound=lpb)
            if math.isfinite(lpb) and (not math.isfinite(bound) or (lpb < bound if maxi else lpb > bound)):
                bound, src = lpb, "lp"
        stats.update(bound_source=src)
        x, obj, status, name = outcome.x, outcome.objective, outcome.status, outcome.solver
        # keep the heuristic answer if the solver found nothing better
        if status != INFEASIBLE and g_x is not None and math.isfinite(g_val):
            if (not math.isfinite(obj)) or (g_val > obj + 1e-9 if maxi else g_val < obj - 1e-9):
                x, obj, name = g_x, g_val, name + "+greedy"
                status = "time_limit" if status != OPTIMAL else status
        return MilpOutcome(x, obj, bound, status, outcome.seconds, name)

    def solve(
        self,
        *,
        solver: str = "highs",
        time_limit_s: float = 60.0,
        mip_rel_gap: float = 1e-6,
        reduce: bool = True,
        warm_start: bool = True,
        threads: int | None = None,
        lagrange: bool = True,
    ) -> SitingResult:
        """Solve the model.

        Parameters
        ----------
        solver : {"highs", "scipy", "cbc", "greedy"}
            ``highs``: HiGHS via highspy (warm-started with greedy); ``scipy``: ``scipy.optimize.milp``;
            ``cbc``: CBC via PuLP; ``greedy``: lazy greedy with an LP-relaxation bound.
        time_limit_s : float
            Solver time limit in seconds. A stop at the limit is reported as ``time_limit``, never optimal.
        mip_rel_gap : float
            Relative gap at which the MILP solver may stop and call the answer optimal.
        reduce : bool
            Apply merging/dominance reductions first (exact; off only for checking them).
        warm_start : bool
            Hand the greedy solution to the MILP solver.
        threads : int, optional
            HiGHS threads.
        lagrange : bool
            Max-coverage (with ``k``) and cover-all without capacities: compute a Lagrangian bound first and fix
            the sites it rules in or out before the MILP. When the bound already proves the heuristic answer
            optimal no MILP runs and the solver is reported as ``"greedy+lagrange"``.

        Returns
        -------
        SitingResult
        """
        if solver not in SOLVERS:
            raise InputError(f"Unknown solver {solver!r}; use one of {', '.join(SOLVERS)}.")
        t0 = time.perf_counter()
        inst = self._reduce(reduce)
        t_reduce = time.perf_counter() - t0
        model = self._milp(inst)
        t_build = time.perf_counter() - t0 - t_reduce
        stats = dict(inst.stats)
        stats.update(reduce_s=t_reduce, build_s=t_build)
        m = inst.A.shape[1]

        # heuristic incumbent: greedy, then local search where the model has one
        tg = time.perf_counter()
        g_cols = self._greedy(inst)
        g_val, g_full, g_x = math.nan, None, None
        if g_cols is not None:
            g_x = np.zeros(m)
            g_x[g_cols] = 1.0
            g_val, g_full = self._model_value(model, g_x)
        stats.update(greedy_s=time.perf_counter() - tg, greedy_objective=g_val)
        if g_cols is not None and m and inst.A.shape[0]:
            tl = time.perf_counter()
            better = self._improve(inst, g_cols)
            if better is not None:
                b_x = np.zeros(m)
                b_x[better] = 1.0
                b_val, b_full = self._model_value(model, b_x)
                if math.isfinite(b_val) and (b_val > g_val if self.sense == "max" else b_val < g_val):
                    g_x, g_val, g_full = b_x, b_val, b_full
            stats.update(local_search_s=time.perf_counter() - tl, local_search_objective=g_val)

        trivial = inst.A.shape[0] == 0 or m == 0
        outcome: MilpOutcome | None = None
        lag = None
        if lagrange and not trivial and g_x is not None and math.isfinite(g_val):
            lag = self._lagrange(inst, g_val)
            if lag is not None and lag.relaxed is not None and lag.relaxed.size:
                # Lagrangian rounding: the relaxed solution at the best multipliers, improved by local search
                tl = time.perf_counter()
                cols = self._improve(inst, lag.relaxed)
                if cols is not None:
                    r_x = np.zeros(m)
                    r_x[cols] = 1.0
                    r_val, r_full = self._model_value(model, r_x)
                    stats.update(lagrange_rounding_objective=r_val, lagrange_rounding_s=time.perf_counter() - tl)
                    if math.isfinite(r_val) and (r_val > g_val if self.sense == "max" else r_val < g_val):
                        g_x, g_val, g_full = r_x, r_val, r_full
                        lag = self._lagrange(inst, g_val, lag)  # fix again against the better incumbent
            if lag is not None:
                stats.update(lagrange_s=lag.seconds, lagrange_bound=lag.bound, lagrange_iterations=lag.iterations)
        closed = lag is not None and self._closed(g_val, lag.bound, inst)
        lp_known = None
        if lag is not None and not closed and solver != "greedy" and self._lp_rounding():
            # LP rounding: the interior-point LP gives a bound and, rounded + local search, often a better start
            tl = time.perf_counter()
            lpb, lpx = solve_lp_bound(model, time_limit_s=max(1.0, float(time_limit_s) / 3))
            if lpx is not None:
                lp_known = lpb
                cols = self._improve(inst, np.argsort(-lpx[:m], kind="stable")[: self.params["k"]])
                r_x = np.zeros(m)
                r_x[cols] = 1.0
                r_val, r_full = self._model_value(model, r_x)
                stats.update(lp_bound=lpb, lp_rounding_objective=r_val, lp_rounding_s=time.perf_counter() - tl)
                if math.isfinite(r_val) and (r_val > g_val if self.sense == "max" else r_val < g_val):
                    g_x, g_val, g_full = r_x, r_val, r_full
                    lag = self._lagrange(inst, g_val, lag)
                closed = self._closed(g_val, min(lag.bound, lpb) if self.sense == "max" else max(lag.bound, lpb), inst)
        if trivial:
            x = np.zeros(m)
            val = self._model_value(model, x)[0] if m else float(model.offset)
            outcome = MilpOutcome(x, val, val, OPTIMAL, 0.0, "trivial")
        elif solver == "greedy" or closed:
            tb = time.perf_counter()
            if lag is not None:
                bnd, src = lag.bound, "lagrange"
                if (
                    lp_known is not None
                    and math.isfinite(lp_known)
                    and (lp_known < bnd if self.sense == "max" else lp_known > bnd)
                ):
                    bnd, src = lp_known, "lp"
            else:
                bnd, src = self._lp_bound(model, inst, time_limit_s)[0], "lp"
            stats.update(bound_s=time.perf_counter() - tb, bound_source=src)
            status = "heuristic" if g_x is not None else NO_SOLUTION
            outcome = MilpOutcome(g_x, g_val, bnd, status, 0.0, "greedy" if solver == "greedy" else "greedy+lagrange")
        else:
            outcome = self._solve_milp(
                model,
                inst,
                lag,
                g_x,
                g_val,
                g_full,
                solver=solver,
                t0=t0,
                time_limit_s=time_limit_s,
                mip_rel_gap=mip_rel_gap,
                warm_start=warm_start,
                threads=threads,
                stats=stats,
                lp_known=lp_known,
            )

        if outcome.status == INFEASIBLE or outcome.x is None:
            seconds = time.perf_counter() - t0
            st = INFEASIBLE if outcome.status == INFEASIBLE else NO_SOLUTION
            return self._result((), math.nan, outcome.bound, math.inf, outcome.solver, st, seconds, inst, stats)
        x = outcome.x[: model.n_site]
        sel = np.concatenate([inst.fixed, inst.cols[x > 0.5]]).astype(np.int64)
        objective = outcome.objective + self._fixed_value(inst)
        if self.params.get("capacity") is None:
            check = self._evaluate(sel)
            if not math.isclose(check, objective, rel_tol=1e-6, abs_tol=1e-6):
                log.warning("siting: solver objective %s differs from evaluation %s", objective, check)
            objective = check
        bound = self._round_bound(outcome.bound + self._fixed_value(inst))
        if outcome.status == OPTIMAL:
            bound = objective if not math.isfinite(bound) else bound
        gap = relative_gap(objective, bound, self.sense)
        status = outcome.status
        if status in ("time_limit", "heuristic") and gap == 0.0:
            status = OPTIMAL  # the bound closes the gap: proven
        seconds = time.perf_counter() - t0
        sel_ids = self.matrix.site_ids[sel]
        return self._result(tuple(sel_ids), objective, bound, gap, outcome.solver, status, seconds, inst, stats)

    def _fixed_value(self, inst: ReducedInstance) -> float:
        return 0.0

    def _lp_bound(self, model: MilpModel, inst: ReducedInstance, time_limit_s: float) -> tuple[float, None]:
        """LP-relaxation bound (given at least 30 s), else the trivial bound, so every answer has one."""
        b, _ = solve_lp_bound(model, time_limit_s=max(float(time_limit_s), 30.0))
        if math.isfinite(b):
            return b, None
        if model.sense == "max":  # everything covered
            return float(inst.weight.sum()), None
        if model.kind == "cover":  # no new site beyond the forced ones
            return 0.0, None
        D = inst.D  # every group at its nearest candidate
        near = np.full(D.shape[0], np.inf)
        np.minimum.at(near, np.repeat(np.arange(D.shape[0]), np.diff(D.indptr)), D.data)
        return float((inst.weight * np.minimum(near, inst.fallback)).sum() + inst.constant), None

    def _result(self, sel_ids, objective, bound, gap, solver, status, seconds, inst, stats) -> SitingResult:
        m = self.matrix
        plan = self._plan(list(sel_ids))
        order = tuple(plan.index)
        sel = m.site_ids.get_indexer(list(sel_ids))
        covered = m.covered.copy()
        if len(sel):
            if self.params.get("capacity") is not None:
                covered = self._served(sel)
            else:
                covered |= np.asarray(m.cover[:, sel].sum(axis=1)).ravel() > 0
        return SitingResult(
            model=self.name,
            site_ids=order,
            objective=float(objective),
            bound=float(bound) if bound is not None else math.nan,
            gap=float(gap),
            solver=solver,
            status=status,
            seconds=float(seconds),
            plan=plan,
            covered_ids=tuple(m.compound_ids[covered]),
            unreachable_ids=tuple(m.compound_ids[inst.unreachable]),
            parameters={k: v for k, v in self.params.items() if k != "capacity"}
            | {"capacity": None if self.params.get("capacity") is None else "per-site"},
            stats=stats,
        )

    def _served(self, sel: np.ndarray) -> np.ndarray:
        """Capacitated: compounds fully served by sites ``sel`` under the best assignment (an LP)."""
        m = self.matrix
        cap = self.params["capacity"]
        full = reduce_instance(m, kind="max", capacity=cap, dominance=False, max_rounds=0)
        rows = np.flatnonzero(~m.covered & (m.weights > 0) & (np.diff(m.cover.indptr) > 0))
        x = np.zeros(m.shape[1])
        x[sel] = 1.0
        model = max_cover_model(full, k=None, budget=None).with_sites_fixed(x)
        lp = solve_highs(model, time_limit_s=60)
        served = m.covered.copy()
        if lp.x is not None and full.A.nnz:
            z = lp.x[model.n_site :]
            frac = np.bincount(
                np.repeat(np.arange(full.A.shape[0]), np.diff(full.A.indptr)), weights=z, minlength=full.A.shape[0]
            )
            served[rows[frac >= 1 - 1e-6]] = True
        return served


class MaxCoverage(_SitingModel):
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
            lag = LagrangeResult(
                previous.bound,
                lag.ones,
                lag.zeros,
                previous.iterations + lag.iterations,
                previous.seconds + lag.seconds,
                lag.multipliers,
                lag.relaxed,
            )
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


class CoverAll(_SitingModel):
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


class PMedian(_SitingModel):
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
        return reduce_instance(
            self.matrix,
            kind="median",
            unserved_m=self.params["unserved_m"],
            dominance=dominance,
            max_rounds=6 if dominance else 0,
        )

    def _milp(self, inst):
        return median_model(inst, k=self.params["k"])

    def _greedy(self, inst):
        return greedy_median(inst, k=self.params["k"])[0]

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
