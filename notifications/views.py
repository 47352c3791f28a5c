"""Pages: the person's notifications, acknowledging (button or signed link), who is on duty now."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Refused
from people.access import reader_required

from . import answers
from .messages import notification_from_token
from .models import Notification
from .recipients import shifts_on_duty


@reader_required
def notification_list(request):
    items = list(answers.notifications_for(request.user)[:200])
    # Reading changes nothing: marking read is the POST below (prefetchers and reloads must not clear unread).
    return render(request, "notifications/list.html", {"items": items})


@reader_required
@require_POST
def mark_all_read(request):
    answers.mark_read(request.user)
    return redirect("notifications:list")


@reader_required
@require_POST
def acknowledge(request, pk):
    notification = get_object_or_404(Notification, pk=pk, person=request.user)
    answers.acknowledge(notification, person=request.user)
    messages.success(request, _("Acknowledged: %(title)s") % {"title": notification.title})
    return redirect("notifications:list")


# GET only shows a button: mail scanners and link previews fetch links, and must not acknowledge for anyone.
@require_http_methods(["GET", "POST"])
def acknowledge_link(request, token):
    try:
        notification = notification_from_token(token)
    except Refused as refusal:
        return render(request, "notifications/ack_link.html", {"error": refusal.message},
                      status=refusal.status_code)
    if request.method == "POST":
        notification = answers.acknowledge_by_token(token)
    return render(request, "notifications/ack_link.html", {"notification": notification, "token": token})


@reader_required
def roster(request):
    return render(request, "notifications/roster.html", {"shifts": shifts_on_duty()})
