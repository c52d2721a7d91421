"""Image references as the inventory keeps them: normalized, classified by registry origin."""

from __future__ import annotations

from hullguard.images.reference import parse_reference
from hullguard.model.inventory import Origin
from hullguard.model.reference import DOCKER_HUB, ImageReference

# Well-known public registries other than Docker Hub; anything else counts as internal.
PUBLIC_REGISTRIES = frozenset({
    "ghcr.io", "quay.io", "gcr.io", "registry.k8s.io", "k8s.gcr.io", "public.ecr.aws",
    "mcr.microsoft.com", "registry.gitlab.com", "docker.elastic.co", "nvcr.io",
    "registry.access.redhat.com", "registry.redhat.io", "cgr.dev", "lscr.io",
})
_PUBLIC_SUFFIXES = (".gcr.io",)  # us.gcr.io, eu.gcr.io, ...


def normalize(text: str) -> ImageReference:
    """``nginx`` -> docker.io/library/nginx:latest, as the inventory model keeps it: the
    normalizing is :func:`hullguard.images.reference.parse_reference`'s, the value the one
    :class:`ImageReference` (for inventory, ``--image``, store and graph). InputError
    (where=the text) if invalid."""
    return parse_reference(text)


def origin(ref: ImageReference) -> Origin:
    """Docker Hub, another well-known public registry, or internal (anything else)."""
    registry = ref.registry.lower()
    if registry == DOCKER_HUB:
        return Origin.DOCKER_HUB
    if registry in PUBLIC_REGISTRIES or registry.endswith(_PUBLIC_SUFFIXES):
        return Origin.PUBLIC
    return Origin.INTERNAL


def running_digest(image_id: str) -> str:
    """The digest from a containerStatuses ``imageID``: ``docker-pullable://x@sha256:..``,
    ``docker://sha256:..``, ``sha256:..`` or ``registry/x@sha256:..``; "" when absent."""
    text = image_id.strip()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    elif "://" in text:
        text = text.split("://", 1)[1]
    algorithm, _, hexpart = text.partition(":")
    if algorithm in ("sha256", "sha512") and hexpart and all(
            c in "0123456789abcdef" for c in hexpart):
        return text
    return ""
