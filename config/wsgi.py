import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _warm_up():
    """Do at start-up what Django otherwise does in the first requests.

    Importing the URLconf (every view, DRF, the admin) and the translation
    catalogues took about a second of CPU per process inside the first
    requests, which then waited behind it. gc.freeze() moves everything loaded so
    far out of the collector's sight, so later collections scan only request
    garbage (bench/README.md, "Monitoring integrations" and "Dashboard").
    """
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Fenghuo")
    gc.collect()
    gc.freeze()


_warm_up()
