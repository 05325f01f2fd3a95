"""Siting new service points: coverage matrix, exact reductions, models, solvers, a ranked plan, and
:func:`plan_sites`, which plans new sites on a walking network with existing services fixed.

>>> from lifecircle.planning.siting import CoverageMatrix, MaxCoverage
>>> m = CoverageMatrix.from_pairs(["a", "b"], ["s1", "s2"], [0, 1], [0, 1])
>>> MaxCoverage.from_matrix(m, k=1).solve().objective
1.0
"""

from lifecircle.planning.siting.matrix import CoverageMatrix, build_coverage_matrix
from lifecircle.planning.siting.models import CoverAll, MaxCoverage, PMedian
from lifecircle.planning.siting.plan import critical_services, ranked_plan
from lifecircle.planning.siting.planner import SitePlan, plan_sites
from lifecircle.planning.siting.result import SitingResult

__all__ = [
    "CoverAll",
    "CoverageMatrix",
    "MaxCoverage",
    "PMedian",
    "SitePlan",
    "SitingResult",
    "build_coverage_matrix",
    "critical_services",
    "plan_sites",
    "ranked_plan",
]
