"""Issue 14: the demo people receive messages, so ./scripts/run.sh shows notifications going out."""

import io

import pytest
from django.core.management import call_command

from people.management.commands.seeddemo import DEMO_EMAIL_DOMAIN, DEMO_PEOPLE
from people.models import Person

pytestmark = pytest.mark.django_db
USERNAMES = [username for username, *_rest in DEMO_PEOPLE]


def test_every_demo_person_has_an_address_on_a_domain_that_can_never_receive_mail():
    call_command("seeddemo", stdout=io.StringIO())

    emails = dict(Person.objects.filter(username__in=USERNAMES).values_list("username", "email"))
    assert emails == {username: f"{username}@demo.fenghuo.example" for username in USERNAMES}
    assert DEMO_EMAIL_DOMAIN.endswith(".example")  # RFC 2606: reserved, no real mailbox


def test_seeding_again_fills_a_missing_address_and_keeps_one_someone_set():
    call_command("seeddemo", stdout=io.StringIO())
    Person.objects.filter(username="duty").update(email="")
    Person.objects.filter(username="tech").update(email="li.gong@bank.example")

    call_command("seeddemo", stdout=io.StringIO())

    assert Person.objects.get(username="duty").email == "duty@demo.fenghuo.example"
    assert Person.objects.get(username="tech").email == "li.gong@bank.example"


def test_a_fault_logged_in_the_demo_prints_its_mail_with_run_shs_console_backend(shipped_plan, settings, capsys):
    from incidents import services
    from notifications.delivery import deliver_due
    from notifications.models import Delivery

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # run.sh's EMAIL_URL=console://
    call_command("seeddemo")
    capsys.readouterr()

    incident = services.log_fault(reporter=Person.objects.get(username="duty"), category="system", level="yellow",
                       title="Credit query host slow")
    deliver_due()

    deliveries = list(Delivery.objects.filter(kind="email").values_list("address", "status"))
    assert deliveries and all(status == "sent" for _address, status in deliveries), deliveries
    assert {address for address, _status in deliveries} <= {f"{u}@{DEMO_EMAIL_DOMAIN}" for u in USERNAMES}
    printed = capsys.readouterr().out
    for address, _status in deliveries:
        assert f"To: {address}" in printed
    assert f"/incidents/{incident.pk}/" in printed
