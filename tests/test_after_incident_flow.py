"""Issue 16's flow, from a monitoring alert to the archive and the evidence pack, through the public API.

An Alertmanager alert opens an incident; responders take it on and arrive; the alert resolves and the
incident is resolved. The review is drafted with figures computed from the record; a remediation action
falls due and the engine tells its owner and the office; a plan change drawn from the review is approved
and becomes the active plan; the incident is archived and from then on refuses every write; its evidence
pack is exported as PDF and DOCX with the Chinese readable back, and the timeline's hash chain verifies.
"""

import hashlib
import io
from datetime import timedelta

import docx
import pypdf
import pytest
import time_machine
import yaml
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from alerts import processing
from alerts.integrations import integration_create
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents.models import Incident, TimelineKind
from notifications.models import Notification
from plan.models import PlanVersion

pytestmark = pytest.mark.django_db

WRITTEN = {"summary": "征信查询超时，两家分支机构无法报送。", "impact": "两家分支机构，中断 40 分钟。",
           "root_cause": "数据库连接池耗尽。", "went_well": "十分钟内到场。", "went_wrong": "连接池没有告警。",
           "lessons": "连接池使用率 80% 时告警。"}


def alertmanager_webhook(status):
    alert = {"status": status, "labels": {"alertname": "CreditQueryDown", "severity": "error", "category": "system"},
             "annotations": {"summary": "征信查询服务不可用"}, "startsAt": "2026-12-01T08:00:00Z",
             "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-01T09:00:00Z",
             "fingerprint": "f1", "generatorURL": "http://prometheus/graph"}
    return {"version": "4", "groupKey": "{}:{alertname=\"CreditQueryDown\"}", "status": status,
            "receiver": "fenghuo", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am", "truncatedAlerts": 0, "alerts": [alert]}


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def docx_text(data):
    document = docx.Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_from_an_alert_to_the_archive_and_its_evidence_pack(minimal_plan_version, make_person, api_client_for):
    office = make_person("office", username="office", language="zh-hans")
    leader = make_person("leadership", username="leader", language="zh-hans")
    tech = make_person("tech_group", username="tech", language="zh-hans")
    as_office, as_leader, as_tech = api_client_for(office), api_client_for(leader), api_client_for(tech)
    _integration, token = integration_create(name="prometheus", kind="alertmanager", default_category="system")
    monitoring = APIClient()
    monitoring.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    # The alert opens the incident (yellow system fault: the technical group on site within 1 h).
    assert monitoring.post("/api/v1/alerts/alertmanager", alertmanager_webhook("firing"), format="json").status_code == 202
    processing.alerts_process_pending()
    incident = Incident.objects.get()
    base = f"/api/v1/incidents/{incident.pk}"
    assert (incident.category.key, incident.level.key) == ("system", "yellow")
    assert as_tech.post(f"{base}/acknowledge/").status_code == 200
    assert as_tech.post(f"{base}/check-in/").status_code == 200
    assert monitoring.post("/api/v1/alerts/alertmanager", alertmanager_webhook("resolved"), format="json").status_code == 202
    processing.alerts_process_pending()
    incident.refresh_from_db()
    assert incident.recovered_at is not None
    assert as_tech.post(f"{base}/resolve/", {"summary": "重启了征信查询服务。"}, format="json").status_code == 200

    # The review is drafted at resolution, its figures computed from the record.
    review = as_office.get(f"{base}/review/").json()
    assert review["status"] == "draft"
    figures = review["figures"]
    incident.refresh_from_db()
    acknowledged = incident.timeline.get(kind=TimelineKind.ACKNOWLEDGED).at
    assert figures["time_to_acknowledge_s"] == pytest.approx((acknowledged - incident.opened_at).total_seconds(), abs=1)
    assert figures["time_to_recover_s"] == pytest.approx((incident.recovered_at - incident.opened_at).total_seconds(), abs=1)
    assert figures["deadlines_met"] == 1 and figures["deadlines_missed"] == 0  # the on-site arrival
    refused = as_office.post(f"{base}/review/submit/")
    assert refused.status_code == 400 and "root_cause" in refused.json()
    assert as_office.put(f"{base}/review/", WRITTEN, format="json").status_code == 200
    assert as_office.post(f"{base}/review/submit/").json()["status"] == "submitted"
    assert as_leader.post(f"{base}/review/approve/").json()["status"] == "approved"

    # A remediation action: refused without an owner, then due in an hour; when it passes, owner and office are told.
    assert as_office.post(f"{base}/actions/", {"title": "连接池告警", "due_at": (timezone.now() + timedelta(hours=1)).isoformat()},
                          format="json").status_code == 400
    due = timezone.now() + timedelta(hours=1)
    action = as_office.post(f"{base}/actions/", {"title": "连接池使用率告警", "owner": "tech", "due_at": due.isoformat()},
                            format="json").json()
    with time_machine.travel(due + timedelta(seconds=5), tick=False):
        engine.sweep()
        overdue = as_office.get("/api/v1/actions/?overdue=true").json()["results"]
    assert [a["id"] for a in overdue] == [action["id"]]
    assert Deadline.objects.get(kind=Kind.REMEDIATION, subject=f"action:{action['id']}", state=State.MISSED)
    told = set(Notification.objects.filter(incident=incident, person__isnull=False,
                                           created_at__gte=due).values_list("person__username", flat=True))
    assert {"tech", "office"} <= told
    assert incident.timeline.filter(kind=TimelineKind.ACTION_OVERDUE).count() == 1

    # A plan change drawn from the review: the on-site window of system/yellow becomes 30 minutes.
    active = PlanVersion.objects.get(is_active=True)
    document = yaml.safe_load(_exported(active))
    document["categories"][[c["key"] for c in document["categories"]].index("system")]["responses"]["yellow"]["on_site"] = [
        {"role": "tech_group", "within": "30m"}]
    bad = as_office.post("/api/v1/plan-proposals/", {"reason": "x", "incident": incident.pk,
                                                     "plan": "format: 1\nroles: []\n"}, format="json")
    assert bad.status_code == 400 and bad.json()["plan"]
    proposal = as_office.post("/api/v1/plan-proposals/", {
        "reason": "事件总结：到场时限缩短为 30 分钟", "incident": incident.pk,
        "plan": yaml.safe_dump(document, allow_unicode=True)}, format="json")
    assert proposal.status_code == 201, proposal.content
    pid = proposal.json()["id"]
    assert as_office.get(f"/api/v1/plan-proposals/{pid}/diff/").status_code == 200
    assert as_office.post(f"/api/v1/plan-proposals/{pid}/submit/").status_code == 200
    assert as_office.post(f"/api/v1/plan-proposals/{pid}/approve/").status_code == 200
    now_active = PlanVersion.objects.get(is_active=True)
    assert now_active.pk != active.pk and now_active.approved_by == office
    cell = now_active.responses.get(category__key="system", level__key="yellow")
    assert [d.within for d in cell.on_site.all()] == [timedelta(minutes=30)]

    # Archive only when every action is done or carried over; then every write is 409.
    assert as_office.post(f"{base}/archive/").status_code == 409
    assert as_tech.post(f"/api/v1/actions/{action['id']}/done/", {"evidence": "变更单 CR-1024"}, format="json").status_code == 200
    assert as_office.post(f"{base}/archive/").json()["status"] == "archived"
    for method, path, body in [("post", f"{base}/notes/", {"text": "补充"}),
                               ("patch", f"{base}/", {"title": "改标题"}),
                               ("put", f"{base}/review/", WRITTEN),
                               ("post", f"{base}/actions/", {"title": "新措施", "owner": "tech",
                                                             "due_at": (timezone.now() + timedelta(days=1)).isoformat()})]:
        answer = getattr(as_office, method)(path, body, format="json")
        assert answer.status_code == 409, (path, answer.content)
        assert "归档" in answer.json()["detail"]

    # The evidence pack, in the reader's language, with the chain's final hash; the chain verifies.
    call_command("verifytimeline", incident=incident.pk)
    last_hash = incident.timeline.order_by("-id").values_list("hash", flat=True).first()
    pdf = as_office.get(f"{base}/export", {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf.content).hexdigest()
    text = pdf_text(pdf.content)
    for expected in ("数据库连接池耗尽", "连接池使用率告警", "变更单 CR-1024", last_hash[:16]):
        assert expected in text.replace("\n", ""), expected
    word = as_office.get(f"{base}/export", {"format": "docx"})
    assert word.status_code == 200
    text = docx_text(word.content)
    for expected in ("数据库连接池耗尽", "连接池使用率告警", "变更单 CR-1024", last_hash):
        assert expected in text, expected


def _exported(version):
    from plan.services import export_version

    return export_version(version)
