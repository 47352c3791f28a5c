"""Drills scored against the plan, training records, readiness. Issue 18."""
