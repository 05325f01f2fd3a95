"""Real headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (never
``playwright install``). Screenshots go to tests/_artifacts/ for review."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium():
    """Playwright's sync API; skips the calling module when Chromium or the playwright package is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(
            "no Chromium at /usr/bin/chromium (apt-get install chromium); .ci/run installs it", allow_module_level=True
        )
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
