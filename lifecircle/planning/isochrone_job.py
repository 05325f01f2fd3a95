"""Where the isochrone job used to live; it is :mod:`lifecircle.planning.jobs.isochrones` now.

:func:`run_isochrones` keeps its old call (file paths and keywords) and runs that job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from lifecircle.geo.reach.isochrones import DEFAULT_CATCHMENT_M, DEFAULT_MINUTES, IsochroneResult
from lifecircle.geo.walk import DEFAULT_SPEED_KMH

__all__ = ["run_isochrones"]


def run_isochrones(
    network_path: str | os.PathLike,
    services_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    read_kw: Mapping | None = None,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    category_column: str | None = None,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    rings: bool = False,
    workers: int | None = None,
) -> tuple[IsochroneResult, list[Path]]:
    """Isochrones of the services in a file, written to ``out_dir`` (see
    :func:`lifecircle.planning.jobs.isochrones.run_isochrones`)."""
    from lifecircle.planning.inputs import LayerSpec
    from lifecircle.planning.jobs.isochrones import run_isochrones as job
    from lifecircle.planning.options import IsochroneOptions
    from lifecircle.planning.study import Study

    study = Study(
        network=str(network_path),
        compounds=None,
        services=LayerSpec(Path(services_path), **{k: v for k, v in (read_kw or {}).items() if v is not None}),
        category_column=category_column,
        speed_kmh=speed_kmh,
        isochrones=IsochroneOptions(minutes=tuple(minutes), catchment_m=catchment_m, rings=rings, workers=workers),
        isochrones_dir=Path(out_dir),
    )
    return job(study)
