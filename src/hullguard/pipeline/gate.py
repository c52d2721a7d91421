"""The gate use case: gather the evidence ``hullguard gate`` judges. Each image is scanned
through the pipeline (one job per image, the advisory DB opened once), its signatures and
attestations are verified with the policy's keys and advisory publication dates are looked
up; or an incident folder ``respond`` wrote is read.

Nothing is assumed: a step that was not run leaves its evidence ``None``."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullguard.errors import HullguardError, InputError
from hullguard.harden.gate.evidence import Check, Evidence, from_incident_image, from_result
from hullguard.harden.gate.policy import StagePolicy
from hullguard.harden.gate.rules import active_rules
from hullguard.images.api import SourceOptions

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    from hullguard.harden.trust.attach import Attachments, Target
    from hullguard.harden.trust.verify import Trust
    from hullguard.respond.model import ImageResult
    from hullguard.vuln.db import VulnDB

MAX_INCIDENT_JSON = 512 << 20


@dataclass(frozen=True)
class CollectOptions:
    db_path: str = ""  # "" = no advisory DB: the vulnerability rule cannot be checked
    source: SourceOptions = dataclasses.field(default_factory=SourceOptions)


def collect_images(images: Sequence[str], policy: StagePolicy, options: CollectOptions,
                   on_image: Callable[[str], None] | None = None) -> list[Evidence]:
    """One :class:`Evidence` per image, in order."""
    from hullguard.pipeline.executors import InProcessExecutor
    from hullguard.pipeline.jobs import ImageJob, JobOptions

    keys: list[tuple[str, Trust]] = [(str(path), _public_key(path))
                                     for path in _key_files(policy)]
    keys += _keyless(policy)
    wanted = {rule.key for rule in active_rules(policy)}
    job_options = JobOptions(options.db_path, "secrets" in wanted, source=options.source)
    jobs = [ImageJob(image, image, options=job_options) for image in images]
    db = _open_db(options.db_path)
    try:
        found = []
        for job, outcome in InProcessExecutor().run(jobs):
            if on_image:
                on_image(job.source)
            found.append(_evidence(job.source, outcome.result, db, policy, keys, wanted,
                                   options.source))
        return found
    finally:
        if db is not None:
            db.close()


def _open_db(path: str) -> VulnDB | None:
    if not path:
        return None
    from hullguard.vuln.db import VulnDB

    return VulnDB.open(path)


def _evidence(image: str, result: ImageResult, db: VulnDB | None, policy: StagePolicy,
              keys: list[tuple[str, Trust]], wanted: set[str],
              source: SourceOptions) -> Evidence:
    from hullguard.vuln.coverage import image_coverage

    if result.sbom is not None:  # the worker matches; coverage is the face's to compute
        result = dataclasses.replace(result, coverage=image_coverage(result.sbom, db))
    evidence = from_result(image, result, _published(db, result) if db else None)
    if db is None and result.sbom is not None:
        evidence = dataclasses.replace(evidence, vulns=None)
    if keys and wanted & {"signatures", "attestations"}:
        evidence = _with_trust(evidence, image, policy, keys, source)
    return evidence


def _published(db: VulnDB, result: ImageResult) -> dict[str, str]:
    """The earliest publication date of each finding's records."""
    dates: dict[str, str] = {}
    for finding in result.findings:
        stamps = [a.published for a in db.advisories(finding.id) if a.published]
        if stamps:
            dates[finding.id] = min(stamps)
    return dates


def _key_files(policy: StagePolicy) -> tuple[Path, ...]:
    return policy.signatures.keys if policy.signatures else ()


def _keyless(policy: StagePolicy) -> list[tuple[str, Trust]]:
    """The policy's identities with its trusted root (parsed once), or nothing."""
    from hullguard.harden.trust import keyless

    wanted = policy.signatures
    if wanted is None or not wanted.identities or wanted.trusted_root is None:
        return []
    identities = tuple(keyless.identity(item.issuer, item.subject, None,
                                        f"{policy.source}: signatures.identities")
                       for item in wanted.identities)
    found = keyless.load(wanted.trusted_root, identities)
    return [(f"keyless ({found.describe()})", found)]


def _public_key(path: Path) -> PublicKeyTypes:
    from hullguard.harden.trust.keys import load_public_key, read_key_file

    return load_public_key(read_key_file(path), str(path))


def _with_trust(evidence: Evidence, image: str, policy: StagePolicy,
                keys: list[tuple[str, Trust]], source: SourceOptions) -> Evidence:
    """Signatures and attestations checked with every key; a registry failure leaves them
    unchecked (None) with the reason noted."""
    try:
        with _attachments(image, source) as (store, target):
            signatures = {name: _signature_check(store, target, key) for name, key in keys}
            attestations = {kind: _attestation_check(store, target, keys, kind)
                            for kind in policy.attestations or ()}
    except HullguardError as error:
        note = f"signatures not checked: {error.message}"
        return dataclasses.replace(evidence, notes=(*evidence.notes, note))
    return dataclasses.replace(evidence, signatures=signatures,
                               attestations=attestations if policy.attestations else None)


def _signature_check(store: Attachments, target: Target, key: Trust) -> Check:
    from hullguard.harden.trust.verify import verify_signatures

    return _summary(verify_signatures(store, target, key), "signature")


def _attestation_check(store: Attachments, target: Target,
                       keys: list[tuple[str, Trust]], kind: str) -> Check:
    from hullguard.harden.trust.formats import predicate_type
    from hullguard.harden.trust.verify import verify_attestations

    found = [c for _, key in keys
             for c in verify_attestations(store, target, key, predicate_type(kind))]
    return _summary(found, f"{kind} attestation")


def _summary(checked: Iterable[Any], what: str) -> Check:
    items = list(checked)
    good = [c for c in items if c.verified]
    if good:
        who = f", signed by {good[0].signer}" if good[0].signer else ""
        return Check(True, f"verified {what} ({good[0].layout}, {good[0].location}{who})")
    if not items:
        return Check(False, f"no {what} found")
    return Check(False, "; ".join(f"{c.layout} {c.location}: {c.reason}" for c in items[:5]))


@contextlib.contextmanager
def _attachments(image: str, source: SourceOptions) -> Iterator[tuple[Attachments, Target]]:
    """The image's attachments: the registry's (the tag resolved once) or an oci: layout's."""
    from hullguard.harden.trust.attach import RegistryAttachments, resolve
    from hullguard.harden.trust.layout import open_layout
    from hullguard.images.reference import parse_source
    from hullguard.images.registry.source import client_for

    parsed = parse_source(image)
    if parsed.kind == "oci":
        yield open_layout(parsed.path)
        return
    if parsed.reference is None:
        raise InputError("signatures live in a registry or an oci: layout", where=image)
    with client_for(parsed.reference, source) as client:
        target = resolve(client, parsed.reference)
        yield RegistryAttachments(client, target), target


def collect_incident(folder: Path) -> list[Evidence]:
    """Evidence for every image of an incident folder (findings.json and its SBOMs)."""
    from hullguard.fsutil import read_bounded
    from hullguard.jsonsafe import loads
    from hullguard.sbom import read_sbom

    where = str(folder / "findings.json")
    doc = loads(read_bounded(folder / "findings.json", MAX_INCIDENT_JSON), where)
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise InputError("not an incident's findings.json (no images list)", where=where,
                         hint="give the folder `hullguard respond --out` wrote")
    found = []
    for image in doc["images"]:
        if not isinstance(image, dict):
            raise InputError("an images[] entry is not an object", where=where)
        sbom_file = image.get("sbom")
        sbom = None
        if isinstance(sbom_file, str) and sbom_file:
            path = (folder / sbom_file).resolve()
            if not path.is_relative_to(folder.resolve()):
                raise InputError("an SBOM path leaves the incident folder", where=sbom_file)
            sbom = read_sbom(path)
        found.append(from_incident_image(image, sbom))
    return found
