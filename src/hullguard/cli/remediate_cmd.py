"""``hullguard remediate INCIDENT_DIR``: patched Dockerfiles, upgrade lists, rollout commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hullguard.cli.common import eprint, handle_errors, show_warnings


def register(app: typer.Typer) -> None:
    app.command("remediate")(remediate_command)


Inputs = Annotated[list[str], typer.Argument(
    metavar="INCIDENT_DIR [IMAGE...]",
    help="An incident folder from `hullguard respond`, optionally followed by the images to "
         "remediate (default: every image with findings).")]
Dockerfiles = Annotated[list[str] | None, typer.Option(
    "--dockerfile", metavar="IMAGE=PATH", help="The Dockerfile that builds IMAGE (repeatable).")]
Digests = Annotated[list[str] | None, typer.Option(
    "--digest", metavar="REF=sha256:...",
    help="The digest to pin base image REF to (repeatable; default: asked from its registry).")]
Patched = Annotated[list[str] | None, typer.Option(
    "--patched", metavar="IMAGE=REF@sha256:...",
    help="The patched image for IMAGE, by digest, for rollout.sh and the kustomize entry.")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the remediation.")]
Offline = Annotated[bool, typer.Option(
    "--offline", help="Never ask a registry: no base digests (unknown ones stay unpinned), "
                      "no newer base tag.")]
Db = Annotated[Path | None, typer.Option(
    "--db", help="Advisory database for scanning candidate base tags (default: "
                 "$HULLGUARD_DB or the user data directory; absent: no newer base tag).")]
Candidates = Annotated[int, typer.Option(
    "--base-candidates", min=0, max=50,
    help="Candidate base tags pulled and scanned per base image, at most (0: none).")]


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    from hullguard.errors import InputError

    pairs = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise InputError(f"{value!r} is not KEY=VALUE", where=flag)
        pairs[key] = rest
    return pairs


def _normalized(pairs: dict[str, str], flag: str, digest_values: bool) -> dict[str, str]:
    import re

    from hullguard.errors import InputError
    from hullguard.images.reference import parse_reference

    out = {}
    for key, value in pairs.items():
        pattern = r"sha256:[0-9a-f]{64}" if digest_values else r".+@sha256:[0-9a-f]{64}"
        if flag != "--dockerfile" and not re.fullmatch(pattern, value):
            raise InputError(f"{value!r} is not a sha256 digest" if digest_values else
                             f"{value!r} does not name an image by digest", where=flag)
        out[str(parse_reference(key))] = value
    return out


def _db_path(db: Path | None) -> str:
    """The database to scan candidate base tags with: --db must exist; the default may not
    (then no newer base tag is looked for, and REMEDIATION.md says so)."""
    from hullguard.errors import DatabaseError
    from hullguard.vuln.db import default_db_path

    path = db or default_db_path()
    if db is not None and not db.is_file():
        raise DatabaseError("no advisory database here", where=str(db),
                            hint="create one with `hullguard db import` or `hullguard db update`")
    return str(path) if path.is_file() else ""


@handle_errors
def remediate_command(inputs: Inputs, dockerfile: Dockerfiles = None, digest: Digests = None,
                      patched: Patched = None, out: Out = Path("remediation"),
                      offline: Offline = False, db: Db = None,
                      base_candidates: Candidates = 5) -> None:
    """Write a patched Dockerfile diff per image, upgrade lists (and Copacetic commands) for
    images without one, rollout.sh, kustomize image entries and REMEDIATION.md."""
    from hullguard.remediate.run import RemediateOptions, remediate

    options = RemediateOptions(
        out, tuple(inputs[1:]),
        _normalized(_pairs(dockerfile, "--dockerfile"), "--dockerfile", False),
        _normalized(_pairs(digest, "--digest"), "--digest", True),
        _normalized(_pairs(patched, "--patched"), "--patched", False), offline,
        db_path=_db_path(db), base_candidates=base_candidates)
    changes = remediate(inputs[:1], options)
    show_warnings(changes.warnings)
    diffs = sum(1 for name in changes.files if name.startswith("dockerfiles/"))
    eprint(f"{diffs} Dockerfile patch(es): {out / 'REMEDIATION.md'}")
