"""The copy engine: each source reference resolved once to a digest and copied byte for byte.

One image goes in two phases so that a hostile source leaves nothing at the mirror:

1. **Plan** (:meth:`Mirror._plan`): every document (index, platform manifests, ``.sig`` /
   ``.att`` / ``.sbom`` manifests, referrers) is fetched and verified against its digest and
   its descriptor's size; every blob the mirror lacks is downloaded into the cache, verified
   by size and digest while streaming. Any failure ends the image here.
2. **Push** (:meth:`Mirror._push`): blobs (mounted from another mirror repository when one
   has them, else uploaded), then documents children first with their exact bytes (so the
   digest at the mirror is the source's), then tags, then the referrers tag index when the
   mirror has no referrers API; a final ``HEAD`` checks the digest the mirror reports.

A document already at the mirror (``HEAD`` by digest) is not read further: the registry only
accepts a manifest whose blobs and children it holds, so a rerun copies only what is missing.
Verified blobs stay in the cache until a run completes, and chunked uploads resume
(:mod:`.upload`), so a killed run picks up where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hullguard.errors import HullguardError, LimitExceeded, NotFoundError, RateLimited
from hullguard.harden.mirror.mapping import MirrorTarget, mirror_name
from hullguard.harden.mirror.plan import (
    Document,
    ImagePlan,
    new_index,
    read_document,
    selected_entries,
)
from hullguard.harden.mirror.report import (
    COPIED,
    FAILED,
    NOT_STARTED,
    PRESENT,
    RATE_LIMITED,
    ImageResult,
    MirrorReport,
)
from hullguard.harden.mirror.upload import (
    Uploader,
    UploadSettings,
    blob_size_at,
    manifest_digest_at,
    put_manifest,
    try_mount,
)
from hullguard.harden.trust.attach import own_artifact_type
from hullguard.images.manifest import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    Descriptor,
    digest_of,
    load_json,
    parse_descriptor,
    verify_blob,
)
from hullguard.images.reference import parse_reference
from hullguard.images.registry.client import RegistryClient
from hullguard.images.registry.credentials import find_credentials
from hullguard.images.registry.referrers import get_referrers
from hullguard.model import Digest, Platform
from hullguard.model.reference import ImageReference

Item = TypeVar("Item")
Done = TypeVar("Done")
MAX_DEPTH = 4  # index -> index -> manifest is rare; deeper is hostile
TRUST_TAGS = (("sig", "signature"), ("att", "attestation"), ("sbom", "sbom"))


class Observer:
    """What a face hears during a run (the CLI: a progress bar)."""

    def started(self, images: int) -> None:
        """The run starts with this many source references."""

    def transferred(self, size: int) -> None:
        """``size`` more bytes of blob content went to the mirror."""

    def image_done(self, result: ImageResult) -> None:
        """One source reference is finished (copied, present, failed or not started)."""


@dataclass(frozen=True)
class MirrorOptions:
    target: MirrorTarget
    name_map: dict[str, str] = field(default_factory=dict)
    platforms: tuple[Platform, ...] = ()  # empty: indexes are copied whole
    tags: bool = False  # also write the reference's tag at the mirror
    trust: bool = True  # signatures, attestations, SBOMs, referrers
    jobs: int = 4
    docker_config: str | None = None
    insecure: bool = False
    timeout: float = 60.0
    cache_dir: Path = Path(".")
    upload: UploadSettings = field(default_factory=UploadSettings)


@dataclass
class _Actions:
    """Phase 1's decision per blob, and the counters phase 2 fills."""

    present: set[Digest] = field(default_factory=set)
    mount: dict[Digest, str] = field(default_factory=dict)
    upload: dict[Digest, Path] = field(default_factory=dict)
    uploaded: int = 0
    mounted: int = 0
    sent: int = 0
    received: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Mirror:
    """One run: shared clients (one per registry host, each with that host's credentials),
    the cache of verified blobs, and the rate-limit stop."""

    def __init__(self, options: MirrorOptions, observer: Observer | None = None) -> None:
        self.options, self.observer = options, observer or Observer()
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()
        self._blob_locks: dict[Digest, threading.Lock] = {}
        self._known: dict[Digest, str] = {}  # blob -> a mirror repository that holds it
        self._blobs = ThreadPoolExecutor(max(1, options.jobs), "mirror-blob")
        self.stopped: RateLimited | None = None
        self.stopped_by = ""

    def close(self) -> None:
        self._blobs.shutdown(wait=True)
        for client in self._clients.values():
            client.close()

    def run(self, sources: list[str]) -> MirrorReport:
        self.observer.started(len(sources))
        with ThreadPoolExecutor(max(1, self.options.jobs), "mirror-image") as pool:
            results = list(pool.map(self.copy_one, sources))
        report = MirrorReport(str(self.options.target), results, self.stopped_by,
                              self.stopped.retry_after if self.stopped else 0.0)
        if report.complete:
            shutil.rmtree(self.options.cache_dir / "blobs", ignore_errors=True)
        return report

    # -- one image -------------------------------------------------------------------------

    def copy_one(self, text: str) -> ImageResult:
        result = ImageResult(text)
        try:
            if self.stopped is not None:
                result.reason = f"not started: the run stopped at {self.stopped_by}'s rate limit"
            else:
                self._copy(text, result)
        except RateLimited as error:
            self._stop(error)
            result.status, result.reason = RATE_LIMITED, error.diagnostics()
        except HullguardError as error:
            result.status, result.reason = FAILED, error.diagnostics()
        except OSError as error:  # the cache: disk full, permissions
            result.status = FAILED
            result.reason = f"{self.options.cache_dir}: {error.strerror or error}"
        self.observer.image_done(result)
        return result

    def _stop(self, error: RateLimited) -> None:
        with self._lock:
            if self.stopped is None:
                self.stopped, self.stopped_by = error, error.where.split("/", 1)[0]

    def _copy(self, text: str, result: ImageResult) -> None:
        source = parse_reference(text)
        destination = parse_reference(mirror_name(source, self.options.target,
                                                  self.options.name_map))
        actions = _Actions()
        ctx = _Walk(self._client(source.api_registry, source.registry), source, destination)
        plan = self._plan(ctx, actions)
        result.digest = str(plan.digest)
        mirror_digest = plan.mirror_digest or plan.digest
        result.mirror = f"{destination.name}@{mirror_digest}"
        result.mirror_digest = str(mirror_digest)
        result.notes, result.tags = plan.notes, plan.tags
        self._push(plan, ctx, actions)
        result.copied = _summary(plan, actions)
        result.status = COPIED if result.copied else PRESENT
        result.bytes_sent, result.bytes_received = actions.sent, actions.received

    # -- phase 1: plan, fetch, verify ------------------------------------------------------

    def _plan(self, ctx: _Walk, actions: _Actions) -> ImagePlan:
        source = ctx.source
        data, served, digest = ctx.src.get_manifest(source)  # the tag is resolved here, once
        where = f"{source.name}@{digest}"
        plan = ImagePlan(str(source), digest, ctx.destination.repository)
        top = read_document(data, digest, _known(served), where, "image")
        trusted: list[Digest] = [digest]
        if top.is_index and self.options.platforms:
            top = self._select(plan, top, where)
            trusted = [entry.digest for entry in top.children]
        elif top.is_index:
            trusted += [entry.digest for entry in top.children]
        elif self.options.platforms:
            plan.notes.append("a single-platform image: --platform does not apply, copied as is")
        plan.mirror_digest, plan.top = top.digest, top
        self._walk(plan, ctx, top, 0)
        if self.options.tags and source.tag:
            plan.tags.append(source.tag)
        if self.options.trust:
            self._trust(plan, ctx, trusted)
        self._stage(plan, ctx, actions)
        return plan

    def _select(self, plan: ImagePlan, top: Document, where: str) -> Document:
        entries = selected_entries(top, self.options.platforms, where)
        data = new_index(top, entries)
        digest = digest_of(data)
        plan.notes.append(
            f"platforms {', '.join(map(str, self.options.platforms))} selected: the mirror "
            f"holds a NEW index {digest} (the source index is {plan.digest}); signatures of "
            "the source index do not apply to it, those of each platform manifest do")
        children = tuple(parse_descriptor(e, f"{where} manifests") for e in entries)
        return Document(digest, data, top.media_type, "image", children=children)

    def _walk(self, plan: ImagePlan, ctx: _Walk, doc: Document, depth: int) -> None:
        """Add ``doc`` and what it needs, unless the mirror has it already."""
        if self._has_manifest(ctx, doc.digest):
            if doc.tag:  # content is there: only the tag to write
                plan.documents.append(Document(doc.digest, doc.data, doc.media_type, doc.role,
                                               doc.tag))
            return
        if depth > MAX_DEPTH:
            raise LimitExceeded(f"indexes nested deeper than {MAX_DEPTH}",
                                where=f"{ctx.source.name}@{doc.digest}")
        for child in doc.children:
            role = "platform" if doc.role == "image" else doc.role
            self._walk(plan, ctx, self._child(ctx, child, role), depth + 1)
        for blob in doc.blobs:
            if blob.urls:  # foreign layer (Windows base): lives elsewhere, as skopeo does
                plan.notes.append(f"foreign layer {blob.digest} not copied (it has urls)")
                continue
            plan.blobs[blob.digest] = blob
        plan.documents.append(doc)

    def _child(self, ctx: _Walk, entry: Descriptor, role: str) -> Document:
        pinned = ImageReference(ctx.source.registry, ctx.source.repository, digest=entry.digest)
        data, served, _ = ctx.src.get_manifest(pinned)
        verify_blob(data, entry, str(pinned))  # the digest matched; the size must too
        media = entry.media_type if entry.media_type in INDEX_TYPES | MANIFEST_TYPES \
            else _known(served)
        return read_document(data, entry.digest, media, str(pinned), role)

    def _has_manifest(self, ctx: _Walk, digest: Digest) -> bool:
        dst = self._target(ctx)
        return manifest_digest_at(dst, ctx.destination.repository, str(digest)) == digest

    def _trust(self, plan: ImagePlan, ctx: _Walk, subjects: list[Digest]) -> None:
        """cosign's ``sha256-HEX.sig/.att/.sbom`` tags and the OCI 1.1 referrers of each
        subject (through the API, else the referrers tag schema). The lookups (mostly 404s,
        each a round trip) run in the bounded pool, each into its own part of the plan,
        merged in a fixed order."""
        lookups = [(subject, suffix, role) for subject in subjects
                   for suffix, role in (*TRUST_TAGS, ("", "referrers"))]

        def look(lookup: tuple[Digest, str, str]) -> ImagePlan:
            part = ImagePlan(plan.source, plan.digest, plan.repository)
            subject, suffix, role = lookup
            if suffix:
                self._attached(part, ctx, subject, suffix, role)
            else:
                self._referrers(part, ctx, subject)
            return part

        for part in self._each(look, lookups):
            plan.documents += part.documents
            plan.blobs.update(part.blobs)
            plan.notes += part.notes
            plan.referrers += part.referrers

    def _attached(self, plan: ImagePlan, ctx: _Walk, subject: Digest, suffix: str,
                  role: str) -> None:
        tag = f"{subject.algorithm}-{subject.hex}.{suffix}"
        reference = ImageReference(ctx.source.registry, ctx.source.repository, tag)
        try:
            data, served, digest = ctx.src.get_manifest(reference)
        except NotFoundError:
            return
        dst = self._target(ctx)
        if manifest_digest_at(dst, ctx.destination.repository, tag) == digest:
            return
        where = f"{ctx.source.name}:{tag}"
        self._walk(plan, ctx, read_document(data, digest, _known(served), where, role,
                                            tag=tag), 0)

    def _referrers(self, plan: ImagePlan, ctx: _Walk, subject: Digest) -> None:
        tag = f"{subject.algorithm}-{subject.hex}"
        where = f"{ctx.source.name}@{subject} referrers"
        body = get_referrers(ctx.src, ctx.source.repository, subject)
        via_tag = body is None
        if body is None:
            try:
                body, _, _ = ctx.src.get_manifest(
                    ImageReference(ctx.source.registry, ctx.source.repository, tag),
                    accept=(OCI_INDEX,))
            except NotFoundError:
                return
        index = read_document(body, digest_of(body), OCI_INDEX, where, "referrers-index")
        if not index.children:
            return
        for entry in index.children:
            if not self._has_manifest(ctx, entry.digest):  # HEAD before GET on a rerun
                self._walk(plan, ctx, self._child(ctx, entry, "referrer"), 0)
        plan.referrers.append((subject, {"tag": tag, "index": index,
                                         "source_bytes": body if via_tag else None}))

    def _stage(self, plan: ImagePlan, ctx: _Walk, actions: _Actions) -> None:
        """Decide per blob (present, mount, upload) and download what must be uploaded."""
        dst, repository = self._target(ctx), ctx.destination.repository

        def decide(blob: Descriptor) -> None:
            if blob_size_at(dst, repository, blob.digest) is not None:
                with actions.lock:
                    actions.present.add(blob.digest)
                self._remember(blob.digest, repository)
                return
            other = self._known.get(blob.digest)
            if ctx.source.registry == ctx.destination.registry:  # a copy inside one registry
                other = ctx.source.repository
            if other and other != repository:
                with actions.lock:
                    actions.mount[blob.digest] = other
                return
            path = self._fetch(ctx, blob, actions)
            with actions.lock:
                actions.upload[blob.digest] = path

        self._each(decide, list(plan.blobs.values()))

    def _fetch(self, ctx: _Walk, blob: Descriptor, actions: _Actions) -> Path:
        """The blob in the cache, verified (a verified file from an earlier run is reused)."""
        path = self.options.cache_dir / "blobs" / blob.digest.algorithm / blob.digest.hex
        with self._blob_lock(blob.digest):
            if path.is_file() and path.stat().st_size == blob.size and _hash(path, blob):
                return path
            path.parent.mkdir(parents=True, exist_ok=True)
            ctx.src.fetch_blob(ctx.source.repository, blob, path)
        with actions.lock:
            actions.received += blob.size
        return path

    # -- phase 2: push ---------------------------------------------------------------------

    def _push(self, plan: ImagePlan, ctx: _Walk, actions: _Actions) -> None:
        dst = self._target(ctx)
        uploader = Uploader(dst, self.options.upload)

        def send(blob: Descriptor) -> None:
            self._send_blob(plan, ctx, uploader, blob, actions)

        self._each(send, [plan.blobs[d] for d in plan.blobs if d not in actions.present])
        for doc in plan.documents:  # children before parents, tagged ones under their tag
            put_manifest(dst, plan.repository, doc.tag or str(doc.digest), doc.data,
                         doc.media_type, doc.digest)
        self._push_tags(plan, dst)
        for subject, info in plan.referrers:
            self._referrers_index(plan, dst, subject, info)
        self._verify(plan, dst)

    def _send_blob(self, plan: ImagePlan, ctx: _Walk, uploader: Uploader,
                   blob: Descriptor, actions: _Actions) -> None:
        other = actions.mount.get(blob.digest)
        if other and try_mount(uploader.client, plan.repository, blob.digest, other):
            with actions.lock:
                actions.mounted += 1
            return
        path = actions.upload.get(blob.digest)
        if path is None or not path.is_file():  # the mount was refused: fetch it after all
            path = self._fetch(ctx, blob, actions)

        def sent(size: int) -> None:
            with actions.lock:
                actions.sent += size
            self.observer.transferred(size)

        uploader.upload(plan.repository, blob, path, sent)
        with actions.lock:
            actions.uploaded += 1
        self._remember(blob.digest, plan.repository)

    def _push_tags(self, plan: ImagePlan, dst: RegistryClient) -> None:
        assert plan.top is not None
        for tag in plan.tags:
            if manifest_digest_at(dst, plan.repository, tag) == plan.top.digest:
                continue
            put_manifest(dst, plan.repository, tag, plan.top.data, plan.top.media_type,
                         plan.top.digest)
            plan.notes.append(f"tag {tag} written")

    def _referrers_index(self, plan: ImagePlan, dst: RegistryClient, subject: Digest,
                         info: dict[str, object]) -> None:
        """A mirror with the referrers API indexes pushed subjects itself; for one without
        it, the referrers tag index gets the source's entries (the source's exact bytes when
        the mirror has none and the source kept a tag index too)."""
        if get_referrers(dst, plan.repository, subject) is not None:
            return
        tag, index = str(info["tag"]), info["index"]
        assert isinstance(index, Document)
        source_bytes = info.get("source_bytes")
        try:
            have, _, _ = dst.get_manifest(ImageReference(dst.host, plan.repository, tag),
                                          accept=(OCI_INDEX,))
        except NotFoundError:
            have = b""
        if not have and isinstance(source_bytes, bytes):
            put_manifest(dst, plan.repository, tag, source_bytes, OCI_INDEX,
                         digest_of(source_bytes))
            return
        import json

        entries = json.loads(have)["manifests"] if have else []
        known = {e.get("digest") for e in entries}
        added = [_with_artifact_type(e, plan) for e in json.loads(index.data)["manifests"]
                 if e.get("digest") not in known]
        if added:
            data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                               "manifests": entries + added}, separators=(",", ":")).encode()
            put_manifest(dst, plan.repository, tag, data, OCI_INDEX, digest_of(data))

    def _verify(self, plan: ImagePlan, dst: RegistryClient) -> None:
        wanted = plan.mirror_digest or plan.digest
        found = manifest_digest_at(dst, plan.repository, str(wanted))
        if found != wanted:
            from hullguard.errors import IntegrityError

            raise IntegrityError(f"the mirror reports {found} for {wanted}",
                                 where=f"{dst.host}/{plan.repository}")

    # -- shared ----------------------------------------------------------------------------

    def _each(self, work: Callable[[Item], Done], items: list[Item]) -> list[Done]:
        """``work`` on every item in the bounded pool, results in order; the first error
        (a rate limit first) is raised after all have finished (no transfer is left running
        behind the caller's back)."""
        futures = [self._blobs.submit(work, item) for item in items]
        errors = [f.exception() for f in futures]
        rate = next((e for e in errors if isinstance(e, RateLimited)), None)
        first = rate or next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
        return [f.result() for f in futures]

    def _client(self, host: str, credentials_for: str) -> RegistryClient:
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                credentials = find_credentials(credentials_for,
                                               docker_config=self.options.docker_config)
                client = RegistryClient(host, credentials=credentials,
                                        insecure=self.options.insecure,
                                        timeout=self.options.timeout)
                self._clients[host] = client
            return client

    def _target(self, ctx: _Walk) -> RegistryClient:
        return self._client(ctx.destination.registry, ctx.destination.registry)

    def _remember(self, digest: Digest, repository: str) -> None:
        with self._lock:
            self._known.setdefault(digest, repository)

    @contextlib.contextmanager
    def _blob_lock(self, digest: Digest) -> Iterator[None]:
        with self._lock:
            lock = self._blob_locks.setdefault(digest, threading.Lock())
        with lock:
            yield


@dataclass(frozen=True)
class _Walk:
    src: RegistryClient
    source: ImageReference
    destination: ImageReference


def _known(media_type: str) -> str:
    return media_type if media_type in INDEX_TYPES | MANIFEST_TYPES else ""


def _hash(path: Path, blob: Descriptor) -> bool:
    hasher = hashlib.new(blob.digest.algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest() == blob.digest.hex


def _summary(plan: ImagePlan, actions: _Actions) -> list[str]:
    """What this run wrote, for the mapping file ([] when the mirror had everything)."""
    found: list[str] = []
    roles: dict[str, int] = {}
    for doc in plan.documents:
        roles[doc.role] = roles.get(doc.role, 0) + 1
    for role, count in sorted(roles.items()):
        found.append(f"{count} {role}" + ("s" if count > 1 else ""))
    if actions.uploaded:
        found.append(f"{actions.uploaded} blobs uploaded ({actions.sent} bytes)")
    if actions.mounted:
        found.append(f"{actions.mounted} blobs mounted")
    found += [note for note in plan.notes if note.startswith("tag ")]
    return found


__all__ = ["NOT_STARTED", "Mirror", "MirrorOptions", "Observer"]


def _with_artifact_type(entry: dict[str, Any], plan: ImagePlan) -> dict[str, Any]:
    """An index entry as the referrers tag schema wants it: ``artifactType`` is the referrer
    manifest's own (:func:`~hullguard.harden.trust.attach.own_artifact_type` says why)."""
    listed = entry.get("artifactType")
    listed = listed if isinstance(listed, str) else ""
    for document in plan.documents:
        if str(document.digest) == entry.get("digest") and document.role == "referrer":
            manifest = load_json(document.data, str(document.digest))
            own = own_artifact_type(listed, manifest)
            return {**entry, "artifactType": own} if own and own != listed else entry
    return entry
