"""The page a refused form gets (CSRF_FAILURE_VIEW): in the person's language, without Django's technical text.

Django's own page explains CSRF to developers; a person on duty needs to know
that nothing was saved and what to do. Forms under /api/ are DRF's (its own
CSRF check answers JSON), so this only ever answers pages.
"""

from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}, status=403)
