"""Demo operator: a realistic, deterministic synthetic city-metro CII operator (``ciimap demo``)."""
