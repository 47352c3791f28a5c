import pytest


@pytest.fixture
def minimal_plan_version(db):
    from plan.services import load_plan_text
    from plan.tests.documents import as_yaml, minimal_plan

    return load_plan_text(as_yaml(minimal_plan()), source="minimal")
