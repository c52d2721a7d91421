"""The image reference grammar: source kinds (syft/skopeo style) and Docker references.

The value it builds, :class:`hullguard.model.reference.ImageReference`, lives in ``model``.

``parse_source`` splits ``KIND:REST`` into a :class:`SourceRef`; a text without a known kind
prefix is a registry reference. ``parse_reference`` parses and normalizes a Docker reference the
way ``github.com/distribution/reference`` (``ParseNormalizedNamed``) does: ``alpine`` becomes
``docker.io/library/alpine:latest`` (as do ``index.docker.io/alpine`` and
``registry-1.docker.io/library/alpine``: the one normalizer), ``localhost:5000/x`` keeps its
registry, a digest is kept, a tag and a digest may both be given.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hullguard.errors import InputError
from hullguard.model import Digest
from hullguard.model.reference import DOCKER_HUB, DOCKER_HUB_API, ImageReference

# Every spelling of Docker Hub: references are normalized to DOCKER_HUB (so inventory, --image,
# store and graph agree); only the registry client connects to DOCKER_HUB_API.
DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", DOCKER_HUB_API})
DEFAULT_TAG = "latest"
LOCAL_KINDS = ("docker-archive", "oci-archive", "oci", "dir", "rootfs", "sbom")
KINDS = (*LOCAL_KINDS, "registry")
_ALIASES = {"oci-dir": "oci", "oci-layout": "oci", "docker-registry": "registry"}
_UNSUPPORTED = ("docker", "docker-daemon", "podman", "containerd", "singularity", "file")

# distribution/reference regexp.go, written out once (compiled at import, not per call).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REPOSITORY_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_ANCHORED_ID_RE = re.compile(r"[a-f0-9]{64}")
_NAME_MAX = 255


@dataclass(frozen=True)
class SourceRef:
    """What the user asked to open. ``path`` is set for local kinds, ``reference`` for
    ``registry``; ``tag`` is the ``oci:DIR:TAG`` selector."""

    kind: str
    path: str = ""
    tag: str = ""
    reference: ImageReference | None = None

    def __str__(self) -> str:
        if self.reference is not None:
            return str(self.reference)
        return f"{self.kind}:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_reference(text: str) -> ImageReference:
    """Parse and normalize a Docker image reference; InputError (where=the text) if invalid."""
    if not isinstance(text, str) or not text or text != text.strip():
        raise InputError("empty or padded image reference", where=repr(text)[:200])
    rest, digest = _split_digest(text)
    name, tag = _split_tag(rest, text)
    registry, repository = _split_domain(name, text)
    _check_name(registry, repository, text)
    if not tag and digest is None:
        tag = DEFAULT_TAG
    return ImageReference(registry, repository, tag, digest)


def _split_digest(text: str) -> tuple[str, Digest | None]:
    rest, at, digest_text = text.partition("@")
    if not at:
        return text, None
    return rest, Digest.parse(digest_text, where=text)


def _split_tag(rest: str, text: str) -> tuple[str, str]:
    colon = rest.rfind(":")
    if colon == -1 or "/" in rest[colon + 1:]:
        return rest, ""  # the colon belongs to a registry port
    tag = rest[colon + 1:]
    if not _TAG_RE.fullmatch(tag):
        raise InputError(f"invalid tag {tag!r}", where=text,
                         hint="a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -")
    return rest[:colon], tag


def _split_domain(name: str, text: str) -> tuple[str, str]:
    slash = name.find("/")
    first = name[:slash]
    if slash == -1 or (not any(c in first for c in ".:") and first != "localhost"
                       and first.lower() == first):
        registry, repository = DOCKER_HUB, name
    else:
        registry, repository = first, name[slash + 1:]
        if not _DOMAIN_RE.fullmatch(registry):
            raise InputError(f"invalid registry host {registry!r}", where=text)
    if registry.lower() in DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository


def _check_name(registry: str, repository: str, text: str) -> None:
    if repository.lower() != repository:
        raise InputError("repository name must be lowercase", where=text)
    if not _REPOSITORY_RE.fullmatch(repository):
        raise InputError(f"invalid repository name {repository!r}", where=text,
                         hint="path components are [a-z0-9] separated by '.', '_', '__' or '-'")
    if _ANCHORED_ID_RE.fullmatch(repository.removeprefix("library/")):
        raise InputError("a 64-hex image ID is not a reference", where=text)
    if len(registry) + 1 + len(repository) > _NAME_MAX:
        raise InputError(f"repository name longer than {_NAME_MAX} characters", where=text)


def parse_source(text: str) -> SourceRef:
    """Split ``KIND:REST``; no known kind prefix means a registry reference."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("empty image source", where=repr(text)[:200],
                         hint="e.g. alpine:3.18, docker-archive:img.tar, oci:dir:tag, dir:/rootfs")
    prefix, colon, rest = text.partition(":")
    kind = _ALIASES.get(prefix, prefix)
    if colon and prefix in _UNSUPPORTED:
        raise InputError(f"source kind {prefix!r} is not supported (no daemon access)",
                         where=text, hint=f"export it (docker save) and use docker-archive:PATH; "
                         f"kinds: {', '.join(KINDS)}")
    if not colon or kind not in KINDS:
        return _registry_source(text)
    if not rest:
        raise InputError(f"{kind}: needs a {'reference' if kind == 'registry' else 'path'}",
                         where=text)
    if kind == "registry":
        return SourceRef("registry", reference=parse_reference(rest))
    if kind == "oci":
        path, tag = _split_oci(rest)
        return SourceRef("oci", path, tag)
    if kind in ("docker-archive", "oci-archive"):
        path, selector = _split_archive(rest)
        return SourceRef(kind, path, selector)
    return SourceRef(kind, rest)


def has_kind(text: str) -> bool:
    """True when ``text`` starts with a source kind (``docker-archive:``, ``oci-dir:``...)."""
    prefix, colon, _rest = text.partition(":")
    return bool(colon) and (prefix in KINDS or prefix in _ALIASES or prefix in _UNSUPPORTED)


def _registry_source(text: str) -> SourceRef:
    """A registry reference, unless ``text`` is an existing path: then what it holds (a
    bare ``deb.tar`` is that file, never ``docker.io/library/deb.tar``)."""
    if os.path.lexists(text):
        from hullguard.images.sniff import sniff_path

        return sniff_path(text)
    return SourceRef("registry", reference=parse_reference(text))


def _split_oci(rest: str) -> tuple[str, str]:
    """``DIR[:TAG]``: the last ``:`` starts a tag unless the whole text is an existing path."""
    path, colon, tag = rest.rpartition(":")
    if not colon or not path or Path(rest).exists() or not _TAG_RE.fullmatch(tag):
        return rest, ""
    return path, tag


def _split_archive(rest: str) -> tuple[str, str]:
    """``PATH[:REF]``: split at the first ``:`` that ends an existing file's path."""
    if ":" not in rest or Path(rest).exists():
        return rest, ""
    for position, char in enumerate(rest):
        if char == ":" and Path(rest[:position]).is_file():
            return rest[:position], rest[position + 1:]
    return rest, ""
