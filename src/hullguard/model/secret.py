"""Secret findings: what the secret scanner reports. The secret itself is never stored."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hullguard.model.advisory import Severity
from hullguard.model.image import ImageInfo


class FileState(StrEnum):
    """Whether the file holding a secret is still visible in the final image."""

    PRESENT = "present"
    DELETED = "deleted"  # a later layer removed it: whiteout, opaque directory, parent
    # replaced by a non-directory (still in the image's blobs)
    OVERWRITTEN = "overwritten"  # the image shows a later layer's entry at the same path
    CONFIG = "config"  # image config field (Env, Labels, history ...), not a file


@dataclass(frozen=True)
class SecretLocation:
    """One place a secret occurs. ``path`` names archive members as ``outer.jar!/inner``."""

    path: str
    line: int = 0
    layer_index: int = -1  # -1: not in a layer (config, plain directory)
    layer_diff_id: str = ""
    created_by: str = ""
    state: FileState = FileState.PRESENT


@dataclass(frozen=True)
class SecretFinding:
    """One secret (by fingerprint) matched by one rule, with every place it occurs.

    Only a short ``prefix``, the ``length`` and a truncated sha256 ``fingerprint`` identify it.
    """

    rule_id: str
    title: str
    severity: Severity
    fingerprint: str
    prefix: str
    length: int
    locations: tuple[SecretLocation, ...]

    @property
    def redacted(self) -> str:
        return redacted_form(self.prefix, self.length, self.fingerprint)


def redacted_form(prefix: str, length: int, fingerprint: str) -> str:
    """How a secret is shown anywhere hullguard writes: never the secret itself."""
    return f"{prefix}{'*' * 4} (len {length}, sha256:{fingerprint})"


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str
    size: int = 0
    layer_index: int = -1


@dataclass(frozen=True)
class SecretReport:
    target: str
    findings: tuple[SecretFinding, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    files_scanned: int = 0
    bytes_scanned: int = 0
    binaries_skipped: int = 0
    suppressed: int = 0  # matches removed by the allowlist or known documentation examples
    warnings: tuple[str, ...] = ()
    image: ImageInfo | None = None
