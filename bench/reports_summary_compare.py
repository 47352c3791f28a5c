"""`reports.selectors.summary()` alone (no HTTP, no cache) on a kept bench database: p50 and max of 7 runs.

Run from any checkout, to compare two versions of the code on the same data (bench/reports.md):

    PYTHONPATH=. DATABASE_URL=postgres://…/<name>_bench .venv/bin/python bench/reports_summary_compare.py
"""

import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from reports.filters import parse_filter  # noqa: E402
from reports.selectors import summary  # noqa: E402

today = timezone.localdate()
three_years = {"from": today.replace(year=today.year - 3).isoformat(), "to": today.isoformat()}
for name, params in [("12 months", {}), ("3 years", three_years),
                     ("3 years, red network", {**three_years, "level": "red", "category": "network"})]:
    report_filter = parse_filter(params)
    summary(report_filter)  # warm-up: the plan's names, the planner's statistics
    times = []
    for _ in range(7):
        started = time.perf_counter()
        summary(report_filter)
        times.append((time.perf_counter() - started) * 1000)
    print(f"{name:24} p50 {statistics.median(times):7.0f} ms   max {max(times):7.0f} ms")
