"""REMEDIATION.md, rollout.sh and the kustomize ``images:`` entries of a remediation."""

from __future__ import annotations

import re
import shlex
from datetime import date
from typing import TYPE_CHECKING

from hullguard.contain.incident import IncidentFolder
from hullguard.contain.model import ChangeSet, dump_yaml
from hullguard.remediate.plan import end_of_life, upgrade_command

if TYPE_CHECKING:
    from hullguard.remediate.run import ImageRemedy, RemediateOptions

ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def render(changes: ChangeSet, remedies: list[ImageRemedy], incident: IncidentFolder,
           today: date, options: RemediateOptions) -> None:
    changes.add("REMEDIATION.md", remediation_md(remedies, incident, today, changes))
    changes.add("rollout.sh", rollout_script(remedies, incident, options), executable=True)
    entries = {(e["name"], e["newName"], e["digest"]): e
               for r in remedies for raw in r.written_as
               for e in [_image_entry(raw, r.plan.name, options.patched.get(r.plan.name, ""))]}
    changes.add("kustomize-images.yaml", dump_yaml({"images": list(entries.values())}))
    changes.add(VEX_FILE, vex_draft(remedies, incident))


VEX_FILE = "vex.openvex.json"
# OpenVEX statuses a responder can move a left finding to, once triaged.
VEX_NEXT = ("not_affected with a justification (e.g. vulnerable_code_not_in_execute_path), "
            "or affected with an action statement")


def vex_draft(remedies: list[ImageRemedy], incident: IncidentFolder) -> str:
    """An OpenVEX document with one ``under_investigation`` statement per finding left (it
    suppresses nothing): the responder edits the status once triaged and passes the file to
    ``hullguard scan --vex``."""
    import json

    statements = []
    for remedy in remedies:
        product = remedy.plan.name + (f"@{remedy.plan.digest}" if remedy.plan.digest
                                      and "@" not in remedy.plan.name else "")
        for left in remedy.plan.left:
            if left.why.startswith("not an advisory id"):
                continue
            entry: dict[str, object] = {"@id": product}
            if left.purl.startswith("pkg:"):
                entry["subcomponents"] = [{"@id": left.purl}]
            statements.append({"vulnerability": {"name": left.finding_id},
                               "products": [entry], "status": "under_investigation",
                               "status_notes": f"left by remediate: {left.why}"})
    doc = {"@context": "https://openvex.dev/ns/v0.2.0",
           "@id": f"urn:hullguard:incident:{incident.id}:vex-draft",
           "author": "hullguard remediate (draft: review every statement)",
           "timestamp": incident_time(), "version": 1, "statements": statements}
    return json.dumps(doc, indent=2) + "\n"


def incident_time() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository(reference: str) -> str:
    repository = reference.split("@")[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return repository


def _image_entry(raw: str, name: str, patched: str) -> dict[str, str]:
    new_name, _, digest = patched.partition("@")
    return {"name": _repository(raw), "newName": new_name or _repository(name),
            "digest": digest or "sha256:REPLACE-WITH-THE-PATCHED-IMAGE-DIGEST"}


def remediation_md(remedies: list[ImageRemedy], incident: IncidentFolder, today: date,
                   changes: ChangeSet) -> str:
    lines = [f"# Remediation for incident {incident.id}", "",
             "Per image: what each change fixes and what is left. Build and push the patched "
             "images, then `./rollout.sh` (a server-side dry run) and `./rollout.sh --apply`.",
             ""]
    for remedy in remedies:
        lines += _image_section(remedy, today)
    if changes.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in changes.warnings] + [""]
    return "\n".join(lines)


def _image_section(remedy: ImageRemedy, today: date) -> list[str]:
    plan = remedy.plan
    eol = end_of_life(plan.distro, today) if plan.distro else "unknown"
    lines = [f"## {plan.name}", "", f"- distribution: {plan.distro or 'unknown'}; "
             f"end of life: {eol}"]
    if remedy.patch and remedy.diff_file:
        lines += [f"- Dockerfile `{remedy.dockerfile}` ({remedy.matched_by}): patched as "
                  f"`{remedy.diff_file}`; apply with `git -C {shlex.quote(remedy.diff_root)} "
                  f"apply {shlex.quote('<this folder>/' + remedy.diff_file)}`"]
        lines += [f"  - {change}" for change in remedy.patch.changes]
        lines += [f"  - {change}" for change in (remedy.pins.changes if remedy.pins else ())]
    else:
        lines += _without_dockerfile(remedy, eol)
    lines += _base_lines(remedy)
    if plan.left:
        lines += [f"- findings left (VEX: `under_investigation` in `{VEX_FILE}`; once "
                  f"triaged, set {VEX_NEXT}):"]
        lines += [f"  - {left.finding_id} in {left.package}: {left.why}" for left in plan.left]
    return [*lines, ""]


def _base_lines(remedy: ImageRemedy) -> list[str]:
    """The newer base tag: before/after counts, or why none is proposed."""
    if remedy.base_note:
        return [f"- newer base tag: {remedy.base_note}"]
    lines = []
    for rec in remedy.bases:
        if rec.tag and rec.before and rec.after:
            lines.append(f"- newer base tag for `{rec.base}`: `{rec.reference}@{rec.digest}`")
            lines.append(f"  - before: {rec.before.describe()}")
            lines.append(f"  - after: {rec.after.describe()}")
            lines.append(f"  - fixes: {', '.join(rec.fixed_ids) or 'no listed id'}")
        else:
            lines.append(f"- newer base tag for `{rec.base}`: none proposed")
        lines += [f"  - {note}" for note in rec.notes]
    return lines


def _without_dockerfile(remedy: ImageRemedy, eol: str) -> list[str]:
    plan = remedy.plan
    lines = ["- no Dockerfile for it in the inventory (give one with --dockerfile IMAGE=PATH)"
             if not remedy.dockerfile else f"- Dockerfile `{remedy.dockerfile}`: nothing to change"]
    for kind, packages in sorted(plan.upgrades.items()):
        ids = sorted({i for found in packages.values() for i in found})
        lines.append(f"- upgrade ({', '.join(ids)}): `{upgrade_command(kind, list(packages))}`")
    if plan.upgrades and not eol.startswith("yes"):
        tag = plan.name.split("@")[0]
        lines.append(f"- or patch the image in place with Copacetic: `copa patch --image "
                     f"{shlex.quote(tag)} --tag patched` (with a Trivy report, `--report "
                     "FILE`, it upgrades only the reported packages)")
    elif plan.upgrades:
        lines.append("- no Copacetic command: the distribution is end of life, so its "
                     "repositories get no more fixes; move to a supported base")
    return lines


_HEADER = """#!/bin/sh
# Roll out the patched images for incident {incident}, written by hullguard remediate.
# Dry run by default (kubectl --dry-run=server); pass --apply to change the cluster.
# Each workload's image is set by digest; undo with the `rollout undo` line shown for it.
set -eu
DRY="--dry-run=server"
[ "${{1:-}}" = "--apply" ] && DRY=""
run() {{ echo "+ $*"; "$@"; }}
by_digest() {{
  case "$1" in *@sha256:*) ;; *) echo "$2 must name the image by digest" >&2; exit 2;; esac
}}
"""


def _variable(name: str) -> str:
    return "PATCHED_" + re.sub(r"[^A-Za-z0-9]+", "_", name.split("@")[0]).upper().strip("_")


def rollout_script(remedies: list[ImageRemedy], incident: IncidentFolder,
                   options: RemediateOptions) -> str:
    lines = [_HEADER.format(incident=incident.id)]
    for remedy in remedies:
        kube = [(k, c) for k, c in remedy.workloads if "/compose-service/" not in k]
        if not kube:
            continue
        var, patched = _variable(remedy.plan.name), options.patched.get(remedy.plan.name, "")
        ids = ", ".join(remedy.plan.fixable_ids[:10]) or "hardening"
        lines += [f"# {remedy.plan.name}",
                  f"{var}=\"${{{var}:-{patched}}}\"",
                  f"[ -n \"${var}\" ] || {{ echo 'set {var} to the patched image by digest' >&2;"
                  " exit 2; }",
                  f"by_digest \"${var}\" {var}"]
        for key, containers in kube:
            lines += _workload_lines(key, containers, var, f"hullguard remediate "
                                     f"{incident.id}: {ids}")
    return "\n".join(lines) + "\n"


def _workload_lines(key: str, containers: list[str], var: str, cause: str) -> list[str]:
    namespace, kind, name = key.split("/")
    target = f"{kind.lower()}/{name}"
    ns = f"-n {shlex.quote(namespace)} {shlex.quote(target)}"
    images = " ".join(f"{shlex.quote(c)}=\"${var}\"" for c in sorted(set(containers)) if c)
    lines = [f"run kubectl set image $DRY {ns} {images}",
             f"run kubectl annotate $DRY --overwrite {ns} "
             f"kubernetes.io/change-cause={shlex.quote(cause)}"]
    if kind in ROLLOUT_KINDS:
        lines += [f"[ -n \"$DRY\" ] || run kubectl rollout status {ns} --timeout=300s",
                  f"[ -n \"$DRY\" ] || run kubectl rollout history {ns}",
                  f"# undo: kubectl rollout undo {ns}"]
    return lines
