"""Reads of the external app: the directory, an incident's duties and call-outs, the party to suggest."""

from django.db.models import Prefetch, QuerySet

from incidents.models import Incident

from .models import CallOut, Contact, ExternalReport, Party


def directory(*, kind: str = "", query: str = "") -> QuerySet[Party]:
    """Parties with their contacts and assets, in three queries whatever their number."""
    parties = Party.objects.prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("position", "id")),
                                             "assets")
    if kind:
        parties = parties.filter(kind=kind)
    if query:
        from django.db.models import Q

        parties = parties.filter(Q(key__icontains=query) | Q(name_zh__icontains=query) | Q(name_en__icontains=query)
                                 | Q(contacts__name__icontains=query)).distinct()
    return parties


def suggested_parties(incident: Incident) -> list[Party]:
    """Who to call out first: the parties covering the incident's asset, then the active carriers and
    vendors covering the incident's category; each once, in that order."""
    found: list[Party] = []
    if incident.asset_id is not None:
        found += list(Party.objects.filter(is_active=True, assets=incident.asset_id).order_by("kind", "key"))
        # An asset whose vendor is written as a party's key names it too (importassets' free-text column).
        vendor = incident.asset.vendor if incident.asset else ""
        if vendor:
            found += list(Party.objects.filter(is_active=True, key=vendor))
    covering = [p for p in directory().filter(is_active=True, kind__in=["carrier", "vendor"])
                if incident.category.key in (p.categories or [])]
    return list({p.pk: p for p in found + covering}.values())


def reports_of(incident: Incident) -> list[ExternalReport]:
    """The incident's duties and reports, by party then stage order, with the party's name attached."""
    order = {"initial": 0, "written": 1, "final": 2}
    reports = sorted(ExternalReport.objects.filter(incident=incident).select_related("deadline", "sent_by"),
                     key=lambda r: (r.party_key, order.get(r.stage, 9)))
    names = {p.key: p for p in Party.objects.filter(key__in={r.party_key for r in reports})}
    plan_names = {p.key: p for p in incident.plan_version.parties.filter(key__in={r.party_key for r in reports})}
    for report in reports:
        report.party = names.get(report.party_key) or plan_names.get(report.party_key)  # type: ignore[attr-defined]
    return reports


def callouts_of(incident: Incident) -> QuerySet[CallOut]:
    return CallOut.objects.filter(incident=incident).select_related("party", "contact", "called_by", "deadline")
