"""A minimum transfer rate, like curl's ``--speed-limit``/``--speed-time``.

The per-read timeout alone does not bound a transfer: a registry that sends one byte every
few seconds never lets a read time out, and can hold a pull (or a 4 MiB manifest read) open
for days. :class:`StallGuard` fails a transfer when fewer than ``min_rate`` bytes per second
arrive over a whole window (the client's timeout, 60 s by default). Checked as data arrives;
silence is the per-read timeout's job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from hullguard.errors import RegistryError


class StallGuard:
    """Counts the bytes of one transfer and raises when a window ends under the rate."""

    def __init__(self, min_rate: float, window: float, where: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.min_rate, self.window, self.where, self.clock = min_rate, window, where, clock
        self.started = clock()
        self.count = 0

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
