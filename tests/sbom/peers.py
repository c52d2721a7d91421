"""Running syft and trivy on files under a temporary directory (their caches go there too)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.env import TRIVY_OFFLINE, syft, trivy


def peer_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_CACHE_HOME=str(workdir / "cache"), TRIVY_CACHE_DIR=str(workdir / "trivy"),
               SYFT_CHECK_FOR_APP_UPDATE="false", NO_COLOR="1")
    return env


def run(args: list[str], workdir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env=peer_env(workdir), cwd=workdir, check=False)


def syft_scan(archive: Path, fmt: str, out: Path) -> Path:
    result = run([syft(), "scan", f"docker-archive:{archive}", "-o", f"{fmt}={out}", "-q"],
                 out.parent)
    assert result.returncode == 0, result.stderr
    return out


def trivy_image(archive: Path, fmt: str, out: Path) -> Path:
    result = run([trivy(), "image", "--input", str(archive), *TRIVY_OFFLINE, "--format", fmt,
                  "--output", str(out), "-q"], out.parent)
    assert result.returncode == 0, result.stderr
    return out


def trivy_list(sbom_file: Path) -> subprocess.CompletedProcess[str]:
    """``trivy sbom FILE`` listing every package (offline trivy cannot match vulnerabilities)."""
    return run([trivy(), "sbom", str(sbom_file), *TRIVY_OFFLINE, "--format", "json",
                "--list-all-pkgs", "--scanners", ""], sbom_file.parent)


def syft_convert(sbom_file: Path) -> subprocess.CompletedProcess[str]:
    return run([syft(), "convert", str(sbom_file), "-o", "json"], sbom_file.parent)


# Lines a peer prints that show it did not accept our document as valid input.
COMPLAINTS = ("invalid", "error", "failed", "unable", "unknown format", "not supported",
              "unsupported", "panic")


def complaints(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if any(word in line.lower() for word in COMPLAINTS)]
