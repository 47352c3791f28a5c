"""The external app's pages: the directory, an incident's duties and call-outs, the report form.

Every write goes through ``external.services``; a refusal or bad input becomes a message (or the form's
errors) on the page, never a 500.
"""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.documents import render_docx, render_pdf
from core.errors import Refused
from incidents.models import Incident
from people.access import reader_required
from plan.document import CATEGORY_KEYS
from plan.durations import format_duration
from plan.models import PartyKind

from . import selectors, services
from .models import REPORT_FIELDS, CallOut, Channel, Contact, ExternalReport, Party, Stage
from .report_text import LABELS, prefilled, report_document

FIELD_LABELS = {
    "party": gettext_lazy("Party"), "stage": gettext_lazy("Stage"), "sent_at": gettext_lazy("Sent at"),
    "channel": gettext_lazy("Channel"), "reference": gettext_lazy("Reference"),
    "arrive_within": gettext_lazy("Arrives within"), "contact": gettext_lazy("Contact"),
    "arrived_at": gettext_lazy("Arrived at"), "departed_at": gettext_lazy("Left at"),
    "key": gettext_lazy("Key"), "name": gettext_lazy("Name"), "phone": gettext_lazy("Phone"),
    "categories": gettext_lazy("Categories covered"), "arrival_within": gettext_lazy("Arrives within (SLA)"),
}


def _describe(invalid: ValidationError) -> str:
    if not hasattr(invalid, "error_dict"):
        return " ".join(invalid.messages)
    return " ".join(f"{FIELD_LABELS.get(name, name)}: {message}"
                    for name, messages_ in invalid.message_dict.items() for message in messages_)


class _Form(forms.Form):
    """The labels stand above their fields (app.css), so they need no trailing colon."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# --- the directory ---------------------------------------------------------------------------------


class PartyForm(_Form):
    key = forms.SlugField(label=gettext_lazy("Key"), max_length=64,
                          help_text=gettext_lazy("Lower-case letters, digits and _; the plan names the party by it."))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PartyKind.choices)
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200)
    contract = forms.CharField(label=gettext_lazy("Contract"), max_length=200, required=False)
    arrival_within = forms.CharField(label=gettext_lazy("Arrives within (SLA)"), required=False,
                                     help_text=gettext_lazy("A duration such as 2h or 30m."))
    support_hours = forms.CharField(label=gettext_lazy("Support hours"), max_length=100, required=False)
    categories = forms.MultipleChoiceField(label=gettext_lazy("Categories covered"), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, category_names=None, **kwargs):
        super().__init__(*args, **kwargs)
        names = category_names or {}
        self.fields["categories"].choices = [(key, names.get(key, key)) for key in CATEGORY_KEYS]


class ContactForm(_Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    role = forms.CharField(label=gettext_lazy("Role"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    mobile = forms.CharField(label=gettext_lazy("Mobile"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)


def _category_names():
    from plan.models import PlanVersion

    version = PlanVersion.objects.filter(is_active=True).first()
    return {c.key: c.name for c in version.categories.all()} if version else {}


@reader_required
def party_list(request):
    kind = request.GET.get("kind", "")
    if kind not in PartyKind.values:
        kind = ""
    return render(request, "external/parties.html", {
        "parties": selectors.directory(kind=kind, query=request.GET.get("q", "").strip()[:100]),
        "kinds": PartyKind.choices, "kind": kind, "query": request.GET.get("q", ""),
        "may_edit": services.directory_refusal(request.user) is None, "category_names": _category_names(),
    })


@reader_required
def party_new(request):
    refusal = services.directory_refusal(request.user)
    if refusal:
        return render(request, "people/no_access.html", {"reason": refusal}, status=403)
    form = PartyForm(request.POST or None, category_names=_category_names())
    if request.method == "POST" and form.is_valid():
        try:
            data = {k: v for k, v in form.cleaned_data.items() if k != "is_active"}
            party = services.party_create(author=request.user, **data)
        except ValidationError as invalid:
            for field, errors in invalid.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Party added. Add its contacts now."))
            return redirect("external_party", key=party.key)
    return render(request, "external/party_new.html", {"form": form})


def _form_errors(form, invalid: ValidationError) -> None:
    for field, errors in getattr(invalid, "message_dict", {"__all__": invalid.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


@reader_required
def party_detail(request, key):
    party = get_object_or_404(selectors.directory(), key=key)
    refusal = services.directory_refusal(request.user)
    what = request.POST.get("what", "contact") if request.method == "POST" else ""
    if what and refusal:
        return render(request, "people/no_access.html", {"reason": refusal}, status=403)
    names = _category_names()
    form = ContactForm(request.POST if what == "contact" else None)
    edit = PartyForm(request.POST if what == "party" else None, category_names=names, initial={
        "key": party.key, "kind": party.kind, "name_zh": party.name_zh, "name_en": party.name_en,
        "contract": party.contract, "support_hours": party.support_hours, "categories": party.categories,
        "is_active": party.is_active,
        "arrival_within": format_duration(party.arrival_within) if party.arrival_within else ""})
    edit.fields["key"].disabled = True
    asset_errors: list[str] = []
    try:
        if what == "contact" and form.is_valid():
            services.contact_add(party=party, author=request.user, **form.cleaned_data)
            messages.success(request, _("Contact added."))
            return redirect("external_party", key=party.key)
        if what == "party" and edit.is_valid():
            services.party_update(party=party, author=request.user, **edit.cleaned_data)
            messages.success(request, _("Party updated."))
            return redirect("external_party", key=party.key)
        if what == "assets":
            services.party_assets_set(party=party, author=request.user, tags=request.POST.get("assets", ""))
            messages.success(request, _("Assets covered updated."))
            return redirect("external_party", key=party.key)
        if what == "remove":
            contact = get_object_or_404(Contact, pk=request.POST.get("contact") or 0, party=party)
            services.contact_remove(contact=contact, author=request.user)
            messages.success(request, _("Contact removed."))
            return redirect("external_party", key=party.key)
    except ValidationError as invalid:
        if what == "assets":
            asset_errors = [m for messages_ in invalid.message_dict.values() for m in messages_]
        else:
            _form_errors(edit if what == "party" else form, invalid)
    covered = list(party.assets.order_by("tag"))
    return render(request, "external/party.html", {
        "party": party, "contacts": party.contacts.all(), "form": form, "edit": edit, "may_edit": refusal is None,
        "categories": [names.get(c, c) for c in party.categories or []],
        "assets": covered, "asset_errors": asset_errors,
        "asset_tags": request.POST.get("assets", "") if what == "assets" else " ".join(a.tag for a in covered),
    })


# --- an incident's duties and call-outs ------------------------------------------------------------


class CallOutForm(_Form):
    party = forms.ChoiceField(label=gettext_lazy("Party"))
    ticket = forms.CharField(label=gettext_lazy("Ticket number"), max_length=100, required=False)
    arrive_within = forms.CharField(label=gettext_lazy("Promised to arrive within"), required=False,
                                    help_text=gettext_lazy("A duration such as 2h; empty: the contract's SLA."))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, suggested=(), others=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if suggested:
            choices.append((_("Suggested for this incident"), [(p.key, p.name) for p in suggested]))
        if others:
            choices.append((_("Other parties"), [(p.key, p.name) for p in others]))
        self.fields["party"].choices = choices


def _incident(pk) -> Incident:
    return get_object_or_404(Incident.objects.with_plan(), pk=pk)


def _callout_form(incident, data=None):
    suggested = selectors.suggested_parties(incident)
    taken = {p.pk for p in suggested}
    others = [p for p in selectors.directory().filter(is_active=True) if p.pk not in taken]
    return CallOutForm(data, suggested=suggested, others=others)


@reader_required
def incident_external(request, pk):
    incident = _incident(pk)
    form = _callout_form(incident, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            party = get_object_or_404(Party, key=data["party"])
            within = (services.duration_or_error(data["arrive_within"], "arrive_within")
                      if data["arrive_within"].strip() else None)
            services.callout_create(incident=incident, party=party, caller=request.user, ticket=data["ticket"],
                                    arrive_within=within, note=data["note"])
        except Refused as refused:
            messages.error(request, refused.message)
        except ValidationError as invalid:
            messages.error(request, _describe(invalid))
        else:
            messages.success(request, _("Call-out recorded; its promised arrival is on the clock."))
            return redirect("external_incident", pk=incident.pk)
    return render(request, "external/incident.html", {
        "incident": incident, "reports": selectors.reports_of(incident), "callouts": selectors.callouts_of(incident),
        "form": form, "may_report": services.report_refusal(request.user, incident) is None,
        "may_call": services.callout_refusal(request.user, incident) is None,
        "stages": Stage.choices, "plan_parties": incident.plan_version.parties.all(),
    })


@reader_required
@require_POST
def callout_moved(request, pk, what):
    callout = get_object_or_404(CallOut.objects.select_related("incident"), pk=pk)
    service = {"arrived": services.callout_arrived, "departed": services.callout_departed}.get(what)
    if service is None:
        raise Http404
    try:
        service(callout=callout, person=request.user, at=_parse_local(request.POST.get("at", "")))
    except Refused as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, _describe(invalid))
    else:
        messages.success(request, _("Arrival recorded.") if what == "arrived" else _("Departure recorded."))
    return redirect("external_incident", pk=callout.incident_id)


def _parse_local(value: str) -> datetime | None:
    """A ``datetime-local`` value in the site's time zone; None when empty (meaning now)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("%(value)s is not a date and time") % {"value": value}) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


# --- the report form -----------------------------------------------------------------------------


class ReportForm(_Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in REPORT_FIELDS:
            rows = 2 if field in ("occurred_at", "level", "expected_recovery", "contact") else 4
            self.fields[field] = forms.CharField(label=LABELS[field], required=False, max_length=4000,
                                                 widget=forms.Textarea(attrs={"rows": rows}))


class SentForm(_Form):
    sent_at = forms.DateTimeField(label=gettext_lazy("Sent at"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                             format="%Y-%m-%dT%H:%M"),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
    channel = forms.ChoiceField(label=gettext_lazy("Sent by"), choices=Channel.choices)
    reference = forms.CharField(label=gettext_lazy("Reference number"), max_length=100, required=False)


def _party_of(incident, key):
    party = Party.objects.filter(key=key).first()
    if party is None and not incident.plan_version.parties.filter(key=key).exists():
        raise Http404
    return party


@reader_required
def report_form(request, pk, party_key, stage):
    incident = _incident(pk)
    if stage not in Stage.values:
        raise Http404
    party = _party_of(incident, party_key)
    plan_party = incident.plan_version.parties.filter(key=party_key).first()
    report = ExternalReport.objects.filter(incident=incident, party_key=party_key, stage=stage).first()
    action = request.POST.get("action", "")
    form = ReportForm(request.POST if request.method == "POST" else None,
                      initial=prefilled(incident, party_key=party_key, stage=stage, person=request.user))
    sent_form = SentForm(request.POST if action == "send" else None,
                         initial={"sent_at": timezone.localtime().replace(second=0, microsecond=0)})
    if request.method == "POST" and form.is_valid():
        facts = form.cleaned_data
        try:
            if action in ("docx", "pdf"):
                return _download(incident, party, party_key, stage, facts, action)
            if action == "send":
                if sent_form.is_valid():
                    services.report_send(incident=incident, party_key=party_key, stage=stage, facts=facts,
                                         author=request.user, **sent_form.cleaned_data)
                    messages.success(request, _("Report recorded as sent; its deadline is met."))
                    return redirect("external_incident", pk=incident.pk)
            else:
                services.report_save_draft(incident=incident, party_key=party_key, stage=stage, facts=facts,
                                           author=request.user)
                messages.success(request, _("Draft saved."))
                return redirect("external_report", pk=incident.pk, party_key=party_key, stage=stage)
        except Refused as refused:
            messages.error(request, refused.message)
        except ValidationError as invalid:
            for field, errors in getattr(invalid, "message_dict", {"__all__": invalid.messages}).items():
                target = sent_form if field in sent_form.fields else form
                target.add_error(field if field in target.fields else None, errors)
    return render(request, "external/report.html", {
        "incident": incident, "party": party or plan_party, "party_key": party_key, "stage": stage,
        "stage_label": Stage(stage).label, "report": report, "form": form, "sent_form": sent_form,
        "may_report": services.report_refusal(request.user, incident) is None,
    })


def _download(incident, party, party_key, stage, facts, kind) -> HttpResponse:
    document = report_document(incident, party=party, party_key=party_key, stage=stage, facts=facts)
    if kind == "docx":
        data = render_docx(document)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        data = render_pdf(document)
        content_type = "application/pdf"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-{party_key}-{stage}.{kind}"'
    return response


