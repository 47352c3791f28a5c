"""Shared storage (issue 22, item 2): uploads go through Django's storage API, to one S3-compatible bucket.

moto's S3 server runs on loopback (server mode, real HTTP), standing in for MinIO or a cloud bucket. A note
attachment added on one node is an object in the bucket, nothing is written to the node's own folder, and
any node (a fresh storage, no state of the first) serves it to a reader through the view that checks access.
"""

import hashlib

import boto3
import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from incidents import services
from incidents.models import NoteAttachment
from incidents.tests import notes_files as files
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db

BUCKET = "fenghuo-attachments"
KEYS = {"aws_access_key_id": "fenghuo-test", "aws_secret_access_key": "fenghuo-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=BUCKET)
    settings.MEDIA_ROOT = tmp_path / "media"
    # What config/settings.py builds from FENGHUO_S3_BUCKET and friends (test_settings_build_the_s3_storage...).
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": BUCKET, "endpoint_url": s3_endpoint, "region_name": "us-east-1", "location": "node-test",
        "access_key": KEYS["aws_access_key_id"], "secret_key": KEYS["aws_secret_access_key"],
        "default_acl": None, "querystring_auth": True, "file_overwrite": False, "addressing_style": "path",
        "signature_version": "s3v4"}}}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def incident(shipped_plan, make_person):
    return services.log_fault(reporter=make_person("duty_staff"), category="system", level="yellow",
                              title="Savings host slow")


def test_a_note_attachment_is_an_object_in_the_shared_bucket_and_never_a_file_on_the_node(
        bucket, incident, make_person, api_client_for, settings):
    coordinator = make_person("office", "leadership")
    response = api_client_for(coordinator).post(
        f"/api/v1/incidents/{incident.pk}/notes/",
        {"text": "screenshot of the console", "file": SimpleUploadedFile("console.png", files.png(), "image/png")},
        format="multipart")
    assert response.status_code == 201, response.content

    attachment = NoteAttachment.objects.get()
    objects = bucket.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [o["Key"] for o in objects] == [f"node-test/{attachment.file.name}"]
    stored = bucket.get_object(Bucket=BUCKET, Key=objects[0]["Key"])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == attachment.sha256
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))


def test_any_node_serves_the_attachment_another_node_stored_to_a_reader(bucket, incident, make_person,
                                                                       api_client_for):
    coordinator = make_person("office", "leadership")
    services.add_note(incident, actor=coordinator, text="log",
                      attachment=SimpleUploadedFile("app.log", files.LOG, "text/plain"))
    attachment = NoteAttachment.objects.get()
    # Another node: a storage built afresh from the same settings, holding nothing of the first.
    storages._storages.clear()
    assert storages["default"].open(attachment.file.name).read() == files.LOG

    reader = make_person("business_departments")
    response = api_client_for(reader).get(f"/api/v1/incidents/{incident.pk}/notes/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == files.LOG


def test_a_note_refused_after_its_upload_leaves_no_object_behind(bucket, incident, make_person, monkeypatch):
    from incidents import timeline

    coordinator = make_person("office", "leadership")

    def broken_record(*args, **kwargs):
        raise RuntimeError("the timeline refused the row")

    monkeypatch.setattr(timeline, "record", broken_record)
    with pytest.raises(RuntimeError):
        services.add_note(incident, actor=coordinator, text="log",
                          attachment=SimpleUploadedFile("app.log", files.LOG, "text/plain"))
    assert bucket.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert NoteAttachment.objects.count() == 0


def test_settings_build_the_s3_storage_from_the_environment_and_a_folder_without_it():
    import subprocess
    import sys

    from tests.support.processes import ROOT

    code = ("from django.conf import settings; import json; "
            "print(json.dumps(settings.STORAGES['default']))")
    base = {"SECRET_KEY": "k" * 60, "PATH": "/usr/bin:/bin", "FENGHUO_VAR_DIR": str(ROOT / "var")}

    def storage_with(**env):
        result = subprocess.run([sys.executable, "-c", f"import django, os; os.environ.setdefault("
                                 f"'DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); {code}"],
                                cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        import json

        return json.loads(result.stdout.strip().splitlines()[-1])

    assert storage_with()["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    s3 = storage_with(FENGHUO_S3_BUCKET="evidence", FENGHUO_S3_ENDPOINT_URL="http://minio:9000",
                      FENGHUO_S3_PREFIX="fenghuo")
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"]["bucket_name"] == "evidence" and s3["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert s3["OPTIONS"]["location"] == "fenghuo" and s3["OPTIONS"]["default_acl"] is None
    # No keys in the settings: boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role itself.
    assert s3["OPTIONS"]["access_key"] is None
