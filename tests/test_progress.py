"""Progress output: a bar on a terminal, whole lines when piped (never a bar running into the summary)."""

import io

from lifecircle.planning import progress
from lifecircle.planning.progress import Steps


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_piped_progress_is_whole_lines(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", err)
    monkeypatch.setattr(progress, "MIN_SECONDS", 0.0)
    with Steps(["read layers", "analyse"], enabled=True) as steps:
        steps.next()
        steps.next()
    text = err.getvalue()
    assert "\r" not in text
    assert text.splitlines() == ["lifecircle: [1/2] read layers done", "lifecircle: [2/2] analyse done"]
    assert text.endswith("\n")


def test_terminal_progress_is_a_bar_that_clears(monkeypatch):
    err = _Tty()
    monkeypatch.setattr(progress.sys, "stderr", err)
    monkeypatch.setattr(progress, "MIN_SECONDS", 0.0)
    with Steps(["read layers", "analyse"], enabled=True) as steps:
        steps.next()
        steps.next()
    assert "\r" in err.getvalue() and "[1/2]" not in err.getvalue()


def test_disabled_progress_is_silent(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", err)
    with Steps(["a"], enabled=False) as steps:
        steps.next()
    assert err.getvalue() == ""
