"""Request hygiene that every page and API route needs before a view sees the request."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(querydict):
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in querydict.lists())


class RejectNulMiddleware:
    """A NUL byte in the path, query string or a form field is answered 400.

    PostgreSQL refuses NUL in text, so such input used to reach the database and answer 500
    (finding 7 of issue 13). No legitimate form or filter carries one. JSON bodies are the
    API's own business (the hooks already name the offending field).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or self._form_has_nul(request):
            message = _("The request contains a NUL character (%00), which no field accepts.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "nul_character"}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _form_has_nul(request):
        if request.method != "POST" or not request.content_type.startswith(FORM_TYPES):
            return False
        try:
            # Reading body first keeps it readable for views that parse it themselves.
            request.body  # noqa: B018
            return _has_nul(request.POST)
        except Exception:  # noqa: BLE001 - a body Django cannot parse is the view's to refuse, as before
            return False
