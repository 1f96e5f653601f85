"""The metric oracle: METRICS.md recomputed in plain Python, independent of the dbt models."""
