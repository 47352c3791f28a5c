"""The timeline's hash chain: every entry seals its content and the entry written before it (issue 16, item 5)."""

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from incidents import chain, timeline
from incidents.models import TimelineEntry, TimelineKind
from incidents.tests.tampering import delete_entry, rewrite_detail

pytestmark = pytest.mark.django_db


def entries_of(incident):
    return list(TimelineEntry.objects.filter(incident=incident).order_by("id"))


def test_each_entry_carries_the_hash_of_its_content_and_of_the_entry_before_it(open_incident):
    incident = open_incident()
    timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "first note"})
    timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "second note"})
    entries = entries_of(incident)
    assert len(entries) >= 3
    assert entries[0].prev_hash == ""
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == before.hash
    for entry in entries:
        expected = hashlib.sha256(chain.canonical(
            incident_id=incident.pk, kind=entry.kind, at=entry.at, actor_id=entry.actor_id,
            actor_label=entry.actor_label, deadline_id=entry.deadline_id, detail=entry.detail,
            prev_hash=entry.prev_hash)).hexdigest()
        assert entry.hash == expected and len(entry.hash) == 64
    state = chain.verify(incident.pk)
    assert state.verified and state.entries == len(entries) and state.last_hash == entries[-1].hash


def test_a_batch_for_several_incidents_chains_each_incident_on_its_own(open_incident):
    first, second = open_incident(), open_incident()
    heads = {first.pk: entries_of(first)[-1].hash, second.pk: entries_of(second)[-1].hash}
    batch = [timeline.row(incident, kind=TimelineKind.NOTE, detail={"text": f"{incident.pk}-{n}"})
             for n in range(3) for incident in (first, second)]
    timeline.record_rows(batch)
    for incident in (first, second):
        mine = [entry for entry in batch if entry.incident_id == incident.pk]
        assert mine[0].prev_hash == heads[incident.pk]
        assert [e.prev_hash for e in mine[1:]] == [e.hash for e in mine[:-1]]
        assert chain.verify(incident.pk).verified


def test_the_stored_hash_matches_what_the_database_gives_back(open_incident):
    """JSON the database rewrites (jsonb turns 1e+20 into 100000000000000000000, tuples become lists) still verifies."""
    incident = open_incident()
    detail = {"big": 1e20, "whole": 3.0, "small": 1e-7, "pair": (1, 2), "text": "中文 ünïcode", "nested": {"b": [True, None]}}
    entry = timeline.record(incident, kind=TimelineKind.NOTE, detail=detail,
                            at=timezone.now().replace(microsecond=123456))
    stored = TimelineEntry.objects.get(pk=entry.pk)
    assert chain.entry_hash(stored, stored.prev_hash) == entry.hash == stored.hash
    assert chain.verify(incident.pk).verified


def test_a_backdated_entry_chains_in_the_order_it_was_written(open_incident):
    incident = open_incident()
    last = entries_of(incident)[-1]
    backdated = timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "late report of an early call"},
                                at=last.at - timedelta(hours=1))
    assert backdated.prev_hash == last.hash
    assert chain.verify(incident.pk).verified


def test_an_entry_written_around_the_timeline_module_is_chained_too(open_incident):
    incident = open_incident()
    head = entries_of(incident)[-1]
    saved = TimelineEntry(incident=incident, kind=TimelineKind.NOTE, detail={"text": "saved"})
    saved.save()
    created = TimelineEntry.objects.create(incident=incident, kind=TimelineKind.NOTE, detail={"text": "created"})
    bulk = TimelineEntry.objects.bulk_create([TimelineEntry(incident=incident, kind=TimelineKind.NOTE, detail={})])
    assert saved.prev_hash == head.hash and created.prev_hash == saved.hash and bulk[0].prev_hash == created.hash
    assert chain.verify(incident.pk).verified


def test_a_changed_entry_is_found_with_its_id_kind_and_time(open_incident):
    incident = open_incident()
    note = timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "the vendor arrived at 10:05"})
    timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "later"})
    rewrite_detail(note.pk, {"text": "the vendor arrived at 09:05"})
    state = chain.verify(incident.pk)
    assert not state.verified
    assert (state.first_break.entry_id, state.first_break.kind, state.first_break.reason) == (note.pk, "note", "content")
    assert f"entry {note.pk} (note," in state.first_break.describe()


def test_a_deleted_entry_breaks_the_link_of_the_one_after_it(open_incident):
    incident = open_incident()
    gone = timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "embarrassing"})
    after = timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "after"})
    delete_entry(gone.pk)
    state = chain.verify(incident.pk)
    assert not state.verified
    assert (state.first_break.entry_id, state.first_break.reason) == (after.pk, "link")


def test_other_incidents_chains_are_untouched_by_a_tampered_one(open_incident):
    tampered, intact = open_incident(), open_incident()
    rewrite_detail(entries_of(tampered)[0].pk, {"level": "blue"})
    states = {state.incident_id: state for state in chain.verify_all([tampered.pk, intact.pk])}
    assert not states[tampered.pk].verified and states[intact.pk].verified


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only("threads on their own connections writing one incident at once; SQLite has one writer")
def test_writers_racing_on_one_incident_never_fork_the_chain(open_incident, monkeypatch):
    """Eight writers, none holding the incident's row lock, each append at the same moment, many times.

    Each writer pauses between reading the chain's head and inserting its rows,
    so without the chain's lock every one of them would take the same head as
    its predecessor.
    """
    incident = open_incident()
    before = len(entries_of(incident))
    seal = chain.seal

    def slow_seal(entries):
        seal(entries)
        threading.Event().wait(0.02)

    monkeypatch.setattr(chain, "seal", slow_seal)
    writers, rounds = 8, 4
    start, failures = threading.Barrier(writers), []

    def write(n):
        try:
            start.wait(timeout=30)
            for r in range(rounds):
                with transaction.atomic():
                    timeline.record_rows([timeline.row(incident, kind=TimelineKind.NOTE,
                                                       detail={"text": f"writer {n} round {r} row {i}"})
                                          for i in range(2)])
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    entries = entries_of(incident)
    assert len(entries) == before + writers * rounds * 2
    predecessors = [entry.prev_hash for entry in entries]
    assert len(set(predecessors)) == len(predecessors), "two entries were chained to the same predecessor"
    assert chain.verify(incident.pk).verified


@pytest.fixture
def reader(make_person, api_client_for):
    person = make_person("office", language="en")
    return person, api_client_for(person)


def test_the_api_says_whether_the_chain_verifies_and_each_entry_carries_its_hashes(open_incident, reader):
    _person, client = reader
    incident = open_incident()
    timeline.record(incident, kind=TimelineKind.NOTE, detail={"text": "noted"})
    body = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    entries = client.get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
    last = TimelineEntry.objects.filter(incident=incident).order_by("id").last()
    assert body["chain"] == {"verified": True, "entries": len(entries), "last_hash": last.hash,
                             "first_broken_entry": None}
    by_id = {entry["id"]: entry for entry in entries}
    assert by_id[last.pk]["hash"] == last.hash and by_id[last.pk]["prev_hash"] == last.prev_hash
    first = min(by_id)
    assert by_id[first]["prev_hash"] == "" and len(by_id[first]["hash"]) == 64

    rewrite_detail(last.pk, {"text": "noted, and edited later"})
    chain_now = client.get(f"/api/v1/incidents/{incident.pk}/").json()["chain"]
    assert chain_now["verified"] is False and chain_now["first_broken_entry"] == last.pk


def test_the_list_does_not_pay_for_the_chain(open_incident, reader):
    _person, client = reader
    open_incident()
    assert "chain" not in client.get("/api/v1/incidents/").json()["results"][0]


@pytest.mark.parametrize("language, verified_text, broken_text", [
    ("en", "The timeline's hash chain verifies", "The timeline's hash chain does not verify"),
    ("zh-hans", "时间线的哈希链校验通过", "时间线的哈希链校验未通过"),
])
def test_the_incident_page_shows_whether_the_chain_verifies(open_incident, make_person, client, language,
                                                            verified_text, broken_text):
    person = make_person("office", language=language)
    client.force_login(person)
    incident = open_incident()
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert verified_text in page and f"/api/v1/incidents/{incident.pk}/export?format=pdf" in page
    first = TimelineEntry.objects.filter(incident=incident).order_by("id").first()
    rewrite_detail(first.pk, {"level": "red"})
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert broken_text in page and 'data-chain="broken"' in page
