"""The root error and its kinds.

Every failure the user can cause (bad input, unreachable registry, hostile content) is raised as
a :class:`HullguardError` subclass carrying *what* went wrong, *where*, and an optional hint.
Only the CLI turns these into a message and exit code 2.
"""

from __future__ import annotations


class HullguardError(Exception):
    """Root of all expected errors: one clear message, a location, a hint."""

    exit_code = 2

    def __init__(self, message: str, *, where: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def diagnostics(self) -> str:
        """The user-facing text: ``where: message`` plus the hint on its own line."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def __str__(self) -> str:
        return self.diagnostics()


class InputError(HullguardError):
    """A file, reference, flag or document the user gave is malformed or unsupported."""


class IntegrityError(HullguardError):
    """Content does not match its digest or declared size; nothing from it is kept."""


class LimitExceeded(HullguardError):
    """Input exceeded a safety bound (size, ratio, depth, count)."""


class UnsafePathError(HullguardError):
    """A path or link tries to leave the image root."""


class RegistryError(HullguardError):
    """The registry refused, failed or answered something we cannot use."""


class AuthError(RegistryError):
    """Authentication failed or an auth challenge was unsafe to follow."""


class RateLimited(RegistryError):
    """The registry refused with HTTP 429; ``retry_after`` is the wait it asked for (seconds,
    0 when it did not say)."""

    def __init__(self, message: str, *, where: str = "", hint: str = "",
                 retry_after: float = 0.0) -> None:
        super().__init__(message, where=where, hint=hint)
        self.retry_after = retry_after


class NotFoundError(HullguardError):
    """The image, tag, platform or record asked for does not exist."""


class DatabaseError(HullguardError):
    """The local vulnerability database or store is missing, locked or corrupt."""
