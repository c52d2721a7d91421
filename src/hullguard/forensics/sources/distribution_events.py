"""``distribution-events``: registry notification envelopes
(``application/vnd.docker.distribution.events.v1+json``), as a notification endpoint receives
them: ``{"events": [{"id", "timestamp", "action": push|pull|delete|mount, "target":
{"mediaType", "digest", "repository", "tag", "url"}, "request": {"addr", "host", "method",
"useragent"}, "actor": {"name"}, "source": {...}}]}``. One envelope per line, pretty-printed
envelopes one after another, or bare event objects. A manifest target becomes ``push`` /
``pull``, a blob ``push-blob`` / ``pull-blob``.
"""

from __future__ import annotations

from typing import Any

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    JsonSource,
    host_only,
    mapping,
    text,
    timestamp,
)

_ACTIONS = ("push", "pull", "delete", "mount")




def convert(record: dict[str, Any]) -> tuple[Event, ...]:
    action = text(record, "action")
    if action not in _ACTIONS:
        raise BadRecord(f"action {action[:40]!r} is not one of {', '.join(_ACTIONS)}")
    target, request = mapping(record, "target"), mapping(record, "request")
    actor = mapping(record, "actor")  # {} for anonymous requests
    media_type = text(target, "mediaType")
    is_manifest = "manifest" in media_type or "index" in media_type or bool(text(target, "tag"))
    if action in ("push", "pull") and not is_manifest:
        action += "-blob"
    return (Event(
        time=timestamp(text(record, "timestamp"), "timestamp"), action=action,
        actor=text(actor, "name"), client_addr=host_only(text(request, "addr")),
        user_agent=text(request, "useragent"), registry=text(request, "host"),
        repository=text(target, "repository"), tag=text(target, "tag"),
        digest=text(target, "digest"), status="", ok=True, detail=media_type,
        request_id=text(request, "id")),)


class DistributionEvents(JsonSource):
    name = "distribution-events"
    description = ("registry notification envelopes (application/vnd.docker.distribution."
                   "events.v1+json): one per line or pretty-printed one after another")
    unwrap = ("events",)
    convert = staticmethod(convert)
