"""The harness type and the oracle every harness shares.

The oracle: a parser fed hostile input returns a result or raises a
:class:`hullguard.errors.HullguardError` subclass. Any other exception, a hang beyond the
per-example CPU-time deadline (SIGPROF, so pure-Python loops are caught; ``run.py`` also
kills a child stuck in C code or blocked) or memory beyond the cap (``run.py`` sets RLIMIT_AS,
so it surfaces as MemoryError) is a finding.
"""

from __future__ import annotations

import contextlib
import signal
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from hypothesis import strategies as st

from hullguard.errors import HullguardError

DEFAULT_DEADLINE = 5.0  # seconds per example; the slowest seed takes ~50 ms on a busy core


class Hang(Exception):
    """Raised by the alarm inside a parser that ran past the per-example deadline."""


@dataclass(frozen=True)
class Harness:
    """One parser entry point, the strategy that feeds it and how to call it.

    ``run(value, scratch)`` drives the entry point; ``scratch`` is a private directory for
    harnesses whose parser reads a path (it is reused between examples).
    """

    name: str
    target: str  # the public entry point, "module:function", for reports
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any, Path], object]


@dataclass
class Failure:
    """One distinct crash: where it happened and the smallest input seen for it."""

    signature: str
    error: str
    trace: str
    value: Any
    count: int = 0


@dataclass
class Outcome:
    """What the oracle saw while one harness ran."""

    examples: int = 0
    failures: dict[str, Failure] = field(default_factory=dict)


def _innermost(tb: TracebackType | None) -> str:
    """``file:function`` of the deepest hullguard frame (else the deepest frame): the same
    crash reached by different inputs gets one signature."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/hullguard/" in f.filename] or frames[-1:]
    if not ours:
        return "?"
    frame = ours[-1]
    short = frame.filename.split("/hullguard/", 1)[-1]
    return f"{short}:{frame.name}"


def signature(error: BaseException) -> str:
    return f"{type(error).__name__} in {_innermost(error.__traceback__)}"


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the running code after ``seconds`` of CPU time (and again every
    half second, in case the parser swallows the first one with a broad ``except``).

    CPU time, not wall time: on a machine shared by many jobs a wall-clock deadline flags
    whatever example happened to run during a load spike. A parser blocked without using CPU
    is left to run.py's wall-clock watchdog."""
    def fire(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"no result after {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, fire)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def check(harness: Harness, value: Any, scratch: Path, outcome: Outcome,
          deadline: float = DEFAULT_DEADLINE) -> None:
    """Run one example under the oracle; record and re-raise anything that breaks it."""
    outcome.examples += 1
    try:
        with alarm(deadline):
            harness.run(value, scratch)
    except HullguardError:
        return
    except (Exception, RecursionError, MemoryError) as error:
        key = signature(error)
        failure = outcome.failures.get(key)
        trace = "".join(traceback.format_exception(error))
        # Hypothesis replays the shrunk example last, so the last input seen is the minimal one.
        if failure is None:
            failure = outcome.failures[key] = Failure(key, f"{type(error).__name__}: "
                                                      f"{str(error)[:300]}", trace, value)
        failure.count += 1
        if len(repr(value)) <= len(repr(failure.value)):  # keep the smallest reproducer
            failure.value, failure.trace = value, trace
        raise
