"""The drill, training and readiness pages. Reads through ``selectors``, writes only through ``services``;
a refusal or bad input becomes a message on the page, never a 500."""

import csv
from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.errors import Refused
from people.access import reader_required
from plan.models import Category, Level, PlanVersion

from . import selectors, services
from .documents import requirement_text, scorecard_pdf
from .models import Drill, DrillStatus, TrainingKind, TrainingSession


class DrillForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    category = forms.ChoiceField(label=gettext_lazy("Category"))
    level = forms.ChoiceField(label=gettext_lazy("Starting level"))
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    clock = forms.FloatField(label=gettext_lazy("Clock (plan seconds per real second)"), initial=1)
    description = forms.CharField(label=gettext_lazy("Scenario"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    participants = forms.CharField(label=gettext_lazy("Named participants (usernames, comma-separated)"),
                                   required=False)
    escalate_after = forms.CharField(label=gettext_lazy("Worsens after (plan time, e.g. 10m)"), required=False)
    escalate_to = forms.ChoiceField(label=gettext_lazy("Worsens to"), required=False)
    recover_after = forms.CharField(label=gettext_lazy("Alert recovers after (plan time, e.g. 20m)"), required=False)

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        categories = [(c.key, c.name) for c in Category.objects.filter(version=version)] if version else []
        levels = [(lv.key, lv.name) for lv in Level.objects.filter(version=version)] if version else []
        self.fields["category"].choices = categories
        self.fields["level"].choices = levels
        self.fields["escalate_to"].choices = [("", "—"), *levels]


def _errors_to_messages(request, error: ValidationError, form: forms.Form | None = None) -> None:
    for name, problems in error.message_dict.items():
        label = form.fields[name].label if form is not None and name in form.fields else name
        for problem in problems:
            messages.error(request, f"{label}: {problem}")


@reader_required
def drill_list(request):
    version = PlanVersion.objects.filter(is_active=True).first()
    form = DrillForm(request.POST or None, version=version)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            injections = []
            if data["escalate_after"]:
                injections.append({"after": data["escalate_after"], "action": "escalate", "level": data["escalate_to"]})
            if data["recover_after"]:
                injections.append({"after": data["recover_after"], "action": "recover"})
            try:
                drill = services.drill_schedule(
                    actor=request.user, title=data["title"], category=data["category"], level=data["level"],
                    starts_at=data["starts_at"], clock=data["clock"], description=data["description"],
                    injections=injections, participants=[u for u in data["participants"].replace("，", ",").split(",")])
            except ValidationError as error:
                _errors_to_messages(request, error, form)
            except Refused as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Drill scheduled."))
                return redirect("drills:detail", pk=drill.pk)
    drills = list(selectors.drills_for_listing()[:100])
    return render(request, "drills/list.html", {"drills": drills, "form": form,
                                                "may_run": services.may_run_drills(request.user)})


def _scorecard_rows(card: dict) -> list[dict]:
    from notifications.facts import localized

    return [{**item, "requirement_text": requirement_text(item["requirement"]),
             "role_text": localized(item.get("role_name")) or item["role"],
             "due": datetime.fromisoformat(item["due_at"]),
             "met_when": datetime.fromisoformat(item["met_at"]) if item["met_at"] else None}
            for item in card.get("items", [])]


@reader_required
def drill_detail(request, pk):
    drill = get_object_or_404(selectors.drills_for_listing().prefetch_related("participants"), pk=pk)
    version = drill.incident.plan_version if drill.incident_id else PlanVersion.objects.filter(is_active=True).first()
    category = Category.objects.filter(version=version, key=drill.category_key).first()
    level = Level.objects.filter(version=version, key=drill.level_key).first()
    return render(request, "drills/detail.html", {
        "drill": drill, "category_name": category.name if category else drill.category_key,
        "level_name": level.name if level else drill.level_key, "may_run": services.may_run_drills(request.user),
        "card": drill.scorecard, "rows": _scorecard_rows(drill.scorecard) if drill.scorecard else [],
        "Status": DrillStatus,
    })


@reader_required
@require_POST
def drill_act(request, pk, what):
    drill = get_object_or_404(Drill, pk=pk)
    try:
        if what == "start":
            services.drill_start(drill, actor=request.user)
            messages.success(request, _("Drill started: the drill incident is open."))
        elif what == "end":
            services.drill_end(drill, actor=request.user, summary=request.POST.get("summary", ""))
            messages.success(request, _("Drill ended: the scorecard is ready."))
        elif what == "observe":
            services.drill_observe(drill, actor=request.user, observations=request.POST.get("observations", ""))
            messages.success(request, _("Observations saved."))
        else:
            raise Http404
    except ValidationError as error:
        _errors_to_messages(request, error)
    except Refused as refused:
        messages.error(request, refused.message)
    return redirect("drills:detail", pk=drill.pk)


@reader_required
@require_GET
def drill_scorecard_pdf(request, pk):
    drill = get_object_or_404(Drill, pk=pk)
    if not drill.scorecard:
        raise Http404(_("the scorecard is produced when the drill ends"))
    response = HttpResponse(scorecard_pdf(drill), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="drill-{drill.pk}-scorecard.pdf"'
    return response


class TrainingForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TrainingKind.choices)
    held_at = forms.DateTimeField(label=gettext_lazy("Held at"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    topic = forms.CharField(label=gettext_lazy("Topic"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    trainer = forms.CharField(label=gettext_lazy("Trainer"), required=False, max_length=150)
    attendees = forms.CharField(label=gettext_lazy("Attendees (usernames, comma-separated)"), required=False)
    material = forms.FileField(label=gettext_lazy("Materials"), required=False)


def _usernames(text: str) -> list[str]:
    return [u.strip() for u in (text or "").replace("，", ",").split(",") if u.strip()]


@reader_required
def training_list(request):
    form = TrainingForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = services.training_create(
                    actor=request.user, title=data["title"], kind=data["kind"], held_at=data["held_at"],
                    topic=data["topic"], trainer=data["trainer"], attendees=_usernames(data["attendees"]),
                    material=data["material"])
            except ValidationError as error:
                _errors_to_messages(request, error, form)
            except Refused as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Training session recorded."))
                return redirect("drills:training", pk=session.pk)
    return render(request, "drills/trainings.html", {
        "sessions": list(selectors.trainings_for_listing()[:100]), "form": form,
        "may_run": services.may_run_drills(request.user)})


@reader_required
def training_detail(request, pk):
    session = get_object_or_404(selectors.trainings_for_listing(), pk=pk)
    if request.method == "POST":
        try:
            if request.POST.get("what") == "attend":
                services.attendance_confirm(session, person=request.user)
                messages.success(request, _("Your attendance is confirmed."))
            else:
                services.attendance_record(session, actor=request.user, usernames=_usernames(request.POST.get("attendees", "")))
                messages.success(request, _("Attendance recorded."))
        except ValidationError as error:
            _errors_to_messages(request, error)
        except Refused as refused:
            messages.error(request, refused.message)
        return redirect("drills:training", pk=session.pk)
    attended = any(a.person_id == request.user.pk for a in session.attendances.all())
    return render(request, "drills/training.html", {"session": session, "attended": attended,
                                                    "may_run": services.may_run_drills(request.user)})


@reader_required
@require_GET
def training_material(request, pk):
    session = get_object_or_404(TrainingSession, pk=pk)
    if not session.material:
        raise Http404
    response = HttpResponse(session.material.open("rb").read(), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{session.material.name.rsplit("/", 1)[-1]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _readiness_filters(request):
    return request.GET.get("category", "")[:32], request.GET.get("level", "")[:32]


@reader_required
@require_GET
def readiness_page(request):
    category, level = _readiness_filters(request)
    version = PlanVersion.objects.filter(is_active=True).first()
    role_names = {r.key: r.name for r in version.roles.all()} if version else {}
    people = [{"row": p, "roles": [role_names.get(key, key) for key in p.roles]}
              for p in selectors.readiness(category=category, level=level)]
    return render(request, "drills/readiness.html", {
        "people": people,
        "roles": selectors.role_readiness(category=category, level=level),
        "categories": list(Category.objects.filter(version=version)) if version else [],
        "levels": list(Level.objects.filter(version=version)) if version else [],
        "chosen": {"category": category, "level": level}, "query": request.GET.urlencode(),
    })


@reader_required
@require_GET
def readiness_csv(request):
    category, level = _readiness_filters(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="readiness-{timezone.localdate():%Y%m%d}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 (Chinese names) only with the byte-order mark
    writer = csv.writer(response)
    writer.writerow([_("Username"), _("Name"), _("Roles"), _("Last drill"), _("Last training"), _("Drills in the last year"),
                     _("Overdue")])
    overdue_words = {selectors.DRILL: _("drill"), selectors.TRAINING: _("training")}
    for row in selectors.readiness(category=category, level=level):
        writer.writerow([_cell(row.username), _cell(row.name), " ".join(row.roles),
                         row.last_drill_at.isoformat() if row.last_drill_at else "",
                         row.last_training_at.isoformat() if row.last_training_at else "",
                         row.drills_last_year, " ".join(str(overdue_words[o]) for o in row.overdue_for)])
    return response


def _cell(text: str) -> str:
    """A text cell a spreadsheet never runs as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
