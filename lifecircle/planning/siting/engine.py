"""The solving engine shared by the siting models: reduce, heuristic incumbent, Lagrangian and LP bounds with
rounding, MILP on what fixing leaves, and the result in the original sites' terms.

A model (:mod:`lifecircle.planning.siting.models`) says how to reduce, formulate, start and bound itself through a
few hooks; :meth:`SitingModel.solve` runs the same pipeline for all of them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from lifecircle.errors import InputError
from lifecircle.planning.siting.answer import lp_bound, run_backend, siting_result
from lifecircle.planning.siting.formulation import MilpModel
from lifecircle.planning.siting.lagrange import Fixing, LagrangeResult, fix_instance
from lifecircle.planning.siting.matrix import CoverageMatrix, build_coverage_matrix
from lifecircle.planning.siting.plan import ranked_plan
from lifecircle.planning.siting.reduce import ReducedInstance
from lifecircle.planning.siting.result import SitingResult
from lifecircle.planning.siting.solvers import (
    INFEASIBLE,
    NO_SOLUTION,
    OPTIMAL,
    SOLVERS,
    MilpOutcome,
    relative_gap,
    solve_highs,
    solve_lp_bound,
)

log = logging.getLogger(__name__)

__all__ = ["SitingModel", "model_value"]


def model_value(model: MilpModel, x: np.ndarray) -> tuple[float, np.ndarray | None]:
    """Objective (model space) of site vector ``x`` and a full start vector when one can be built."""
    full = model.full_start(x)
    if full is not None:
        return float(model.c @ full + model.offset), full
    lp = solve_highs(model.with_sites_fixed(x), time_limit_s=60)
    if lp.status != OPTIMAL:
        return math.nan, None
    return lp.objective, lp.x


class _Incumbent:
    """The best answer so far: site vector over the reduced columns, its objective (model space), full start."""

    def __init__(self, model: MilpModel, m: int, sense: str):
        self.model, self.m, self.sense = model, m, sense
        self.x: np.ndarray | None = None
        self.value = math.nan
        self.full: np.ndarray | None = None

    def _vector(self, cols) -> np.ndarray:
        x = np.zeros(self.m)
        x[cols] = 1.0
        return x

    def take(self, cols) -> None:
        """Make the sites ``cols`` the incumbent."""
        self.x = self._vector(cols)
        self.value, self.full = model_value(self.model, self.x)

    def offer(self, cols) -> tuple[bool, float]:
        """Keep the sites ``cols`` when strictly better; whether they were, and their objective."""
        x = self._vector(cols)
        value, full = model_value(self.model, x)
        if math.isfinite(value) and (value > self.value if self.sense == "max" else value < self.value):
            self.x, self.value, self.full = x, value, full
            return True, value
        return False, value


class SitingModel:
    """Shared build/solve machinery; subclasses define the model-specific hooks."""

    name = ""
    kind = ""
    sense = "max"
    from_matrix: ClassVar[Callable[..., SitingModel]]  # each model's classmethod: its own parameters, checked

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
        return model_value(model, x)

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

    def _fix(self, inst: ReducedInstance, lag: LagrangeResult) -> Fixing:
        """The instance left after the Lagrangian fixings (columns opened and closed)."""
        return fix_instance(inst, lag.ones, lag.zeros, kind=self.kind)

    def _sub_milp(self, sub: ReducedInstance, n_open: int) -> MilpModel:
        """The MILP of an instance left after Lagrangian fixing with ``n_open`` sites already opened."""
        raise NotImplementedError

    def _solve_milp(
        self,
        model,
        inst,
        lag,
        best: _Incumbent,
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
        remaining = max(1.0, float(time_limit_s) - (time.perf_counter() - t0))
        backend = {"solver": solver, "mip_rel_gap": mip_rel_gap, "threads": threads, "warm_start": warm_start}
        fix = None
        if lag is not None and (lag.ones.size or lag.zeros.size):
            fix = self._fix(inst, lag)
            stats.update(
                {k: v for k, v in fix.sub.stats.items() if k.startswith(("lagrange_", "groups_after", "columns_after"))}
            )
        if fix is not None and (
            fix.infeasible
            or fix.sub.A.shape[0] == 0
            or fix.sub.A.shape[1] == 0
            or (self.kind in ("max", "median") and self.params["k"] - fix.ones.size <= 0)
        ):
            # no strictly better solution respects the fixings: the incumbent is optimal
            stats.update(solve_s=0.0, bound_source="lagrange fixing")
            return MilpOutcome(best.x, best.value, best.value, OPTIMAL, 0.0, "greedy+lagrange")
        if fix is not None:
            outcome = self._fixed_milp(fix, inst, best, remaining=remaining, **backend)
        else:
            start = best.full if (warm_start and best.full is not None) else None
            outcome = run_backend(
                model,
                solver=solver,
                time_limit_s=remaining,
                mip_rel_gap=mip_rel_gap,
                start=start,
                start_sites=best.x if warm_start else None,
                threads=threads,
            )
        stats.update(solve_s=outcome.seconds)
        return self._with_bounds(outcome, model, inst, lag, best, remaining=remaining, lp_known=lp_known, stats=stats)

    def _fixed_milp(self, fix, inst, best: _Incumbent, *, remaining, solver, mip_rel_gap, threads, warm_start):
        """The MILP of the instance left after fixing, lifted back (every better solution respects the fixings)."""
        sub_model = self._sub_milp(fix.sub, fix.ones.size)
        maxi = sub_model.sense == "max"
        x_sub = None if best.x is None else best.x[fix.free]
        start = sub_model.full_start(x_sub) if (warm_start and x_sub is not None) else None
        sub = run_backend(
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
            x = fix.lift(sub.x, inst.A.shape[1])
            obj = sub.objective + fix.constant
        sub_bound = sub.bound + fix.constant if math.isfinite(sub.bound) else (math.inf if maxi else -math.inf)
        bound = max(best.value, sub_bound) if maxi else min(best.value, sub_bound)
        return MilpOutcome(x, obj, bound, sub.status, sub.seconds, sub.solver)

    def _with_bounds(self, outcome, model, inst, lag, best: _Incumbent, *, remaining, lp_known, stats) -> MilpOutcome:
        """The solver's outcome with the best bound known (MILP, Lagrangian, LP), keeping a better heuristic answer."""
        maxi = model.sense == "max"
        src = "milp"
        bound = outcome.bound
        if lag is not None and (not math.isfinite(bound) or (lag.bound < bound if maxi else lag.bound > bound)):
            bound, src = lag.bound, "lagrange"
        if outcome.status not in (OPTIMAL, INFEASIBLE) and (lag is None or lp_known is not None):
            # the solver may stop before its root LP: the interior-point LP bound can be tighter. Not computed
            # past the time limit when a Lagrangian bound exists (the LP's value in theory, and an LP the MILP
            # could not solve in time would run at least 30 s more for a trivial fallback)
            tb = time.perf_counter()
            lpb = lp_known if lp_known is not None else lp_bound(model, inst, remaining)
            stats.update(bound_s=time.perf_counter() - tb, lp_bound=lpb)
            if math.isfinite(lpb) and (not math.isfinite(bound) or (lpb < bound if maxi else lpb > bound)):
                bound, src = lpb, "lp"
        stats.update(bound_source=src)
        x, obj, status, name = outcome.x, outcome.objective, outcome.status, outcome.solver
        # keep the heuristic answer if the solver found nothing better
        if status != INFEASIBLE and best.x is not None and math.isfinite(best.value):
            if (not math.isfinite(obj)) or (best.value > obj + 1e-9 if maxi else best.value < obj - 1e-9):
                x, obj, name = best.x, best.value, name + "+greedy"
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
        stats = dict(inst.stats)
        stats.update(reduce_s=t_reduce, build_s=time.perf_counter() - t0 - t_reduce)
        best = _Incumbent(model, inst.A.shape[1], self.sense)
        self._heuristic(inst, best, stats)
        trivial = inst.A.shape[0] == 0 or best.m == 0
        lag = None
        if lagrange and not trivial and best.x is not None and math.isfinite(best.value):
            lag = self._lagrange_rounding(inst, best, stats)
        closed = lag is not None and self._closed(best.value, lag.bound, inst)
        lp_known = None
        if lag is not None and not closed and solver != "greedy" and self._lp_rounding():
            lag, lp_known, closed = self._lp_round(model, inst, best, lag, time_limit_s, stats, closed)
        if trivial:
            x = np.zeros(best.m)
            val = self._model_value(model, x)[0] if best.m else float(model.offset)
            outcome = MilpOutcome(x, val, val, OPTIMAL, 0.0, "trivial")
        elif solver == "greedy" or closed:
            outcome = self._heuristic_outcome(model, inst, best, lag, lp_known, solver, time_limit_s, stats)
        else:
            outcome = self._solve_milp(
                model,
                inst,
                lag,
                best,
                solver=solver,
                t0=t0,
                time_limit_s=time_limit_s,
                mip_rel_gap=mip_rel_gap,
                warm_start=warm_start,
                threads=threads,
                stats=stats,
                lp_known=lp_known,
            )
        return self._finish(outcome, model, inst, stats, t0)

    def _heuristic(self, inst: ReducedInstance, best: _Incumbent, stats: dict) -> None:
        """The incumbent: greedy, then local search where the model has one."""
        tg = time.perf_counter()
        g_cols = self._greedy(inst)
        if g_cols is not None:
            best.take(g_cols)
        stats.update(greedy_s=time.perf_counter() - tg, greedy_objective=best.value)
        if g_cols is not None and best.m and inst.A.shape[0]:
            tl = time.perf_counter()
            better = self._improve(inst, g_cols)
            if better is not None:
                best.offer(better)
            stats.update(local_search_s=time.perf_counter() - tl, local_search_objective=best.value)

    def _lagrange_rounding(self, inst: ReducedInstance, best: _Incumbent, stats: dict) -> LagrangeResult | None:
        """The Lagrangian bound; its relaxed solution, improved by local search, may give a better incumbent."""
        lag = self._lagrange(inst, best.value)
        if lag is not None and lag.relaxed is not None and lag.relaxed.size:
            tl = time.perf_counter()
            cols = self._improve(inst, lag.relaxed)
            if cols is not None:
                improved, r_val = best.offer(cols)
                stats.update(lagrange_rounding_objective=r_val, lagrange_rounding_s=time.perf_counter() - tl)
                if improved:
                    lag = self._lagrange(inst, best.value, lag)  # fix again against the better incumbent
        if lag is not None:
            stats.update(lagrange_s=lag.seconds, lagrange_bound=lag.bound, lagrange_iterations=lag.iterations)
        return lag

    def _lp_round(self, model, inst, best: _Incumbent, lag, time_limit_s, stats, closed):
        """LP rounding: the interior-point LP gives a bound and, rounded + local search, often a better start."""
        tl = time.perf_counter()
        lp_known = None
        lpb, lpx = solve_lp_bound(model, time_limit_s=max(1.0, float(time_limit_s) / 3))
        if lpx is not None:
            lp_known = lpb
            cols = self._improve(inst, np.argsort(-lpx[: best.m], kind="stable")[: self.params["k"]])
            improved, r_val = best.offer(cols)
            stats.update(lp_bound=lpb, lp_rounding_objective=r_val, lp_rounding_s=time.perf_counter() - tl)
            if improved:
                lag = self._lagrange(inst, best.value, lag)
            closed = self._closed(best.value, min(lag.bound, lpb) if self.sense == "max" else max(lag.bound, lpb), inst)
        return lag, lp_known, closed

    def _heuristic_outcome(self, model, inst, best: _Incumbent, lag, lp_known, solver, time_limit_s, stats):
        """The incumbent as the answer, with the best bound known (greedy solver, or a bound that closes)."""
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
            bnd, src = lp_bound(model, inst, time_limit_s), "lp"
        stats.update(bound_s=time.perf_counter() - tb, bound_source=src)
        status = "heuristic" if best.x is not None else NO_SOLUTION
        return MilpOutcome(best.x, best.value, bnd, status, 0.0, "greedy" if solver == "greedy" else "greedy+lagrange")

    def _finish(self, outcome: MilpOutcome, model, inst: ReducedInstance, stats: dict, t0: float) -> SitingResult:
        """The result in the original sites' terms: selection, evaluated objective, rounded bound, gap, status."""
        if outcome.status == INFEASIBLE or outcome.x is None:
            seconds = time.perf_counter() - t0
            st = INFEASIBLE if outcome.status == INFEASIBLE else NO_SOLUTION
            return siting_result(self, (), math.nan, outcome.bound, math.inf, outcome.solver, st, seconds, inst, stats)
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
        return siting_result(self, tuple(sel_ids), objective, bound, gap, outcome.solver, status, seconds, inst, stats)

    def _fixed_value(self, inst: ReducedInstance) -> float:
        return 0.0
