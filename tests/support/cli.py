"""Run the hullguard CLI as a real process from this checkout's sources, and the small
things several test packages build with it (keys, an empty Sigstore trusted root)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# cosign 2.6 reads bundles only with a trusted root; key-based verification without a
# transparency log needs nothing in it.
EMPTY_TRUSTED_ROOT = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                      "tlogs": [], "certificateAuthorities": [], "ctlogs": [],
                      "timestampAuthorities": []}


def run_hullguard(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                  timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m hullguard ARGS`` with this checkout's ``src`` first on the path."""
    full = {**os.environ,
            "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **(env or {})}
    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=timeout, env=full, cwd=cwd, check=False)


def keygen(prefix: Path, password: str) -> tuple[Path, Path]:
    """(private, public) made by ``hullguard keygen`` with ``password``."""
    done = run_hullguard("keygen", "--out-prefix", str(prefix),
                         env={"COSIGN_PASSWORD": password})
    assert done.returncode == 0, done.stderr
    return prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")
