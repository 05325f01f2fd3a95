"""The one small error hierarchy of lifecircle.

Every user mistake (bad file, bad column, bad CRS...) raises one of these with a sentence that names the
file or layer and the problem in the user's terms. The CLI turns them into one-line messages and exit code 2.
"""


class LifecircleError(Exception):
    """Base class of every error lifecircle raises on purpose."""


class InputError(LifecircleError, ValueError):
    """An input layer, file, column or parameter is unusable as given."""


class NetworkError(LifecircleError):
    """The walking network cannot be built or does not serve the study area."""


class SolverError(LifecircleError):
    """An optimisation model could not be built or solved."""
