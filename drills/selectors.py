"""What the drill, training and readiness pages read. A fixed number of queries, however many people."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from people.models import Person, RoleAssignment
from plan.models import PlanVersion, Role

from .models import Attendance, Drill, Participation, TrainingSession

YEAR = timedelta(days=365)
DRILL = "drill"
TRAINING = "training"


def drills_for_listing() -> QuerySet[Drill]:
    return Drill.objects.select_related("incident", "incident__level", "created_by").order_by("-starts_at", "-id")


def trainings_for_listing() -> QuerySet[TrainingSession]:
    return (TrainingSession.objects.select_related("drill").annotate(attendee_count=Count("attendances"))
            .prefetch_related("attendances__person").order_by("-held_at", "-id"))


@dataclass
class PersonReadiness:
    username: str
    name: str
    roles: list[str]
    last_drill_at: datetime | None
    last_training_at: datetime | None
    drills_last_year: int
    overdue_for: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return bool(self.overdue_for)


@dataclass
class RoleReadiness:
    key: str
    name: str
    people: int
    drills_last_year: int
    last_drill_at: datetime | None
    required: int

    @property
    def overdue(self) -> bool:
        return self.drills_last_year < self.required


def _drill_filter(category: str, level: str, prefix: str = "drill__") -> Q:
    q = Q()
    if category:
        q &= Q(**{f"{prefix}category_key": category})
    if level:
        q &= Q(**{f"{prefix}level_key": level})
    return q


def readiness(*, category: str = "", level: str = "", now: datetime | None = None) -> list[PersonReadiness]:
    """Per person holding a plan role: last drill taken part in (of ``category``/``level`` if given), last
    training, and what is overdue against READINESS_DRILL_EVERY_DAYS and READINESS_TRAINING_EVERY_DAYS. 4 queries."""
    now = now or timezone.now()
    roles: dict[int, list[str]] = {}
    for person_id, role_key in (RoleAssignment.objects.filter(person__is_active=True)
                                .order_by("person_id", "role_key").values_list("person_id", "role_key")):
        roles.setdefault(person_id, []).append(role_key)
    took_part = Participation.objects.filter(_drill_filter(category, level), person_id__in=roles)
    last_drill = dict(took_part.values("person_id").annotate(m=Max("at")).values_list("person_id", "m"))
    last_year = dict(took_part.filter(at__gte=now - YEAR).values("person_id").annotate(n=Count("drill", distinct=True))
                     .values_list("person_id", "n"))
    last_training = dict(Attendance.objects.filter(person_id__in=roles).values("person_id")
                         .annotate(m=Max("session__held_at")).values_list("person_id", "m"))
    drill_due = timedelta(days=settings.READINESS_DRILL_EVERY_DAYS)
    training_due = timedelta(days=settings.READINESS_TRAINING_EVERY_DAYS)
    rows = []
    for person in Person.objects.filter(pk__in=roles).order_by("username"):
        drilled, trained = last_drill.get(person.pk), last_training.get(person.pk)
        overdue = ([DRILL] if drilled is None or drilled < now - drill_due else []) + \
                  ([TRAINING] if trained is None or trained < now - training_due else [])
        rows.append(PersonReadiness(username=person.username, name=person.display_name, roles=roles[person.pk],
                                    last_drill_at=drilled, last_training_at=trained,
                                    drills_last_year=last_year.get(person.pk, 0), overdue_for=overdue))
    return rows


def role_readiness(*, category: str = "", level: str = "", now: datetime | None = None) -> list[RoleReadiness]:
    """Per role of the active plan: drills it took part in over the last year against READINESS_ROLE_DRILLS_PER_YEAR."""
    now = now or timezone.now()
    version = PlanVersion.objects.filter(is_active=True).first()
    if version is None:
        return []
    holders = dict(RoleAssignment.objects.filter(person__is_active=True).values("role_key")
                   .annotate(n=Count("person", distinct=True)).values_list("role_key", "n"))
    took_part = Participation.objects.filter(_drill_filter(category, level)).exclude(role_key="")
    counts = dict(took_part.filter(at__gte=now - YEAR).values("role_key").annotate(n=Count("drill", distinct=True))
                  .values_list("role_key", "n"))
    last = dict(took_part.values("role_key").annotate(m=Max("at")).values_list("role_key", "m"))
    return [RoleReadiness(key=role.key, name=role.name, people=holders.get(role.key, 0),
                          drills_last_year=counts.get(role.key, 0), last_drill_at=last.get(role.key),
                          required=settings.READINESS_ROLE_DRILLS_PER_YEAR)
            for role in Role.objects.filter(version=version).order_by("position")]
