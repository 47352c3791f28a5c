"""The alert storm page: the groups a storm took in, and splitting one out (alerts/storms.py)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import Refused
from incidents import permissions
from people.access import reader_required

from .models import AlertGroup, AlertStorm
from .selectors import storm_with_groups
from .splitting import alert_group_split_out


@reader_required
@require_GET
def storm_detail(request, pk):
    try:
        storm, groups = storm_with_groups(pk)
    except AlertStorm.DoesNotExist:
        raise Http404("no such storm") from None
    refusal = permissions.refusal(request.user, action="split_storm", incident=storm.incident)
    return render(request, "alerts/storm.html", {
        "storm": storm, "groups": groups, "may_split": refusal is None and storm.incident.is_open,
        "why_not": refusal,
    })


@reader_required
@require_POST
def storm_group_split(request, pk, group_id):
    group = AlertGroup.objects.filter(pk=group_id, storm_id=pk).first()
    if group is None:
        raise Http404("no such group in this storm")
    try:
        incident = alert_group_split_out(group=group, actor=request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect("alerts:storm", pk=pk)
    messages.success(request, _("The group has its own incident now: #%(id)d.") % {"id": incident.pk})
    return redirect("incident_detail", pk=incident.pk)
