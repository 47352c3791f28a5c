"""The office's pages: the live dashboard, the approval queue and the announcements.

Views read through ``selectors`` and write through ``services`` (incidents and
dashboard); they hold no rules of their own.
"""


from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET, require_POST

from alerts.selectors import monitoring_state, storm_of_incident
from core.errors import Refused
from escalation.services import cell_of
from incidents import permissions, states
from incidents import services as incident_services
from incidents import views as incident_views
from incidents.models import Incident, PlanStatus, ResponsePlan, Source
from incidents.action_views import render_decision_confirm
from people.access import poll_reader_required, reader_required

from . import rows, selectors

FRAGMENT_CACHE_SECONDS = 30


def _dashboard_context(request, filters, choices=None):
    groups, counts, shown = selectors.open_incidents(filters)
    drill_label, nobody_label = _("DRILL"), _("nobody yet")
    for group in groups:
        group.rows_html = rows.group_rows_html(group, drill_label, nobody_label)
    levels, categories = choices or selectors.plan_choices()
    events = selectors.alarm_events(shown, levels=levels)
    alarm_key = events[0]["id"] if events else 0
    return {
        "filters": filters,
        "groups": groups,
        "level_counts": [(level, counts.get(level.key, 0)) for level in levels],
        "open_total": sum(counts.values()),
        "drills_shown": sum(1 for group in groups for row in group.rows if row.is_drill),
        "drill_alarm": settings.DRILLS_ALARM,
        "shown_total": len(shown),
        "levels": levels,
        "categories": categories,
        "alarm_events": events,
        "alarm_key": alarm_key,
        "alarm_level": events[0]["level"] if events else "",
        "announcements": selectors.recent_announcements(levels),
        "rendered_at": timezone.now(),
    }


def _no_store(response):
    # Always revalidate: the ETag makes that a cheap 304.
    patch_cache_control(response, no_cache=True, private=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def _fragment_html(request, filters, etag, choices=None):
    """The rendered fragment, shared by every screen with the same language and filters.

    Keyed by the fingerprint, so it is rendered once per change however many
    screens poll; the short expiry bounds what the fingerprint does not see
    (a person renamed). Ages inside are as of the render: the ticker redraws them.
    """
    key = f"dashboard:fragment:{etag}"
    html = cache.get(key)
    if html is None:
        html = render_to_string("dashboard/_fragment.html", _dashboard_context(request, filters, choices),
                                request=request)
        cache.set(key, html, FRAGMENT_CACHE_SECONDS)
    return html


@reader_required
@require_GET
def dashboard(request):
    filters = selectors.Filters.from_query(request.GET)
    # The fingerprint before the data: a change in between makes the first poll fetch again, never miss it.
    etag = selectors.dashboard_etag(filters)
    levels, categories = selectors.plan_choices()
    context = {"filters": filters, "etag": etag, "levels": levels, "categories": categories,
               "fragment_html": _fragment_html(request, filters, etag, (levels, categories))}
    context["may_announce"] = permissions.refusal(request.user, action="announce") is None
    return _no_store(render(request, "dashboard/dashboard.html", context))


def _fragment_etag(request):
    request.dashboard_etag = selectors.dashboard_etag(selectors.Filters.from_query(request.GET))
    return request.dashboard_etag


@poll_reader_required
@require_GET
@condition(etag_func=_fragment_etag)
def fragment(request):
    filters = selectors.Filters.from_query(request.GET)
    return _no_store(HttpResponse(_fragment_html(request, filters, request.dashboard_etag)))


# --- one incident ------------------------------------------------------------------


def incident_page(request, pk):
    """The incident page (``incidents.views.incident_detail``) with what monitoring says on top.

    Routed here, not in incidents: the alerts sit one layer above incidents,
    which may not import them, and below this app, which reads every layer.
    """
    response = incident_views.incident_detail(request, pk)
    if isinstance(response, TemplateResponse) and response.context_data is not None:
        incident = response.context_data["incident"]
        response.context_data["monitoring"] = monitoring_state(incident)
        # Only an incident an integration opened can be an alert storm's: people's incidents pay no query.
        opened_by_monitoring = incident.reporter_id is None and incident.source != Source.MANUAL
        response.context_data["storm"] = storm_of_incident(incident.pk) if opened_by_monitoring else None
    return response


# --- approvals ---------------------------------------------------------------------


def _approvals_page(request, errors=None, status=200):
    plans = selectors.pending_approvals(request.user)
    now = timezone.now()
    cards = [{
        "plan": plan,
        "overdue": selectors.is_overdue(plan, now=now),
        "decide_by": getattr(selectors.approval_deadline(plan), "due_at", None),
        "error": (errors or {}).get(plan.pk),
    } for plan in plans]
    # An error about a plan not in this queue (decided meanwhile, not the viewer's) shows at the top.
    shown = {plan.pk for plan in plans}
    orphans = [message for key, message in (errors or {}).items() if key not in shown]
    return render(request, "dashboard/approvals.html", {
        "cards": cards, "held_roles": sorted(request.user.role_keys()),
        "orphan_errors": orphans,
    }, status=status)


@reader_required
@require_GET
def approvals(request):
    return _approvals_page(request)


@reader_required
@require_GET
def approval(request, plan_id):
    """One response plan with all an approver needs to decide on it, phone first (issue 14)."""
    plan = selectors.plan_for_approval(plan_id)
    if plan is None:
        raise Http404("no such response plan")
    incident = plan.incident
    version = incident.plan_version
    cell = cell_of(incident)
    roles = {role.key: role for role in version.roles.all()}
    may_decide = (plan.status == PlanStatus.PENDING and states.allowed("approve_plan", status=incident.status)
                  and permissions.refusal(request.user, action="approve_plan", incident=incident, cell=cell,
                                          plan=plan) is None)
    now = timezone.now()
    deadline = selectors.approval_deadline(plan) if plan.status == PlanStatus.PENDING else None
    return render(request, "dashboard/approval.html", {
        "plan": plan, "incident": incident, "cell": cell, "steps": list(cell.steps.all()),
        "timeline": incident.timeline_newest_first, "roles": roles,
        "levels_by_key": {level.key: level for level in version.levels.all()},
        "approver": roles.get(plan.approver_role_key), "may_decide": may_decide,
        "deadline": deadline, "overdue": deadline is not None and selectors.is_overdue(plan, now=now),
        "now": now,
    })


@reader_required
@require_POST
def approval_decide(request, plan_id):
    """Approve or reject, after a confirmation: without ``confirmed=1`` the POST shows the confirm step."""
    plan = get_object_or_404(ResponsePlan.objects.select_related("incident__level"), pk=plan_id)
    decision = request.POST.get("decision")
    comment = request.POST.get("comment", "")
    confirmed = request.POST.get("confirmed") == "1"
    if decision not in ("approve", "reject"):
        return _approvals_page(request, {plan.pk: _("Choose approve or reject.")}, status=400)
    approve = decision == "approve"
    try:
        if not confirmed:
            incident_services.check_decision(plan, actor=request.user, comment=comment, approve=approve)
            return render_decision_confirm(request, plan=plan, decision=decision, comment=comment,
                                           action_url=request.path, back_url=reverse("approval", args=[plan.pk]))
        if approve:
            incident_services.approve_plan(plan, actor=request.user, comment=comment)
            messages.success(request, _("Approved the response plan for incident #%(id)d.") % {"id": plan.incident_id})
        else:
            incident_services.reject_plan(plan, actor=request.user, comment=comment)
            messages.success(request, _("Rejected the response plan for incident #%(id)d.") % {"id": plan.incident_id})
    except Refused as refused:
        return _approvals_page(request, {plan.pk: refused.message}, status=refused.status_code)
    except ValidationError as invalid:
        return render_decision_confirm(request, plan=plan, decision=decision, comment=comment, invalid=invalid,
                                       action_url=request.path, back_url=reverse("approval", args=[plan.pk]))
    return redirect("approvals")


# --- announcements -----------------------------------------------------------------


@reader_required
@require_GET
def announcements(request):
    levels, _categories = selectors.plan_choices()
    return render(request, "dashboard/announcements.html", {"announcements": selectors.announcements_page(levels)})


@reader_required
@require_POST
def announcement_new(request):
    incident_id = request.POST.get("incident", "")
    if not (incident_id.isascii() and incident_id.isdigit()):  # isdigit() alone admits "²"
        messages.error(request, _("Choose the incident to announce."))
        return redirect("dashboard")
    incident = get_object_or_404(Incident.objects.with_plan(), pk=int(incident_id))
    try:
        incident_services.announce(incident, author=request.user, text_en=request.POST.get("text_en", ""),
                                   text_zh=request.POST.get("text_zh", ""))
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, _("Announced to the business departments."))
    return redirect("dashboard")
