"""The ``lifecircle analyze`` job: read the inputs, run the analysis, write every output together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx

from lifecircle.geo.layers import read_branches, read_compounds, read_gates, read_services
from lifecircle.geo.network import load_network
from lifecircle.maps import coverage_map, save_map
from lifecircle.planning.analysis import Analysis, analyze
from lifecircle.planning.outputs import input_hashes, staged_directory, write_csv, write_gpkg, write_json

log = logging.getLogger(__name__)

OUTPUT_FILES = ("coverage.csv", "compounds.gpkg", "services.gpkg", "summary.json", "map.html")


@dataclass(frozen=True)
class LayerSpec:
    """How to read one input file: path plus the optional column, CRS, coordinate-system and encoding overrides."""

    path: Path
    id_column: str | None = None
    name_column: str | None = None
    crs: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    encoding: str | None = None
    layer: str | None = None
    coord_system: str | None = None
    sheet: str | int | None = None
    on_swap: str = "raise"
    extra: dict = field(default_factory=dict)

    def read_kw(self) -> dict:
        """Keyword arguments for the layer readers."""
        kw = {
            "id_column": self.id_column,
            "name_column": self.name_column,
            "crs": self.crs,
            "lon_column": self.lon_column,
            "lat_column": self.lat_column,
            "encoding": self.encoding,
            "layer": self.layer,
            "coord_system": self.coord_system,
            "sheet": self.sheet,
            "on_swap": self.on_swap,
        }
        return {**kw, **self.extra}


def write_analysis(
    analysis: Analysis,
    out_dir: str | Path,
    *,
    inputs: dict[str, str | Path | None],
    offline_map: bool = False,
    lang: str | None = None,
    data_date: str | None = None,
) -> Path:
    """Write ``coverage.csv``, ``compounds.gpkg``, ``services.gpkg``, ``summary.json`` and ``map.html``.

    All files appear in ``out_dir`` together, or none does.
    """
    summary = {**analysis.summary, "inputs": input_hashes(inputs)}
    params = analysis.coverage.params
    with staged_directory(out_dir) as stage:
        table = analysis.coverage.table.copy()
        table["walk_m"] = table["walk_m"].round(1)
        table["walk_min"] = table["walk_min"].round(2)
        write_csv(table, stage / "coverage.csv")
        write_gpkg(analysis.compounds, stage / "compounds.gpkg", layer="compounds")
        write_gpkg(analysis.services, stage / "services.gpkg", layer="services")
        write_json(summary, stage / "summary.json")
        fmap = coverage_map(
            analysis.compounds,
            analysis.services,
            analysis.coverage.table,
            minutes=params["max_walk_min"],
            speed_kmh=params["speed_kmh"],
            branches=analysis.branches,
            lang=lang,
            data_date=data_date,
        )
        save_map(fmap, stage / "map.html", offline=offline_map)
    return Path(out_dir)


def run_analyze(
    *,
    network: str | Path | nx.MultiDiGraph,
    compounds: LayerSpec,
    services: LayerSpec,
    out_dir: str | Path,
    branches: LayerSpec | None = None,
    gates: LayerSpec | None = None,
    category_column: str | None = None,
    branch_column: str | None = None,
    max_walk_min: float = 10.0,
    speed_kmh: float = 4.5,
    max_snap_m: float = 300.0,
    offline_map: bool = False,
    lang: str | None = None,
) -> Analysis:
    """Read every input, analyse, and write the outputs of ``lifecircle analyze``.

    Raises
    ------
    lifecircle.errors.LifecircleError
        Any input problem, before anything is written.
    """
    compounds_gdf = read_compounds(compounds.path, **compounds.read_kw())
    services_gdf = read_services(services.path, category_column=category_column, **services.read_kw())
    branches_gdf = read_branches(branches.path, **branches.read_kw()) if branches else None
    gates_gdf = read_gates(gates.path, **gates.read_kw()) if gates else None
    graph = network if isinstance(network, nx.MultiDiGraph) else load_network(network)
    analysis = analyze(
        graph,
        compounds_gdf,
        services_gdf,
        branches=branches_gdf,
        gates=gates_gdf,
        branch_column=branch_column,
        category_column="category",
        max_walk_min=max_walk_min,
        speed_kmh=speed_kmh,
        max_snap_m=max_snap_m,
    )
    inputs = {
        "network": None if isinstance(network, nx.MultiDiGraph) else network,
        "compounds": compounds.path,
        "services": services.path,
        "branches": branches.path if branches else None,
        "gates": gates.path if gates else None,
    }
    write_analysis(analysis, out_dir, inputs=inputs, offline_map=offline_map, lang=lang)
    return analysis


def read_outputs(out_dir: str | Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compounds and services back from an output folder (for publishing and reports)."""
    out_dir = Path(out_dir)
    compounds = gpd.read_file(out_dir / "compounds.gpkg").set_index("compound_id")
    services = gpd.read_file(out_dir / "services.gpkg").set_index("service_id")
    return compounds, services
