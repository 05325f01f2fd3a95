"""The jobs: each turns one command (or one step of a study) into files, over one inputs module.

=============  =========================================  ==============================================
job            command                                     module
=============  =========================================  ==============================================
analysis       ``lifecircle analyze``, ``demo``            :mod:`lifecircle.planning.jobs.analyze`
siting         ``lifecircle site``                         :mod:`lifecircle.planning.jobs.site`
isochrones     ``lifecircle isochrones``                   :mod:`lifecircle.planning.jobs.isochrones`
publishing     ``lifecircle publish``                      :mod:`lifecircle.planning.jobs.publish`
report         ``lifecircle report``                       :mod:`lifecircle.planning.jobs.report`
=============  =========================================  ==============================================

Every job reads its inputs and options from a :class:`~lifecircle.planning.study.Study` (a study file, or the
command-line flags) and never imports another job; :func:`run_study` runs the steps a study lists, in order.
The library functions they call (coverage, :func:`~lifecircle.planning.siting.plan_sites`, isochrones, the map)
know nothing of files or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lifecircle.planning.analysis import Analysis
from lifecircle.planning.study import Study

__all__ = ["StudyResult", "run_study"]


@dataclass(frozen=True, eq=False)
class StudyResult:
    """What a study run produced.

    Attributes
    ----------
    study
        The study as run (with overrides).
    analysis
        The full :class:`~lifecircle.planning.analysis.Analysis` (None when the study did not analyse).
    out_dir
        Where the analysis was written (None when not written).
    site_plan, isochrones
        The siting plan and the isochrones, when the study ran those steps.
    site_index
        The published site's index page, when the study published.
    """

    study: Study
    analysis: Analysis | None
    out_dir: Path | None
    site_plan: object = None
    isochrones: object = None
    site_index: Path | None = None

    @property
    def compounds(self) -> gpd.GeoDataFrame:
        """Per compound: status, branch, walks and coverage per category, standard compliance (WGS84)."""
        return self.analysis.compounds

    @property
    def services(self) -> gpd.GeoDataFrame:
        """Services with their grouped ``category``, ``ledger_category`` and compounds served."""
        return self.analysis.services

    @property
    def coverage(self) -> pd.DataFrame:
        """The long coverage table (one row per compound and category)."""
        return self.analysis.coverage.table

    @property
    def rollups(self) -> dict[str, pd.DataFrame]:
        """Per street / community / grid tables."""
        return self.analysis.rollups

    @property
    def summary(self) -> dict:
        """The JSON-ready summary of the analysis."""
        return self.analysis.summary


def run_study(study: Study, *, write: bool = True, progress: bool = False) -> StudyResult:
    """Run the steps of a study (``study.steps``: analysis, siting, isochrones, publishing), in that order.

    Parameters
    ----------
    study
        From :func:`~lifecircle.planning.study.load_study` (optionally :meth:`Study.with_overrides`).
    write
        Write the analysis into ``study.out_dir``; with ``write=False`` only the analysis runs (for notebooks).
    progress
        Show a progress bar on stderr for steps longer than a second.

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before the step that meets it writes anything.
    """
    from lifecircle.planning.jobs.analyze import run_analysis

    analysis = out_dir = site_plan = iso = index = None
    if "analysis" in study.steps or not write:
        run = run_analysis(study, write=write, progress=progress)
        analysis, out_dir = run.analysis, run.out_dir
    if not write:
        return StudyResult(study=study, analysis=analysis, out_dir=None)
    folders = [] if out_dir is None else [out_dir]
    if "siting" in study.steps:
        from lifecircle.planning.jobs.site import run_site

        site_plan = run_site(study, progress=progress)
        folders.append(study.site_dir)
    if "isochrones" in study.steps:
        from lifecircle.planning.jobs.isochrones import run_isochrones

        iso, _ = run_isochrones(study, progress=progress)
        folders.append(study.isochrones_dir)
    if "publishing" in study.steps:
        from lifecircle.planning.jobs.publish import run_publish

        index = run_publish(folders, study.publish_dir, options=study.publish)
    return StudyResult(
        study=study, analysis=analysis, out_dir=out_dir, site_plan=site_plan, isochrones=iso, site_index=index
    )
