"""lifecircle: walking service-coverage planning for ten-minute life service circles."""

from lifecircle.errors import InputError, LifecircleError, NetworkError, SolverError

__version__ = "0.1.0"

__all__ = ["InputError", "LifecircleError", "NetworkError", "SolverError", "__version__"]
