"""Pulls and pushes against a real docker-registry (TLS + htpasswd, JSON logs, notifications
to a receiver this test runs), made with skopeo and hullguard's own client; the answers come
from the registry's own log lines."""

from __future__ import annotations

import datetime
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hullguard.forensics import db
from hullguard.forensics.ingest import IngestSpec, ingest
from hullguard.forensics.queries import pulls_of, push_anomalies, timeline
from hullguard.images.api import SourceOptions
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.images.reference import parse_reference
from hullguard.images.registry import Credentials, RegistryClient, open_registry_image, push_layout
from tests.support.env import tool
from tests.support.registry import Handler, RegistryServer, serve, skopeo_push, start_registry

REPO = "team/app"


class Receiver:
    """A notification endpoint: appends each envelope it receives as one JSON line."""

    def __init__(self, path: Path) -> None:
        self.path, self.events, self._lock = path, 0, threading.Lock()
        self.server = serve(self._handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def _handle(self, handler: Handler) -> None:
        body = json.loads(handler.read_body())
        with self._lock, self.path.open("a") as out:
            out.write(json.dumps(body) + "\n")
            self.events += len(body["events"])
        handler.reply(200)

    def wait_quiet(self, seconds: float = 1.5, limit: float = 20.0) -> None:
        """Until no envelope arrived for ``seconds`` (the registry sends them async)."""
        deadline, seen, since = time.monotonic() + limit, -1, time.monotonic()
        while time.monotonic() < deadline:
            if self.events != seen:
                seen, since = self.events, time.monotonic()
            elif time.monotonic() - since > seconds:
                return
            time.sleep(0.1)


def _layout(root: Path, marker: bytes) -> Path:
    layer = LayerSpec((FileSpec("app/version", marker),), created_by="COPY version /app/")
    return write_oci_layout(root, ImageSpec([layer], config={"Cmd": ["/app/run"]}), tag="v1")


def skopeo_pull(server: RegistryServer, out: Path) -> None:
    command = [tool("skopeo"), "--policy", str(server.root / "policy.json"), "copy", "--quiet",
               "--src-tls-verify=false", "--src-creds", f"{server.username}:{server.password}",
               f"docker://{server.host}/{REPO}:v1", f"oci:{out}:x"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@dataclass
class Story:
    server: RegistryServer
    case: Path
    digest_a: str
    digest_b: str
    moved_at: datetime.datetime


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """Push A (skopeo); pull it twice with skopeo and once with hullguard; move the tag to B
    (hullguard's push); pull B once with skopeo. Then ingest the registry's own records."""
    root = tmp_path_factory.mktemp("forensics-registry")
    receiver = Receiver(root / "notifications.jsonl")
    config = {"log": {"level": "info", "formatter": "json", "accesslog": {"disabled": False}},
              "notifications": {"endpoints": [{"name": "case", "url": receiver.url,
                                               "timeout": "2s", "threshold": 3,
                                               "backoff": "1s"}]}}
    with start_registry(root / "registry", tls=True, htpasswd=True, config=config) as server:
        a, b = _layout(root / "a", b"A\n"), _layout(root / "b", b"B\n")
        skopeo_push(a, "v1", server, REPO, all_platforms=False)
        skopeo_pull(server, root / "pull1")
        skopeo_pull(server, root / "pull2")
        options = SourceOptions(username=server.username, password=server.password)
        with open_registry_image(parse_reference(server.ref(REPO, "v1")), options,
                                 ca_file=str(server.ca_file)) as source:
            digest_a = str(source.info.digest)
        moved_at = datetime.datetime.now(datetime.UTC)
        credentials = Credentials(server.username, server.password, origin="test")
        with RegistryClient(server.host, credentials=credentials,
                            ca_file=str(server.ca_file)) as client:
            digest_b = str(push_layout(client, b, REPO, "v1"))
        skopeo_pull(server, root / "pull3")
        receiver.wait_quiet()
        case = root / "case"
        ingest(case, [IngestSpec.parse(f"distribution-log:{server.root / 'registry.log'}"),
                      IngestSpec.parse(f"distribution-events:{receiver.path}")])
        yield Story(server, case, digest_a, digest_b, moved_at)
    receiver.server.shutdown()


def _manifest_gets(log: Path) -> list[dict[str, object]]:
    """Successful manifest GETs as the raw log has them (an independent count)."""
    found = []
    for line in log.read_text().splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        uri = str(record.get("http.request.uri", ""))
        if record.get("http.request.method") == "GET" and f"/v2/{REPO}/manifests/" in uri \
                and record.get("http.response.status") == 200:
            found.append(record)
    return found


def test_pulls_of_a_moved_tag_show_both_digests(story: Story) -> None:
    with db.open_read(story.case) as con:
        groups = {g.digest: g for g in pulls_of(con, f"{story.server.host}/{REPO}:v1")}
    assert set(groups) == {story.digest_a, story.digest_b}
    first_a, first_b = groups[story.digest_a], groups[story.digest_b]
    assert first_a.last < story.moved_at < first_b.first
    gets = _manifest_gets(story.server.root / "registry.log")
    assert first_a.count + first_b.count == len(gets)
    agents_a = {item["value"]: item["count"] for item in first_a.by_user_agent}
    skopeo_a = sum(n for agent, n in agents_a.items() if agent.startswith("skopeo"))
    assert skopeo_a >= 2 and sum(agents_a.values()) == first_a.count
    assert any(agent.startswith("hullguard") for agent in agents_a), agents_a
    assert {item["value"] for item in first_a.by_actor} == {story.server.username}
    assert {item["value"] for item in first_b.by_client} == {"127.0.0.1"}


def test_pulls_of_a_digest_and_first_last_match_the_log(story: Story) -> None:
    with db.open_read(story.case) as con:
        (group,) = pulls_of(con, story.digest_b)
    # B was only ever pulled by tag, after the move: the log line has no digest, the
    # notification of the same request (same request id) does, and counts once.
    times = sorted(t for g in _manifest_gets(story.server.root / "registry.log")
                   if (t := datetime.datetime.fromisoformat(str(g["time"]))) > story.moved_at)
    assert group.digest == story.digest_b
    assert group.count == len(times) >= 1
    slack = datetime.timedelta(seconds=1)  # notification time vs. response-completed time
    assert abs(group.first - times[0]) < slack and abs(group.last - times[-1]) < slack


def test_tag_move_is_a_push_anomaly_with_its_events(story: Story) -> None:
    with db.open_read(story.case) as con:
        found = push_anomalies(con, threshold=10, usual_hours=(0, 24))
    moved = [a for a in found if a.kind == "tag-moved"]
    assert len(moved) == 1 and moved[0].subject == f"{REPO}:v1"
    assert moved[0].detail == f"{story.digest_a} -> {story.digest_b}"
    assert {e["digest"] for e in moved[0].events} == {story.digest_a, story.digest_b}
    assert not [a for a in found if a.kind == "burst"]


def test_reingest_adds_nothing_and_timeline_is_ordered(story: Story) -> None:
    again = ingest(story.case, [IngestSpec.parse(
        f"distribution-log:{story.server.root / 'registry.log'}")])
    assert again.files[0].events > 0 and again.files[0].new_events == 0
    assert again.files[0].bad == 0
    with db.open_read(story.case) as con:
        events = timeline(con, f"{REPO}:v1", limit=100_000)
    times = [e["time"] for e in events]
    assert times == sorted(times) and len(events) > 5
