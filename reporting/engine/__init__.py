"""Engines: the metric definitions of :mod:`reporting.metrics` computed somewhere other
than pandas. Unlike ``metrics/`` (pure functions of DataFrames), an engine runs queries on
a store connection it is given; each one is checked against the pandas definitions by an
oracle test.

- :mod:`reporting.engine.duckdb_summary`: the per-group figures of
  :func:`reporting.metrics.rep_summary` inside DuckDB (``crm-report metrics``).
"""
