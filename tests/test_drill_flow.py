"""Issue 18's "done when": a red network drill on a compressed clock, run by real Celery processes.

`celery -A config worker` and `celery -A config beat` start the drill at its time
(an engine deadline), time its plan deadlines at ×600 and deliver its messages
to a real SMTP server and real webhook receivers on loopback. One participant
never answers; the scorecard shows it, every captured message carries the drill
mark, and no count of real incidents moves.
"""

import email
import email.header
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.selectors import Filters, open_incidents
from drills import selectors, services
from drills.models import Drill, DrillStatus
from escalation.models import Deadline, Kind, State
from incidents import services as incident_services
from incidents.models import Incident
from notifications.models import ChannelConfig, Delivery, DeliveryStatus
from notifications.tests.receivers import Receiver, start_smtp
from plan.services import load_plan_text
from plan.tests.documents import SHIPPED_PLAN
from tests.support.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

SECRET = "drill-webhook-secret-0123456789"
MARKS = ("[DRILL]", "【演练】")


@pytest.fixture
def smtp_server():
    controller, sink = start_smtp()
    yield controller, sink
    controller.stop()


@pytest.fixture
def robots():
    started = {language: Receiver("webhook", secret=SECRET) for language in ("en", "zh-hans")}
    for language, receiver in started.items():
        ChannelConfig.objects.create(name=f"ops {language}", kind="webhook", url=f"{receiver.base}/hook",
                                     secret=SECRET, language=language)
    yield started
    for receiver in started.values():
        receiver.close()


def _decoded(envelope):
    message = email.message_from_bytes(envelope.content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    return subject, message.get_payload(decode=True).decode()


def test_a_red_network_drill_runs_through_the_engine_scored_marked_and_kept_out_of_real_counts(
        celery_processes, smtp_server, robots, make_person, settings):
    controller, sink = smtp_server
    load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source="shipped")
    office = make_person("office", username="office-wu", language="zh-hans")
    maintainer = make_person("network_maintainer", username="maintainer-li", language="en")
    silent = make_person("maintenance_dept_head", username="head-zhao", language="zh-hans")
    leader = make_person("leadership", username="leader-chen", language="en")
    boss = make_person("main_leaders", username="boss-sun", language="zh-hans")
    make_person("business_departments", username="biz-he", language="en")
    real = incident_services.log_fault(reporter=office, category="system", level="yellow", title="Real: slow queries")
    _groups, counts_before, _ids = open_incidents(Filters())
    real_before = Incident.objects.filter(is_drill=False).count()

    celery_processes.env.update({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(controller.port),
                                 "EMAIL_USE_TLS": "false", "NOTIFICATIONS_HTTP_TIMEOUT": "2"})
    celery_processes.start_worker()
    celery_processes.start_beat()
    training = services.training_create(actor=office, title="Backbone failover", held_at=timezone.now(),
                                        attendees=[maintainer.username])
    # ×600: the plan's 30 minutes on site are 3 real seconds; reading a message is expected within 1.5 s.
    drill = services.drill_schedule(actor=office, title="All backbone lines down", category="network", level="red",
                                    starts_at=timezone.now() + timedelta(seconds=2), clock=600,
                                    participant_roles=["network_maintainer", "maintenance_dept_head"])

    assert wait_until(lambda: Drill.objects.get(pk=drill.pk).status == DrillStatus.RUNNING, timeout=30)
    drill.refresh_from_db()
    incident = drill.incident
    assert incident.is_drill and incident.clock == 600
    for person in (maintainer, leader, office):
        incident_services.check_in(incident, actor=person)
    incident_services.propose_plan(incident, actor=leader, text="Switch to the backup carrier.")
    pending = incident.response_plans.get()
    incident_services.approve_plan(pending, actor=boss, comment="Go.")

    def settled():
        missed = Deadline.objects.filter(incident=incident, kind=Kind.ON_SITE, role_key="maintenance_dept_head",
                                         state=State.MISSED).exists()
        unsent = Delivery.objects.filter(notification__incident=incident).exclude(
            status__in=[DeliveryStatus.SENT, DeliveryStatus.COALESCED, DeliveryStatus.SUPPRESSED,
                        DeliveryStatus.CANCELLED]).exists()
        return missed and not unsent and len(sink.messages) > 0
    assert wait_until(settled, timeout=60)
    services.drill_end(drill, actor=office, summary="Tabletop done")
    drill.refresh_from_db()

    # Every email and robot message starts with the drill mark, in its reader's language.
    # (The real incident's messages, sent meanwhile, carry no mark.)
    mails = [_decoded(e) + (e.rcpt_tos,) for e in sink.messages]
    about_real = [m for m in mails if f"#{real.pk} " in m[0]]
    about_drill = [m for m in mails if f"#{incident.pk} " in m[0]]
    assert about_drill and about_real and len(about_drill) + len(about_real) == len(mails)
    for subject, body, _to in about_drill:
        assert subject.startswith(MARKS), subject
        assert body.startswith(MARKS), body
    assert not any(subject.startswith(MARKS) or body.startswith(MARKS) for subject, body, _to in about_real)
    by_reader = {address: (subject, body) for subject, body, to in about_drill for address in to}
    assert by_reader[silent.email][0].startswith("【演练】") and by_reader[maintainer.email][0].startswith("[DRILL]")
    for language, receiver in robots.items():
        drill_posts = [p for p in receiver.accepted if p["incident"] == incident.pk]
        assert drill_posts, language
        for payload in drill_posts:
            assert payload["drill"] is True
            mark = "【演练】" if language == "zh-hans" else "[DRILL]"
            assert payload["title"].startswith(mark) and payload["text"].startswith(mark), payload

    # The scorecard: the silent head's reading and arrival missed; the arrivals and the approval met.
    card = drill.scorecard
    items = card["items"]
    silent_reads = [i for i in items if i["requirement"] == "acknowledge" and i["people"] == [silent.username]]
    assert silent_reads and not any(i["met"] for i in silent_reads)
    on_site = {i["role"]: i for i in items if i["requirement"] == "on_site"}
    assert on_site["maintenance_dept_head"]["met"] is False
    assert on_site["network_maintainer"]["met"] and on_site["leadership"]["met"] and on_site["office"]["met"]
    assert [i["met"] for i in items if i["requirement"] == "approval"] == [True]
    assert on_site["network_maintainer"]["due_after_plan_s"] == pytest.approx(1800, rel=0.01)
    assert card["plan_elapsed_s"] == pytest.approx(card["real_elapsed_s"] * 600, rel=0.01)
    assert 0 < card["score"] < 100

    # Real figures untouched: the dashboard's counts and the real incidents.
    _groups, counts_after, _ids = open_incidents(Filters())
    assert counts_after == counts_before == {real.level.key: 1}
    assert Incident.objects.filter(is_drill=False).count() == real_before

    # Readiness: the training and the drill both show.
    rows = {r.username: r for r in selectors.readiness()}
    assert rows[maintainer.username].last_training_at == training.held_at
    assert rows[maintainer.username].last_drill_at is not None
    assert rows[silent.username].last_drill_at is not None and rows[silent.username].last_training_at is None
    assert json.dumps(card)  # stored as plain JSON
