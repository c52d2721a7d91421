"""``harbor-webhook``: Harbor webhook payloads as received, Default format (``{"type":
"PUSH_ARTIFACT"|"PULL_ARTIFACT"|"DELETE_ARTIFACT", "occur_at": epoch, "operator",
"event_data": {"resources": [{"digest", "tag", "resource_url"}], "repository": {"namespace",
"name", "repo_full_name"}}}``) and CloudEvents (``{"specversion", "type":
"harbor.artifact.pushed", "time", "operator", "data": {...same event_data...}}``). One event
per resource. Other event types (scans, quotas, replication) are kept as their type name.
"""

from __future__ import annotations

import datetime
from typing import Any

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    JsonSource,
    epoch,
    mapping,
    split_image,
    text,
    timestamp,
)

_DEFAULT = {"PUSH_ARTIFACT": "push", "PULL_ARTIFACT": "pull", "DELETE_ARTIFACT": "delete"}
_CLOUD = {"harbor.artifact.pushed": "push", "harbor.artifact.pulled": "pull",
          "harbor.artifact.deleted": "delete"}




def convert(record: dict[str, Any]) -> tuple[Event, ...]:
    kind = text(record, "type")
    if not kind:
        raise BadRecord("type missing")
    when: datetime.datetime
    if "specversion" in record:
        action, when = _CLOUD.get(kind, kind), timestamp(text(record, "time"))
        data = mapping(record, "data")
    else:
        action, when = _DEFAULT.get(kind, kind.lower()), epoch(record.get("occur_at"))
        data = mapping(record, "event_data")
    operator = text(record, "operator")
    repo = mapping(data, "repository")
    full_name = text(repo, "repo_full_name") or "/".join(
        part for part in (text(repo, "namespace"), text(repo, "name")) if part)
    resources = data.get("resources") or [{}]
    if not isinstance(resources, list):
        raise BadRecord("'resources' is not a list")
    return tuple(_event(when, action, operator, full_name, item) for item in resources)


def _event(when: datetime.datetime, action: str, operator: str, repository: str,
           item: object) -> Event:
    if not isinstance(item, dict):
        raise BadRecord("a resource is not an object")
    registry = split_image(text(item, "resource_url"))[0]
    return Event(time=when, action=action, actor=operator, registry=registry,
                 repository=repository, tag=text(item, "tag"), digest=text(item, "digest"),
                 ok=True, detail=text(item, "resource_url"))


class HarborWebhook(JsonSource):
    name = "harbor-webhook"
    description = ("Harbor webhook payloads, Default (type, occur_at, operator, event_data) "
                   "or CloudEvents (specversion, type harbor.artifact.*, time, data)")
    convert = staticmethod(convert)
