"""The reports page (/reports/) and each chart's numbers as CSV."""

import csv
import io
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from assets.models import Asset
from incidents.models import AffectedSystem, Source
from people.access import reader_required
from plan.document import LEVEL_RANKS

from .filters import parse_filter
from .selectors import cached_summary
from .tables import CHART_KEYS, Labels, charts, minutes, percent

ASSET_CHOICES = 200


def _errors_text(exc: ValidationError) -> list[str]:
    return [f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()]


@reader_required
def reports_page(request):
    labels = Labels.from_plan()
    context = {
        "params": request.GET,
        "levels": [(key, labels.level(key)) for key in reversed(LEVEL_RANKS)],
        "categories": list(labels.categories.items()),
        "sources": Source.choices,
        "systems": [(v, label) for v, label in AffectedSystem.choices if v],
        "drills": [("false", _("Real incidents only")), ("true", _("Drills only")), ("all", _("Both"))],
        # The tags offered as you type: the assets some incident names (a few, whatever the register's size).
        "assets": list(Asset.objects.filter(incidents__isnull=False).distinct().order_by("tag")
                       .values_list("tag", "name")[:ASSET_CHOICES]),
    }
    try:
        report_filter = parse_filter(request.GET)
    except ValidationError as exc:
        context["errors"] = _errors_text(exc)
        return render(request, "reports/reports.html", context, status=400)
    figures = cached_summary(report_filter)
    drawn = charts(figures, labels)
    context.update({
        "filter": report_filter,
        "query": urlencode(report_filter.as_params()),
        "mtta_minutes": minutes(figures["mtta_s"]["median"]),
        "mttr_minutes": minutes(figures["mttr_s"]["median"]),
        "kept_percent": percent(figures["deadline_compliance"]["share"]),
        "figures": figures,
        "charts": drawn,
        "specs": [chart.spec() for chart in drawn],
        "empty": figures["incidents"] == 0,
        "strings": {"noIncidents": _("No incidents")},
        "as_of": parse_datetime(figures["as_of"]),
    })
    return render(request, "reports/reports.html", context)


@reader_required
def chart_csv(request, key):
    if key not in CHART_KEYS:
        raise Http404(key)
    try:
        report_filter = parse_filter(request.GET)
    except ValidationError as exc:
        return HttpResponse("\n".join(_errors_text(exc)) + "\n", status=400, content_type="text/plain; charset=utf-8")
    chart = next(c for c in charts(cached_summary(report_filter)) if c.key == key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(chart.headers)
    writer.writerows(["" if value is None else value for value in row] for row in chart.rows)
    # The byte-order mark makes spreadsheet programs read the Chinese headings as UTF-8.
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"fenghuo-{key}-{report_filter.first_day}-{report_filter.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

