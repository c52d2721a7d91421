"""Registry webhooks: each payload is an untrusted trigger, never a source of truth.

Parsers turn the four formats into :class:`Push` values (registry host, repository, tag,
digest as claimed); the caller authenticates the sender first, keeps only pushes naming a
registry the service was configured with, and asks that registry which digest it really holds
(:func:`resolve`): a digest it does not have scans nothing.

* CNCF distribution notifications: ``{"events": [...]}``, action ``push`` of a manifest.
* Harbor, default format: ``{"type": "PUSH_ARTIFACT", "event_data": {"resources": [...]}}``.
* Harbor, CloudEvents: ``{"specversion": "1.0", "type": "harbor.artifact.pushed", "data":
  {...}}`` (the same ``data`` as the default format's ``event_data``).
* Docker Hub: ``{"push_data": {"tag": ...}, "repository": {"repo_name": ...}}``: a tag only;
  Docker Hub signs nothing, so its secret travels in the URL path."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hullguard.errors import InputError

MANIFEST_TYPES = frozenset({
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"})
MAX_PUSHES = 50  # pushes taken from one payload (a notification batches a few events)
HARBOR_PUSH_TYPES = ("PUSH_ARTIFACT", "harbor.artifact.pushed")
KINDS = ("distribution", "harbor", "dockerhub")


@dataclass(frozen=True)
class Push:
    registry: str  # host[:port] as the payload names it
    repository: str
    tag: str = ""
    digest: str = ""  # as claimed: checked against the registry before anything is scanned

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}" + (f"@{self.digest}" if self.digest
                                                       else f":{self.tag}")


def _text(value: Any, limit: int = 512) -> str:
    return value if isinstance(value, str) and 0 < len(value) <= limit else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(kind: str, payload: Any) -> list[Push]:
    if not isinstance(payload, dict):
        raise InputError("the payload is not a JSON object", where=f"webhook {kind}")
    parser = {"distribution": _distribution, "harbor": _harbor, "dockerhub": _dockerhub}[kind]
    return parser(payload)[:MAX_PUSHES]


def _distribution(payload: dict[str, Any]) -> list[Push]:
    events = payload.get("events")
    if not isinstance(events, list):
        raise InputError("no events list", where="webhook distribution")
    pushes = []
    for event in events[:MAX_PUSHES * 4]:  # layer pushes come as events too: skipped below
        if not isinstance(event, dict) or event.get("action") != "push":
            continue
        target, request = _object(event.get("target")), _object(event.get("request"))
        if target.get("mediaType") not in MANIFEST_TYPES:
            continue
        host = urlsplit(_text(target.get("url"), 2048)).netloc or _text(request.get("host"))
        repository = _text(target.get("repository"))
        if host and repository:
            pushes.append(Push(host, repository, _text(target.get("tag"), 128),
                               _text(target.get("digest"), 200)))
    return pushes


def _harbor(payload: dict[str, Any]) -> list[Push]:
    if payload.get("type") not in HARBOR_PUSH_TYPES:
        return []  # another Harbor event (pull, delete, scan): nothing to scan
    data = payload.get("data") if "specversion" in payload else payload.get("event_data")
    resources = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(resources, list):
        raise InputError("no resources list", where="webhook harbor")
    pushes = []
    for resource in resources[:MAX_PUSHES]:
        if not isinstance(resource, dict):
            continue
        # resource_url: "harbor.example.com/library/app:v1" (or @sha256:...)
        url = _text(resource.get("resource_url"), 2048)
        host, _, path = url.partition("/")
        repository = path.split("@", 1)[0].rsplit(":", 1)[0] if path else ""
        if host and repository:
            pushes.append(Push(host, repository, _text(resource.get("tag"), 128),
                               _text(resource.get("digest"), 200)))
    return pushes


def _dockerhub(payload: dict[str, Any]) -> list[Push]:
    push_data, repository = payload.get("push_data"), payload.get("repository")
    if not isinstance(push_data, dict) or not isinstance(repository, dict):
        raise InputError("no push_data or repository", where="webhook dockerhub")
    name, tag = _text(repository.get("repo_name")), _text(push_data.get("tag"), 128)
    if not name or not tag:
        return []
    return [Push("docker.io", name if "/" in name else f"library/{name}", tag)]


def resolve(push: Push, source_options: Any) -> str | None:
    """The digest the registry holds for the push (HEAD of the manifest, by the claimed
    digest when there is one, else by tag); None when the registry has no such manifest."""
    from hullguard.images.reference import parse_reference
    from hullguard.images.registry.source import client_for

    reference = parse_reference(push.reference)
    with client_for(reference, source_options) as client:
        found = client.head_manifest(reference)
    return str(found) if found is not None else None


class RateLimiter:
    """A token bucket per sender: ``rate`` requests a second sustained, ``burst`` at once.
    At most ``max_senders`` buckets are kept (the fullest are forgotten first)."""

    def __init__(self, rate: float, burst: int, max_senders: int = 10_000) -> None:
        self.rate, self.burst, self.max_senders = rate, burst, max_senders
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, sender: str) -> float:
        """0 when the request may go on, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(sender, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[sender] = (tokens, now)
                return (1 - tokens) / self.rate if self.rate > 0 else 60.0
            self._buckets[sender] = (tokens - 1, now)
            if len(self._buckets) > self.max_senders:
                fullest = max(self._buckets, key=lambda k: self._buckets[k][0])
                del self._buckets[fullest]
            return 0.0
