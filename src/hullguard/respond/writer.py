"""Write the incident folder: declaration.md, report.html, findings.json, findings.sarif and
one CycloneDX SBOM per scanned image (``sboms/``, named by digest, indexed in findings.json).

The folder is replaced as one step: every file is written into a temporary sibling directory,
the journal (``.hullguard-state``) is moved into it, and the two directories are exchanged
(``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames). A run killed at any point
leaves the old folder or the new one, never a mix. An existing ``--out`` that is neither empty
nor an incident folder is refused (its files would be replaced)."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.fsutil import current_umask
from hullguard.inventory.compose import redact
from hullguard.respond.model import ImageResult, Incident

FILES = ("declaration.md", "report.html", "findings.json", "findings.sarif")
SBOM_DIR = "sboms"
STATE_DIR = ".hullguard-state"
STAGING = ".incident-"  # the temporary sibling: .<out name>.incident-XXXX


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that is a file, or a non-empty folder hullguard did not write."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise InputError("not a folder", where=str(out), hint="give a new or incident folder")
    names = {entry.name for entry in out.iterdir()}
    if names and not names & {*FILES, STATE_DIR}:
        raise InputError("the folder is not empty and holds no incident; it would be replaced",
                         where=str(out), hint="give a new folder with --out")


Extend = Callable[[Incident, Path], Incident]


def write_incident(incident: Incident, out: Path, extend: Extend | None = None) -> Incident:
    """Write the folder (see the module doc). ``extend(incident, staging)`` runs after the
    incident's files are in the staging folder and before the swap, so what it writes there
    (containment/, remediation/, forensics/) is part of the same swap; the incident it returns
    is rendered again (its report links what was added). Returns the incident written."""
    files = render_files(incident)
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    check_out(out)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}{STAGING}"))
    try:
        _write_files(staging, files)
        if extend is not None:
            incident = extend(incident, staging)
            _write_files(staging, render_main(incident))
        os.chmod(staging, 0o777 & ~current_umask())
        _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # the old folder, or the aborted new one
    return incident


def _write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(redact(text), encoding="utf-8")  # no --env values


def render_main(incident: Incident, sboms: dict[str, str] | None = None) -> dict[str, str]:
    """The four top-level files (not the SBOMs)."""
    from hullguard.respond.declaration import render_declaration
    from hullguard.respond.report_html import render_report

    return {"declaration.md": render_declaration(incident),
            "report.html": render_report(incident),
            "findings.json": render_findings_json(incident, sboms),
            "findings.sarif": render_sarif(incident)}


def render_files(incident: Incident) -> dict[str, str]:
    """Every file of the folder by its relative path, SBOMs included."""
    from hullguard.sbom import render

    sboms = sbom_files(incident.images)
    files = render_main(incident, sboms)
    for image in incident.images:
        path = sboms.get(image.name)
        if image.sbom is not None and path and path not in files:
            files[path] = render(image.sbom, "cyclonedx-json")
    return files


def _swap_in(staging: Path, out: Path) -> None:
    """Make ``staging`` the folder ``out``; afterwards ``staging`` holds the old folder."""
    if not out.exists():
        os.rename(staging, out)
        return
    state = out / STATE_DIR
    if state.exists():  # the journal travels with the folder (resumption keeps working)
        os.rename(state, staging / STATE_DIR)
    if _exchange(staging, out):
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}{STAGING}old-"))
    os.rename(out, old / "folder")
    os.rename(staging, out)
    os.rename(old, staging)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two directories atomically (Linux renameat2); False where that is unavailable."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                 rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def recover_state(out: Path) -> None:
    """Put back a journal that a run killed inside the swap left in a staging sibling, and
    remove staging leftovers (called before a run reads the journal)."""
    out = out.absolute()
    if not out.parent.is_dir():
        return
    for staging in out.parent.glob(f".{out.name}{STAGING}*"):
        state = staging / STATE_DIR
        if state.is_dir() and not (out / STATE_DIR).exists() and out.is_dir():
            os.rename(state, out / STATE_DIR)
        shutil.rmtree(staging, ignore_errors=True)


def sbom_files(images: tuple[ImageResult, ...]) -> dict[str, str]:
    """Image name -> ``sboms/<readable name>-<digest>.cdx.json``: the digest keeps two images
    apart however alike their names (an image without a digest is keyed by its name)."""
    files = {}
    for image in images:
        if image.sbom is None:
            continue
        digest = image.digest.partition(":")[2] or hashlib.sha256(image.name.encode()).hexdigest()
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", redact(image.name)).lstrip("._")[:60]
        files[image.name] = f"{SBOM_DIR}/{readable}-{digest[:64]}.cdx.json"
    return files


def _plain(value: Any) -> Any:
    """Dataclasses, enums and tuples to JSON-ready values (enums by their value)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Enum):
        return value.value if not isinstance(value.value, int) else value.name.lower()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def render_findings_json(incident: Incident, sboms: dict[str, str] | None = None) -> str:
    from hullguard.respond.coverage import not_covered_summary
    from hullguard.vuln.coverage import coverage_dict
    from hullguard.vuln.report.native import finding_dict

    sboms = sbom_files(incident.images) if sboms is None else sboms
    workloads = {i.ref.key: list(i.workload_keys) for i in incident.inventory.images}
    images = []
    for image in incident.images:
        findings = [finding_dict(f, image.sbom) for f in image.findings] if image.sbom else []
        images.append({"name": image.name, "source": image.source, "origin": image.origin.value,
                       "scanned": image.scanned, "error": image.error, "digest": image.digest,
                       "base": image.base, "reused": image.reused,
                       "packages": len(image.sbom.packages) if image.sbom else 0,
                       "findings": findings,  # the same schema as `scan -f json`
                       "coverage": [coverage_dict(c) for c in image.coverage],
                       "skipped": image.skipped,  # content the catalog could not read
                       "secrets": _plain(list(image.secrets)),
                       "sbom": sboms.get(image.name),
                       "workloads": workloads.get(image.name, [])})  # forensics ioc joins
    doc = {"schema_version": 1, "incident": incident.id,
           "declared_at": incident.declared_at.isoformat(), "severity": incident.severity,
           "database": incident.database, "inputs": list(incident.inputs),
           "priority_queue": _plain(list(incident.triage)), "images": images,
           "workloads": _plain(list(incident.inventory.workloads)),
           "blast_radius": incident.blast.summary() if incident.blast else None,
           "warnings": list(incident.warnings),
           "follow_ups": _plain(list(incident.follow_ups)),  # containment/, remediation/
           "forensics": _plain(incident.forensics) if incident.forensics else None,
           "not_covered": not_covered_summary(incident),
           "inventory_issues": [str(i) for i in incident.inventory.issues],
           "sboms": [{"image": name, "file": path} for name, path in sorted(sboms.items())]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_sarif(incident: Incident) -> str:
    """All findings of the fleet as one SARIF 2.1.0 log: one run per scanned image."""
    from hullguard import sarif
    from hullguard.vuln.report.sarif import to_dict
    from hullguard.vuln.scan import ScanReport

    runs = [to_dict(ScanReport(image.sbom, image.findings,
                                     coverage=image.coverage))["runs"][0]
            for image in incident.images if image.sbom is not None]
    return sarif.dumps(sarif.envelope(runs), ascii_only=False)
