import pytest


@pytest.fixture(autouse=True)
def _no_eta_tasks(settings):
    # No worker in these tests: the engine's sweep acts, called by the test when the time has come.
    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False


@pytest.fixture
def plan(shipped_plan):
    return shipped_plan


@pytest.fixture
def office(plan, make_person, api_client_for):
    """The emergency office (the plan lets it coordinate), with an API client speaking English."""
    person = make_person("office", username="office-wu")
    client = api_client_for(person)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return person, client


@pytest.fixture
def responders(plan, make_person):
    """One holder of each role the red and orange network cells name."""
    roles = ["network_maintainer", "maintenance_dept_head", "leadership", "main_leaders", "business_departments"]
    return {role: make_person(role, username=role.replace("_", "-")) for role in roles}
