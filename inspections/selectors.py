"""Reads of inspections: the rounds a person walks today, a round with its answers, coverage."""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from assets.access import may_manage_assets
from assets.models import Asset
from notifications.models import DutyShift

from .models import Result, Round, RoundStatus, ScheduleAsset

if TYPE_CHECKING:
    from people.models import Person


def rounds_for(person: "Person") -> QuerySet[Round]:
    """The rounds ``person`` may see: their roles' rounds; every round for the office and staff."""
    rounds = Round.objects.select_related("schedule", "submitted_by")
    if may_manage_assets(person):
        return rounds
    return rounds.filter(role_key__in=person.role_keys())


def todays_rounds(person: "Person", *, now: datetime | None = None) -> list[Round]:
    """Today's rounds (local day) of the person's own roles, earliest first, with how many answers each has."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return list(Round.objects.filter(role_key__in=person.role_keys(), due_at__gte=start,
                                     due_at__lt=start + timedelta(days=1))
                .select_related("schedule", "submitted_by").annotate(answers=Count("results"))
                .order_by("due_at", "id"))


def answers_of(round_: Round) -> dict[tuple[int, str], Result]:
    return {(r.asset_id, r.check_key): r for r in Result.objects.filter(round=round_)}


# --- coverage ---------------------------------------------------------------------------


@dataclass
class Tally:
    done: int = 0
    late: int = 0
    missed: int = 0
    due: int = 0

    def add(self, round_: Round, now: datetime) -> None:
        if round_.missed_at is not None:
            self.missed += 1
        if round_.submitted_at is not None:
            self.done += 1
            if round_.submitted_at > round_.due_at and round_.missed_at is None:
                self.late += 1
        elif round_.missed_at is None:
            self.due += 1

    def as_dict(self) -> dict[str, int]:
        return {"rounds_done": self.done, "rounds_late": self.late, "rounds_missed": self.missed,
                "rounds_open": self.due}


@dataclass
class Coverage:
    start: datetime
    end: datetime
    assets: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)
    never_inspected: list[Asset] = field(default_factory=list)
    totals: Tally = field(default_factory=Tally)


def coverage(*, start: datetime, end: datetime, now: datetime | None = None) -> Coverage:
    """Rounds due in [start, end): per asset (last inspected, done, missed, its state history), per person
    (who submitted; a missed round counts against whoever was on the duty roster for its role at its due time),
    per shift of the roster; and the assets in service never inspected at all."""
    now = now or timezone.now()
    report = Coverage(start=start, end=end)
    rounds = list(Round.objects.filter(due_at__gte=start, due_at__lt=end, due_at__lte=now)
                  .select_related("submitted_by").order_by("due_at"))
    for round_ in rounds:
        report.totals.add(round_, now)
    # Per asset: every round of a schedule it is on.
    schedules_of: dict[int, list[int]] = defaultdict(list)
    for schedule_id, asset_id in ScheduleAsset.objects.values_list("schedule_id", "asset_id"):
        schedules_of[asset_id].append(schedule_id)
    by_schedule: dict[int, Tally] = defaultdict(Tally)
    for round_ in rounds:
        by_schedule[round_.schedule_id].add(round_, now)
    last = dict(Result.objects.filter(round__submitted_at__isnull=False).values("asset_id")
                .annotate(at=Max("round__submitted_at")).values_list("asset_id", "at"))
    abnormal = dict(Result.objects.filter(round__due_at__gte=start, round__due_at__lt=end)
                    .filter(Q(ok=False) | Q(out_of_range=True)).values("asset_id")
                    .annotate(n=Count("id")).values_list("asset_id", "n"))
    for asset in Asset.objects.in_service().order_by("tag"):
        tally = Tally()
        for schedule_id in schedules_of.get(asset.pk, []):
            t = by_schedule.get(schedule_id)
            if t:
                tally.done += t.done
                tally.late += t.late
                tally.missed += t.missed
                tally.due += t.due
        report.assets.append({"asset": asset, "tag": asset.tag, "last_inspected_at": last.get(asset.pk),
                              "abnormal_findings": abnormal.get(asset.pk, 0), **tally.as_dict()})
        if asset.pk not in last:
            report.never_inspected.append(asset)
    # Per person and per shift of the duty roster.
    shifts = list(DutyShift.objects.filter(starts_at__lt=end, ends_at__gt=start).select_related("person"))
    people: dict[str, Tally] = defaultdict(Tally)
    names: dict[str, str] = {}
    per_shift: dict[int, Tally] = defaultdict(Tally)
    for round_ in rounds:
        shift = next((s for s in shifts if s.role_key == round_.role_key and s.starts_at <= round_.due_at < s.ends_at),
                     None)
        if shift is not None:
            per_shift[shift.pk].add(round_, now)
        who = round_.submitted_by or (shift.person if shift else None)
        if who is not None:
            people[who.username].add(round_, now)
            names[who.username] = who.display_name
    report.people = [{"username": u, "name": names[u], **t.as_dict()} for u, t in sorted(people.items())]
    report.shifts = [{"shift": s, "role": s.role_key, "person": s.person.username, "starts_at": s.starts_at,
                      "ends_at": s.ends_at, **per_shift[s.pk].as_dict()} for s in shifts if s.pk in per_shift]
    return report


def state_history(asset: Asset, *, limit: int = 50) -> list[Result]:
    """The asset's answers on submitted rounds, newest first: its running state over time."""
    return list(Result.objects.filter(asset=asset, round__submitted_at__isnull=False)
                .select_related("round", "answered_by").order_by("-answered_at")[:limit])


def coverage_csv(report: Coverage) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tag", "name", "last_inspected_at", "rounds_done", "rounds_late", "rounds_missed",
                     "abnormal_findings"])
    for row in report.assets:
        last = row["last_inspected_at"]
        writer.writerow([row["tag"], row["asset"].name, timezone.localtime(last).isoformat() if last else "",
                         row["rounds_done"], row["rounds_late"], row["rounds_missed"], row["abnormal_findings"]])
    return out.getvalue()


def status_filter(rounds: QuerySet[Round], status: str) -> QuerySet[Round]:
    return rounds.filter(status=status) if status in RoundStatus.values else rounds
