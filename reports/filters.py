"""What a report covers: the period and the filters, read from a query string, checked once.

Every figure of a report is about the incidents *opened* in the period that pass the filters; the
deadlines, timeline entries, alerts and notifications counted are those of these incidents. Drills are
left out unless ``drill`` says otherwise (``Incident.is_drill``). ``asset`` is an asset tag: the incidents
whose device at fault it is (``Incident.asset``, set from the inspection finding that logged the fault, or by
a person).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from assets.models import Asset
from incidents.models import AffectedSystem, Source
from plan.document import CATEGORY_KEYS, LEVEL_RANKS

DRILL_CHOICES = ("false", "true", "all")
# Years a period may start or end in: Fenghuo holds no incident outside them, and dates far out overflow.
YEARS = (2000, 2100)
# The longest period one report covers: a decade of incidents is already more than a page can show.
MAX_DAYS = 366 * 10


@dataclass(frozen=True)
class ReportFilter:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    category: str = ""
    level: str = ""
    source: str = ""
    system: str = ""
    drill: str = "false"
    asset: str = ""  # a tag; asset_id is its row, read once when the filter is parsed
    asset_id: int | None = None

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> date:
        return timezone.localtime(self.end - timedelta(microseconds=1)).date()

    def incident_q(self, prefix: str = "") -> Q:
        """The filter as a Q on Incident, or on a model reaching it through ``prefix`` (``"incident__"``)."""
        return Q(**{f"{prefix}opened_at__gte": self.start, f"{prefix}opened_at__lt": self.end}) & self.keys_q(prefix)

    def keys_q(self, prefix: str = "", *, asset: bool = True) -> Q:
        """The filter without its period: what the incident must be (reviews and actions count by their own
        dates). ``asset=False`` leaves the asset out, for a caller that matches it another way."""
        q = Q()
        for name, lookup in (("category", "category__key"), ("level", "level__key"), ("source", "source"),
                             ("system", "affected_system")):
            if value := getattr(self, name):
                q &= Q(**{f"{prefix}{lookup}": value})
        if self.drill != "all":
            q &= Q(**{f"{prefix}is_drill": self.drill == "true"})
        if asset and self.asset:
            q &= Q(**{f"{prefix}asset_id": self.asset_id})
        return q

    def facts_q(self) -> Q:
        """The filter as a Q on a figures table (``reports.models.Facts``: the incident's keys copied)."""
        return Q(opened_at__gte=self.start, opened_at__lt=self.end) & self._columns_q("asset_id")

    def _columns_q(self, asset_column: str) -> Q:
        q = Q()
        for name, column in (("category", "category_key"), ("level", "level_key"), ("source", "source"),
                             ("system", "affected_system")):
            if value := getattr(self, name):
                q &= Q(**{column: value})
        if self.drill != "all":
            q &= Q(is_drill=self.drill == "true")
        if self.asset:
            q &= Q(**{asset_column: self.asset_id})
        return q

    @property
    def whole_months(self) -> tuple[date, date]:
        """The calendar months wholly inside the period, in the office's time zone: [first, after), their first
        days; first == after when there is none."""
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        first = month_start(start.date())
        if start != timezone.make_aware(datetime.combine(first, time.min)):
            first = add_months(first, 1)
        after = month_start(end.date())
        return (first, after) if first < after else (first, first)

    def months_q(self) -> Q:
        """The filter as a Q on a month's sums (``reports.models.MonthFacts``): the months wholly inside."""
        first, after = self.whole_months
        return Q(month__gte=first, month__lt=after) & self._columns_q("asset_key")

    def edges_q(self) -> Q:
        """The filter as a Q on a figures table, for the part of the period outside its whole months (the days
        before the first and after the last; the whole period when it holds no whole month)."""
        first, after = self.whole_months
        if first == after:
            return self.facts_q()
        inner = (timezone.make_aware(datetime.combine(first, time.min)),
                 timezone.make_aware(datetime.combine(after, time.min)))
        return ((Q(opened_at__gte=self.start, opened_at__lt=inner[0]) | Q(opened_at__gte=inner[1], opened_at__lt=self.end))
                & self._columns_q("asset_id"))

    @property
    def narrows_incidents(self) -> bool:
        """Whether the filter names something only an incident has (what an asset-only action cannot match)."""
        return bool(self.category or self.level or self.source or self.system or self.drill == "true")

    def as_params(self) -> dict[str, str]:
        """The query string that reads back as this filter (links, CSV downloads)."""
        params = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        for name in ("category", "level", "source", "system", "asset"):
            if value := getattr(self, name):
                params[name] = value
        if self.drill != "false":
            params["drill"] = self.drill
        return params


def _moment(text: str, name: str, *, end: bool) -> datetime:
    """A date (the whole day, in the office's time zone) or an ISO 8601 date-time."""
    try:
        day = parse_date(text)
        moment = None if day else parse_datetime(text)
    except ValueError:
        day = moment = None
    if day is None and moment is None:
        raise ValidationError({name: [_("Give a date as YYYY-MM-DD (or an ISO 8601 date and time), not %(value)r.")
                                      % {"value": text[:40]}]})
    if not YEARS[0] <= (day or moment).year <= YEARS[1]:  # type: ignore[union-attr]
        raise ValidationError({name: [_("Give a date between the years %(first)d and %(last)d.")
                                      % {"first": YEARS[0], "last": YEARS[1]}]})
    if day is not None:
        if end:
            day += timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.min))
    assert moment is not None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def default_period(today: date | None = None) -> tuple[datetime, datetime]:
    """The twelve months up to and including this one."""
    today = today or timezone.localdate()
    first = add_months(month_start(today), -11)
    last = add_months(month_start(today), 1)
    return (timezone.make_aware(datetime.combine(first, time.min)),
            timezone.make_aware(datetime.combine(last, time.min)))


def _choice(params: Any, name: str, allowed: list[str] | tuple[str, ...]) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in allowed:
        raise ValidationError({name: [_("Unknown %(name)s %(value)r: use one of %(allowed)s.")
                                      % {"name": name, "value": value[:40], "allowed": ", ".join(allowed)}]})
    return value


def parse_filter(params: Any) -> ReportFilter:
    """The filter a query string asks for; ValidationError naming the parameter when it cannot be read.

    ``params`` is a QueryDict or a plain dict of strings.
    """
    errors: dict[str, list[str]] = {}
    start, end = default_period()
    for name, is_end in (("from", False), ("to", True)):
        text = (params.get(name) or "").strip()
        if not text:
            continue
        try:
            moment = _moment(text, name, end=is_end)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        if is_end:
            end = moment
        else:
            start = moment
    if not errors and start >= end:
        errors["from"] = [_("The period starts after it ends: “from” must be on or before “to”.")]
    elif not errors and (end - start).days > MAX_DAYS:
        errors["to"] = [_("A report covers at most ten years.")]
    chosen: dict[str, str] = {}
    for name, allowed in (("category", CATEGORY_KEYS), ("level", list(LEVEL_RANKS)),
                          ("source", Source.values), ("system", [v for v in AffectedSystem.values if v]),
                          ("drill", DRILL_CHOICES)):
        try:
            chosen[name] = _choice(params, name, allowed)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    tag = (params.get("asset") or "").strip()
    asset_id = None
    if tag:
        asset_id = Asset.objects.filter(tag=tag).values_list("id", flat=True).first()
        if asset_id is None:
            errors["asset"] = [_("No asset has the tag %(value)r.") % {"value": tag[:64]}]
    if errors:
        raise ValidationError(errors)
    return ReportFilter(start=start, end=end, category=chosen["category"], level=chosen["level"],
                        source=chosen["source"], system=chosen["system"], drill=chosen["drill"] or "false",
                        asset=tag, asset_id=asset_id)


def month_filter(text: str, *, base: ReportFilter | None = None) -> ReportFilter:
    """The calendar month ``YYYY-MM`` (the office's time zone); ValidationError naming ``month`` otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
        if len(text) != 7:
            raise ValueError(text)
    except ValueError:
        raise ValidationError({"month": [_("%(value)r is not a month: give it as YYYY-MM, e.g. 2026-11.")
                                         % {"value": text[:40]}]}) from None
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValidationError({"month": [_("Give a date between the years %(first)d and %(last)d.")
                                         % {"first": YEARS[0], "last": YEARS[1]}]})
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(add_months(first, 1), time.min))
    if base is None:
        return ReportFilter(start=start, end=end)
    return ReportFilter(start=start, end=end, category=base.category, level=base.level, source=base.source,
                        system=base.system, drill=base.drill, asset=base.asset, asset_id=base.asset_id)
