"""Fixtures shared by every app's tests: plans, people with plan roles, API clients."""

from pathlib import Path

import pytest
import yaml

SHIPPED_PLAN = Path(__file__).parent / "plan" / "plans" / "credit-system.yaml"


def fast_plan_text(seconds_per_hour=2):
    """The shipped plan with every duration shrunk (1 h → ``seconds_per_hour`` s), for real-time tests."""
    from plan.durations import parse_duration

    doc = yaml.safe_load(SHIPPED_PLAN.read_text(encoding="utf-8"))

    def shrink(text):
        seconds = parse_duration(text).total_seconds() * seconds_per_hour / 3600
        return f"{max(1, round(seconds))}s"

    for category in doc["categories"]:
        for cell in category["responses"].values():
            for duty in cell.get("on_site") or []:
                duty["within"] = shrink(duty["within"])
            if cell.get("escalate"):
                cell["escalate"]["after"] = shrink(cell["escalate"]["after"])
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@pytest.fixture
def minimal_plan_version(db):
    from plan.services import load_plan_text
    from plan.tests.documents import as_yaml, minimal_plan

    return load_plan_text(as_yaml(minimal_plan()), source="minimal")


@pytest.fixture
def shipped_plan(db):
    from plan.services import load_plan_text

    return load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))


@pytest.fixture
def make_person(db):
    """make_person("duty_staff", "office", username="wang") → a Person holding those plan roles."""
    from people.models import Person, RoleAssignment

    counter = {"n": 0}

    def make(*roles, username=None, language="", password="pw-for-tests-only", **fields):
        counter["n"] += 1
        person = Person.objects.create_user(
            username=username or f"{'-'.join(roles) or 'nobody'}-{counter['n']}", password=password,
            language=language, email=fields.pop("email", f"p{counter['n']}@example.test"), **fields,
        )
        for key in roles:
            RoleAssignment.objects.create(person=person, role_key=key)
        return person

    return make


@pytest.fixture
def api_client_for():
    """api_client_for(person) → a DRF client authenticated with a real personal token."""
    from rest_framework.test import APIClient

    from people.models import ApiToken

    def make(person):
        _token, secret = ApiToken.issue(person)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 hasher is most of the time of a test that creates people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
