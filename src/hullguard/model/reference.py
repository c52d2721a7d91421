"""The one image reference type: a normalized Docker reference as a pure value.

The grammar that builds it (``parse_reference``) lives in :mod:`hullguard.images.reference`;
this module only holds the value, so every stage (inventory, store, graph, images, harden) can
share it without importing the parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from hullguard.model.image import Digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"


@dataclass(frozen=True)
class ImageReference:
    """A normalized Docker reference: ``registry/repository[:tag][@digest]``.

    Sorted by (registry, repository, tag, digest text), a missing digest first."""

    registry: str
    repository: str
    tag: str = ""
    digest: Digest | None = None

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def key(self) -> str:
        """``registry/repository[:tag][@digest]``: the inventory's deduplication key."""
        return str(self)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def digest_text(self) -> str:
        """The digest as text, "" when none (how the store's columns keep it)."""
        return str(self.digest) if self.digest else ""

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DOCKER_HUB

    @property
    def api_registry(self) -> str:
        """The host to talk to: Docker Hub's API lives at ``registry-1.docker.io``."""
        return DOCKER_HUB_API if self.is_docker_hub else self.registry

    @property
    def familiar_name(self) -> str:
        """The short Docker-style name: ``alpine``, ``grafana/grafana``, ``quay.io/x/y``."""
        if not self.is_docker_hub:
            return self.name
        return self.repository.removeprefix("library/")

    @property
    def familiar(self) -> str:
        """The short Docker-style reference with tag/digest: ``alpine:3.18``."""
        return self.familiar_name + str(self)[len(self.name):]

    @property
    def pinned(self) -> str:
        """``registry/repository@digest`` when the digest is known, else the full string."""
        return f"{self.name}@{self.digest}" if self.digest else str(self)

    def with_digest(self, digest: Digest) -> ImageReference:
        return ImageReference(self.registry, self.repository, self.tag, digest)

    def _order(self) -> tuple[str, str, str, str]:
        # The digest as text ("" when none): None and a Digest do not compare.
        return self.registry, self.repository, self.tag, self.digest_text

    def __lt__(self, other: ImageReference) -> bool:
        return self._order() < other._order()

    def __le__(self, other: ImageReference) -> bool:
        return self._order() <= other._order()

    def __gt__(self, other: ImageReference) -> bool:
        return self._order() > other._order()

    def __ge__(self, other: ImageReference) -> bool:
        return self._order() >= other._order()
