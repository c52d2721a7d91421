"""Priorities: what to fix first, by when, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 is the most urgent."""
        return int(self.value[1])


class Exploitability(StrEnum):
    EASY = "easy"
    MODERATE = "moderate"
    HARD = "hard"


@dataclass(frozen=True)
class TriageItem:
    """The priority of one image, or of one workload (then ``workload`` is set).

    ``finding_id`` names the finding that decided the priority; ``reason`` is the one-line
    explanation shown everywhere ("P0: CVE-... in KEV; internet-facing via ...; criticality ...").
    """

    priority: Priority
    image: str  # image name (reference@digest)
    workload: str = ""  # namespace/Kind/name
    finding_id: str = ""
    package: str = ""
    exploitability: Exploitability = Exploitability.HARD
    deadline: str = ""  # ISO 8601 UTC, or "next cycle"
    reason: str = ""
    findings: int = 0  # how many findings the image has in all
