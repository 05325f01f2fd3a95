"""Screenshot the Chinese demo's map in a real Chromium with the network blocked (for README's quick start).

Run from the repository root::

    .venv/bin/python scripts/screenshot_demo_map.py            # writes docs/demo_map_zh.png

It runs ``lifecircle demo`` into a temporary folder, opens its ``map.html`` in Debian's ``/usr/bin/chromium`` driven by
Playwright, aborts every request that is not a local file (so what shows is what an office sees with no internet),
and saves a PNG. It fails when the page raises a script error or shows no compound.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1100, "height": 720}


def run_demo(out: Path) -> Path:
    """Run the Chinese demo (offline map where the CLI has that switch) and return its map."""
    from lifecircle.planning.cli import build_parser, main

    offline = ["--offline"]
    try:  # maps that load Leaflet online by default take --offline; offline-by-default ones need nothing
        with contextlib.redirect_stderr(io.StringIO()):
            build_parser().parse_args(["demo", *offline])
    except SystemExit:
        offline = []
    code = main(["-q", "demo", "--out", str(out), *offline])
    if code != 0:
        raise SystemExit(f"lifecircle demo failed with exit code {code}")
    return out / "map.html"


def screenshot(page_path: Path, png: Path, *, settle_ms: int) -> list[str]:
    """Open the page with the network blocked, save a PNG; return the URLs that were blocked."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", route)
        page.goto(page_path.as_uri())
        page.wait_for_selector(".leaflet-container path", timeout=15000)
        page.wait_for_timeout(settle_ms)
        shown = page.locator(".leaflet-overlay-pane path").count()
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
        browser.close()
    if errors:
        raise SystemExit(f"the map raised script errors: {errors}")
    if shown == 0:
        raise SystemExit("the map shows no compound")
    return blocked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "demo_map_zh.png", help="where to save the PNG")
    parser.add_argument("--settle-ms", type=int, default=800, help="wait after the map appears (labels, fonts)")
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        raise SystemExit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = run_demo(Path(tmp) / "demo")
        blocked = screenshot(page, args.png, settle_ms=args.settle_ms)
    print(f"saved {args.png} ({args.png.stat().st_size / 1024:.0f} KB); blocked requests: {len(blocked)}")
    for url in blocked[:5]:
        print(f"  blocked {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
