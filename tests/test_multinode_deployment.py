"""The multi-node stack as written: docker-compose.multinode.yml (issue 22, item 4).

Docker does not run on the build machines, so, like tests/test_deployment.py, these read the file and check
what operators rely on: two of each long-running process, one migration step, uploads in a shared bucket and
never in a node's folder, the same settings on every node, and the proxy in front of every web node.
"""

import re
from pathlib import Path

import pytest
import yaml

from tests.test_deployment import command_of, depends_on, nginx_directives

ROOT = Path(__file__).resolve().parent.parent
TWICE = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.multinode.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def single():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


@pytest.mark.parametrize("name", TWICE)
def test_two_of_each_long_running_process(services, name):
    assert services[name]["deploy"]["replicas"] == 2
    assert "container_name" not in services[name], "a fixed name would allow only one"


def test_one_migration_step_runs_before_any_process_starts(services):
    assert "deploy" not in services["migrate"] and services["migrate"]["restart"] == "no"
    for name in TWICE:
        assert depends_on(services[name])["migrate"] == "service_completed_successfully"


def test_both_beats_run_celery_beat_and_nothing_else_elects_one(services):
    assert command_of(services["beat"]) == "celery -A config beat --loglevel INFO"
    assert "redbeat" not in yaml.safe_dump(services), "two plain beats, by design (docs/deployment.md)"


def test_processes_are_the_ones_the_single_node_stack_runs(services, single):
    for name in ("web", "worker"):
        assert command_of(services[name]) == command_of(single[name])
    assert services["worker"]["healthcheck"] == single["worker"]["healthcheck"]
    assert services["web"]["healthcheck"] == single["web"]["healthcheck"]


def test_every_node_has_the_same_settings_and_those_of_the_single_node_stack(services, single):
    environments = [services[name]["environment"] for name in (*TWICE, "migrate")]
    assert all(environment == environments[0] for environment in environments)
    assert set(single["web"]["environment"]) <= set(environments[0])


def test_uploads_live_in_the_shared_bucket_never_on_a_node(services):
    environment = services["web"]["environment"]
    assert environment["FENGHUO_S3_BUCKET"] and environment["FENGHUO_S3_ENDPOINT_URL"].endswith("minio:9000}")
    for name in TWICE:
        volumes = services[name].get("volumes", [])
        assert not [v for v in volumes if "media" in v], f"{name} keeps uploads in its own folder"
        assert depends_on(services[name])["bucket"] == "service_completed_successfully"
    assert "mc mb --ignore-existing" in " ".join(services["bucket"]["entrypoint"])
    assert "anonymous set none" in " ".join(services["bucket"]["entrypoint"]), "objects are private"


def test_the_engines_can_be_the_companys_own_through_the_environment(services):
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"].startswith("${DATABASE_URL:-postgres://")
    assert environment["CELERY_BROKER_URL"].startswith("${CELERY_BROKER_URL:-redis://")
    assert "REDIS_SENTINEL_MASTER" in environment


def test_the_proxy_is_the_only_published_port_and_balances_every_web_node(services):
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert depends_on(services["nginx"])["web"] == "service_healthy"
    # The upstream names the service, which resolves to every replica.
    assert nginx_directives()["server"][0].split()[0] == "web:8000"


def test_every_dependency_names_a_service_of_the_file_and_every_volume_is_declared(compose, services):
    declared = set(compose["volumes"])
    for name, service in services.items():
        for needed in depends_on(service) if "depends_on" in service else {}:
            assert needed in services, f"{name} waits for {needed}, which is not in the file"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith("./") or source in declared, f"{name}: volume {source} is not declared"


def test_images_are_pinned(services):
    for name, service in services.items():
        if "image" in service and "build" not in service:
            assert re.search(r":[\w.-]+$", service["image"]) and not service["image"].endswith(":latest"), name


def test_wal_is_archived_for_point_in_time_recovery(services):
    command = command_of(services["postgres"])
    assert "archive_mode=on" in command and "archive_command=" in command
    assert any(v.endswith(":/archive") for v in services["postgres"]["volumes"])


def test_every_setting_the_file_gives_is_one_the_settings_read(services):
    from tests.test_settings_table import ENVIRONMENT_READ

    read = set(ENVIRONMENT_READ.findall((ROOT / "config" / "settings.py").read_text(encoding="utf-8")))
    given = set(services["web"]["environment"])
    assert given - read == set(), "a misspelt name would be ignored silently"
