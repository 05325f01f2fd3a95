"""Where the benchmarks find their real data: ``../shared/data`` beside the repository, or $LIFECIRCLE_SHARED_DATA."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LIFECIRCLE_SHARED_DATA", REPO.parent / "shared" / "data"))
PHOENIX = SHARED_DATA / "osm" / "phoenix_az303_bench.osm.pbf"


def require(path: Path) -> Path:
    """The path, or exit with the reason when the shared data is absent."""
    if not path.exists():
        sys.exit(f"benchmark input {path} not found (../shared/data beside the repository, or $LIFECIRCLE_SHARED_DATA)")
    return path
