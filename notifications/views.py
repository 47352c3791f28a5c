"""Pages: the person's notifications, the live bell, confirming one read (button or signed link), who is on duty.

Two answers are named apart (issue 14): "I have read this" answers a message
(``answers.confirm_read``); "I am taking this on" takes the incident on, a
POST to the incident's own acknowledge action (the incidents app, a layer up).
"""

import hashlib
from functools import wraps

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST

from core.errors import Refused
from people.access import reader_required

from . import answers
from .messages import notification_from_token
from .models import Ask, Notification
from .recipients import shifts_on_duty

# How many of the newest notifications the bell's answer carries.
BELL_LATEST = 5
# The asks that put the person to work on the incident: they are offered to take it on.
ASKS_TO_TAKE_ON = (Ask.ACKNOWLEDGE, Ask.ON_SITE)


def _poll_login_required(view):
    """A poll from a page whose session expired gets 401, not the login page's HTML; the script reloads."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return HttpResponse(status=401)
        return view(request, *args, **kwargs)

    return wrapped


def _revalidate(response):
    # Always revalidate: the ETag makes that a cheap 304.
    patch_cache_control(response, no_cache=True, private=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def _bell_etag(request):
    request.bell_state = answers.bell_state(request.user)
    parts = (*request.bell_state.values(), request.user.pk, get_language(), request.resolver_match.url_name, "v1")
    return hashlib.sha1("|".join(str(part) for part in parts).encode()).hexdigest()[:20]


def _offers(items):
    """Each notification with whether to offer "I am taking this on": the person was asked to respond,
    and the incident is still open and not yet taken on by anyone (the incident page refuses the rest)."""
    for n in items:
        incident = n.incident
        n.offer_take_on = bool(incident is not None and n.ask in ASKS_TO_TAKE_ON
                               and incident.acknowledged_at is None and incident.resolved_at is None)
    return items


def _list_items(person):
    return _offers(list(answers.notifications_for(person)[:200]))


@reader_required
def notification_list(request):
    # Reading changes nothing: marking read is a POST (prefetchers, reloads and polls must not clear unread).
    return _revalidate(render(request, "notifications/list.html", {"items": _list_items(request.user)}))


@_poll_login_required
@require_GET
@condition(etag_func=_bell_etag)
def notification_items(request):
    """The list's items, polled by the list page (static/fenghuo/live.js) so a new notification appears."""
    return _revalidate(render(request, "notifications/_items.html", {"items": _list_items(request.user)}))


@_poll_login_required
@require_GET
@condition(etag_func=_bell_etag)
def bell(request):
    """The bell's state as JSON, polled on every page: ``unread`` and the ``latest`` few."""
    latest = answers.notifications_for(request.user)[:BELL_LATEST]
    return _revalidate(JsonResponse({
        "unread": request.bell_state["unread"],
        "latest": [{"id": n.pk, "title": n.reader_title, "level": n.level_key, "unread": n.read_at is None,
                    "created_at": n.created_at.isoformat(),
                    "url": f"/incidents/{n.incident_id}/" if n.incident_id else n.facts.get("link", "")}
                   for n in latest],
    }))


@reader_required
@require_POST
def mark_all_read(request):
    answers.mark_read(request.user)
    return redirect("notifications:list")


@reader_required
@require_POST
def confirm_read(request, pk):
    """ "I have read this": answers a message that asks for an answer, marks any other read."""
    notification = get_object_or_404(Notification, pk=pk, person=request.user)
    if notification.needs_answer:
        answers.confirm_read(notification, person=request.user)
    else:
        answers.mark_read(request.user, notification_id=notification.pk)
    messages.success(request, _("Marked as read: %(title)s") % {"title": notification.reader_title})
    return redirect("notifications:list")


# GET only shows a button: mail scanners and link previews fetch links, and must not confirm for anyone.
@require_http_methods(["GET", "POST"])
def confirm_read_link(request, token):
    try:
        notification = notification_from_token(token)
    except Refused as refusal:
        return render(request, "notifications/ack_link.html", {"error": refusal.message},
                      status=refusal.status_code)
    if request.method == "POST":
        notification = answers.confirm_read_by_token(token)
    return render(request, "notifications/ack_link.html", {
        "notification": _offers([notification])[0], "token": token,
        # The link works signed out; taking the incident on needs the person signed in as themselves.
        "may_take_on": request.user.is_authenticated and request.user.pk == notification.person_id,
    })


@reader_required
def roster(request):
    return render(request, "notifications/roster.html", {"shifts": shifts_on_duty()})
