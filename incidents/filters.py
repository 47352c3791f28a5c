"""Query-string filters of the incident list: keys, as the API speaks them."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Incident
from .states import OPEN_STATUSES, Status


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error rather than silently "no filter"."""

    # The select widget would turn an unknown value into None before we see it.
    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no"}:
            return False
        raise ValidationError(_("use true or false"), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text=_("Repeat for several statuses."))
    level = django_filters.CharFilter(field_name="level__key", help_text=_("A level key, e.g. orange."))
    category = django_filters.CharFilter(field_name="category__key", help_text=_("A category key, e.g. network."))
    open = StrictBooleanFilter(method="filter_open", help_text=_("true: only open incidents; false: only closed."))
    drill = StrictBooleanFilter(field_name="is_drill", help_text=_("true: only drills; false: only real incidents."))

    class Meta:
        model = Incident
        fields = ["status", "level", "category", "open", "drill"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)
