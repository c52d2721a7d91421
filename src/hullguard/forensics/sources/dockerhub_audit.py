"""``dockerhub-audit``: Docker Hub ``GET /v2/auditlogs/{account}`` responses (``{"logs":
[{"account", "action": "repo.tag.push", "name", "actor", "data": {"digest", "tag"},
"timestamp", "action_description"}]}``), pages one after another or one log per line.
``repo.tag.push`` becomes ``push`` and ``repo.tag.delete`` / ``repo.delete`` ``delete``; other
actions (team, token, SSO changes) keep their name.
"""

from __future__ import annotations

from typing import Any

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    JsonSource,
    mapping,
    text,
    timestamp,
)

_ACTIONS = {"repo.tag.push": "push", "repo.tag.delete": "delete", "repo.delete": "delete"}




def convert(record: dict[str, Any]) -> tuple[Event, ...]:
    action = text(record, "action")
    if not action:
        raise BadRecord("action missing")
    data = mapping(record, "data")
    name = text(record, "name")
    is_repo = action.startswith("repo.")
    return (Event(
        time=timestamp(text(record, "timestamp"), "timestamp"),
        action=_ACTIONS.get(action, action), actor=text(record, "actor"),
        registry="docker.io" if is_repo else "", repository=name if is_repo else "",
        tag=text(data, "tag"), digest=text(data, "digest"), ok=True,
        detail=text(record, "action_description") or f"{action} {name}".strip()),)


class DockerHubAudit(JsonSource):
    name = "dockerhub-audit"
    description = ("Docker Hub /v2/auditlogs/{account} JSON ({\"logs\": [...]} pages or one "
                   "log per line): account, action, name, actor, data, timestamp")
    unwrap = ("logs",)
    convert = staticmethod(convert)
