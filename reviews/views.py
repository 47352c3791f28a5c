"""The review page (the editor, the figures, the actions of one incident), the open actions list, and the
archive confirmation. Every write goes through ``reviews.services``; a refusal or bad input becomes a message
on the page, never a 500.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets.models import Asset
from core.errors import Refused
from incidents import permissions as incident_permissions
from incidents import states
from incidents.models import Incident
from incidents.states import Status
from people.access import reader_required
from people.models import Person

from . import permissions, selectors, services
from .models import REQUIRED_SECTIONS, SECTIONS, Action, ActionStatus, ReviewStatus

SECTION_TITLES = {
    "summary": gettext_lazy("What happened"),
    "impact": gettext_lazy("Impact"),
    "root_cause": gettext_lazy("Root cause"),
    "went_well": gettext_lazy("What went well"),
    "went_wrong": gettext_lazy("What went wrong"),
    "lessons": gettext_lazy("Lessons"),
}
SECTION_HINTS = {
    "summary": gettext_lazy("The fault, how it was found and what was done."),
    "impact": gettext_lazy("Business interrupted, branches and systems affected (the figures are computed below)."),
    "root_cause": gettext_lazy("Why it happened."),
    "went_well": gettext_lazy("What worked in the response."),
    "went_wrong": gettext_lazy("What did not, including missed deadlines."),
    "lessons": gettext_lazy("What changes: in the systems, the procedures, the plan."),
}
FIELD_LABELS = {**SECTION_TITLES, "title": gettext_lazy("Action"), "owner": gettext_lazy("Owner"),
                "due_at": gettext_lazy("Due"), "evidence": gettext_lazy("Evidence"),
                "reason": gettext_lazy("Reason")}
PAGE_SIZE = 50


def describe(invalid: ValidationError) -> str:
    """A ValidationError as one sentence per field, each naming the field in the reader's words."""
    if not hasattr(invalid, "error_dict"):
        return " ".join(invalid.messages)
    return " ".join(f"{FIELD_LABELS.get(name, name)}: {message}"
                    for name, messages_ in invalid.message_dict.items() for message in messages_)


def _attempt(request, call, done: str) -> bool:
    try:
        call()
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, describe(invalid))
    else:
        messages.success(request, done)
        return True
    return False


def _review_url(pk: int, anchor: str = "") -> str:
    return reverse("review_page", args=[pk]) + (f"#{anchor}" if anchor else "")


# --- the review page --------------------------------------------------------------------------------


@reader_required
@require_GET
def review_page(request, pk):
    incident = get_object_or_404(Incident.objects.with_plan(), pk=pk)
    reading = selectors.review_of(incident)
    actions = list(selectors.actions_of(incident))
    archived = incident.status == Status.ARCHIVED
    person = request.user
    review = reading.review if reading else None
    may = {name: not archived and permissions.may(person, action=name, incident=incident)
           for name in ("edit_review", "approve_review", "add_action", "carry_over_action")}
    for action in actions:
        action.may_complete = not archived and action.status == ActionStatus.OPEN and permissions.may(
            person, action="complete_action", incident=incident, subject=action)
        action.may_carry_over = not archived and action.status == ActionStatus.OPEN and may["carry_over_action"]
    sections = [{"name": name, "title": SECTION_TITLES[name], "hint": SECTION_HINTS[name],
                 "required": name in REQUIRED_SECTIONS, "text": getattr(review, name) if review else ""}
                for name in SECTIONS]
    archive_reasons = services.archive_refusals(incident) if incident.status == Status.REVIEWED else []
    may_archive = (states.allowed("archive", status=incident.status) and not archive_reasons
                   and incident_permissions.refusal(person, action="archive", incident=incident) is None)
    return render(request, "reviews/review.html", {
        "incident": incident, "reading": reading, "review": review, "sections": sections, "actions": actions,
        "archived": archived, "may": may, "editable": bool(review and review.status == ReviewStatus.DRAFT
                                                           and may["edit_review"]),
        "approvable": bool(review and review.status == ReviewStatus.SUBMITTED and may["approve_review"]),
        "archive_reasons": archive_reasons, "may_archive": may_archive,
        "people": Person.objects.filter(is_active=True).order_by("username") if may["add_action"] else [],
        "now": timezone.now(),
    })


@reader_required
@require_POST
def review_save(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    changes = {name: request.POST.get(name, "") for name in SECTIONS if name in request.POST}
    submit = request.POST.get("submit") == "1"

    def call():
        services.review_update(incident, actor=request.user, changes=changes)
        if submit:
            services.review_submit(incident, actor=request.user)

    _attempt(request, call, _("Review submitted for approval.") if submit else _("Review saved."))
    return redirect(_review_url(incident.pk, "review"))


@reader_required
@require_POST
def review_decide(request, pk, decision):
    incident = get_object_or_404(Incident, pk=pk)
    if decision == "approve":
        _attempt(request, lambda: services.review_approve(incident, actor=request.user),
                 _("Review approved; the incident is reviewed."))
    else:
        _attempt(request, lambda: services.review_return(incident, actor=request.user,
                                                         reason=request.POST.get("reason", "")),
                 _("Review returned to the office for changes."))
    return redirect(_review_url(incident.pk, "review"))


# --- actions -------------------------------------------------------------------------------------------


def _due_from_form(value: str):
    """A due time from the form's ``datetime-local`` field, in the site's time zone; None when unreadable."""
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@reader_required
@require_POST
def action_add(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    raw_due = request.POST.get("due_at", "")
    due = _due_from_form(raw_due)

    def call():
        if raw_due.strip() and due is None:
            raise ValidationError({"due_at": [_("not a date and time: %(value)s") % {"value": raw_due[:40]}]})
        services.action_create(incident, actor=request.user, title=request.POST.get("title", ""),
                               owner=request.POST.get("owner", ""), due_at=due)

    _attempt(request, call, _("Remediation action added."))
    return redirect(_review_url(incident.pk, "actions-list"))


def _back(request, action):
    wanted = request.POST.get("next", "")
    if wanted == "list" or action.incident_id is None:  # an asset's action has no review page
        return redirect(reverse("actions_page"))
    return redirect(_review_url(action.incident_id, f"action-{action.pk}"))


@reader_required
@require_POST
def action_done(request, pk):
    action = get_object_or_404(Action, pk=pk)
    _attempt(request, lambda: services.action_done(action, actor=request.user,
                                                   evidence=request.POST.get("evidence", "")),
             _("Action recorded done."))
    return _back(request, action)


@reader_required
@require_POST
def action_carry_over(request, pk):
    action = get_object_or_404(Action, pk=pk)
    _attempt(request, lambda: services.action_carry_over(action, actor=request.user,
                                                         reason=request.POST.get("reason", "")),
             _("Action carried over."))
    return _back(request, action)


@reader_required
@require_GET
def actions_page(request):
    """Every open action across incidents and assets, soonest due first; filters: owner (username), overdue,
    asset (tag)."""
    owner = (request.GET.get("owner") or "").strip()
    overdue = request.GET.get("overdue") in ("1", "true", "on")
    asset = (request.GET.get("asset") or "").strip()
    actions = selectors.open_actions(owner=owner or None, overdue=True if overdue else None, asset=asset or None)
    page = Paginator(actions, PAGE_SIZE).get_page(request.GET.get("page"))
    owners = Person.objects.filter(remediation_actions__status=ActionStatus.OPEN).distinct().order_by("username")
    assets = Asset.objects.filter(remediation_actions__status=ActionStatus.OPEN).distinct().order_by("tag")
    # The actions of an asset alone are judged by the active plan: once for the page, not once per action.
    office_of_assets = permissions.may(request.user, action="carry_over_action", incident=None)
    for action in page:
        if action.incident_id is None:
            action.may_complete = office_of_assets or action.owner_id == request.user.pk
            action.may_carry_over = office_of_assets
            continue
        action.may_complete = permissions.may(request.user, action="complete_action", incident=action.incident,
                                              subject=action)
        action.may_carry_over = permissions.may(request.user, action="carry_over_action", incident=action.incident)
    return render(request, "reviews/actions.html", {
        "page": page, "owner": owner, "overdue": overdue, "owners": owners, "now": timezone.now(),
        "asset": asset, "assets": assets, "query": _filters_query(owner, overdue, asset),
        "mine": request.GET.get("owner") == request.user.username,
    })


def _filters_query(owner: str, overdue: bool, asset: str) -> str:
    """The list's filters as a query string, for the pager's links."""
    return urlencode({key: value for key, value in (("owner", owner), ("overdue", "1" if overdue else ""),
                                                    ("asset", asset)) if value})


# --- archiving: asked, then confirmed -----------------------------------------------------------------


@reader_required
@require_http_methods(["GET", "POST"])
def archive_confirm(request, pk):
    """What archiving means and whether the incident is ready; nothing changes until the form says confirmed=1."""
    incident = get_object_or_404(Incident.objects.with_plan(), pk=pk)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        if _attempt(request, lambda: services.incident_archive(incident, actor=request.user),
                    _("Incident archived. Its record is now read-only.")):
            return redirect(reverse("incident_detail", args=[incident.pk]))
        return redirect(reverse("incident_archive", args=[incident.pk]))
    reasons = []
    if not states.allowed("archive", status=incident.status):
        reasons.append(_("the incident is %(status)s: only a reviewed incident can be archived")
                       % {"status": incident.get_status_display()})
    reasons += services.archive_refusals(incident) if incident.status != Status.ARCHIVED else []
    refusal = incident_permissions.refusal(request.user, action="archive", incident=incident)
    if refusal and incident.status != Status.ARCHIVED:
        reasons.append(refusal)
    reading = selectors.review_of(incident)
    return render(request, "reviews/archive_confirm.html", {
        "incident": incident, "reasons": reasons, "reading": reading,
        "actions": list(selectors.actions_of(incident)), "archived": incident.status == Status.ARCHIVED,
    }, status=200)
