"""Who may read the record of incidents (issue 13, finding 8).

Signing in is not enough: an account may exist for the admin, for a
monitoring token or from an old import. Reading incidents, the dashboard,
approvals and notifications needs one of three things: a role in the plan,
staff status, or the explicit auditor permission ``people.audit`` (given to
auditors and the regulator's readers in the admin). Everyone else gets 403
on the API and a polite page in the browser that says whom to ask.
"""

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:  # DRF's views import the permissions named in settings: no import back at run time
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from .models import Person

AUDIT_PERMISSION = "people.audit"

NO_ACCESS = _("Your account holds no role in the emergency plan, so it cannot read incidents. "
              "Ask the emergency office to give you a role, or an administrator to grant the auditor permission.")


def may_read_incidents(user: "Person | AnonymousUser | None") -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_staff or bool(user.role_keys()) or user.has_perm(AUDIT_PERMISSION)


def reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required, then the reading rule: a signed-in account without access gets the 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_read_incidents(request.user):
            return render(request, "people/no_access.html", {"reason": NO_ACCESS}, status=403)
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def poll_reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``reader_required`` for what a page's script polls: 401 when the session expired (the script reloads
    the page, which then asks to sign in), 403 for an account that may not read; never the login page's HTML."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponse(status=401)
        if not may_read_incidents(request.user):
            return HttpResponse(status=403)
        return view(request, *args, **kwargs)

    return wrapped


class ReadsIncidents(BasePermission):
    """The API's side of the rule; runs after authentication, so an anonymous caller still gets 401."""

    message = NO_ACCESS
    code = "no_plan_role"

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return may_read_incidents(request.user)
