"""Which OSM ways are walkable: the rules of osmnx's ``walk`` network, applied to tags.

osmnx sends its ``walk`` filter to Overpass as unanchored regular expressions
(``["highway"!~"abandoned|...|motor|..."]``); the same expressions are applied here to ways read from a file,
so an offline extract gives the same network osmnx would download.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# osmnx 2.x ``_overpass._get_network_filter("walk")`` and ``settings.default_access``.
_EXCLUDED = {
    "area": re.compile("yes"),
    "access": re.compile("private"),
    "highway": re.compile(
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|"
        "rest_area|services"
    ),
    "foot": re.compile("no"),
    "service": re.compile("private"),
    "sidewalk": re.compile("separate"),
    "sidewalk:both": re.compile("separate"),
    "sidewalk:left": re.compile("separate"),
    "sidewalk:right": re.compile("separate"),
}


def is_walkable(tags: Mapping[str, str], *, include_private: bool = False) -> bool:
    """Say whether a way with these tags belongs to osmnx's ``walk`` network.

    Parameters
    ----------
    tags
        The way's OSM tags.
    include_private
        Keep ``access=private`` and ``service=private`` ways (a compound's internal roads, for its own residents).

    Returns
    -------
    bool
        True when the way has a ``highway`` tag and none of the excluded values.
    """
    if "highway" not in tags:
        return False
    for key, pattern in _EXCLUDED.items():
        if include_private and key in ("access", "service"):
            continue
        value = tags.get(key)
        if value is not None and pattern.search(value):
            return False
    return True


def is_private(tags: Mapping[str, str]) -> bool:
    """Say whether a way is private access (``access=private`` or ``service=private``)."""
    return bool(_EXCLUDED["access"].search(tags.get("access", ""))) or bool(
        _EXCLUDED["service"].search(tags.get("service", ""))
    )
