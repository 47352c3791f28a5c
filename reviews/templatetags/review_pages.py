"""Template words for the review pages: durations in seconds, and a deadline's margin."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

from incidents.wording import human_duration

register = template.Library()


@register.filter
def duration_s(value):
    """Seconds as "1 hour 5 minutes"; a dash when the record has no such time."""
    if value is None or value == "":
        return "—"
    return human_duration(timedelta(seconds=abs(int(value))))


@register.filter
def margin(outcome):
    """How a plan deadline ended, with by how much: met early, missed (and how late), or how else it ended."""
    deadline = outcome.deadline
    if outcome.met and outcome.margin_s is not None:
        if outcome.margin_s >= 0:
            return _("met, %(time)s early") % {"time": duration_s(outcome.margin_s)}
        return _("met, %(time)s late") % {"time": duration_s(outcome.margin_s)}
    if outcome.missed:
        if outcome.margin_s is None:
            return _("missed")
        if outcome.done_late_at is not None:
            return _("missed: done %(time)s late") % {"time": duration_s(outcome.margin_s)}
        return _("missed: not done, %(time)s past due at resolution") % {"time": duration_s(outcome.margin_s)}
    return deadline.get_state_display()
