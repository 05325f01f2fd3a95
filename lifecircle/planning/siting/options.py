"""The options of a siting run: how many sites, which model, which candidates, weights, budget, solver."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lifecircle.errors import InputError
from lifecircle.planning.candidates import DEFAULT_SPACING_M
from lifecircle.planning.siting.solvers import SOLVERS

__all__ = ["CANDIDATE_SOURCES", "MODELS", "SitingOptions"]

MODELS = ("mclp", "lscp", "pmedian")
CANDIDATE_SOURCES = ("streets", "compounds")


def _positive_or_none(value: float | None, what: str) -> None:
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise InputError(f"{what} must be a positive number, got {value}.")


@dataclass(frozen=True)
class SitingOptions:
    """Where and how many new service points to plan (``lifecircle site``).

    Attributes
    ----------
    add
        Number of new sites (max-coverage, or p-median with ``model="pmedian"``).
    cover_all
        The fewest new sites that bring every reachable compound within the limit (set covering).
    model
        ``"mclp"`` (default with ``add``), ``"lscp"`` (``cover_all``) or ``"pmedian"``.
    candidate_spacing_m, candidates_from
        Generate street candidates this many metres apart, or take them from ``"streets"`` / ``"compounds"``
        (used when no candidate layer is given; default street points every 100 m).
    category
        Service category whose coverage is planned; None: any service (``all``).
    weight_column
        Compound households/population column (default: auto-detected, else each compound weighs 1).
    budget, cost_column
        Max-coverage with a total cost limit; costs from a column of the candidate layer (else 1 per site).
    capacity
        Weight (households...) one new site can serve.
    solver, time_limit_s
        ``highs`` (default), ``cbc``, ``scipy`` or ``greedy``, and the solver's time limit in seconds.
    include_unreachable
        Also plan for compounds nobody can walk to (off the network, or on an island of streets without any
        service, :mod:`lifecircle.planning.reachability`); by default they are no demand and listed apart.
    """

    add: int | None = None
    cover_all: bool = False
    model: str | None = None
    candidate_spacing_m: float | None = None
    candidates_from: str | None = None
    category: str | None = None
    weight_column: str | None = None
    budget: float | None = None
    cost_column: str | None = None
    capacity: float | None = None
    solver: str = "highs"
    time_limit_s: float = 60.0
    include_unreachable: bool = False

    @property
    def spacing_m(self) -> float:
        """Spacing of generated street candidates."""
        return DEFAULT_SPACING_M if self.candidate_spacing_m is None else float(self.candidate_spacing_m)

    def resolve_model(self, *, candidate_layer: bool) -> str:
        """Check the option combination (with or without a candidate layer); return mclp, lscp or pmedian."""
        self._check_values(candidate_layer=candidate_layer)
        if self.cover_all:
            if self.model not in (None, "lscp"):
                raise InputError(f"--cover-all is the lscp model, not {self.model}; drop --model or use --add K.")
            if self.budget is not None:
                raise InputError("--budget limits --add (max-coverage); --cover-all finds the fewest sites instead.")
            return "lscp"
        if self.add is None and self.budget is None:
            raise InputError("Say how many new sites to plan with --add K, or ask for --cover-all.")
        chosen = self.model or "mclp"
        if chosen == "lscp":
            raise InputError("The lscp model covers every compound: use --cover-all instead of --add.")
        if chosen == "pmedian":
            if self.add is None:
                raise InputError("The p-median model needs the number of sites (--add K).")
            if self.budget is not None or self.capacity is not None:
                raise InputError("The p-median model takes neither --budget nor --capacity.")
        return chosen

    def _check_values(self, *, candidate_layer: bool) -> None:
        add = self.add
        if add is not None and self.cover_all:
            raise InputError("Choose either --add K (the best K new sites) or --cover-all, not both.")
        if add is not None and (isinstance(add, bool) or int(add) != add or add < 1):
            raise InputError(f"The number of sites to add (--add) must be a whole number of at least 1, got {add}.")
        if self.model is not None and self.model not in MODELS:
            raise InputError(f"Unknown siting model {self.model!r}; use one of {', '.join(MODELS)}.")
        if self.solver not in SOLVERS:
            raise InputError(f"Unknown solver {self.solver!r}; use one of {', '.join(SOLVERS)}.")
        if not (self.time_limit_s > 0 and math.isfinite(self.time_limit_s)):
            raise InputError(f"The solver time limit must be a positive number of seconds, got {self.time_limit_s}.")
        _positive_or_none(self.budget, "The budget")
        _positive_or_none(self.capacity, "The site capacity")
        sources = sum((candidate_layer, self.candidate_spacing_m is not None, self.candidates_from is not None))
        if sources > 1:
            raise InputError(
                "Give one source of candidates: --candidates FILE, --candidate-spacing-m M or --candidates-from."
            )
        if self.candidates_from is not None and self.candidates_from not in CANDIDATE_SOURCES:
            raise InputError(
                f"Unknown candidate source {self.candidates_from!r}; use one of {', '.join(CANDIDATE_SOURCES)}."
            )
        if self.cost_column is not None and not candidate_layer:
            raise InputError("--cost-column needs a candidate layer (--candidates) that holds the costs.")
