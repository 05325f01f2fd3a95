"""What every job does first from a study: read its layers, resolve its walk, load its network (not a job)."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from lifecircle.geo.walk import Walk
from lifecircle.planning.inputs import (
    JobLayers,
    check_threshold_categories,
    read_layers,
    use_weight_columns,
)
from lifecircle.planning.network_store import LoadedNetwork, open_network
from lifecircle.planning.standards import Standard, load_standard
from lifecircle.planning.study import Study

__all__ = ["read_study_layers", "study_network", "study_standard", "study_walk"]


def study_standard(study: Study) -> Standard | None:
    """The study's planning standard level, when it names one."""
    return load_standard(study.standard) if study.standard else None


def study_walk(study: Study, standard: Standard | None = None) -> Walk:
    """The study's walk; a standard's distance is the limit when no threshold is set."""
    return study.walk(standard_m=None if standard is None else standard.walk_m)


def read_study_layers(study: Study, *, job: str, compounds: bool = True) -> JobLayers:
    """The study's layers, read and checked: categories grouped, weight columns taken, thresholds checked.

    ``compounds=False`` reads the services alone (isochrones).
    """
    spec = study.require_compounds(job) if compounds else None
    layers = read_layers(
        spec,
        study.services,
        category_column=study.category_column,
        branches=study.branches if compounds else None,
        gates=study.gates if compounds else None,
        study_area=study.study_area if compounds else None,
        categories=study.categories,
    )
    check_threshold_categories(
        layers.services,
        {"thresholds": study.category_max_walk_min, "thresholds_m": study.category_max_walk_m},
        source=study.source,
    )
    if layers.compounds is None:
        return layers
    weighted = use_weight_columns(
        layers.compounds, households_column=study.households_column, population_column=study.population_column
    )
    return replace(layers, compounds=weighted)


def study_network(study: Study, layers: JobLayers, *, graph: nx.MultiDiGraph | None = None) -> LoadedNetwork:
    """The study's walking network (``graph`` when given in Python), from the network cache unless
    ``study.network_cache`` is off; parsed only when first needed."""
    walking = study.walking
    return open_network(
        study.network if graph is None else graph,
        layers=tuple(g for g in (layers.compounds, layers.services) if g is not None),
        include_private=walking.needs_private_roads,
        merge_lines=walking.merge_lines,
        level_column=walking.level_column,
        use_cache=study.network_cache,
    )
