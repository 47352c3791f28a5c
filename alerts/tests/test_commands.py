from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Integration
from people.models import hash_token

pytestmark = pytest.mark.django_db


def test_createintegration_prints_the_token_alone_on_the_last_line_and_stores_its_hash(minimal_plan_version):
    out = StringIO()
    call_command("createintegration", "prometheus", "--kind", "alertmanager", "--category", "network",
                 "--level", "yellow", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    integration = Integration.objects.get()
    assert (integration.name, integration.kind, integration.default_category, integration.default_level) == (
        "prometheus", "alertmanager", "network", "yellow")
    assert integration.token_hash == hash_token(token)
    assert token not in str(Integration.objects.values().get())


def test_createintegration_refuses_an_unknown_category_or_a_duplicate_name(minimal_plan_version):
    with pytest.raises(CommandError, match="default_category"):
        call_command("createintegration", "x", "--kind", "generic", "--category", "kitchen", stdout=StringIO())
    call_command("createintegration", "x", "--kind", "generic", stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("createintegration", "x", "--kind", "events", stdout=StringIO())
    assert Integration.objects.count() == 1
