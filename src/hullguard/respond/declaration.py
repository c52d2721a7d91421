"""``declaration.md``: the incident declaration, ready to paste into a ticket or a chat."""

from __future__ import annotations

from hullguard.model import Severity
from hullguard.model.inventory import Origin
from hullguard.model.triage import Priority, TriageItem
from hullguard.respond.model import ForensicsSummary, ImageResult, Incident


def _md(text: str) -> str:
    """Neutralize Markdown/HTML control in attacker-influenced text (names, references).
    Whitespace runs (line breaks in error messages) become one space so each item stays one
    line; other control characters become ``?``."""
    one_line = " ".join(text.split())
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in one_line)
    for char in "\\`*_[]<>|":
        cleaned = cleaned.replace(char, "\\" + char)
    return cleaned


def render_declaration(incident: Incident) -> str:
    sections = [_header(incident), _summary(incident), _scope(incident),
                _affected(incident), _not_covered(incident), _actions(incident),
                _forensics(incident), _follow_ups(incident), _next_steps(incident)]
    return "\n\n".join(s for s in sections if s) + "\n"


def _forensics(incident: Incident) -> str:
    """First pulls of the fleet's digests with findings and push anomalies (``--logs``)."""
    found = incident.forensics
    if found is None:
        return ""
    if found.error:
        return f"## Forensics\n\nNOT written: {_md(found.error)}"
    lines = ["## Forensics"]
    if found.database:
        lines += _log_lines(found)
    if found.ioc_searched:
        lines += ["", f"Indicators of compromise (searched: {_md(', '.join(found.ioc_searched))}):",
                  ""]
        lines += [f"- `{_md(h.target)}` {_md(h.path)} ({_md(h.state)}): {_md(h.indicator)}"
                  for h in found.ioc_hits] or ["- no hit"]
        lines += [f"- warning: {_md(w)}" for w in found.ioc_warnings]
        lines += _indicator_lines(found)
    return "\n".join(lines)


def _indicator_lines(found: ForensicsSummary) -> list[str]:
    """Each indicator that hit: images, workloads, first seen (the timeline join)."""
    if not found.ioc_indicators:
        return []
    lines = ["", "Where each indicator reaches:", ""]
    return lines + [
        f"- {_md(i.indicator)}: images {_md(', '.join(i.images)) or 'none'}; workloads "
        f"{_md(', '.join(i.workloads)) or 'none known'}; first seen "
        f"{_md(i.first_seen) or 'not in the logs'}"
        + (f" ({_md(i.first_seen_by)})" if i.first_seen_by else "")
        for i in found.ioc_indicators]


def _log_lines(found: ForensicsSummary) -> list[str]:
    lines = ["", f"{found.events} events from {len(found.files)} log files in "
             f"[{found.database}]({found.database}) "
             "(`hullguard forensics query --case` this folder for more).", "",
             "First pull of each image with findings:", ""]
    lines += [f"- `{_md(p.image)}` ({_md(p.digest[:19])}...): first pulled {_md(p.first)} by "
              f"{_md(p.by) or 'unknown'}, {p.count} pulls" for p in found.first_pulls]
    lines += [f"- `{_md(name)}`: no pull of its digest in the logs" for name in found.not_pulled]
    lines += ["", "Push anomalies:", ""]
    return lines + ([f"- **{_md(a.kind)}** {_md(a.subject)}: {_md(a.detail)} ({_md(a.first)} "
                     f"to {_md(a.last)})" for a in found.anomalies] or ["- none"])


def _follow_ups(incident: Incident) -> str:
    """Links (relative, inside the incident folder) to what respond also wrote."""
    if not incident.follow_ups:
        return ""
    lines = ["## Follow-up steps", ""]
    for step in incident.follow_ups:
        todo = "review, then run its scripts (they dry-run by default)" if step.folder in (
            "containment", "remediation") else "review; verify the NOT CHECKED items by hand"
        if step.entry:
            lines.append(f"- **{step.title}:** [{step.entry}]({step.entry}) "
                         f"({_md(step.summary)}); {todo}")
        else:
            lines.append(f"- **{step.title}:** NOT written: {_md(step.error)}")
    return "\n".join(lines)


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
            f"{len(incident.inputs)} sources; {scanned} were scanned, "
            f"{len(incident.partly_checked())} of them not fully checked. "
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
            ("Images not scanned", len(not_scanned)),
            ("Images not fully checked (see Not covered)", len(incident.partly_checked())),
            ("Workloads running them", len(incident.unchecked_workloads()))]
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
        elif image.partly_checked:
            lines.append(f"- **partly checked** `{_md(image.name)}`: "
                         f"{_md(_unchecked_text(image))} (see Not covered)")
    if len(lines) == 2:
        lines.append("- none found")
    return "\n".join(lines)


def _unchecked_text(image: ImageResult) -> str:
    parts = [item.describe() for item in image.uncovered]
    if image.skipped:
        parts.append(f"{len(image.skipped)} catalog warnings (content skipped): "
                     + "; ".join(image.skipped[:3]) + (" ..." if len(image.skipped) > 3 else ""))
    return "; ".join(parts)


def _not_covered(incident: Incident) -> str:
    """What was NOT checked: images whose distro/ecosystem has no advisory data, or whose
    content the catalog skipped. These are not clean, and the fix is named."""
    from hullguard.respond.coverage import not_covered_summary

    summary = not_covered_summary(incident)
    if not summary["images"]:
        return "## Not covered\n\nEvery package of every scanned image was checked."
    lines = ["## Not covered", "",
             f"{len(summary['images'])} images ({summary['packages']} packages) running in "
             f"{len(summary['workloads'])} workloads were NOT fully checked; they are not "
             "known to be clean.", ""]
    for image in incident.partly_checked():
        lines.append(f"- `{_md(image.name)}`: {_md(_unchecked_text(image))}")
    lines += [f"- workload `{_md(key)}`" for key in summary["workloads"]]
    if summary["fix"]:
        lines += ["", "Fix (then run `hullguard respond` again):", ""]
        lines += [f"- `{_md(command)}`" for command in summary["fix"]]
    return "\n".join(lines)


def _patch_items(incident: Incident) -> list[str]:
    """One patch item per (image, package, finding), naming every workload it runs in."""
    grouped: dict[tuple[str, str, str], list[TriageItem]] = {}
    for item in incident.triage:
        if item.priority in (Priority.P0, Priority.P1):
            grouped.setdefault((item.image, item.package, item.finding_id), []).append(item)
    lines = []
    for (image, package, finding_id), items in grouped.items():
        deadline = min(i.deadline for i in items)
        workloads = [i.workload for i in items if i.workload]
        where = f" (workloads: {', '.join(f'`{_md(w)}`' for w in workloads)})" if workloads \
            else ""
        lines.append(f"- [ ] Patch `{_md(package)}` ({_md(finding_id)}) in `{_md(image)}` by "
                     f"{deadline}{where}")
    return lines


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
    lines += _patch_items(incident)
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
    if incident.partly_checked():
        steps.insert(0, "Add advisory data for the sources listed under Not covered "
                        "(`hullguard db update`) and run `hullguard respond` again.")
    return "## Next steps\n\n" + "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1))
