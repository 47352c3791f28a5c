"""Icons: Tabler's SVG files vendored under static/fenghuo/icons/, written into the page inline.

Emoji render as empty boxes on machines without an emoji font (issue 14); an
inline SVG draws everywhere, in the text's colour (``currentColor``), and needs
no extra request. Icons are decoration: ``aria-hidden``, the text beside them
carries the meaning. Templates: ``{% load icons %}{% icon "bell" %}``
(registered in settings.TEMPLATES' ``libraries``); Python that writes HTML
(dashboard/rows.py) calls ``icon_svg``.
"""

import re
from functools import cache
from pathlib import Path

from django import template
from django.utils.safestring import SafeString, mark_safe

ICONS_DIR = Path(__file__).resolve().parent.parent / "static" / "fenghuo" / "icons"
_NAME = re.compile(r"[a-z0-9-]+")
# Tabler's own attributes on the <svg> element, replaced by ours.
_DROPPED = re.compile(r'\s(?:width|height|class)="[^"]*"')

register = template.Library()


@cache
def icon_svg(name: str) -> SafeString:
    """The vendored icon ``name`` as inline <svg>, sized to the text (1em) and hidden from screen readers.

    An unknown name is a programming error, raised at the first render (tests/test_icons.py renders every page).
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an icon name: {name!r}")
    text = (ICONS_DIR / f"{name}.svg").read_text(encoding="utf-8")
    start, rest = text.split(">", 1)
    start = " ".join(_DROPPED.sub("", start).split())
    body = " ".join(rest.split())
    return mark_safe(f'{start} width="1em" height="1em" class="icon icon-{name}" aria-hidden="true" '
                     f'focusable="false">{body}')


@register.simple_tag
def icon(name: str) -> SafeString:
    return icon_svg(name)
