"""The incident pages: log a fault, one incident, my incidents, all incidents (acting on one: ``action_views``).

Views read with a fixed number of queries (the tests pin them) and write only
through ``incidents.services``; a refusal or bad input becomes a message on
the page, never a 500.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Max, Prefetch, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import get_language
from django.views.decorators.http import condition, require_GET, require_http_methods

from core.errors import Refused
from core.queries import aggregate_of, scalars
from escalation.models import RESPONSE_KINDS, Deadline, Kind
from escalation.services import cell_of, planned_response
from notifications.models import Ask, Notification
from notifications.recipients import shifts_on_duty
from people.access import poll_reader_required, reader_required
from people.models import RoleAssignment
from plan.models import Category, Level, PlanVersion, Cell
from plan.services import cells

from . import notes, permissions, services, stability, states
from .filters import IncidentFilter
from .forms import LogFaultForm
from .models import Incident, PlanStatus, ResponsePlan, TimelineEntry
from .states import OPEN_STATUSES
from .templatetags.incident_pages import human_duration

PAGE_SIZE = 50
TIMELINE_SHOWN = 5  # the newest entries shown at once; the older ones fold away

# --- reads -------------------------------------------------------------------------------


def _plan_choices(version):
    """The version's categories and levels (mildest first), two queries."""
    return list(Category.objects.filter(version=version)), list(Level.objects.filter(version=version))


@dataclass
class ToldRole:
    role: object
    asks: list = field(default_factory=list)
    people: list = field(default_factory=list)  # (person, on_duty) pairs, people on duty first


@dataclass
class Preview:
    cell: Cell
    told: list
    deadlines: list
    approval_by: object = None
    approval_within: timedelta | None = None


def response_preview(version, category_key, level_key, *, now=None):
    """Exactly who ``log_fault`` would tell and which deadlines it would start, without doing it.

    Both come from ``escalation.services.planned_response``, the function the
    engine itself runs; on-duty people are listed first. A fixed number of queries.
    """
    now = now or timezone.now()
    cell = cells(version).filter(category__key=category_key, level__key=level_key).first()
    if cell is None:
        return None
    planned, plan_told = planned_response(cell, started_at=now)
    roles = {d.role.key: d.role for d in cell.on_site.all()}
    roles |= {n.role.key: n.role for n in cell.notify.all()}
    roles |= {d.to_role.key: d.to_role for d in cell.reports.all()}
    roles |= {d.from_role.key: d.from_role for d in cell.reports.all()}
    told = {}
    for role_key, ask, due_at in plan_told:
        entry = told.setdefault(role_key, ToldRole(role=roles[role_key]))
        if ask == Ask.ON_SITE:
            entry.asks.append(_("be on site within %(within)s") % {"within": human_duration(due_at - now)})
        elif ask == Ask.ACKNOWLEDGE:
            entry.asks.append(_("acknowledge and respond"))
        else:
            senders = [roles[d.role_key].name for d in planned if d.kind == Kind.REPORT and d.to_role_key == role_key]
            entry.asks += [_("receives the report of %(role)s") % {"role": name} for name in senders]
    holders = {}
    for assignment in (RoleAssignment.objects.filter(role_key__in=told, person__is_active=True)
                       .select_related("person").order_by("person_id")):
        holders.setdefault(assignment.role_key, []).append(assignment.person)
    on_duty = {}
    for shift in shifts_on_duty(at=now).filter(role_key__in=told):
        on_duty.setdefault(shift.role_key, [])
        if shift.person not in on_duty[shift.role_key]:
            on_duty[shift.role_key].append(shift.person)
    for key, entry in told.items():
        duty = on_duty.get(key, [])
        entry.people = [(p, True) for p in duty] + [(p, False) for p in holders.get(key, []) if p not in duty]

    deadlines = []
    for d in planned:
        within = d.due_at - d.started_at
        if d.kind == Kind.ON_SITE:
            deadlines.append({"kind": "on_site", "role": roles[d.role_key], "within": within, "due_at": d.due_at})
        elif d.kind == Kind.ESCALATION:
            deadlines.append({"kind": "escalation", "target": cell.escalate_to, "within": within,
                              "due_at": d.due_at, "condition": cell.escalation_condition})
        else:
            deadlines.append({"kind": "report", "role": roles[d.role_key], "to_role": roles[d.to_role_key],
                              "within": None, "due_at": d.due_at})
    return Preview(cell=cell, told=list(told.values()), deadlines=deadlines, approval_by=cell.approval_by,
                   approval_within=cell.approval_deadline)


def _criteria_by_level(version):
    """{level key: [(category key, category name, criteria)]}, for the level cards of the form."""
    by_level = {}
    for cell in (Cell.objects.filter(version=version).select_related("category", "level")
                 .order_by("category__position")):
        by_level.setdefault(cell.level.key, []).append((cell.category.key, cell.category.name, cell.criteria))
    return by_level


def incident_for_page(pk):
    """The incident with everything its page shows, in a fixed number of queries."""
    return get_object_or_404(
        Incident.objects.with_plan().select_related("acknowledged_by", "resolved_by").prefetch_related(
            Prefetch("timeline", queryset=TimelineEntry.objects.select_related("actor").order_by("at", "id")),
            # The plan response's own deadlines; those of the before and after (reports to outside parties,
            # call-outs, remediation) are on their apps' pages, linked from this one.
            Prefetch("deadlines", queryset=Deadline.objects.filter(kind__in=RESPONSE_KINDS).select_related("met_by")
                     .order_by("due_at", "id")),
            Prefetch("response_plans", queryset=ResponsePlan.objects.select_related("proposed_by", "decided_by")
                     .order_by("-proposed_at", "-id")),
        ),
        pk=pk,
    )


def _list_rows(queryset):
    return queryset.select_related("category", "level", "reporter")


# --- log a fault --------------------------------------------------------------------------


def _new_context(request, version, form, preview=None):
    categories, levels = _plan_choices(version)
    by_level = _criteria_by_level(version)
    chosen_category = form["category"].value() or ""
    return {
        "form": form,
        "version": version,
        "categories": categories,
        "levels": levels,
        "level_cards": [{"level": lv, "criteria": by_level.get(lv.key, [])} for lv in levels],
        "chosen_category": chosen_category,
        "chosen_level": form["level"].value() or "",
        "preview": preview,
        "error_summary": form.labelled_errors() if form.is_bound else [],
        "show_errors": form.is_bound,
    }


@reader_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    version = PlanVersion.objects.filter(is_active=True).first()
    if version is None:
        return render(request, "incidents/no_plan.html", status=503)
    categories, levels = _plan_choices(version)
    status = 200
    preview = None
    if request.method == "POST":
        form = LogFaultForm(request.POST, categories=categories, levels=levels)
        if "preview" in request.POST:
            # Without JavaScript: the "who will be told" button shows the preview and keeps what was typed.
            category, level = request.POST.get("category", ""), request.POST.get("level", "")
            preview = response_preview(version, category, level) if category and level else None
            context = _new_context(request, version, form, preview)
            context["error_summary"], context["show_errors"] = [], False
            return render(request, "incidents/new.html", context)
        if form.is_valid():
            try:
                incident = services.log_fault(reporter=request.user, plan_version=version,
                                              **form.service_arguments())
            except ValidationError as invalid:
                form.add_service_errors(invalid)
            except Refused as refused:
                form.add_error(None, refused.message)
                status = refused.status_code
            else:
                messages.success(request, _("Incident #%(id)d logged; the plan's roles are being told.")
                                 % {"id": incident.pk})
                return redirect("incident_detail", pk=incident.pk)
        status = 400 if status == 200 else status
        category, level = form["category"].value(), form["level"].value()
        if category and level:
            preview = response_preview(version, category, level)
    else:
        initial = {k: request.GET[k] for k in ("category", "level") if request.GET.get(k)}
        form = LogFaultForm(initial=initial, categories=categories, levels=levels)
        if initial.get("category") and initial.get("level"):
            preview = response_preview(version, initial["category"], initial["level"])
    return render(request, "incidents/new.html", _new_context(request, version, form, preview), status=status)


@reader_required
@require_GET
def incident_new_preview(request):
    """The HTML fragment the form fetches whenever category or level changes."""
    version = PlanVersion.objects.filter(is_active=True).first()
    category, level = request.GET.get("category", ""), request.GET.get("level", "")
    preview = response_preview(version, category, level) if version and category and level else None
    status = 200 if preview or not (category and level) else 404
    return render(request, "incidents/_preview.html", {"preview": preview, "asked": bool(category and level)},
                  status=status)


# --- one incident -------------------------------------------------------------------------


@reader_required
@require_GET
def incident_detail(request, pk):
    incident = incident_for_page(pk)
    version = incident.plan_version
    roles = {r.key: r for r in version.roles.all()}
    levels = list(Level.objects.filter(version=version))
    cell = cell_of(incident)
    actions, unavailable = services.action_choices(request.user, incident=incident)
    plans = list(incident.response_plans.all())
    pending = next((p for p in plans if p.status == PlanStatus.PENDING), None)
    deadlines = list(incident.deadlines.all())
    for deadline in deadlines:
        deadline.role = roles.get(deadline.role_key)
        deadline.to_role = roles.get(deadline.to_role_key)
        deadline.target = next((lv for lv in levels if lv.key == deadline.target_level_key), None)
    for plan in plans:
        plan.approver = roles.get(plan.approver_role_key)
    more_severe = [lv for lv in levels if lv.is_more_severe_than(incident.level)]  # the next level up first
    timeline = list(incident.timeline.all())[::-1]  # newest first
    # A TemplateResponse, so the page's view one layer up (dashboard.views.incident_page) can add what
    # monitoring says before it renders.
    now = timezone.now()
    return TemplateResponse(request, "incidents/detail.html", {
        "incident": incident,
        "cell": cell,
        "steps": list(cell.steps.all()),
        "deadlines": deadlines,
        "timeline": timeline[:TIMELINE_SHOWN],
        "older_timeline": timeline[TIMELINE_SHOWN:],
        "plans": plans,
        "pending_plan": pending,
        "actions": actions,
        "unavailable": unavailable,  # (action, why not) pairs
        "roles": roles,
        "levels_by_key": {lv.key: lv for lv in levels},
        "more_severe": more_severe,
        "milder": [lv for lv in levels if incident.level.is_more_severe_than(lv)][::-1],  # the next level down first
        "now": now,
        # The plan's stability rule (plan 4.2.2) for the resolve form: from when, and why not yet for this viewer.
        "stability_ends_at": stability.watch_ends_at(incident, cell),
        "stability_refusal": stability.refusal(incident, cell=cell, person=request.user, now=now)
        if "resolve" in actions else None,
        "may_add_note": may_add_note(request.user, incident=incident, cell=cell),
        "note_attachment_max": notes.human_size(settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES),
        "note_attachment_max_bytes": settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES,
        "note_attachment_too_big": notes.too_big(),
    })


def may_add_note(person, *, incident, cell):
    """Whether the page offers the note form (the same rules services.add_note applies)."""
    return (states.allowed("add_note", status=incident.status)
            and permissions.refusal(person, action="add_note", incident=incident, cell=cell) is None)


# --- lists ----------------------------------------------------------------------------------


def _open_first(queryset):
    return queryset.annotate(
        open_rank=Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()),
    ).order_by("open_rank", "-opened_at", "-id")


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@reader_required
@require_GET
def incident_mine(request):
    person = request.user
    told = Notification.objects.filter(Q(person=person) | Q(role_key__in=person.role_keys()), incident__isnull=False)
    acted = TimelineEntry.objects.filter(actor=person)
    mine = Incident.objects.filter(
        Q(reporter=person) | Q(pk__in=told.values("incident_id")) | Q(pk__in=acted.values("incident_id")),
    )
    page = _page(request, _list_rows(_open_first(mine)))
    return render(request, "incidents/mine.html", {"page": page, "query": _query_without_page(request)})


def _filtered_page(request):
    filters = IncidentFilter(request.GET, queryset=Incident.objects.all())
    queryset = filters.qs if filters.is_valid() else Incident.objects.all()
    return _page(request, _list_rows(queryset.order_by("-opened_at", "-id"))), filters


def _revalidate(response):
    # Always revalidate: the ETag makes that a cheap 304.
    patch_cache_control(response, no_cache=True, private=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


@reader_required
@require_GET
def incident_list(request):
    version = PlanVersion.objects.filter(is_active=True).first()
    categories, levels = _plan_choices(version) if version else ([], [])
    page, filters = _filtered_page(request)
    return _revalidate(render(request, "incidents/list.html", {
        "page": page,
        "categories": categories,
        "levels": levels,
        "chosen": {k: request.GET.get(k, "") for k in ("open", "level", "category", "drill")},
        "query": _query_without_page(request),
        "rows_query": request.GET.urlencode(),
        "filter_errors": filters.errors,
    }))


def _rows_etag(request):
    """One query: every change of an incident writes a timeline row, and a new incident raises the count."""
    newest_entry, incidents = scalars(aggregate_of(TimelineEntry.objects, Max("id")),
                                      aggregate_of(Incident.objects, Count("id")))
    parts = (newest_entry, incidents, get_language(), request.GET.urlencode(), "v1")
    return hashlib.sha1("|".join(str(part) for part in parts).encode()).hexdigest()[:20]


@poll_reader_required
@require_GET
@condition(etag_func=_rows_etag)
def incident_rows(request):
    """The list's rows for the list's querystring, polled by the list page so a new incident appears."""
    page, _filters = _filtered_page(request)
    return _revalidate(render(request, "incidents/_rows.html", {"page": page, "query": _query_without_page(request)}))
