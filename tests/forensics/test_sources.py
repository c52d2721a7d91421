"""Every source: documented sample records parse to the right events, and hostile lines (not
UTF-8, over the line limit, nested too deep, wrong types, missing fields) are counted bad per
file, never a crash and never silently dropped."""

from __future__ import annotations

import datetime
import gzip
from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.forensics import db
from hullguard.forensics.ingest import IngestSpec, ingest
from hullguard.forensics.model import Event
from hullguard.forensics.queries import pulls_of
from hullguard.forensics.sources import SOURCES, get_source
from hullguard.forensics.sources.base import parse_all
from tests.forensics.samples import (
    D1,
    D2,
    EXPECTED,
    GENERIC,
    GOOD,
    HOSTILE,
    MANIFEST,
    envelope,
    j,
    registry_line,
)

NAMES = [source.name for source in SOURCES]


def test_every_source_has_samples_and_hostile_lines() -> None:
    assert set(GOOD) == set(HOSTILE) == set(EXPECTED) == set(NAMES)


def _hostile(name: str) -> list[bytes]:
    lines = list(HOSTILE[name])
    if name == "cri-log":
        return [*lines, GENERIC[0]]  # CRI keeps undecodable bytes; a huge line is still bad
    return lines + GENERIC


@pytest.mark.parametrize("name", NAMES)
def test_samples_and_hostile_lines(name: str, tmp_path: Path) -> None:
    hostile = _hostile(name)
    path = tmp_path / "log"
    path.write_bytes(b"".join(GOOD[name]) + b"".join(hostile))
    summary = ingest(tmp_path / "case", [IngestSpec.parse(f"{name}:{path}")])
    (report,) = summary.files
    events, ignored = EXPECTED[name]
    assert (report.events, report.ignored, report.bad) == (events, ignored, len(hostile)), \
        report.bad_examples
    assert report.new_events == events and summary.total_events == events
    assert len(report.bad_examples) == min(5, len(hostile))
    assert (tmp_path / "case" / "forensics" / "events.parquet").stat().st_size > 0


def _events(name: str) -> list[Event]:
    events, bad = parse_all(get_source(name), GOOD[name])
    assert bad == 0
    return list(events)


def test_distribution_log_fields() -> None:
    by_tag, by_digest, push = _events("distribution-log")
    assert (by_tag.action, by_tag.repository, by_tag.tag, by_tag.digest) == (
        "pull", "team/app", "v1", "")
    assert by_tag.actor == "alice" and by_tag.client_addr == "10.0.0.7"
    assert by_tag.time == datetime.datetime(2026, 3, 2, 10, 0, 0, 123456,
                                            tzinfo=datetime.UTC)
    assert by_digest.digest == D1 and push.action == "push"


def test_notification_blob_and_manifest_actions() -> None:
    pull, push = _events("distribution-events")
    assert (pull.action, pull.tag, pull.actor) == ("pull", "v1", "")
    assert push.action == "push-blob"


def test_harbor_and_docker_hub_records() -> None:
    pull, create, ext = _events("harbor-audit")
    assert (pull.action, pull.repository, pull.tag) == ("pull", "library/nginx", "1.25")
    assert (create.action, create.digest) == ("push", D1)
    assert ext.ok is True and ext.actor == "bob"
    push, pulled = _events("harbor-webhook")
    assert (push.action, push.repository, push.registry) == ("push", "library/app",
                                                             "harbor.local")
    assert (pulled.action, pulled.actor) == ("pull", "bob")
    tag_push, team = _events("dockerhub-audit")
    assert (tag_push.action, tag_push.repository, tag_push.digest) == ("push", "acme/api", D1)
    assert team.action == "team.member.add"
    pulls, checks = _events("dockerhub-usage")
    assert (pulls.action, pulls.count, pulls.actor) == ("pull", 5, "alice")
    assert (checks.action, checks.count, checks.repository) == ("check", 4, "library/nginx")


def test_kubernetes_records() -> None:
    api, pinned = _events("k8s-audit")
    assert (api.action, api.repository, api.tag, api.client_addr) == (
        "k8s-create", "acme/api", "v1", "10.0.0.9")
    assert pinned.digest == D1
    (pulled,) = _events("k8s-events")
    assert (pulled.action, pulled.actor, pulled.client_addr, pulled.count) == (
        "pull", "prod/api-1", "node-a", 2)


def test_container_logs_keep_messages() -> None:
    first, partial = _events("cri-log")
    assert first.detail == "listening on :8080" and partial.status == "stderr"
    assert "\ufffd" in partial.detail
    (line,) = _events("docker-log")
    assert line.detail == "GET /health 200"


def test_gzip_file_and_duplicate_lines_across_files(tmp_path: Path) -> None:
    plain = tmp_path / "a.log"
    plain.write_bytes(b"".join(GOOD["distribution-log"]))
    packed = tmp_path / "b.log.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    summary = ingest(tmp_path / "case", [IngestSpec.parse(f"distribution-log:{plain}"),
                                         IngestSpec.parse(f"distribution-log:{packed}")])
    assert [r.new_events for r in summary.files] == [3, 0]
    with db.open_read(tmp_path / "case") as con:
        assert db.count_events(con) == 3


def test_a_line_repeated_in_one_file_is_one_event_and_reingest_adds_none(
        tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    line = GOOD["distribution-log"][0]
    path.write_bytes(line * 3 + GOOD["distribution-log"][1])
    spec = IngestSpec.parse(f"distribution-log:{path}")
    first = ingest(tmp_path / "case", [spec])
    again = ingest(tmp_path / "case", [spec])
    assert (first.files[0].events, first.files[0].new_events) == (4, 2)
    assert (again.files[0].new_events, again.total_events) == (0, 2)
    with db.open_read(tmp_path / "case") as con:
        assert con.execute("SELECT min(line) FROM events WHERE line <= 3").fetchone() == (1,)


def test_huge_line_does_not_hide_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(GENERIC[0] + GOOD["docker-log"][0] + b"x" * (3 << 20))  # no final newline
    (report,) = ingest(tmp_path / "case", [IngestSpec.parse(f"docker-log:{path}")]).files
    assert (report.events, report.bad) == (1, 2)
    assert report.bad_examples[0].startswith("line 1: longer than")


def test_truncated_gzip_is_an_input_error_and_keeps_nothing(tmp_path: Path) -> None:
    packed = tmp_path / "cut.log.gz"
    packed.write_bytes(gzip.compress(b"".join(GOOD["docker-log"]) * 5000)[:-40])
    with pytest.raises(InputError, match="cannot read past record"):
        ingest(tmp_path / "case", [IngestSpec.parse(f"docker-log:{packed}")])
    with db.open_read(tmp_path / "case") as con:
        assert db.count_events(con) == 0


def test_a_pull_by_tag_takes_the_digest_the_tag_had_then(tmp_path: Path) -> None:
    """Log lines name only the tag; pushes (notifications) say which digest it pointed to."""
    def pull(at: str) -> bytes:
        return j(registry_line(time=at, **{"http.request.id": at}))

    def push(at: str, digest: str) -> bytes:
        doc = envelope("push", MANIFEST, "v1", digest)
        doc["events"][0]["timestamp"] = at
        doc["events"][0]["request"]["id"] = "push" + at
        return j(doc)

    log, events = tmp_path / "registry.log", tmp_path / "events.jsonl"
    log.write_bytes(pull("2026-03-02T10:00:00Z") + pull("2026-03-02T12:00:00Z") +
                    pull("2026-03-02T12:30:00Z"))
    events.write_bytes(push("2026-03-02T09:00:00Z", D1) + push("2026-03-02T11:00:00Z", D2))
    ingest(tmp_path / "case", [IngestSpec.parse(f"distribution-log:{log}"),
                               IngestSpec.parse(f"distribution-events:{events}")])
    with db.open_read(tmp_path / "case") as con:
        by_tag = {g.digest: g.count for g in pulls_of(con, "team/app:v1")}
        (moved,) = pulls_of(con, D2)
    assert by_tag == {D1: 1, D2: 2}
    assert moved.count == 2 and moved.first.hour == 12
