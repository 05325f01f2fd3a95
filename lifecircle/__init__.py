"""lifecircle: walking service-coverage planning for ten-minute life service circles (十分钟生活服务圈).

The functions a notebook user calls, on plain geo types (GeoDataFrames, osmnx-style graphs)::

    import lifecircle as lc

    files = lc.demo_inputs()  # the shipped Chinese demo's office files
    G = lc.load_network(files.network)
    compounds = lc.read_compounds(files.compounds, name_column="名称")
    services = lc.read_services(files.services, category_column="类别", coord_system="gcj02")
    walk = lc.Walk(limit_min=10)  # at the default speed unless speed_kmh= is given
    result = lc.analyze(G, compounds, services, walk=walk)

Names are loaded on first use, so ``import lifecircle`` (and ``lifecircle --help``) stays quick.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from lifecircle.errors import InputError, LifecircleError, NetworkError, SolverError

__version__ = "0.1.0"

# public name -> module that defines it (one place; read by __getattr__ and the API test)
_PUBLIC: dict[str, str] = {
    # reading what planners hand over
    "read_compounds": "lifecircle.geo.inputs.layers",
    "read_services": "lifecircle.geo.inputs.layers",
    "read_branches": "lifecircle.geo.inputs.layers",
    "read_gates": "lifecircle.geo.inputs.layers",
    # walking networks and the walk
    "load_network": "lifecircle.geo.network.osm",
    "network_from_osm": "lifecircle.geo.network.osm",
    "prepare_network": "lifecircle.geo.network.graph",
    "Walk": "lifecircle.geo.walk",
    # reach
    "coverage": "lifecircle.geo.reach.coverage",
    "isochrones": "lifecircle.geo.reach.isochrones",
    "ShapeOptions": "lifecircle.geo.reach.shapes",
    # planning
    "analyze": "lifecircle.planning.analysis",
    "plan_sites": "lifecircle.planning.siting.planner",
    "SitingOptions": "lifecircle.planning.siting.options",
    # maps
    "coverage_map": "lifecircle.maps.coverage_map",
    "save_map": "lifecircle.maps.coverage_map",
    # the analysis folder
    "write_analysis": "lifecircle.planning.jobs.analyze",
    "read_analysis": "lifecircle.folder",
    # the demo's files
    "demo_inputs": "lifecircle.data.demo",
}
_ALIASES = {"demo_inputs": "xueyuan_inputs"}

__all__ = [
    "InputError",
    "LifecircleError",
    "NetworkError",
    "ShapeOptions",
    "SitingOptions",
    "SolverError",
    "Walk",
    "__version__",
    "analyze",
    "coverage",
    "coverage_map",
    "demo_inputs",
    "isochrones",
    "load_network",
    "network_from_osm",
    "plan_sites",
    "prepare_network",
    "read_analysis",
    "read_branches",
    "read_compounds",
    "read_gates",
    "read_services",
    "save_map",
    "write_analysis",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from lifecircle.data.demo import xueyuan_inputs as demo_inputs
    from lifecircle.folder import read_analysis
    from lifecircle.geo.inputs.layers import read_branches, read_compounds, read_gates, read_services
    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import load_network, network_from_osm
    from lifecircle.geo.reach.coverage import coverage
    from lifecircle.geo.reach.isochrones import isochrones
    from lifecircle.geo.reach.shapes import ShapeOptions
    from lifecircle.geo.walk import Walk
    from lifecircle.maps.coverage_map import coverage_map, save_map
    from lifecircle.planning.analysis import analyze
    from lifecircle.planning.jobs.analyze import write_analysis
    from lifecircle.planning.siting.options import SitingOptions
    from lifecircle.planning.siting.planner import plan_sites


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'lifecircle' has no attribute {name!r}")
    value = getattr(import_module(module), _ALIASES.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
