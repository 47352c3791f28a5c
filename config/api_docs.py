"""The API's documentation pages for staff: Swagger UI (try requests) and Redoc (read), from local static files.

Both come from drf-spectacular-sidecar's copies, never a CDN. Their scripts
inject <style> elements, and Redoc builds its search index in a worker made
from a blob: URL; the Content-Security-Policy allows exactly that on these two
staff-only pages and nowhere else (tests/test_api_docs.py).
"""

from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

DOCS_POLICY = {"style-src-elem": ["'unsafe-inline'"]}


class RedocView(SpectacularRedocView):
    # drf-spectacular's template loads Google Fonts and has an inline <style>.
    template_name = "api_docs/redoc.html"


# The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
swagger_ui = csp_update(DOCS_POLICY)(SpectacularSwaggerSplitView.as_view(url_name="schema"))
redoc = csp_update({**DOCS_POLICY, "worker-src": ["blob:"]})(RedocView.as_view(url_name="schema"))
