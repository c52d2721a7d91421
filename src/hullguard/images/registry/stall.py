"""A minimum transfer rate, like curl's ``--speed-limit``/``--speed-time``.

The per-read timeout alone does not bound a transfer: a registry that sends one byte every
few seconds never lets a read time out, and can hold a pull (or a 4 MiB manifest read) open
for days. :class:`StallGuard` fails a transfer when fewer than ``min_rate`` bytes per second
arrive over a whole window (the client's timeout, 60 s by default). Checked as data arrives;
silence is the per-read timeout's job.

:class:`RequestBudget` applies the same rule to every byte of a request read from the socket
(status line, headers, error bodies, token answers: see :mod:`.transport`) and adds an overall
deadline: each read's timeout is cut to the time left, so no request outlives it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from hullguard.errors import RegistryError


class StallGuard:
    """Counts the bytes of one transfer and raises when a window ends under the rate."""

    def __init__(self, min_rate: float, window: float, where: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.min_rate, self.window, self.where, self.clock = min_rate, window, where, clock
        self.started = clock()
        self.count = 0

    def restart(self) -> None:
        """A new window from now (a request was sent: the answer's time starts here)."""
        self.started, self.count = self.clock(), 0

    def feed(self, size: int) -> None:
        self.count += size
        elapsed = self.clock() - self.started
        if elapsed < self.window:
            return
        if self.count < self.min_rate * elapsed:
            raise RegistryError(
                f"transfer stalled: {self.count} bytes in {elapsed:.1f} s, under the minimum "
                f"of {self.min_rate:.0f} bytes/s", where=self.where,
                hint="the registry or the network is too slow (a hostile registry can drip "
                     "bytes to hold a pull open)")
        self.started, self.count = self.clock(), 0

    def watch(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks`` passed through, each one counted."""
        for chunk in chunks:
            self.feed(len(chunk))
            yield chunk


DEFAULT_DEADLINE = 1800.0  # seconds for one registry request, body included (--registry-deadline)
DEADLINE_ENV = "HULLGUARD_REGISTRY_DEADLINE"


class RequestBudget:
    """The time bounds of one request: a :class:`StallGuard` and an overall deadline."""

    def __init__(self, deadline: float, min_rate: float, window: float, where: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.deadline, self.where, self.clock = deadline, where, clock
        self.ends = clock() + deadline
        self.guard = StallGuard(min_rate, window, where, clock)

    def read_timeout(self, timeout: float | None) -> float:
        """``timeout`` cut to the time left; RegistryError once the deadline has passed."""
        left = self.ends - self.clock()
        if left <= 0:
            raise RegistryError(
                f"no complete answer within the overall deadline of {self.deadline:.0f} s",
                where=self.where,
                hint="raise it with --registry-deadline SECONDS (or "
                     f"{DEADLINE_ENV}) for very large layers on slow links")
        return left if timeout is None else min(timeout, left)

    def feed(self, size: int) -> None:
        self.guard.feed(size)

    def sent(self) -> None:
        """A request went out on this budget: its answer gets a fresh rate window (a token
        request then the manifest request must not add their waits together)."""
        self.guard.restart()


def deadline_from_env(environ: Mapping[str, str] | None = None) -> float:
    """``HULLGUARD_REGISTRY_DEADLINE`` (seconds, > 0), else :data:`DEFAULT_DEADLINE`."""
    import os

    text = (os.environ if environ is None else environ).get(DEADLINE_ENV, "").strip()
    if not text:
        return DEFAULT_DEADLINE
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        from hullguard.errors import InputError

        raise InputError(f"{text!r} is not a number of seconds above 0", where=DEADLINE_ENV)
    return value
