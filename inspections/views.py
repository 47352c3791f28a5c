"""The inspection pages: today's rounds (phone first), walking one, acting on a finding, coverage."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets.access import may_manage_assets
from assets.models import Asset
from core.errors import Refused
from people.access import reader_required
from people.models import Person
from plan.models import PlanVersion

from . import selectors, services
from .items import round_items
from .models import Result, Round, RoundStatus


@reader_required
@require_GET
def today(request):
    rounds = selectors.todays_rounds(request.user)
    return render(request, "inspections/today.html", {
        "rounds": rounds, "now": timezone.now(), "manages": may_manage_assets(request.user),
        "roles": sorted(request.user.role_keys()),
    })


def _walk_context(request, round_, *, errors=None, posted=None):
    answers = selectors.answers_of(round_)
    stops: list[dict] = []
    for item in round_items(round_):
        if not stops or stops[-1]["asset"].pk != item.asset.pk:
            stops.append({"asset": item.asset, "checks": []})
        result = answers.get(item.key)
        stops[-1]["checks"].append({"check": item.check, "result": result,
                                    "name": f"{item.asset.pk}-{item.check.key}"})
    for stop in stops:
        stop["abnormal"] = any(c["result"] is not None and c["result"].abnormal for c in stop["checks"])
        stop["answered"] = sum(1 for c in stop["checks"] if c["result"] is not None)
    may_walk = round_.role_key in request.user.role_keys()
    return {"round": round_, "stops": stops, "errors": errors or {}, "may_walk": may_walk,
            "editable": may_walk and round_.status != RoundStatus.DONE,
            "findings": [r for r in answers.values() if r.abnormal]}


@reader_required
@require_GET
def walk(request, pk):
    round_ = get_object_or_404(selectors.rounds_for(request.user), pk=pk)
    return render(request, "inspections/round.html", _walk_context(request, round_))


def _posted_results(request, round_) -> list[dict]:
    """The form's fields (``ok-<asset id>-<check>``, ``value-…``, ``text-…``, ``note-…``) as API results."""
    results = []
    for item in round_items(round_):
        name = f"{item.asset.pk}-{item.check.key}"
        answer: dict = {"asset": item.asset.tag, "check": item.check.key}
        for field in ("ok", "value", "text", "note"):
            key = f"{field}-{name}"
            if key in request.POST and (request.POST[key] != "" or field in ("text", "note")):
                answer[field] = request.POST[key]
        if len(answer) > 2:
            results.append(answer)
    return results


@reader_required
@require_POST
def submit(request, pk):
    round_ = get_object_or_404(selectors.rounds_for(request.user), pk=pk)
    try:
        # Photos sent with the form (no script) are kept first, each on its own, like the script sends them.
        for item in round_items(round_):
            upload = request.FILES.get(f"photo-{item.asset.pk}-{item.check.key}")
            if upload is not None:
                services.photo_attach(round_, person=request.user, asset=item.asset.tag, check=item.check.key,
                                      photo=upload)
        round_, _opened = services.round_submit(round_, person=request.user, results=_posted_results(request, round_))
    except ValidationError as invalid:
        context = _walk_context(request, round_, errors=invalid.message_dict)
        return render(request, "inspections/round.html", context, status=400)
    except Refused as refused:
        messages.error(request, refused.message)
        return render(request, "inspections/round.html", _walk_context(request, round_), status=refused.status_code)
    findings = Result.objects.filter(round=round_).filter(ok=False).count() + \
        Result.objects.filter(round=round_, out_of_range=True).exclude(ok=False).count()
    if findings:
        messages.warning(request, _("Round submitted with %(n)d abnormal finding(s): decide below what to do about "
                                    "each.") % {"n": findings})
        return redirect("inspections:round", pk=round_.pk)
    messages.success(request, _("Round submitted. Thank you."))
    return redirect("inspections:today")


@reader_required
@require_http_methods(["GET", "POST"])
def finding(request, pk):
    result = get_object_or_404(Result.objects.select_related("asset", "round__schedule", "answered_by", "incident",
                                                             "remediation_action__owner"), pk=pk)
    if not services.may_act_on_finding(request.user, result):
        raise Http404
    version = PlanVersion.objects.filter(is_active=True).first()
    levels = sorted(version.levels.all(), key=lambda lv: -lv.rank) if version else []
    prefill = services.fault_prefill(result)
    remedy = services.remediation_prefill(result, person=request.user)
    form = {"level": prefill["level"], "title": prefill["title"], "description": prefill["description"],
            "action_title": remedy["title"], "action_owner": remedy["owner"],
            "action_due_at": timezone.localtime(remedy["due_at"]).strftime("%Y-%m-%dT%H:%M")}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        what = request.POST.get("do")
        form.update({k: request.POST.get(k, v) for k, v in form.items()})
        try:
            if what == "fault":
                incident = services.finding_log_fault(result, person=request.user, level=form["level"],
                                                      title=form["title"], description=form["description"])
                messages.success(request, _("Incident #%(id)d logged; the plan's roles are being told.")
                                 % {"id": incident.pk})
                return redirect("incident_detail", pk=incident.pk)
            if what == "remediation":
                due = _local_time(form["action_due_at"])
                if due is None:
                    raise ValidationError({"due_at": [_("not a date and time: %(value)s")
                                                      % {"value": form["action_due_at"][:40]}]})
                action = services.finding_remediate(result, person=request.user, title=form["action_title"],
                                                    owner=form["action_owner"], due_at=due)
                messages.success(request, _("Remediation action #%(id)d added to %(asset)s; its owner is told when "
                                            "it falls due.") % {"id": action.pk, "asset": result.asset.tag})
                return redirect("inspections:finding", pk=result.pk)
            errors = {"do": [_("choose what to do")]}
        except ValidationError as invalid:
            errors = invalid.message_dict
        except Refused as refused:
            errors = {"__all__": [refused.message]}
            status = refused.status_code
        status = status if status != 200 else 400
    return render(request, "inspections/finding.html", {
        "result": result, "levels": levels, "prefill": prefill, "form": form, "errors": errors,
        "people": Person.objects.filter(is_active=True).order_by("username"),
        "category": version.categories.filter(key=result.asset.category).first() if version else None,
    }, status=status)


def _local_time(value: str):
    """A ``datetime-local`` field's time in the site's time zone; None when unreadable."""
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@reader_required
@require_GET
def photo(request, pk):
    result = get_object_or_404(Result.objects.select_related("round"), pk=pk)
    if not result.photo or not (result.round.role_key in request.user.role_keys() or may_manage_assets(request.user)):
        raise Http404
    response = FileResponse(result.photo.open("rb"), content_type="image/" + result.photo.name.rsplit(".", 1)[-1]
                            .replace("jpg", "jpeg"))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@reader_required
@require_GET
def coverage(request):
    from .api import period

    try:
        start, end = period(request.GET)
    except Exception as wrong:  # DRF's ValidationError: shown on the page
        detail = getattr(wrong, "detail", {"from": [str(wrong)]})
        start, end = timezone.now() - timedelta(days=30), timezone.now()
        messages.error(request, "; ".join(str(m) for messages_ in detail.values() for m in messages_))
    report = selectors.coverage(start=start, end=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(selectors.coverage_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="inspection-coverage.csv"'
        return response
    missed = list(Round.objects.filter(missed_at__gte=start, missed_at__lt=end).select_related("schedule")
                  .order_by("-missed_at")[:50])
    return render(request, "inspections/coverage.html", {
        "report": report, "start": timezone.localtime(start), "end": timezone.localtime(end) - timedelta(seconds=1),
        "missed": missed, "query": request.GET.urlencode(),
    })


@reader_required
@require_GET
def asset_history(request, tag):
    asset = get_object_or_404(Asset, tag=tag)
    # The outside parties that maintain it (the directory), with their contacts: whom to call for it.
    parties = asset.parties.filter(is_active=True).prefetch_related("contacts").order_by("kind", "key")
    return render(request, "inspections/asset.html", {"asset": asset, "history": selectors.state_history(asset),
                                                      "parties": parties})


