"""Work started in a forked child: its result, its errors, and a child that dies."""

from __future__ import annotations

import os
from functools import partial

import pytest

from lifecircle.errors import InputError
from lifecircle.geo.cores import machine_cores
from lifecircle.planning.forked import start_in_child

needs_fork = pytest.mark.skipif(
    machine_cores() < 2 or not hasattr(os, "fork"), reason="work goes to a child only with fork and two cores"
)


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _bad_input(name: str) -> None:
    raise InputError(f"{name} has no compounds")


def _die_in_child(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)  # killed without an answer
    return "done here"


@needs_fork
def test_result_comes_from_a_child():
    pid, square = start_in_child(partial(_pid_and_square, 7))()
    assert square == 49
    assert pid != os.getpid()


@needs_fork
def test_an_error_in_the_child_is_raised_here():
    result = start_in_child(partial(_bad_input, "ledger.xlsx"))
    with pytest.raises(InputError, match=r"ledger\.xlsx has no compounds"):
        result()


@needs_fork
def test_a_child_that_dies_leaves_the_work_to_this_process():
    assert start_in_child(partial(_die_in_child, os.getpid()))() == "done here"
