"""How residents really walk: gated compounds, walker profiles, hills, and comparing scenarios."""
