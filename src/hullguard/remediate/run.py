"""``remediate(incident_dir, options) -> ChangeSet``: the use case behind
``hullguard remediate`` (and respond's remediation step). Everything is built in memory and
written at the end, so a refused input leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from hullguard.contain.incident import IncidentFolder, sbom_path
from hullguard.contain.model import ChangeSet
from hullguard.errors import HullguardError, InputError
from hullguard.inventory.dockerfile import Stage
from hullguard.model.inventory import Inventory
from hullguard.remediate.basetag import MAX_CANDIDATES, Recommendation
from hullguard.remediate.dockerfile import Patch, Retag, patch_dockerfile
from hullguard.remediate.langpins import Pins
from hullguard.remediate.plan import (
    ImagePlan,
    end_of_life,
    eol_table,
    plan_image,
    read_sbom_packages,
)


@dataclass(frozen=True)
class RemediateOptions:
    out: Path
    images: tuple[str, ...] = ()  # only these images ("" = every image with findings)
    dockerfiles: dict[str, str] = field(default_factory=dict)  # image -> Dockerfile path
    digests: dict[str, str] = field(default_factory=dict)  # base image -> manifest digest
    patched: dict[str, str] = field(default_factory=dict)  # image -> patched REF@DIGEST
    offline: bool = False  # never ask a registry (no base digests, no newer base tags)
    today: date | None = None
    db_path: str = ""  # advisory database for scanning candidate base tags ("" = none)
    base_candidates: int = MAX_CANDIDATES  # candidate base tags scanned per base, at most


@dataclass
class ImageRemedy:
    plan: ImagePlan
    dockerfile: str = ""
    matched_by: str = ""
    patch: Patch | None = None
    diff_file: str = ""
    diff_root: str = ""  # where to run `git apply`
    workloads: list[tuple[str, list[str]]] = field(default_factory=list)  # key, containers
    written_as: list[str] = field(default_factory=list)  # the references as the manifests say
    bases: list[Recommendation] = field(default_factory=list)  # newer base tag, per base
    base_note: str = ""  # why no newer base tag was looked for
    pins: Pins | None = None  # requirements*.txt / package.json edits in the build context


def remediate(incident_or_images: Sequence[str | Path], options: RemediateOptions) -> ChangeSet:
    from hullguard.contain.run import load_inputs, write_change_set
    from hullguard.remediate.report import render

    incident, inventory = load_inputs(incident_or_images)
    if incident is None:
        raise InputError("remediate needs an incident folder (its findings say what to fix)",
                         where=", ".join(map(str, incident_or_images)),
                         hint="run `hullguard respond ... --out DIR` first, then "
                              "`hullguard remediate DIR [--image REF]`")
    names = _selected(incident, options)
    changes = ChangeSet(options.out)
    remedies = [_remedy(incident, inventory, name, options, changes) for name in names]
    render(changes, remedies, incident, options.today or datetime.now(UTC).date(), options)
    write_change_set(changes)
    return changes


def _selected(incident: IncidentFolder, options: RemediateOptions) -> list[str]:
    from hullguard.images.reference import parse_reference

    known = {str(i["name"]) for i in incident.images}
    wanted = [str(parse_reference(name)) for name in options.images]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InputError(f"image {unknown[0]} is not in the incident", where="--image",
                         hint="the incident's images are listed in its findings.json")
    return wanted or sorted(str(i["name"]) for i in incident.images if i.get("findings"))


def _remedy(incident: IncidentFolder, inventory: Inventory, name: str,
            options: RemediateOptions, changes: ChangeSet) -> ImageRemedy:
    image = next(i for i in incident.images if i["name"] == name)
    plan = plan_image(image)
    plan.packages = read_sbom_packages(sbom_path(incident, image.get("sbom")))
    remedy = ImageRemedy(plan, workloads=_workloads(inventory, name),
                         written_as=_written_as(inventory, name))
    remedy.dockerfile, remedy.matched_by = find_dockerfile(name, inventory, options.dockerfiles)
    if remedy.dockerfile:
        _patch(remedy, incident, options, changes)
    return remedy


def _workloads(inventory: Inventory, name: str) -> list[tuple[str, list[str]]]:
    image = inventory.image(name)
    found: dict[str, list[str]] = {}
    for occurrence in image.occurrences if image else ():
        key = occurrence.location.workload_key
        if key and occurrence.role in ("container", "init", "service"):
            found.setdefault(key, []).append(occurrence.location.container)
    return sorted(found.items())


def _written_as(inventory: Inventory, name: str) -> list[str]:
    """kustomize matches ``images:`` names as written (``alpine``, not docker.io/library/...)."""
    image = inventory.image(name)
    raw = {o.raw for o in image.occurrences if o.location.workload_key} if image else set()
    return sorted(raw) or [name]


def find_dockerfile(name: str, inventory: Inventory,
                    explicit: dict[str, str] | None = None) -> tuple[str, str]:
    """The Dockerfile that builds ``name``: given explicitly (--dockerfile), declared by a
    compose service that builds it, or a Dockerfile whose folder is named like the
    repository's last path component (said so in the report)."""
    if explicit and name in explicit:
        return explicit[name], "--dockerfile"
    for base in inventory.declared_bases:
        if base.target is not None and base.target.key == name:
            return base.dockerfile, "built by a compose service with this image"
    repo = name.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
    folders = sorted({b.dockerfile for b in inventory.declared_bases
                      if Path(b.dockerfile).parent.name == repo})
    if len(folders) == 1:
        return folders[0], f"its folder is named {repo!r} like the repository (check this)"
    return "", ""


def _patch(remedy: ImageRemedy, incident: IncidentFolder, options: RemediateOptions,
           changes: ChangeSet) -> None:
    from hullguard.inventory.yamlsafe import read_text

    path = Path(remedy.dockerfile)
    root = _git_root(path) or path.parent
    text = read_text(path)
    digests = _digests(text, str(path), incident, options, changes.warnings)
    retags = _newer_bases(remedy, text, str(path), options, digests)
    try:
        remedy.patch = patch_dockerfile(text, str(path), str(path.resolve().relative_to(
            root.resolve())), remedy.plan, digests, retags)
    except HullguardError as error:
        changes.warnings.append(f"{remedy.plan.name}: Dockerfile not patched: {error}")
        return
    changes.warnings += remedy.patch.warnings
    diff = remedy.patch.diff + _pin_diffs(remedy, path, root, changes)
    if diff:
        index = sum(1 for n in changes.files if n.startswith("dockerfiles/"))
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in remedy.plan.name)
        remedy.diff_file = changes.add(f"dockerfiles/{index:02d}-{safe[:120]}.diff", diff)
        remedy.diff_root = str(root)


def _pin_diffs(remedy: ImageRemedy, dockerfile: Path, root: Path, changes: ChangeSet) -> str:
    """The build context's dependency pins, as more files of the same patch; the findings
    they fix leave the "left" list."""
    from hullguard.remediate.dockerfile import unified_diff
    from hullguard.remediate.langpins import pin_context

    try:
        remedy.pins = pins = pin_context(dockerfile, remedy.plan.lang)
    except HullguardError as error:  # an unreadable requirements file: said, not fatal
        changes.warnings.append(f"{remedy.plan.name}: dependency files not pinned: {error}")
        return ""
    changes.warnings += [f"{remedy.plan.name}: {note}" for note in pins.notes]
    fixed = {(f.name, i) for f in remedy.plan.lang for i in f.ids if i in pins.fixed_ids}
    remedy.plan.left = [left for left in remedy.plan.left
                        if (left.package, left.finding_id) not in fixed]
    return "".join(unified_diff(old, new, str(Path(name).resolve().relative_to(
        root.resolve()))) for name, (old, new) in sorted(pins.files.items()))


def _newer_bases(remedy: ImageRemedy, text: str, path: str, options: RemediateOptions,
                 digests: dict[str, str]) -> dict[str, Retag]:
    """Per image base of the shipped stages: a newer tag that scans better, if any (its
    digest replaces the current one in ``digests``)."""
    from hullguard.inventory.dockerfile import parse_dockerfile
    from hullguard.lint.dockerfile import shipped_stages
    from hullguard.remediate.basetag import recommend

    if options.offline or not options.db_path or options.base_candidates < 1:
        remedy.base_note = ("skipped: --offline" if options.offline else "skipped: no "
                            "advisory database (--db)" if not options.db_path else
                            "skipped: --base-candidates 0")
        return {}
    today = options.today or datetime.now(UTC).date()
    eol = {f"{d} {v}": end_of_life(f"{d} {v}", today).startswith("yes")
           for d, versions in eol_table().items() for v in versions}
    retags = {}
    for name in _base_names(shipped_stages(parse_dockerfile(text, path))):
        rec = recommend(name, options.db_path, options.base_candidates, eol)
        remedy.bases.append(rec)
        if rec.tag and rec.before and rec.after:
            digests[name] = rec.digest
            retags[name] = Retag(rec.tag, _retag_comment(rec))
    return retags


def _base_names(stages: Sequence[Stage]) -> list[str]:
    from hullguard.images.reference import parse_reference

    names = []
    for stage in stages:
        if stage.is_image and "@" not in stage.base and "$" not in stage.base:
            try:
                names.append(str(parse_reference(stage.base)))
            except InputError:
                continue
    return sorted(set(names))


def _retag_comment(rec: Recommendation) -> str:
    assert rec.before and rec.after
    ids = rec.fixed_ids
    shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
    return (f"base moved to tag {rec.tag} ({rec.before.describe()} -> {rec.after.describe()})"
            f"; fixes {shown or 'no listed id'}")


def _git_root(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


def _digests(text: str, path: str, incident: IncidentFolder, options: RemediateOptions,
             warnings: list[str]) -> dict[str, str]:
    """Base digests: --digest first, then the registry (what the tag points at: the index
    digest for a multi-arch base, so every platform still builds), then, offline or when the
    registry cannot be asked, the digest respond scanned (a local archive's digest is not the
    registry's, so only an image pulled from its registry): that one is a single platform's
    manifest when the base is multi-arch, which the warning says."""
    from hullguard.images.reference import parse_reference
    from hullguard.inventory.dockerfile import parse_dockerfile

    found = {str(parse_reference(k)): v for k, v in options.digests.items()}
    for stage in parse_dockerfile(text, path).stages:
        if not stage.is_image or "@" in stage.base:
            continue
        try:
            name = str(parse_reference(stage.base))
        except InputError:
            continue
        if name in found:
            continue
        found[name] = "" if options.offline else resolve_digest(name)
        if not found[name] and (scanned := _incident_digest(incident, name)):
            found[name] = scanned
            warnings.append(f"{path}: {name} pinned to the digest respond scanned "
                            f"({scanned[:19]}...); for a multi-arch base that is one "
                            "platform's manifest: pin the index digest (run online, or "
                            "--digest) so other platforms still build")
    return {k: v for k, v in found.items() if v}


def _incident_digest(incident: IncidentFolder, name: str) -> str:
    image = next((i for i in incident.images if i["name"] == name), None)
    if image and image.get("source") == name and str(image.get("digest", "")).startswith("sha"):
        return str(image["digest"])
    return ""


def resolve_digest(name: str) -> str:
    """The manifest (or index) digest the registry serves for ``name``; "" when it cannot be
    asked (the report says the base was not pinned)."""
    from hullguard.images.api import SourceOptions
    from hullguard.images.reference import parse_reference
    from hullguard.images.registry.source import client_for

    reference = parse_reference(name)
    try:
        with client_for(reference, SourceOptions()) as client:
            return str(client.get_manifest(reference)[2])
    except HullguardError:
        return ""
