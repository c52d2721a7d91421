"""``harbor-audit``: Harbor's audit log API output, legacy ``GET /api/v2.0/audit-logs``
(``[{"id", "username", "resource", "resource_type", "operation": create|delete|pull,
"op_time"}]``) and the ``auditlog-exts`` records of Harbor 2.13+ (``operation``,
``operation_description``, ``is_successful``, ``resource_type``, ``resource``, ``username``,
``op_time``). A JSON array per page (pages one after another), or one record per line.
``resource`` is ``project/repo:tag`` or ``project/repo@sha256:...``; artifact pulls become
``pull``, creations ``push``.
"""

from __future__ import annotations

from typing import Any

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    JsonSource,
    split_image,
    text,
    timestamp,
)

_ARTIFACT_ACTIONS = {"pull": "pull", "pull_artifact": "pull", "create": "push",
                     "create_artifact": "push", "push": "push", "delete": "delete",
                     "delete_artifact": "delete"}




def convert(record: dict[str, Any]) -> tuple[Event, ...]:
    operation = text(record, "operation")
    if not operation:
        raise BadRecord("operation missing")
    resource_type = text(record, "resource_type")
    resource = text(record, "resource")
    successful = record.get("is_successful")
    if successful is not None and not isinstance(successful, bool):
        raise BadRecord("'is_successful' is not a boolean")
    action = operation
    registry = repository = tag = digest = ""
    if resource_type in ("artifact", "image", "") and operation in _ARTIFACT_ACTIONS:
        action = _ARTIFACT_ACTIONS[operation]
        registry, repository, tag, digest = split_image(resource)
    return (Event(
        time=timestamp(text(record, "op_time"), "op_time"), action=action,
        actor=text(record, "username"), registry=registry, repository=repository, tag=tag,
        digest=digest, status="" if successful is None else str(successful).lower(),
        ok=successful, detail=text(record, "operation_description") or
        f"{operation} {resource_type} {resource}".strip()),)


class HarborAudit(JsonSource):
    name = "harbor-audit"
    description = ("Harbor audit-logs / auditlog-exts API JSON (arrays or one record per "
                   "line): username, resource, resource_type, operation, op_time")
    convert = staticmethod(convert)
