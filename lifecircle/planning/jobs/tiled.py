"""The analysis job in tiles on Dask (``lifecircle analyze --scheduler local|tcp://HOST:PORT --tile-km K``).

The coverage is computed tile by tile (:func:`lifecircle.planning.distributed.dask_coverage`) and the same
analysis folder is written as by the single-process job (:func:`~lifecircle.planning.jobs.analyze.run_analysis`):
coverage, compounds, services, summary, roll-ups, compliance, opening hours, adequacy, map and report. No whole
network is ever built, so what needs one is left out, with a note in ``summary.json`` (``tiled``):

- served areas (map layers and ``area_share``), the map's street layer and the GCJ-02 shift check of the layers;
- beyond the walking limit no walk is known: such rows have ``reach = beyond_search_radius`` and no walk.

Options that need the whole network (gates, compound roads, open blocks, walker profiles, merged road lines,
buildings) are refused before any work, as is a network that is not an OSM extract file.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from lifecircle import folder
from lifecircle.errors import InputError
from lifecircle.planning.adequacy import with_adequacy
from lifecircle.planning.analysis import analyze
from lifecircle.planning.distributed import close, connect, dask_coverage, require_dask
from lifecircle.planning.hours import service_hours, services_at, with_hours
from lifecircle.planning.jobs._shared import read_study_layers, study_standard, study_walk
from lifecircle.planning.progress import Steps
from lifecircle.planning.study import Study

log = logging.getLogger(__name__)

__all__ = ["LEFT_OUT", "run_tiled_analysis"]

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2")
LEFT_OUT = ("served_area", "street_layer", "coordinate_checks", "walks_beyond_limit")


def run_tiled_analysis(study: Study, *, write: bool = True, progress: bool = False, graph: object = None):
    """Read the study's layers, compute coverage in tiles on its Dask scheduler, analyse and write the folder.

    Returns
    -------
    lifecircle.planning.jobs.analyze.AnalysisRun

    Raises
    ------
    lifecircle.errors.InputError
        Dask is not installed, the scheduler does not answer, the network is not an OSM extract file, or an
        option needs the whole network; all before anything is written.
    """
    from lifecircle.planning.jobs.analyze import AnalysisRun, _extra_summary, _inputs, write_analysis

    require_dask()
    if graph is not None:
        raise InputError("A tiled run (--scheduler) reads an OSM extract file, not a graph given in Python.")
    refuse_whole_network_options(study)
    map_options = study.map_options()
    level = study_standard(study)
    walk = study_walk(study, level)
    steps = Steps(["connect to Dask", "read layers", "tiles", "write outputs"], enabled=progress)
    with steps:
        client = connect(str(study.dask.scheduler))
        try:
            steps.next()
            layers = read_study_layers(study, job="the analysis")
            steps.next()
            hours = service_hours(layers.services, study.hours)
            moment = services_at(layers.services, hours, study.hours.at) if hours and study.hours.at else None
            services = layers.services if moment is None else moment.counted
            tiles = _TileProgress(enabled=progress)
            with tempfile.TemporaryDirectory(prefix="lifecircle-cells-") as work_dir:
                result = dask_coverage(
                    study.network,
                    layers.compounds,
                    services,
                    walk=walk,
                    max_snap_m=study.max_snap_m,
                    tile_km=study.dask.tile_km,
                    scheduler=client,
                    work_dir=work_dir,
                    on_tile=tiles,
                )
            tiles.close()
        finally:
            close(client)
        analysis = analyze(
            None,
            layers.compounds,
            services,
            branches=layers.branches,
            category_column="category",
            walk=walk,
            max_snap_m=study.max_snap_m,
            branch_column=study.branch_column,
            standard=level,
            standard_categories=study.standard_facilities,
            governance=dict(study.governance) or None,
            check_shift=False,
            coverage=result,
        )
        analysis, tables = with_hours(analysis, layers.services, hours, moment)
        if study.adequacy.method is not None:
            analysis, ratios = with_adequacy(analysis, study.adequacy)
            tables = {**tables, Path(folder.ADEQUACY.name).stem: ratios}
        steps.next()
        written = None
        if write:
            extra = _extra_summary(study, layers, {})
            extra["tiled"] = tiled_summary(study, result.params["tiles"])
            written = write_analysis(
                analysis,
                study.out_dir,
                inputs=_inputs(study, None),
                map_options=map_options,
                output_coord_system=study.output_coord_system,
                report=study.report,
                write_map=study.map,
                extra_summary=extra,
                extra_tables=tables,
                study_area=layers.study_area,
            )
        steps.next()
    return AnalysisRun(analysis=analysis, out_dir=written)


def tiled_summary(study: Study, n_tiles: int) -> dict:
    """The ``tiled`` entry of ``summary.json``: scheduler, tile size, tiles run and what a tiled run leaves out."""
    if study.served_area:
        log.warning("Served areas are not drawn in a tiled run (--scheduler); run in one process for them.")
    return {
        "scheduler": study.dask.scheduler if study.dask.scheduler == "local" else "tcp",
        "tile_km": study.dask.tile_km,
        "tiles": n_tiles,
        "left_out": list(LEFT_OUT),
    }


def refuse_whole_network_options(study: Study) -> None:
    """Refuse, in one line, what a tiled run cannot do (it never builds the whole network).

    Raises
    ------
    InputError
        The network is not an OSM extract file, or gates, compound roads, open blocks, walker profiles, merged
        road lines or buildings are asked for.
    """
    network = str(study.network)
    if not network.lower().endswith(OSM_SUFFIXES) or not Path(network).is_file():
        raise InputError(
            f"--scheduler needs an OSM extract file as the network (.osm.pbf, .osm, .osm.bz2), not {network}."
        )
    walking = study.walking
    asked = {
        "--gates": study.gates is not None,
        "--compound-roads": walking.compound_roads,
        "--open-blocks": walking.open_blocks,
        "--gates-from-osm": walking.gates_from_osm,
        "--profiles": bool(walking.profiles),
        "--merge-lines": walking.merge_lines is not None,
        "--buildings": study.buildings is not None or bool(getattr(study, "buildings_from_osm", False)),
    }
    refused = [flag for flag, on in asked.items() if on]
    if refused:
        raise InputError(
            f"{', '.join(refused)} need the whole network and cannot run in tiles: leave out --scheduler or them."
        )


class _TileProgress:
    """Each finished tile as one step of a progress bar (created when the number of tiles is known)."""

    def __init__(self, *, enabled: bool):
        self.enabled = enabled
        self.steps: Steps | None = None

    def __call__(self, result, done: int, total: int) -> None:
        if self.steps is None:
            self.steps = Steps(["tile"] * total, enabled=self.enabled).__enter__()
        self.steps.next()

    def close(self) -> None:
        if self.steps is not None:
            self.steps.__exit__(None, None, None)
