"""``k8s-events``: ``kubectl get events -o json`` (a List of core/v1 or events.k8s.io/v1
Event) or one event per line. Image pulls per node and pod: reason ``Pulled`` becomes
``pull``, ``Pulling`` ``pull-start``, ``Failed``/``ErrImagePull``/``BackOff`` naming an image
``pull-failed``; the image comes from the message (``... image "nginx:1.25" ...``), the pod
(``namespace/name``) is the actor and the node (``source.host``) the client address. Events
about anything else are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    JsonSource,
    integer,
    mapping,
    split_image,
    text,
    timestamp,
)

_IMAGE_RE = re.compile(r'image "([^"]{1,512})"')
_ACTIONS = {"Pulled": "pull", "Pulling": "pull-start", "Failed": "pull-failed",
            "ErrImagePull": "pull-failed", "BackOff": "pull-failed"}




def convert(record: dict[str, Any]) -> tuple[Event, ...] | None:
    reason = text(record, "reason")
    message = text(record, "message") or text(record, "note")
    match = _IMAGE_RE.search(message)
    if reason not in _ACTIONS or match is None:
        return None
    obj = mapping(record, "involvedObject") or mapping(record, "regarding")
    node = text(mapping(record, "source"), "host") or text(
        mapping(record, "deprecatedSource"), "host") or text(record, "reportingInstance")
    when = (text(record, "lastTimestamp") or text(record, "eventTime") or
            text(record, "firstTimestamp") or text(mapping(record, "metadata"),
                                                   "creationTimestamp"))
    if not when:
        raise BadRecord("no lastTimestamp, eventTime or firstTimestamp")
    count = integer(record, "count") or 1
    registry, repository, tag, digest = split_image(match.group(1))
    return (Event(time=timestamp(when), action=_ACTIONS[reason],
                  actor="/".join(p for p in (text(obj, "namespace"), text(obj, "name")) if p),
                  client_addr=node, registry=registry, repository=repository, tag=tag,
                  digest=digest, status=reason, ok=reason in ("Pulled", "Pulling"),
                  count=max(count, 1), detail=message),)


class K8sEvents(JsonSource):
    name = "k8s-events"
    description = ("kubectl get events -o json (List or one Event per line): image "
                   "Pulling/Pulled/Failed per pod and node")
    unwrap = ("items",)
    convert = staticmethod(convert)
