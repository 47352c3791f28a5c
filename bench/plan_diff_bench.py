"""Benchmark of plan change proposals (not a test). Results go in bench/plan_diff.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenghuo_bench .venv/bin/python bench/plan_diff_bench.py [--runs 20]

It creates a throw-away test database (``test_`` + the database name), loads the
shipped plan, starts a proposal and times, each ``--runs`` times:

(a) a cell form edit: the draft's document is rebuilt, checked by the loader and
    its rows replaced (one transaction);
(b) the diff of the draft against the active version with all 12 cells changed;
(c) GET of the proposal page (the diff in the reader's language) through Django's test client;
(d) GET /api/v1/plan-proposals/{id}/diff/.
Approving is timed once at the end.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def timed(call, runs):
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    return {"median_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(seconds[max(0, int(len(seconds) * 0.95) - 1)] * 1000, 1),
            "max_ms": round(seconds[-1] * 1000, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from rest_framework.test import APIClient

        from improvements import services
        from people.models import Person, RoleAssignment
        from plan.services import load_plan_text, version_document

        load_plan_text((ROOT / "plan/plans/credit-system.yaml").read_text(encoding="utf-8"), source="shipped")
        office = Person.objects.create_user(username="office", password="x", language="zh-hans")
        RoleAssignment.objects.create(person=office, role_key="office")
        proposal = services.proposal_create(person=office, reason="bench")
        document = version_document(proposal.draft)
        cells = [(c["key"], level, cell) for c in document["categories"] for level, cell in c["responses"].items()]

        def edit(category, level, cell, n):
            return services.proposal_edit_cell(
                proposal=proposal, person=office, category=category, level=level,
                edit=services.CellEdit(
                    steps=[*cell["steps"], {"en": f"Extra step {n}", "zh": f"新增步骤{n}"}], notify=cell["notify"],
                    on_site=cell["on_site"], approval_by=(cell["approval"] or {}).get("by", ""),
                    approval_within=(cell["approval"] or {}).get("within", ""),
                    escalate_after=(cell.get("escalate") or {}).get("after", "")))

        for n, (category, level, cell) in enumerate(cells):
            edit(category, level, cell, n)
        counter = iter(range(10**6))
        category, level, cell = cells[-1]
        results = {"cell_edit": timed(lambda: edit(category, level, cell, next(counter)), args.runs),
                   "diff_12_cells": timed(lambda: services.proposal_diff(proposal), args.runs)}
        page = Client()
        page.force_login(office)
        results["proposal_page"] = timed(lambda: page.get(f"/plan/proposals/{proposal.pk}/"), args.runs)
        api = APIClient()
        api.force_authenticate(office)
        results["api_diff"] = timed(lambda: api.get(f"/api/v1/plan-proposals/{proposal.pk}/diff/"), args.runs)
        changes = services.proposal_diff(proposal).count
        services.proposal_submit(proposal=proposal, person=office)
        results["approve_once"] = timed(lambda: services.proposal_approve(proposal=proposal, person=office), 1)
        print(f"database: {connection.vendor}, runs: {args.runs}, fields changed: {changes}")
        for key, figures in results.items():
            print(f"{key:16} median {figures['median_ms']:8.1f} ms   p95 {figures['p95_ms']:8.1f} ms   "
                  f"max {figures['max_ms']:8.1f} ms")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
