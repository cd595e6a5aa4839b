"""Benchmarks of crm-reporting: ``python -m benchmarks [--quick]`` writes results.md."""
