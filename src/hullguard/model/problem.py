"""Why an image could not be handled: a structured value that crosses processes and queues.

``Problem`` mirrors :class:`hullguard.errors.HullguardError` (what, where, hint) plus the
``kind`` of failure, so a service can group and retry by kind while the CLI and the incident
folder show the same one-line text as before (:attr:`Problem.text`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    kind: str  # the HullguardError class name, "internal" (a bug) or "offline" (not fetched)
    where: str = ""
    message: str = ""
    hint: str = ""

    @property
    def text(self) -> str:
        """``where: message`` plus the hint on its own line (HullguardError.diagnostics)."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def __str__(self) -> str:
        return self.text
