"""Images, layers and digests: the pure data every stage shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hullguard.errors import InputError

_DIGEST_RE = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


@dataclass(frozen=True, order=True)
class Digest:
    """A content digest such as ``sha256:<64 hex>``; only sha256 and sha512 are accepted."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str, where: str = "digest") -> Digest:
        """Strictly parse ``algo:hex``; anything else is an :class:`InputError`."""
        if not isinstance(text, str) or not _DIGEST_RE.fullmatch(text):
            shown = repr(text)[:90]
            raise InputError(f"malformed digest {shown}", where=where)
        algorithm, _, hexpart = text.partition(":")
        return cls(algorithm, hexpart)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def short(self) -> str:
        return f"{self.algorithm}:{self.hex[:12]}"


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]`` (``linux/arm64/v8``)."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InputError(f"platform {text!r} is not os/arch[/variant]", where="--platform")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of the image config's ``history`` (the Dockerfile command that made a layer)."""

    created_by: str = ""
    created: str = ""
    comment: str = ""
    empty_layer: bool = False


@dataclass(frozen=True)
class Layer:
    """One filesystem layer of an image, in order (``index`` 0 is the base)."""

    index: int
    digest: Digest | None  # blob digest as stored (compressed); None for dir: sources
    diff_id: Digest | None  # digest of the uncompressed tar
    media_type: str = ""
    size: int = 0
    created_by: str = ""  # history entry for this layer, when the config has one


@dataclass(frozen=True)
class ImageConfig:
    """The parts of the OCI image config that later stages use."""

    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    exposed_ports: tuple[str, ...] = ()
    healthcheck: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    created: str = ""
    os: str = ""
    architecture: str = ""
    variant: str = ""
    # The config's ``Volumes`` (paths the image expects to write; contain mounts emptyDirs).
    volumes: tuple[str, ...] = ()
    # False when the config came from an SBOM that did not record the user (another tool's,
    # or one written before hullguard recorded it): "" then means unknown, not root.
    user_known: bool = True


@dataclass(frozen=True)
class ImageInfo:
    """What we know about an image once its manifest and config are resolved.

    ``digest`` is the manifest digest (the resolved reference every later step names);
    ``config_digest`` is the image ID. Sources without a manifest (``dir:``) leave both None.
    """

    reference: str  # as the user gave it, normalized (e.g. docker.io/library/alpine:3.18)
    source_kind: str  # registry, docker-archive, oci-archive, oci, dir, sbom
    digest: Digest | None = None
    config_digest: Digest | None = None
    repo_digests: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    platform: Platform | None = None
    layers: tuple[Layer, ...] = ()
    config: ImageConfig = field(default_factory=ImageConfig)
    media_type: str = ""

    @property
    def chain(self) -> tuple[str, ...]:
        """The ordered diffIDs: the layer chain used for base-image lineage."""
        return tuple(str(layer.diff_id) for layer in self.layers if layer.diff_id)

    @property
    def name(self) -> str:
        """A stable name for output: ``reference@digest`` when the digest is known."""
        if self.digest and "@" not in self.reference:
            return f"{self.reference}@{self.digest}"
        return self.reference
