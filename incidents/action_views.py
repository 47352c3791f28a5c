"""Acting on one incident from its page: the action forms, the confirmations, notes and their attachments.

Every write goes through ``incidents.services``; a refusal or bad input becomes
a message on the page, never a 500. Raising or lowering the level and deciding
on a response plan show a confirmation first (issue 14): nothing changes until
the form comes back with ``confirmed=1``.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.errors import Refused
from escalation.models import Deadline, Kind, State
from notifications.models import Announcement
from people.access import reader_required

from . import notes, services
from .models import Incident, NoteAttachment, PlanStatus, ResponsePlan
from .views import response_preview

# The words a person sees for the fields the services name in their ValidationErrors.
FIELD_LABELS = {
    "level": gettext_lazy("Level"),
    "reason": gettext_lazy("Reason"),
    "text": gettext_lazy("Response plan"),
    "comment": gettext_lazy("Comment"),
    "summary": gettext_lazy("Summary"),
    "stability": gettext_lazy("Stability observed"),
    "note": gettext_lazy("Note"),
    "plan": gettext_lazy("Response plan"),
    "file": gettext_lazy("Attachment"),
}


def _plan_to_decide(request, incident):
    plan_id = request.POST.get("plan", "")
    plans = ResponsePlan.objects.filter(incident=incident)
    # isdigit() alone admits "²" and other digits int() refuses.
    chosen = plan_id.isascii() and plan_id.isdigit()
    plan = (plans.filter(pk=int(plan_id)) if chosen else plans.filter(status=PlanStatus.PENDING)).first()
    if plan is None:
        raise ValidationError({"plan": [_("there is no response plan awaiting a decision")]})
    return plan


@reader_required
@require_POST
def incident_add_note(request, pk):
    """The note form (multipart): a refusal or a bad attachment becomes a message, the note goes on the timeline."""
    incident = get_object_or_404(Incident.objects.with_plan(), pk=pk)
    try:
        services.add_note(incident, actor=request.user, text=request.POST.get("text", ""),
                          attachment=request.FILES.get("file"))
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, describe_invalid(invalid))
    else:
        messages.success(request, _("Note added to the timeline."))
        return redirect(reverse("incident_detail", args=[incident.pk]) + "#timeline")
    return redirect(reverse("incident_detail", args=[incident.pk]) + "#note")


@reader_required
@require_GET
def incident_note_attachment(request, pk, aid):
    attachment = get_object_or_404(NoteAttachment, incident_id=pk, pk=aid, entry__isnull=False)
    return notes.attachment_response(attachment)


def _act_with_plan(decide):
    def act(request, incident):
        return decide(_plan_to_decide(request, incident), actor=request.user, comment=request.POST.get("comment", ""))
    return act


# action → (call the service, what to tell the person when it worked)
ACTIONS = {
    "acknowledge": (lambda r, i: services.acknowledge(i, actor=r.user),
                    gettext_lazy("You have taken the incident on.")),
    "check_in": (lambda r, i: services.check_in(i, actor=r.user),
                 gettext_lazy("Checked in on site.")),
    "escalate": (lambda r, i: services.escalate(i, level_key=r.POST.get("level", ""), actor=r.user,
                                                reason=r.POST.get("reason", "")),
                 gettext_lazy("Level raised; the new level's roles are being told.")),
    "propose_plan": (lambda r, i: services.propose_plan(i, actor=r.user, text=r.POST.get("text", "")),
                     gettext_lazy("Response plan proposed.")),
    "approve_plan": (_act_with_plan(services.approve_plan), gettext_lazy("Response plan approved.")),
    "reject_plan": (_act_with_plan(services.reject_plan), gettext_lazy("Response plan rejected.")),
    "start_implementing": (lambda r, i: services.start_implementing(i, actor=r.user),
                           gettext_lazy("Implementation started.")),
    "mark_recovered": (lambda r, i: services.mark_recovered(i, actor=r.user, note=r.POST.get("note", "")),
                       gettext_lazy("Marked recovered; confirm stability before resolving.")),
    "resolve": (lambda r, i: services.resolve(i, actor=r.user, summary=r.POST.get("summary", ""),
                                              stability=r.POST.get("stability", "")),
                gettext_lazy("Incident resolved.")),
    "deescalate": (lambda r, i: services.deescalate(i, level_key=r.POST.get("level", ""), actor=r.user,
                                                    reason=r.POST.get("reason", "")),
                   gettext_lazy("Level lowered.")),
    # Archiving is confirmed on its own page first (reviews.views.archive_confirm), not posted from here.
}


def describe_invalid(invalid):
    """A ValidationError as one sentence per field, each naming the field."""
    if not hasattr(invalid, "error_dict"):
        return " ".join(invalid.messages)
    parts = []
    for name, messages_ in invalid.message_dict.items():
        label = FIELD_LABELS.get(name, name.replace("_", " "))
        parts += [f"{label}: {message}" for message in messages_]
    return " ".join(parts)


# --- deciding on a response plan: a confirmation first (issue 14) -----------------------------

DECISIONS = {"approve_plan": "approve", "reject_plan": "reject"}


def render_decision_confirm(request, *, plan, decision, action_url, back_url, comment="", invalid=None):
    """The confirmation before a decision: the plan in full, the comment or reason, "Yes, approve".

    Its form posts the same fields again with ``confirmed=1``; the approvals
    page and the incident page both show it. A rejection without a reason
    comes back here with the message and what was typed (400).
    """
    error = ""
    if invalid is not None:
        error = (str(REJECT_NEEDS_A_REASON) if "comment" in getattr(invalid, "error_dict", {})
                 else describe_invalid(invalid))
    return render(request, "incidents/decide_confirm.html", {
        "plan": plan, "incident": plan.incident, "decision": decision, "approve": decision == "approve",
        "action_url": action_url, "back_url": back_url, "comment": comment, "error": error,
    }, status=400 if error else 200)


REJECT_NEEDS_A_REASON = gettext_lazy("Rejecting needs a reason: write why the plan is rejected. "
                                     "The proposer is told it.")


def _decide_after_confirming(request, incident, action):
    """Approve or reject from the incident page: the confirmation first, the decision with ``confirmed=1``."""
    back = reverse("incident_detail", args=[incident.pk]) + "#actions"
    comment, confirmed = request.POST.get("comment", ""), request.POST.get("confirmed") == "1"
    plan = None
    try:
        plan = _plan_to_decide(request, incident)
        if confirmed:
            ACTIONS[action][0](request, incident)
        else:
            services.check_decision(plan, actor=request.user, comment=comment, approve=action == "approve_plan")
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        if plan is None:
            messages.error(request, describe_invalid(invalid))
        else:
            return render_decision_confirm(request, plan=plan, decision=DECISIONS[action], comment=comment,
                                           action_url=request.path, back_url=back, invalid=invalid)
    else:
        if not confirmed:
            return render_decision_confirm(request, plan=plan, decision=DECISIONS[action], comment=comment,
                                           action_url=request.path, back_url=back)
        messages.success(request, str(ACTIONS[action][1]))
    return redirect(back)


def _confirm_level_change(request, incident, action):
    """A level change is confirmed before it is made: the page lists what the new level sets off (who is
    told, which deadlines start and end, which approval it needs). Nothing changes until ``confirmed=1``."""
    level_key, reason = request.POST.get("level", ""), request.POST.get("reason", "")
    try:
        target = services.check_level_change(incident, action=action, level_key=level_key, actor=request.user,
                                             reason=reason)
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, describe_invalid(invalid))
    else:
        now = timezone.now()
        preview = response_preview(incident.plan_version, incident.category.key, target.key, now=now)
        pending = ResponsePlan.objects.filter(incident=incident, status=PlanStatus.PENDING).first()
        announced = (target.announced
                     and not Announcement.objects.filter(incident=incident, level_key=target.key).exists())
        # The kinds levels.change_level cancels: the current level's own clocks.
        current = (Deadline.objects.filter(incident=incident, state=State.PENDING,
                                           kind__in=[Kind.ON_SITE, Kind.ESCALATION, Kind.REPORT])
                   .order_by("due_at", "id"))
        roles = {r.key: r for r in incident.plan_version.roles.all()}
        ending = [(d, roles.get(d.role_key)) for d in current]
        return render(request, "incidents/escalate_confirm.html", {
            "incident": incident, "action": action, "target": target, "reason": reason.strip(),
            "preview": preview, "pending_plan": pending, "announced": announced, "ending": ending,
            "reapproval_by": (preview.approval_by or roles.get(pending.approver_role_key)) if pending and preview
            else None,
        })
    return redirect(reverse("incident_detail", args=[incident.pk]) + "#actions")


@reader_required
@require_POST
def incident_act(request, pk, action):
    if action not in ACTIONS:
        raise Http404("no such action")
    incident = get_object_or_404(Incident.objects.with_plan(), pk=pk)
    if action in DECISIONS:
        return _decide_after_confirming(request, incident, action)
    if action in {"escalate", "deescalate"} and request.POST.get("confirmed") != "1":
        return _confirm_level_change(request, incident, action)
    call, done = ACTIONS[action]
    try:
        call(request, incident)
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, describe_invalid(invalid))
    else:
        messages.success(request, str(done))
    return redirect(reverse("incident_detail", args=[incident.pk]) + "#actions")
