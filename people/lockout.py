"""The answer to a sign-in while django-axes has the username or the address locked out."""

import math

from axes.helpers import get_cool_off
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After and a page that says, in the person's language, when to try again."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    if cool_off:
        response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response
