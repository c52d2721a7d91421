"""The steps ``respond`` runs on the incident it has just written into its staging folder:
containment and remediation. Each writes a subfolder of the incident folder, so it is part
of the same atomic swap. A failing step never costs the incident: its partial subfolder is
removed and the failure becomes a warning and a note in the report."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hullguard.contain.model import ChangeSet
from hullguard.errors import HullguardError
from hullguard.respond.model import FollowUp, Incident

if TYPE_CHECKING:
    from hullguard.forensics.ingest import IngestSpec
    from hullguard.forensics.ioc import Indicators
    from hullguard.harden.posture.incident import PostureOptions

CONTAINMENT = "containment"
REMEDIATION = "remediation"


@dataclass(frozen=True)
class FollowUpOptions:
    contain: bool = False
    remediate: bool = False
    offline: bool = False  # remediate asks no registry (base digests, newer base tags)
    db_path: str = ""
    logs: tuple[IngestSpec, ...] = ()  # --logs: ingested into forensics/
    sample_logs: Path | None = None  # the demo: write its sample registry log here, ingest it
    indicators: Indicators | None = None  # --iocs/--yara: searched in images and logs
    posture: PostureOptions | None = None  # --posture: registry accounts audited into posture/


def run_follow_ups(incident: Incident, staging: Path, options: FollowUpOptions) -> Incident:
    """Forensics, containment, then remediation, on the incident folder in ``staging``."""
    incident = _forensics(incident, staging, options)
    done: list[FollowUp] = []
    if options.contain:
        done.append(_step("Containment", CONTAINMENT, "CONTAINMENT.md", staging,
                          lambda out: _contain(staging, out)))
    if options.remediate:
        done.append(_step("Remediation", REMEDIATION, "REMEDIATION.md", staging,
                          lambda out: _remediate(staging, out, options)))
    if options.posture is not None and options.posture.targets:
        incident = _posture(incident, staging, options.posture, done)
    failures = tuple(f"{f.title.lower()} was not written ({f.error}); the incident folder is "
                     "complete" for f in done if f.error)
    return replace(incident, follow_ups=(*incident.follow_ups, *done),
                   warnings=(*incident.warnings, *failures))


def _forensics(incident: Incident, staging: Path, options: FollowUpOptions) -> Incident:
    if not options.logs and options.sample_logs is None and not options.indicators:
        return incident
    from hullguard.pipeline.forensics_step import run_forensics, write_sample_logs

    specs = list(options.logs)
    if options.sample_logs is not None:
        from hullguard.forensics.ingest import IngestSpec

        path = write_sample_logs(incident.images, options.sample_logs)
        specs.append(IngestSpec.parse(f"distribution-log:{path}"))
    workloads = {i.ref.key: i.workload_keys for i in incident.inventory.images}
    summary = run_forensics(incident.images, staging, specs, options.indicators, workloads)
    failure = (f"forensics was not written ({summary.error}); the incident folder is "
               "complete",) if summary.error else ()
    return replace(incident, forensics=summary, warnings=(*incident.warnings, *failure))


def _step(title: str, folder: str, entry: str, staging: Path,
          run: Callable[[Path], ChangeSet]) -> FollowUp:
    out = staging / folder
    try:
        changes = run(out)
    except Exception as error:  # any failure here must not cost the incident folder
        shutil.rmtree(out, ignore_errors=True)
        return FollowUp(title, folder, error=reason(error))
    if entry not in changes.files:
        return FollowUp(title, folder, error=f"{entry} was not written")
    return FollowUp(title, folder, f"{folder}/{entry}", _summary(changes))


def reason(error: Exception) -> str:
    if isinstance(error, HullguardError):
        return " ".join(error.diagnostics().split())
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _summary(changes: ChangeSet) -> str:
    parts = [f"{len(changes.files)} files"]
    if changes.changes:
        parts.append(f"{len(changes.changes)} workloads")
    if changes.warnings:
        parts.append(f"{len(changes.warnings)} warnings")
    return ", ".join(parts)


def _contain(incident: Path, out: Path) -> ChangeSet:
    from hullguard.contain.model import ContainOptions
    from hullguard.contain.run import contain

    return contain([incident], ContainOptions(out))


def _remediate(incident: Path, out: Path, options: FollowUpOptions) -> ChangeSet:
    from hullguard.remediate.run import RemediateOptions, remediate

    return remediate([incident], RemediateOptions(out, offline=options.offline,
                                                  db_path=options.db_path))


def _posture(incident: Incident, staging: Path, options: PostureOptions,
             done: list[FollowUp]) -> Incident:
    """``posture/``: each target audited; a target that could not be is a warning too."""
    from hullguard.harden.posture.incident import ENTRY, FOLDER, write_posture

    try:
        section = write_posture(staging / FOLDER, options)
    except Exception as error:  # any failure here must not cost the incident folder
        shutil.rmtree(staging / FOLDER, ignore_errors=True)
        done.append(FollowUp("Registry account posture", FOLDER, error=reason(error)))
        return incident
    done.append(FollowUp("Registry account posture", FOLDER, f"{FOLDER}/{ENTRY}",
                         section.summary()))
    missed = tuple(f"posture of {target} was NOT audited: {why}"
                   for target, why in section.failures)
    return replace(incident, warnings=(*incident.warnings, *missed))
