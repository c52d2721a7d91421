"""Run the real ``hullguard`` script with a cap on its address space (RLIMIT_AS), so a
memory blow-up shows as a MemoryError (or a kill) in the child, never in the test runner."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

ONE_GIB = 1 << 30


def run_capped(*args: str, limit: int = ONE_GIB, cwd: Path | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, preexec_fn=cap)
