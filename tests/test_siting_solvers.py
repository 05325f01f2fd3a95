"""The MILP back ends agree with each other and report status and bound honestly."""

import sys
from pathlib import Path

import pytest
from siting_cases import random_instance

from lifecircle.planning.siting import CoverAll, MaxCoverage, PMedian

pulp = pytest.importorskip("pulp")


@pytest.mark.parametrize("seed", range(4))
def test_cbc_and_scipy_agree_with_highs(seed):
    mat, _ = random_instance(seed, n=40, m=12, limit_m=300, existing=True)
    for make in (
        lambda: MaxCoverage.from_matrix(mat, k=3),
        lambda: CoverAll.from_matrix(mat),
        lambda: PMedian.from_matrix(mat, k=3),
        lambda: MaxCoverage.from_matrix(mat, k=2, capacity=60),
    ):
        h = make().solve(solver="highs", reduce=False, lagrange=False)
        for solver in ("cbc", "scipy"):
            o = make().solve(solver=solver, warm_start=(seed % 2 == 0), reduce=False, lagrange=False)
            assert o.status == "optimal", solver
            assert o.objective == pytest.approx(h.objective), solver
            assert o.solver.startswith(solver)


@pytest.mark.slow
def test_stopped_solvers_are_not_called_optimal():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_siting import synthetic_matrix

    mat = synthetic_matrix(1200, 500, seed=5)
    for solver in ("cbc", "highs", "scipy"):
        res = CoverAll.from_matrix(mat).solve(solver=solver, time_limit_s=0.5, warm_start=False, lagrange=False)
        assert res.status in ("optimal", "time_limit")
        assert res.bound <= res.objective + 1e-9
        if res.status == "optimal":
            assert res.gap == 0
        else:
            assert res.gap > 0
