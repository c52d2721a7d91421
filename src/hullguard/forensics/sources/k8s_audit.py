"""``k8s-audit``: Kubernetes API server audit log, JSON lines of ``audit.k8s.io/v1`` Event
(``verb``, ``user.username``, ``sourceIPs``, ``userAgent``, ``objectRef``, ``responseStatus.code``,
``requestObject``, ``stageTimestamp``). Only the final stage of a request is an event
(``ResponseComplete`` / ``Panic``; ``RequestReceived`` and ``ResponseStarted`` are ignored).
Each container image named in a request object (pods, pod templates, cron jobs) becomes its own
event, so pods created with a compromised image show up by image.
"""

from __future__ import annotations

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

_FINAL_STAGES = ("ResponseComplete", "Panic", "")
_POD_SPEC_PATHS = (("spec",), ("spec", "template", "spec"),
                   ("spec", "jobTemplate", "spec", "template", "spec"))




def convert(record: dict[str, Any]) -> tuple[Event, ...] | None:
    verb = text(record, "verb")
    if not verb:
        raise BadRecord("verb missing")
    if text(record, "stage") not in _FINAL_STAGES:
        return None
    user, ref = mapping(record, "user"), mapping(record, "objectRef")
    code = integer(mapping(record, "responseStatus"), "code")
    ips = record.get("sourceIPs") or []
    if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
        raise BadRecord("'sourceIPs' is not a list of strings")
    when = timestamp(text(record, "stageTimestamp") or
                     text(record, "requestReceivedTimestamp"), "stageTimestamp")
    detail = "/".join(part for part in (text(ref, "resource"), text(ref, "namespace"),
                                        text(ref, "name")) if part)
    base = Event(time=when, action=f"k8s-{verb}", actor=text(user, "username"),
                 client_addr=ips[0] if ips else "", user_agent=text(record, "userAgent"),
                 status="" if code is None else str(code),
                 ok=None if code is None else 200 <= code < 400,
                 detail=f"{verb} {detail or text(record, 'requestURI')}")
    images = pod_images(mapping(record, "requestObject"))
    if not images:
        return (base,)
    return tuple(_with_image(base, image) for image in images)


def pod_images(obj: dict[str, Any]) -> list[str]:
    """Container, init-container and ephemeral-container images of any pod spec in ``obj``."""
    found: list[str] = []
    for path in _POD_SPEC_PATHS:
        spec: Any = obj
        for key in path:
            spec = spec.get(key) if isinstance(spec, dict) else None
        if not isinstance(spec, dict):
            continue
        for key in ("initContainers", "containers", "ephemeralContainers"):
            for container in spec.get(key) or []:
                image = container.get("image") if isinstance(container, dict) else None
                if isinstance(image, str) and image:
                    found.append(image)
    return found


def _with_image(base: Event, image: str) -> Event:
    registry, repository, tag, digest = split_image(image)
    return Event(time=base.time, action=base.action, actor=base.actor,
                 client_addr=base.client_addr, user_agent=base.user_agent, registry=registry,
                 repository=repository, tag=tag, digest=digest, status=base.status,
                 ok=base.ok, detail=f"{base.detail} image={image}")


class K8sAudit(JsonSource):
    name = "k8s-audit"
    description = ("Kubernetes audit log JSON lines (audit.k8s.io/v1 Event); final stages "
                   "only, one event per container image in the request object")
    unwrap = ("items",)
    convert = staticmethod(convert)
