"""Reading what planners hand over: layers, their columns, lon/lat ledgers, encodings, Chinese coordinate systems."""
