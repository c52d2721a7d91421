"""Compose service checks (HG-C*), on the raw service mappings (detected with
hullguard.inventory.compose)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hullguard.inventory.yamlsafe import line_of, list_at
from hullguard.lint.common import describe, is_root, pin_state, secret_reason
from hullguard.lint.registry import CheckFunction, Hit


@dataclass(frozen=True)
class Service:
    name: str
    body: dict[str, Any]
    line: int

    @property
    def label(self) -> str:
        return f"service {self.name}"


def services_of(document: dict[str, Any]) -> list[Service]:
    table = document.get("services") if "services" in document else document
    if not isinstance(table, dict):
        return []
    return [Service(str(name), body, line_of(table, str(name)))
            for name, body in table.items() if isinstance(body, dict)]


def _line(service: Service, key: str) -> int:
    return line_of(service.body, key) or service.line


def privileged(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        if service.body.get("privileged") is True:
            yield Hit("privileged: true", service.label, _line(service, "privileged"))


def host_namespaces(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        for key in ("network_mode", "pid", "ipc"):
            if service.body.get(key) == "host":
                yield Hit(f"{key}: host", service.label, _line(service, key))


def docker_socket(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        for volume in list_at(service.body, "volumes"):
            source = volume.get("source", "") if isinstance(volume, dict) else str(volume)
            if "docker.sock" in str(source).split(":")[0]:
                yield Hit("mounts the Docker socket", service.label, _line(service, "volumes"))


def added_capabilities(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        added = service.body.get("cap_add")
        if isinstance(added, list) and added:
            yield Hit(f"cap_add: {', '.join(map(str, added))}", service.label,
                      _line(service, "cap_add"))


def _images(items: list[Service]) -> Iterator[tuple[Service, str]]:
    for service in items:
        image = service.body.get("image")
        if isinstance(image, str):
            yield service, image


def mutable_image(items: list[Service]) -> Iterator[Hit]:
    for service, image in _images(items):
        if pin_state(image) == "mutable":
            yield Hit(f"image {image} uses a mutable tag", service.label, _line(service, "image"))


def image_without_digest(items: list[Service]) -> Iterator[Hit]:
    for service, image in _images(items):
        if pin_state(image) in ("tag", "mutable"):
            yield Hit(f"image {image} is not pinned by digest", service.label,
                      _line(service, "image"))


def _environment(service: Service) -> Iterator[tuple[str, str]]:
    environment = service.body.get("environment")
    if isinstance(environment, dict):
        yield from ((str(k), str(v)) for k, v in environment.items() if v is not None)
    elif isinstance(environment, list):
        yield from (tuple(str(i).split("=", 1)) for i in environment  # type: ignore[misc]
                    if "=" in str(i))


def secret_in_environment(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        for name, value in _environment(service):
            reason = secret_reason(name, value)
            if reason:
                yield Hit(f"environment {name}: {reason} ({describe(value)})", service.label,
                          _line(service, "environment"))


def no_user(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        user = service.body.get("user")
        if user is None or is_root(str(user)):
            yield Hit("no non-root user: set", service.label, service.line)


def writable_root(items: list[Service]) -> Iterator[Hit]:
    for service in items:
        if service.body.get("read_only") is not True:
            yield Hit("read_only is not true", service.label, service.line)


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-C001": privileged,
    "HG-C002": host_namespaces,
    "HG-C003": docker_socket,
    "HG-C004": added_capabilities,
    "HG-C005": mutable_image,
    "HG-C009": image_without_digest,
    "HG-C006": secret_in_environment,
    "HG-C007": no_user,
    "HG-C008": writable_root,
}
