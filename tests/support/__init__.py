"""Helpers the tests and benchmarks share: real processes, broker handling, deadline fixtures."""
