"""What a round asks: its schedule's assets, in walking order, × the checks of each asset's kind.

Read, not stored per round (inspections/models.py says why). ``round_items``
reads a schedule's items once per call; pass the same ``cache`` for many
rounds of few schedules (the API's list, the coverage report).
"""

from collections.abc import MutableMapping
from typing import NamedTuple

from assets.models import Asset

from .models import CheckItem, Round, Schedule, ScheduleAsset


class Item(NamedTuple):
    asset: Asset
    check: CheckItem

    @property
    def key(self) -> tuple[int, str]:
        return (self.asset.pk, self.check.key)


def schedule_items(schedule: Schedule) -> list[Item]:
    stops = list(ScheduleAsset.objects.filter(schedule=schedule).select_related("asset").order_by("position", "id"))
    kinds = {stop.asset.kind for stop in stops}
    checks_by_kind: dict[str, list[CheckItem]] = {}
    for check in CheckItem.objects.filter(template__asset_kind__in=kinds).select_related("template").order_by(
            "position", "id"):
        checks_by_kind.setdefault(check.template.asset_kind, []).append(check)
    chosen = set(schedule.checks or [])
    return [Item(stop.asset, check) for stop in stops for check in checks_by_kind.get(stop.asset.kind, [])
            if not chosen or check.key in chosen]


def round_items(round_: Round, *, cache: MutableMapping[int, list[Item]] | None = None) -> list[Item]:
    if cache is None:
        return schedule_items(round_.schedule)
    if round_.schedule_id not in cache:
        cache[round_.schedule_id] = schedule_items(round_.schedule)
    return cache[round_.schedule_id]
