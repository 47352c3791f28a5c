"""Forms of the incident pages. They only shape input; the services decide what is allowed."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import AffectedSystem, Incident
from .faults import MAX_BRANCHES


class LogFaultForm(forms.Form):
    """The duty staff's form: category and level come from the active plan version."""

    category = forms.ChoiceField(label=_("Category"), widget=forms.RadioSelect,
                                 error_messages={"required": _("choose the kind of fault")})
    level = forms.ChoiceField(label=_("Level"), widget=forms.RadioSelect,
                              error_messages={"required": _("choose the warning level")})
    title = forms.CharField(label=_("Title"), max_length=200,
                            error_messages={"required": _("a short title is required")},
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(label=_("What happened"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    affected_branches = forms.IntegerField(label=_("Affected branches"), required=False, min_value=0,
                                           max_value=MAX_BRANCHES)
    total_branches = forms.IntegerField(label=_("The area's branches"), required=False, min_value=0,
                                        max_value=MAX_BRANCHES)
    affected_system = forms.ChoiceField(label=_("Affected system"), choices=AffectedSystem.choices, required=False,
                                        widget=forms.RadioSelect)
    host_fault = forms.BooleanField(label=_("Host fault (equipment)"), required=False,
                                    help_text=Incident._meta.get_field("host_fault").help_text)
    is_drill = forms.BooleanField(label=_("This is a drill"), required=False)
    asset = forms.CharField(label=_("Asset tag"), required=False, max_length=64,
                            help_text=_("The device at fault, as labelled in the asset register (optional)."),
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, categories=(), levels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.key, c.name) for c in categories]
        self.fields["level"].choices = [(lv.key, lv.name) for lv in levels]

    def service_arguments(self):
        data = self.cleaned_data
        return {
            "category": data["category"], "level": data["level"], "title": data["title"],
            "description": data["description"], "affected_branches": data["affected_branches"],
            "total_branches": data["total_branches"], "affected_system": data["affected_system"],
            "host_fault": data["host_fault"], "is_drill": data["is_drill"], "asset": data["asset"].strip(),
        }

    def add_service_errors(self, error: ValidationError):
        """Attach a service's ValidationError to the fields it names (unknown names go to the top)."""
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)

    def labelled_errors(self):
        """Every error with the label of its field, for the summary at the top of the form."""
        rows = []
        for field, errors in self.errors.items():
            label = self.fields[field].label if field in self.fields else ""
            for message in errors:
                rows.append({"field": field, "label": label, "message": message})
        return rows
