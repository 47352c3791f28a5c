"""Migration 0004: each follow-up item on an asset becomes a remediation action of that asset."""

import importlib
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

moved = importlib.import_module("inspections.migrations.0004_follow_ups_become_actions")

RAISED = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def _item(**fields):
    base = {"pk": 7, "asset_id": 3, "asset": SimpleNamespace(owner_role="tech_group", tag="UPS-01"),
            "title": "Replace PSU 2", "detail": "", "owner_role": "", "due_at": None, "status": "open",
            "created_at": RAISED, "created_by_id": 11, "done_at": None}
    return SimpleNamespace(**{**base, **fields})


def test_an_open_follow_up_becomes_an_open_action_of_its_asset_due_a_week_after_it_was_raised():
    fields = moved.action_fields(_item(detail="slot 2 amber"), owner_id=5)
    assert (fields["incident_id"], fields["asset_id"], fields["owner_id"], fields["status"]) == (None, 3, 5, "open")
    assert fields["title"] == "Replace PSU 2 — slot 2 amber"
    assert fields["due_at"] == RAISED + timedelta(days=7) and fields["closed_at"] is None


def test_a_done_follow_up_becomes_a_done_action_with_evidence_saying_so():
    done_at = RAISED + timedelta(days=2)
    fields = moved.action_fields(_item(status="done", done_at=done_at, due_at=RAISED + timedelta(days=3)),
                                 owner_id=5)
    assert (fields["status"], fields["closed_at"], fields["due_at"]) == ("done", done_at, RAISED + timedelta(days=3))
    assert "follow-up item" in fields["evidence"]


def test_the_owner_is_a_holder_of_the_items_role_else_the_assets_else_its_raiser_else_staff():
    holders = {"office": 1, "tech_group": 2}
    assert moved.owner_of(_item(owner_role="office"), holders=holders, staff_id=9) == 1
    assert moved.owner_of(_item(), holders=holders, staff_id=9) == 2
    assert moved.owner_of(_item(), holders={}, staff_id=9) == 11
    assert moved.owner_of(_item(created_by_id=None), holders={}, staff_id=9) == 9
