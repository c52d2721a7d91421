"""Hygiene findings: checks of images, Dockerfiles, compose files and Kubernetes workloads."""

from __future__ import annotations

from dataclasses import dataclass

from hullguard.model.advisory import Severity

LEVELS = ("L1", "L2", "L3")  # hardening guide: baseline, hardened, maximum (L1 within L2 within L3)
STATUSES = ("fail", "manual", "pass")  # a finding's status (lint reports only failures)


@dataclass(frozen=True)
class LintCheck:
    """The metadata of one check (its logic lives in hullguard.lint)."""

    id: str  # HG-D001 (Dockerfile), HG-I001 (image), HG-K001 (Kubernetes), HG-C001 (compose)
    title: str
    severity: Severity
    level: str  # L1 | L2 | L3: the lowest hardening level that enforces it
    nist: str  # NIST SP 800-53 control, e.g. AC-6
    fix: str  # one line
    help: str = ""
    targets: tuple[str, ...] = ()  # dockerfile, image, kubernetes, compose


@dataclass(frozen=True)
class LintFinding:
    check: LintCheck
    target: str  # file or image name
    message: str
    location: str = ""  # e.g. "stage build", "Deployment/web container app", a file path
    line: int = 0
    status: str = "fail"  # fail | pass | manual (posture reports list passes and manual checks)


@dataclass(frozen=True)
class LintReport:
    target: str
    level: str
    findings: tuple[LintFinding, ...] = ()
    checks: tuple[LintCheck, ...] = ()  # the checks enforced at ``level``
    warnings: tuple[str, ...] = ()
    kind: str = "Lint"  # the report's heading word: Lint, Posture
