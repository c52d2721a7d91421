"""``declaration.md``: the incident declaration, ready to paste into a ticket or a chat."""

from __future__ import annotations

from hullguard.model import Severity
from hullguard.model.inventory import Origin
from hullguard.model.triage import Priority
from hullguard.respond.model import Incident


def _md(text: str) -> str:
    """Neutralize Markdown/HTML control in attacker-influenced text (names, references)."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    for char in "\\`*_[]<>|":
        cleaned = cleaned.replace(char, "\\" + char)
    return cleaned


def render_declaration(incident: Incident) -> str:
    sections = [_header(incident), _summary(incident), _scope(incident),
                _affected(incident), _actions(incident), _next_steps(incident)]
    return "\n\n".join(sections) + "\n"


def _header(incident: Incident) -> str:
    when = incident.declared_at.strftime("%Y-%m-%d %H:%M UTC")
    return (f"# Incident {incident.id}: container supply-chain exposure\n\n"
            f"- **Declared:** {when}\n- **Severity:** {incident.severity}\n"
            f"- **Status:** investigating\n- **Advisory data:** {_md(incident.database)}")


def _summary(incident: Incident) -> str:
    counts = incident.priority_counts()
    severities = incident.severity_counts()
    scanned = sum(1 for i in incident.images if i.scanned)
    return ("## Summary\n\n"
            f"{len(incident.images)} images in use were inventoried from "
            f"{len(incident.inputs)} sources; {scanned} were scanned. "
            f"{severities[Severity.CRITICAL]} critical and {severities[Severity.HIGH]} high "
            f"vulnerabilities, {len(incident.secrets())} leaked secrets. Priority queue: "
            + ", ".join(f"{p} {counts[p]}" for p in Priority) + ".")


def _scope(incident: Incident) -> str:
    origins = incident.origin_counts()
    not_scanned = [i for i in incident.images if not i.scanned]
    internet = sum(1 for w in incident.inventory.workloads if w.exposure.internet_facing)
    rows = [("Images in use", len(incident.images)),
            ("from Docker Hub", origins[Origin.DOCKER_HUB]),
            ("from other public registries", origins[Origin.PUBLIC]),
            ("from internal registries", origins[Origin.INTERNAL]),
            ("Workloads", len(incident.inventory.workloads)),
            ("Production deployments", incident.production_workloads()),
            ("Internet-facing workloads", internet),
            ("Images not scanned", len(not_scanned))]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"## Scope\n\n| | count |\n|---|---|\n{table}"


def _affected(incident: Incident) -> str:
    lines = ["## Affected systems", ""]
    for item in incident.triage:
        target = item.workload or "(no workload)"
        lines.append(f"- **{item.priority}** `{_md(target)}` image `{_md(item.image)}`, "
                     f"fix by {item.deadline}: {_md(item.reason)}")
    for image in incident.images:
        if not image.scanned:
            lines.append(f"- **not scanned** `{_md(image.name)}`: {_md(image.error)}")
    if len(lines) == 2:
        lines.append("- none found")
    return "\n".join(lines)


def _actions(incident: Incident) -> str:
    scanned = sum(1 for i in incident.images if i.scanned)
    lines = ["## Actions initiated", "",
             f"- [x] Inventory collected ({len(incident.images)} images, "
             f"{len(incident.inventory.workloads)} workloads)",
             f"- [x] Images scanned for vulnerabilities and secrets ({scanned} scanned)",
             "- [x] Priorities assigned with deadlines (see Affected systems)"]
    if incident.blast:
        lines.append(f"- [x] Blast radius of base image `{_md(incident.blast.root)}` mapped "
                     f"({len(incident.blast.images)} images built on it)")
    for item in incident.triage:
        if item.priority in (Priority.P0, Priority.P1):
            lines.append(f"- [ ] Patch `{_md(item.package)}` ({item.finding_id}) in "
                         f"`{_md(item.image)}` by {item.deadline}")
    for image, secret in incident.secrets():
        lines.append(f"- [ ] Rotate the {_md(secret.title)} leaked in `{_md(image)}` "
                     f"({secret.redacted})")
    return "\n".join(lines)


def _next_steps(incident: Incident) -> str:
    steps = ["Pin every image by digest and rebuild affected images on patched bases.",
             "Restrict network exposure of internet-facing workloads until patched.",
             "Re-run `hullguard respond` after fixes to confirm closure."]
    if any(not i.scanned for i in incident.images):
        steps.insert(0, "Obtain and scan the images listed as not scanned; they are not clean.")
    return "## Next steps\n\n" + "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1))
