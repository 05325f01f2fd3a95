"""Building walking networks: OSM extracts, GraphML, road-centreline layers, and the prepared graph."""
