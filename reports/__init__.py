"""Metrics, charts and the monthly leadership report. Issue 20."""
