"""The proposal pages: list, new (``?incident=`` from a review), one proposal, its diff, the cell form, raw YAML.

Every write calls one service in ``services``; a refusal shows its reason on the
page it came from, and a draft that fails the plan check shows every error with
its path (status 400), with what the person typed kept in the form.
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Refused
from incidents.models import Incident
from people.access import reader_required
from plan.models import PlanVersion
from plan.reading import PlanFileError
from plan.services import export_version

from . import presentation, selectors, services
from .models import Proposal, ProposalState
from .services import CellEdit

# Blank rows the cell form offers for new steps and on-site duties.
SPARE_STEPS = 2
SPARE_ON_SITE = 1


def _proposal(pk: int) -> Proposal:
    return get_object_or_404(selectors.proposals(), pk=pk)


def _status(refused: Refused) -> int:
    return refused.status_code if 400 <= refused.status_code < 500 else 409


@reader_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    return render(request, "improvements/list.html", {
        "proposals": selectors.proposals()[:200],
        "may_propose": services.propose_refusal(request.user) is None,
    })


@reader_required
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest) -> HttpResponse:
    incident = _incident(request.GET.get("incident") or request.POST.get("incident"))
    refusal = services.propose_refusal(request.user)
    context: dict[str, Any] = {"incident": incident, "refusal": refusal, "reason": "", "errors": []}
    if request.method == "POST":
        context["reason"] = request.POST.get("reason", "")
        try:
            proposal = services.proposal_create(person=request.user, reason=context["reason"], incident=incident)
        except Refused as refused:
            context["errors"] = [refused.message]
            return render(request, "improvements/new.html", context, status=_status(refused))
        messages.success(request, _("Proposal #%(id)s is a draft: change the plan below, then submit it.")
                         % {"id": proposal.pk})
        return redirect("proposal_detail", proposal.pk)
    return render(request, "improvements/new.html", context, status=403 if refusal else 200)


def _incident(value: str | None) -> Incident | None:
    if not value:
        return None
    try:
        return Incident.objects.with_plan().get(pk=int(value))
    except (ValueError, Incident.DoesNotExist):
        raise Http404("no such incident") from None


def _diff_context(proposal: Proposal) -> dict[str, Any]:
    other = services.compared_version(proposal)
    diff = services.proposal_diff(proposal)
    names = presentation.Names(proposal.draft, other)
    return {"compared": other, "diff": diff, "sections": presentation.sections(diff, names)}


def _page_context(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    person = request.user
    draft = proposal.draft
    categories = list(draft.categories.all())
    levels = list(draft.levels.order_by("-rank"))
    is_draft = proposal.state == ProposalState.DRAFT
    return {
        "proposal": proposal, "draft": draft, "categories": categories, "levels": levels,
        "may_edit": is_draft and services.edit_refusal(person, proposal) is None,
        "may_decide": proposal.state == ProposalState.SUBMITTED and services.decide_refusal(person) is None,
        "decide_refusal": services.decide_refusal(person) if proposal.state == ProposalState.SUBMITTED else None,
        "stale": _stale(proposal),
        **_diff_context(proposal),
    }


def _stale(proposal: Proposal) -> PlanVersion | None:
    """The active version, when it is not the one the undecided draft was made from."""
    if proposal.is_decided:
        return None
    active = PlanVersion.objects.filter(is_active=True).first()
    based_on = proposal.draft.based_on
    return active if active is not None and based_on is not None and active.pk != based_on.pk else None


@reader_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(pk)
    return render(request, "improvements/detail.html", _page_context(request, proposal))


@reader_required
def proposal_diff(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(pk)
    return render(request, "improvements/diff.html", {"proposal": proposal, **_diff_context(proposal)})


@reader_required
@require_POST
def proposal_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Submit, approve or reject, from the proposal's page."""
    proposal = _proposal(pk)
    note = request.POST.get("note", "")
    calls = {
        "submit": lambda: services.proposal_submit(proposal=proposal, person=request.user),
        "approve": lambda: services.proposal_approve(proposal=proposal, person=request.user, note=note),
        "reject": lambda: services.proposal_reject(proposal=proposal, person=request.user, note=note),
    }
    if step not in calls:
        raise Http404("no such step")
    errors: list[str] = []
    try:
        calls[step]()
    except Refused as refused:
        errors, status = [refused.message], _status(refused)
    except PlanFileError as failed:
        errors, status = failed.errors, 400
    if errors:
        context = _page_context(request, _proposal(pk))
        return render(request, "improvements/detail.html", {**context, "step_errors": errors, "note": note},
                      status=status)
    done = {"submit": _("Submitted for a decision."),
            "approve": _("Approved: the draft is the active plan version now."),
            "reject": _("Rejected: the proposal and its draft stay on record.")}
    messages.success(request, done[step])
    return redirect("proposal_detail", pk)


def _cell_or_404(proposal: Proposal, category: str, level: str) -> dict[str, Any]:
    try:
        return services.cell_document(proposal, category=category, level=level)
    except Refused:
        raise Http404("no such cell") from None


@reader_required
@require_http_methods(["GET", "POST"])
def cell_edit(request: HttpRequest, pk: int, category: str, level: str) -> HttpResponse:
    proposal = _proposal(pk)
    cell = _cell_or_404(proposal, category, level)
    draft = proposal.draft
    context: dict[str, Any] = {
        "proposal": proposal, "draft": draft,
        "category": get_object_or_404(draft.categories, key=category),
        "level": get_object_or_404(draft.levels, key=level),
        "roles": list(draft.roles.all()), "has_escalation": bool(cell.get("escalate")),
        "errors": [], "refusal": services.edit_refusal(request.user, proposal)
        if proposal.state == ProposalState.DRAFT else _("the proposal is %(state)s: only a draft can be changed")
        % {"state": proposal.get_state_display()},
    }
    if request.method == "POST":
        edit = _cell_edit_from(request.POST)
        try:
            services.proposal_edit_cell(proposal=proposal, person=request.user, category=category, level=level,
                                        edit=edit)
        except Refused as refused:
            context["errors"] = [refused.message]
            return render(request, "improvements/cell.html", {**context, **_form_values(edit, cell)},
                          status=_status(refused))
        except PlanFileError as failed:
            context["errors"] = failed.errors
            return render(request, "improvements/cell.html", {**context, **_form_values(edit, cell)}, status=400)
        messages.success(request, _("The draft's %(category)s × %(level)s cell is changed.")
                         % {"category": context["category"].name, "level": context["level"].name})
        return redirect(reverse("proposal_detail", args=[pk]) + f"#cell-{category}-{level}")
    edit = CellEdit(steps=cell["steps"], notify=cell["notify"], on_site=cell["on_site"],
                    approval_by=(cell["approval"] or {}).get("by", ""),
                    approval_within=(cell["approval"] or {}).get("within", ""),
                    escalate_after=(cell.get("escalate") or {}).get("after", ""))
    return render(request, "improvements/cell.html", {**context, **_form_values(edit, cell)})


def _cell_edit_from(post: Any) -> CellEdit:
    """The form's rows as plan data; a step or duty left wholly blank is dropped, a half-filled one kept for the check."""
    steps = []
    for i in range(int(_number(post.get("step_rows"), 0, 200))):
        en, zh = post.get(f"step-{i}-en", "").strip(), post.get(f"step-{i}-zh", "").strip()
        if en or zh:
            steps.append({"en": en, "zh": zh})
    on_site = []
    for i in range(int(_number(post.get("on_site_rows"), 0, 50))):
        role, within = post.get(f"on_site-{i}-role", "").strip(), post.get(f"on_site-{i}-within", "").strip()
        if role or within:
            on_site.append({"role": role, "within": within})
    return CellEdit(steps=steps, notify=[k for k in post.getlist("notify") if k], on_site=on_site,
                    approval_by=post.get("approval_by", "").strip(),
                    approval_within=post.get("approval_within", "").strip(),
                    escalate_after=post.get("escalate_after", "").strip())


def _number(value: Any, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return low


def _form_values(edit: CellEdit, cell: dict[str, Any]) -> dict[str, Any]:
    steps = [*edit.steps, *({"en": "", "zh": ""} for _ in range(SPARE_STEPS))]
    on_site = [*edit.on_site, *({"role": "", "within": ""} for _ in range(SPARE_ON_SITE))]
    return {"steps": steps, "on_site": on_site, "edit": edit, "criteria": cell.get("criteria")}


@reader_required
@require_http_methods(["GET", "POST"])
def plan_text(request: HttpRequest, pk: int) -> HttpResponse:
    """The advanced editor: the whole draft as YAML, checked like a file for loadplan."""
    proposal = _proposal(pk)
    context: dict[str, Any] = {
        "proposal": proposal, "errors": [],
        "refusal": services.edit_refusal(request.user, proposal) if proposal.state == ProposalState.DRAFT
        else _("the proposal is %(state)s: only a draft can be changed") % {"state": proposal.get_state_display()},
    }
    if request.method == "POST":
        text = request.POST.get("plan", "")
        context["text"] = text
        try:
            services.proposal_update(proposal=proposal, person=request.user, text=text)
        except Refused as refused:
            context["errors"] = [refused.message]
            return render(request, "improvements/plan_text.html", context, status=_status(refused))
        except PlanFileError as failed:
            context["errors"] = failed.errors
            return render(request, "improvements/plan_text.html", context, status=400)
        messages.success(request, _("The draft plan is replaced."))
        return redirect("proposal_detail", pk)
    context["text"] = export_version(proposal.draft)
    return render(request, "improvements/plan_text.html", context)

