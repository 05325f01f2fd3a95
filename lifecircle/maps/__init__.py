"""Folium maps and published HTML sites for coverage results (imports geo, never planning)."""

from lifecircle.maps.coverage_map import check_basemap, coverage_map, save_map
from lifecircle.maps.labels import pick_lang
from lifecircle.maps.publish import publish_site

__all__ = ["check_basemap", "coverage_map", "pick_lang", "publish_site", "save_map"]
