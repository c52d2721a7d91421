"""Where one image job's time goes: registry I/O, walking, matching, writing.

Measured with :func:`time.perf_counter` by one :class:`PhaseClock` per job, at the phase
boundaries of :mod:`hullguard.pipeline.worker` (and the journal write in
:func:`~hullguard.pipeline.fleet.scan_fleet`). A phase entered inside another pauses it: the
time goes to the innermost phase, so the phases never overlap and their sum is at most the
job's wall time. What each figure includes:

- ``registry_s``: opening the image (resolving the tag, fetching and verifying the manifest
  and the config) and every ``walk_layer`` call of the source, which for a registry image
  downloads the layer blob (verified while streaming) before its entries are walked. A
  source that streamed its blob while the entries are read would put that download under
  ``walk_s`` instead; a layer replayed from the layer cache costs no registry time.
- ``walk_s``: reading the layers' entries (decompression, the catalogers, the secret scan),
  layer-cache replays, the post-walk decisions and redaction, and the stored-SBOM lookup
  before them (an SBOM stored for the digest leaves only the secret scan's walk).
- ``match_s``: matching the SBOM against the advisory database (a process's first job
  also opens the database here, unless a pool initializer opened it before).
- ``write_s``: recording the result: the journal entry written by the fleet's one writer.

Not in any figure: the journal lookup, process start-up, queue transit, and the store
recording a fleet run does once for all images at its end (``record_fleet``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hullguard.images.api import ImageSource, LayerWalk
    from hullguard.model import ImageInfo, Layer

Phase = Literal["registry", "walk", "match", "write"]


@dataclass(frozen=True)
class Timings:
    """Seconds one image spent per phase (plain floats: they cross a queue as JSON)."""

    registry_s: float = 0.0
    walk_s: float = 0.0
    match_s: float = 0.0
    write_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.registry_s + self.walk_s + self.match_s + self.write_s

    def plus(self, other: Timings) -> Timings:
        return Timings(self.registry_s + other.registry_s, self.walk_s + other.walk_s,
                       self.match_s + other.match_s, self.write_s + other.write_s)


class PhaseClock:
    """Seconds per phase of one job; nested phases pause the enclosing one."""

    def __init__(self) -> None:
        self._spent: dict[Phase, float] = {"registry": 0.0, "walk": 0.0, "match": 0.0,
                                           "write": 0.0}
        self._running: list[tuple[Phase, float]] = []  # innermost last, with its start

    @contextmanager
    def phase(self, name: Phase) -> Iterator[None]:
        self._running.append((name, self._switch()))
        try:
            yield
        finally:
            now = self._switch()
            self._running.pop()
            if self._running:  # the enclosing phase resumes now
                self._running[-1] = (self._running[-1][0], now)

    def _switch(self) -> float:
        """Credit the running phase with the time since it (re)started; now."""
        now = perf_counter()
        if self._running:
            name, since = self._running[-1]
            self._spent[name] += now - since
        return now

    def timings(self) -> Timings:
        spent = self._spent
        return Timings(spent["registry"], spent["walk"], spent["match"], spent["write"])


class TimedSource:
    """An :class:`~hullguard.images.api.ImageSource` whose layer fetches (``walk_layer``)
    count as registry time on ``clock``; everything else is the wrapped source's."""

    def __init__(self, source: ImageSource, clock: PhaseClock) -> None:
        self._source, self._clock = source, clock

    @property
    def info(self) -> ImageInfo:
        return self._source.info

    def walk_layer(self, layer: Layer) -> LayerWalk:
        with self._clock.phase("registry"):
            return self._source.walk_layer(layer)

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> TimedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
