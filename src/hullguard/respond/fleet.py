"""Fleet scan: every distinct image in parallel worker processes, resumable, one bad image
never stops the rest (it is reported as not scanned, with the reason)."""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from hullguard.errors import HullguardError
from hullguard.fsutil import write_bytes_atomic
from hullguard.images.api import ImageSource, SourceOptions
from hullguard.model import Finding, Sbom
from hullguard.model.inventory import Origin
from hullguard.model.secret import SecretFinding
from hullguard.respond.model import ImageResult


@dataclass(frozen=True)
class ScanJob:
    name: str  # normalized reference from the inventory
    source: str  # what to open: the reference itself, or a local source (docker-archive:...)
    origin: Origin = Origin.INTERNAL
    db_path: str = ""  # the advisory database; "" = no vulnerability matching
    secrets: bool = True
    options: SourceOptions = field(default_factory=SourceOptions)
    store_url: str = ""  # reuse an SBOM stored for the same manifest digest


def scan_image(job: ScanJob) -> ImageResult:
    """Catalog, match and secret-scan one image. Never raises: failures become ``error``."""
    try:
        return _scan(job)
    except HullguardError as error:
        return ImageResult(job.name, job.source, job.origin, error=error.diagnostics())
    except Exception as error:  # a bug or an unforeseen input must not stop the fleet
        return ImageResult(job.name, job.source, job.origin,
                           error=f"internal error: {type(error).__name__}: {error}")


def _scan(job: ScanJob) -> ImageResult:
    """One walk of the image feeds both the catalog engine and the secret scanner."""
    from hullguard.images import open_image, parse_source

    if parse_source(job.source).kind == "sbom":  # an SBOM file: nothing to walk
        from hullguard.catalog import catalog_image

        sbom = catalog_image(job.source, job.options)
        return ImageResult(job.name, job.source, job.origin, sbom, _match(sbom, job.db_path))
    with open_image(job.source, job.options) as source:
        sbom, secrets = _walk(job, source)
    return ImageResult(job.name, job.source, job.origin, sbom, _match(sbom, job.db_path),
                       secrets)


def _walk(job: ScanJob, source: ImageSource) -> tuple[Sbom, tuple[SecretFinding, ...]]:
    from hullguard.catalog import catalog_source
    from hullguard.secrets import secret_tee, tee_report

    stored = _stored_sbom(job, source)
    if not job.secrets:
        return stored or catalog_source(source), ()
    tee = secret_tee(source)
    sbom = stored or catalog_source(tee)
    return sbom, tee_report(tee).findings


def _stored_sbom(job: ScanJob, source: ImageSource) -> Sbom | None:
    """The SBOM stored for this manifest digest, if the store has one (no layer walk then)."""
    digest = source.info.digest
    if not job.store_url or digest is None:
        return None
    from hullguard.respond.persist import load_sbom_by_digest

    return load_sbom_by_digest(job.store_url, str(digest))


def _match(sbom: Sbom, db_path: str) -> tuple[Finding, ...]:
    if not db_path:
        return ()
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import scan_sbom

    with VulnDB.open(db_path) as db:
        return scan_sbom(sbom, db).findings


class Journal:
    """Finished results of an interrupted run, one file per image under ``STATE_DIR``.

    Files are written atomically, so a run killed mid-write leaves no partial entry; the key
    covers the reference, the source and the database, so a changed input is scanned again.
    The directory is the user's own output folder (pickle is safe only for that reason)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, job: ScanJob) -> Path:
        key = hashlib.sha256(f"{job.name}\0{job.source}\0{job.db_path}".encode()).hexdigest()
        return self.root / f"{key[:32]}.pickle"

    def load(self, job: ScanJob) -> ImageResult | None:
        path = self._path(job)
        if not path.exists():
            return None
        try:
            result = pickle.loads(path.read_bytes())
        except Exception:
            return None
        return replace(result, reused=True) if isinstance(result, ImageResult) else None

    def save(self, job: ScanJob, result: ImageResult) -> None:
        write_bytes_atomic(self._path(job), pickle.dumps(result))


def scan_fleet(jobs: Sequence[ScanJob], *, workers: int = 0, journal: Journal | None = None,
               on_done: Callable[[ImageResult], None] | None = None) -> list[ImageResult]:
    """Scan all jobs (``workers`` processes; 0 = one per CPU), reusing journaled results."""
    results: dict[str, ImageResult] = {}
    pending = []
    for job in jobs:
        earlier = journal.load(job) if journal else None
        if earlier is not None:
            results[job.name] = earlier
            if on_done:
                on_done(earlier)
        else:
            pending.append(job)
    for job, result in _run(pending, workers or os.cpu_count() or 1):
        if journal and not result.error:
            journal.save(job, result)
        results[job.name] = result
        if on_done:
            on_done(result)
    return [results[job.name] for job in jobs]


def _run(jobs: Sequence[ScanJob], workers: int) -> Iterator[tuple[ScanJob, ImageResult]]:
    if workers <= 1 or len(jobs) <= 1:
        yield from ((job, scan_image(job)) for job in jobs)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures: dict[Future[ImageResult], ScanJob] = {
            pool.submit(scan_image, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
