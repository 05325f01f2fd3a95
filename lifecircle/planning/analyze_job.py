"""Where the analysis job used to live; it is :mod:`lifecircle.planning.jobs.analyze` now.

Kept so that scripts importing ``write_analysis``, ``MapOptions`` or ``LayerSpec`` from here keep working.
"""

from lifecircle.planning.inputs import LayerSpec
from lifecircle.planning.jobs.analyze import write_analysis
from lifecircle.planning.options import MapOptions

__all__ = ["LayerSpec", "MapOptions", "write_analysis"]
