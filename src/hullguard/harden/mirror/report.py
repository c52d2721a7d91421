"""The outcome of a mirror run: one result per source reference, and why a run stopped."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hullguard.harden.mirror.mapping import MappingEntry

COPIED, PRESENT, FAILED, RATE_LIMITED, NOT_STARTED = (
    "copied", "present", "failed", "rate-limited", "not-started")


@dataclass
class ImageResult:
    """What happened to one source reference (``status`` is one of the constants above)."""

    source: str
    status: str = NOT_STARTED
    digest: str = ""
    mirror: str = ""  # registry/repository@digest at the mirror
    mirror_digest: str = ""
    copied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    reason: str = ""  # why it failed or did not start
    bytes_sent: int = 0
    bytes_received: int = 0

    @property
    def ok(self) -> bool:
        return self.status in (COPIED, PRESENT)

    def mapping_entry(self) -> MappingEntry:
        return MappingEntry(self.source, self.digest, self.mirror, self.mirror_digest,
                            list(self.copied), list(self.tags))


@dataclass
class MirrorReport:
    target: str
    results: list[ImageResult] = field(default_factory=list)
    stopped_by: str = ""  # the registry whose rate limit stopped the run
    retry_after: float = 0.0
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def complete(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def retry_at(self) -> datetime | None:
        if not self.stopped_by:
            return None
        return self.finished_at + timedelta(seconds=self.retry_after)

    def entries(self) -> list[MappingEntry]:
        return [result.mapping_entry() for result in self.results if result.ok]

    def to_json(self) -> dict[str, Any]:
        retry_at = self.retry_at
        return {"target": self.target, "complete": self.complete,
                "stopped_by_rate_limit": self.stopped_by or None,
                "retry_at": retry_at.isoformat() if retry_at else None,
                "bytes_sent": sum(r.bytes_sent for r in self.results),
                "bytes_received": sum(r.bytes_received for r in self.results),
                "images": [asdict(result) for result in self.results]}
