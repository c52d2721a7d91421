"""Secret scanning of a directory or file: every text file, plus the values that only mean
something once parsed: Dockerfile ENV/ARG/LABEL, compose ``environment``, Kubernetes ``env``
values and Secret objects (``data`` decoded from base64, ``stringData``)."""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hullguard.errors import HullguardError, InputError
from hullguard.secrets.collect import Collector, Place

_YAML_SUFFIXES = (".yaml", ".yml", ".json")
_DOCKERFILE = re.compile(r"(?i)^(?:docker|container)file(?:\..*)?$|\.(?:docker|container)file$")
_MAX_MANIFEST = 8 << 20
_MAX_WALK = 500_000  # files per directory scan


def scan_tree(root: Path, collector: Collector) -> None:
    for path in _walk(root, collector):
        _scan_one(path, root, collector)


def _walk(root: Path, collector: Collector) -> Iterator[Path]:
    """Regular files under ``root`` without following symlinks (they may point anywhere)."""
    if root.is_file():
        yield root
        return
    count = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            count += 1
            if count > _MAX_WALK:
                collector.warnings.append(f"more than {_MAX_WALK} files: the rest not scanned")
                return
            yield Path(folder, name)


def _scan_one(path: Path, root: Path, collector: Collector) -> None:
    shown = str(path if root.is_file() else path.relative_to(root))
    place = Place()
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return
        if info.st_size > collector.limits.max_file_size:
            collector.skip(shown, f"larger than {collector.limits.max_file_size} bytes",
                           info.st_size, place)
            return
        data = path.read_bytes()
    except OSError as error:
        collector.warnings.append(f"{shown}: cannot read: {error.strerror}")
        return
    collector.scan_file(data, shown, place)
    scan_structured(data, shown, collector)


def scan_structured(data: bytes, shown: str, collector: Collector) -> None:
    """The parsed values of Dockerfiles and YAML/JSON manifests, with their lines."""
    name = shown.rsplit("/", 1)[-1]
    if _DOCKERFILE.search(name):
        for line, text in dockerfile_assignments(data):
            collector.scan_text(text, shown, Place(), config=True, line=line)
    elif name.lower().endswith(_YAML_SUFFIXES) and len(data) <= _MAX_MANIFEST:
        for line, text in manifest_values(data, shown):
            collector.scan_text(text, shown, Place(), config=True, line=line)


def dockerfile_assignments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line, ``KEY=value ...``) of ENV/ARG/LABEL instructions (legacy ``ENV KEY value`` too),
    continuation lines joined by the inventory's Dockerfile parser."""
    from hullguard.inventory.dockerfile import parse_dockerfile

    for instruction in parse_dockerfile(data.decode("utf-8", errors="replace")).instructions:
        if instruction.keyword not in ("ENV", "ARG", "LABEL"):
            continue
        body = instruction.value.strip()
        if instruction.keyword == "ENV" and "=" not in body.split(" ", 1)[0]:
            body = re.sub(r"[ \t]+", "=", body, count=1)
        yield instruction.line, body.encode()


def manifest_values(data: bytes, where: str) -> Iterator[tuple[int, bytes]]:
    """(line, ``NAME=value``) from Kubernetes env lists and Secrets and compose environment."""
    from hullguard.inventory.yamlsafe import line_of, loads_all

    try:
        documents = loads_all(data.decode("utf-8", errors="replace"), where).documents
    except (HullguardError, RecursionError):
        return  # not YAML we can read: the text scan already covered the file
    for document in documents:
        yield from _values(document, line_of, 0)


def _values(node: Any, line_of: Any, depth: int) -> Iterator[tuple[int, bytes]]:
    if depth > 64:
        return
    if isinstance(node, dict):
        if node.get("kind") == "Secret":
            yield from _secret_object(node, line_of)
        yield from _environment(node, line_of)
        for child in node.values():
            yield from _values(child, line_of, depth + 1)
    elif isinstance(node, list):
        for child in node:
            yield from _values(child, line_of, depth + 1)


def _secret_object(node: dict[Any, Any], line_of: Any) -> Iterator[tuple[int, bytes]]:
    for field, decode in (("data", True), ("stringData", False)):
        values = node.get(field)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            text = _b64(value) if decode else str(value).encode()
            if text is not None:
                yield line_of(values, str(key)), f"{key}=".encode() + text


def _b64(value: Any) -> bytes | None:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return None


def _environment(node: dict[Any, Any], line_of: Any) -> Iterator[tuple[int, bytes]]:
    env = node.get("env")
    if isinstance(env, list):  # Kubernetes: [{name, value}]
        for item in env:
            if isinstance(item, dict) and isinstance(item.get("value"), str | int | float):
                yield line_of(item, "value"), f"{item.get('name')}={item['value']}".encode()
    environment = node.get("environment")  # compose: mapping or ["K=V"]
    if isinstance(environment, dict):
        for key, value in environment.items():
            if value is not None:
                yield line_of(environment, str(key)), f"{key}={value}".encode()
    elif isinstance(environment, list):
        for item in environment:
            if isinstance(item, str):
                yield line_of(node, "environment"), item.encode()


def check_path(path: Path) -> None:
    if not path.exists():
        raise InputError("no such file or directory", where=str(path))
