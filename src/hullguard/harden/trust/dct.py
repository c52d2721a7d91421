"""Find what still depends on Docker Content Trust (Notary v1) in a repository or CI
configuration, and write the migration plan to cosign-style signatures and policies.

Docker retires DCT and notary.docker.io (see :data:`TIMELINE`): a pipeline that sets
``DOCKER_CONTENT_TRUST=1``, runs ``docker trust``, talks to a Notary server or relies on
Harbor's Notary-based content trust stops working or stops protecting anything. Each detector
is a line pattern with what it means and what replaces it; files are read bounded, binary
files and symbolic links are skipped (never followed out of the tree)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hullguard.errors import InputError, LimitExceeded
from hullguard.textsafe import escape_controls

MAX_FILE_BYTES = 2 * 1024 * 1024  # CI files and scripts are small; bigger ones are skipped
MAX_FILES = 200_000
MAX_FINDINGS = 10_000
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv",
                          "__pycache__", ".tox", ".mypy_cache"})

# (date, event, source): what the plan cites. The brownout and shutdown dates are from Docker's
# retirement post as reported on the day this table was written (2026-12-03).
_FULL_RETIREMENT = ("Docker blog, full retirement of DCT and Notary v1: "
                    "https://www.docker.com/?p=91250; dates as reported at https://fixitphill"
                    ".com/docker/docker-content-trust-retirement-migration-checklist/")
TIMELINE = (
    ("2025-07", "Docker announces the retirement of DCT, starting with Docker Official "
     "Images; from 2025-08-08 their DCT certificates expire and pulls with "
     "DOCKER_CONTENT_TRUST=1 fail for them",
     "https://www.docker.com/blog/retiring-docker-content-trust/"),
    ("2026-07-14/15", "write brownouts of notary.docker.io (about four hours each, from "
     "8:00 Pacific)", _FULL_RETIREMENT),
    ("2026-08-10/12", "read brownouts of notary.docker.io", _FULL_RETIREMENT),
    ("2026-12-08", "full shutdown of DCT and the Notary v1 service at notary.docker.io",
     _FULL_RETIREMENT),
)


@dataclass(frozen=True)
class Detector:
    id: str
    title: str
    pattern: re.Pattern[str]
    severity: str  # high: breaks or protects nothing after the shutdown; medium; low
    replace_with: str


def _rx(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


# One line per detector, in report order.
DETECTORS: tuple[Detector, ...] = (
    Detector("dct-enabled", "DOCKER_CONTENT_TRUST turned on",
             _rx(r"\bDOCKER_CONTENT_TRUST\b[\"']?\s*[:=\s]\s*[\"']?(?:1|true|yes|on)\b"),
             "high", "remove it; verify signatures with `hullguard verify --key` or "
             "`hullguard gate` (signatures rule) before deploying"),
    Detector("dct-credentials", "DCT key passphrases or a Notary server configured",
             _rx(r"\bDOCKER_CONTENT_TRUST_(?:SERVER|ROOT_PASSPHRASE|REPOSITORY_PASSPHRASE|"
                 r"OFFLINE_PASSPHRASE|TAGGING_PASSPHRASE)\b"),
             "high", "retire the DCT keys after re-signing; store the new cosign key "
             "(COSIGN_PASSWORD) as a CI secret"),
    Detector("docker-trust-command", "`docker trust` command",
             _rx(r"\bdocker\s+trust\s+(?:sign|inspect|key|signer|revoke)\b"),
             "high", "`hullguard sign IMAGE@sha256:... --key cosign.key` (and "
             "`hullguard verify` instead of `docker trust inspect`)"),
    Detector("content-trust-flag", "--disable-content-trust=false (turns DCT on)",
             _rx(r"--disable-content-trust=false\b"),
             "high", "drop the flag; verify with `hullguard verify` or `hullguard gate`"),
    Detector("content-trust-bypass", "--disable-content-trust (a DCT bypass to clean up)",
             _rx(r"--disable-content-trust(?:=true)?(?![=\w-])"),
             "low", "drop the flag once DCT is gone (it has no effect without DCT)"),
    Detector("notary-server", "Notary v1 server or notary.docker.io",
             _rx(r"\bnotary\.docker\.io\b|\bnotary-(?:server|signer)\b|"
                 r"\bimage:\s*[\"']?[\w./:-]*\bnotary\b"),
             "high", "nothing to run: cosign signatures and attestations live in the "
             "registry next to the image (OCI referrers or .sig tags)"),
    Detector("notary-cli", "`notary` CLI (Notary v1)",
             _rx(r"(?:^|[;&|]\s*|\bsudo\s+)notary\s+(?:-\S+\s+(?:\S+\s+)?)*(?:init|add|"
                 r"publish|sign|list|lookup|verify|key|delegation|delete|witness|reset)\b"),
             "high", "`hullguard sign` / `hullguard attest` with a cosign key"),
    Detector("notary-config", "Notary client configuration (trust_dir / remote_server)",
             _rx(r"[\"'](?:trust_dir|remote_server)[\"']\s*:"),
             "medium", "delete it after the migration; keys move to cosign.key/cosign.pub"),
    Detector("harbor-content-trust", "Harbor project with Notary content trust",
             _rx(r"\benable_content_trust\b[\"']?\s*[:=]\s*[\"']?(?:true|1)\b|"
                 r"--with-notary\b"),
             "high", "Harbor 2.9+ removed Notary: set enable_content_trust_cosign "
             "(\"Cosign\" under the project's deployment security) instead"),
    Detector("dockle-cis-di-0005", "Dockle check CIS-DI-0005 (\"enable content trust\")",
             _rx(r"\bCIS-DI-0005\b"),
             "medium", "replace the check with `hullguard gate` (signatures rule) in CI"),
)


@dataclass(frozen=True)
class DctFinding:
    detector: Detector
    path: str  # relative to the audited root
    line: int
    excerpt: str  # the line, control characters escaped, truncated


@dataclass(frozen=True)
class DctAudit:
    roots: tuple[str, ...]
    findings: tuple[DctFinding, ...]
    files: int  # files read
    skipped: tuple[str, ...]  # files not read and why (too large, unreadable)


def audit(paths: Sequence[Path]) -> DctAudit:
    """Every DCT dependency under ``paths`` (files or directories)."""
    findings: list[DctFinding] = []
    skipped: list[str] = []
    files = 0
    for root in paths:
        if not root.exists() and not root.is_symlink():
            raise InputError("no such file or directory", where=str(root))
        for path, shown in _files(root):
            files += 1
            if files > MAX_FILES:
                raise LimitExceeded(f"more than {MAX_FILES} files", where=str(root),
                                    hint="audit the repository's CI and deploy folders")
            text, why = _read(path)
            if text is None:
                if why:
                    skipped.append(f"{shown}: {why}")
                continue
            findings.extend(_scan(text, shown))
            if len(findings) > MAX_FINDINGS:
                raise LimitExceeded(f"more than {MAX_FINDINGS} findings", where=str(root))
    return DctAudit(tuple(str(p) for p in paths), tuple(findings), files, tuple(skipped))


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under ``root`` (never through a symbolic link), sorted."""
    if root.is_symlink():
        return
    if root.is_file():
        yield root, str(root)
        return
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            path = Path(directory) / name
            if not path.is_symlink() and path.is_file():
                yield path, str(path.relative_to(root.parent) if root.parent != root else path)


def _read(path: Path) -> tuple[str | None, str]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"larger than {MAX_FILE_BYTES} bytes, not read"
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return None, f"unreadable: {error.strerror or error}"
    if b"\0" in data[:8192]:
        return None, ""  # binary: not configuration
    return data.decode("utf-8", errors="replace"), ""


def _scan(text: str, shown: str) -> Iterator[DctFinding]:
    for number, line in enumerate(text.splitlines(), start=1):
        for detector in DETECTORS:
            if detector.pattern.search(line):
                yield DctFinding(detector, shown, number, _excerpt(line))


def _excerpt(line: str) -> str:
    text = escape_controls(line.strip())
    return text if len(text) <= 160 else text[:157] + "..."
