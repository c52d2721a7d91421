"""Fleet scan: every distinct image in parallel worker processes, resumable, one bad image
never stops the rest (it is reported as not scanned, with the reason)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace

from hullguard.errors import HullguardError
from hullguard.images.api import ImageSource, SourceOptions
from hullguard.model import Finding, Sbom
from hullguard.model.inventory import Origin
from hullguard.model.secret import SecretFinding
from hullguard.respond.journal import Journal, JournalEntry, journal_key
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
    journal: str = ""  # the journal folder to reuse earlier results from ("" = none)


@dataclass(frozen=True)
class ScanOutcome:
    """What a worker hands back to the one writer (the parent): the result and, for a fresh
    scan, the journal entry to save under ``key``."""

    result: ImageResult
    key: str = ""
    entry: JournalEntry | None = None


def scan_image(job: ScanJob) -> ImageResult:
    """Catalog, match and secret-scan one image. Never raises: failures become ``error``."""
    return scan_job(job).result


def scan_job(job: ScanJob) -> ScanOutcome:
    """:func:`scan_image` with the journal: reuse an entry for the verified digest, or scan."""
    try:
        return _scan(job)
    except HullguardError as error:
        return ScanOutcome(ImageResult(job.name, job.source, job.origin,
                                       error=error.diagnostics()))
    except Exception as error:  # a bug or an unforeseen input must not stop the fleet
        return ScanOutcome(ImageResult(job.name, job.source, job.origin,
                                       error=f"internal error: {type(error).__name__}: {error}"))


def _scan(job: ScanJob) -> ScanOutcome:
    """One walk of the image feeds both the catalog engine and the secret scanner."""
    from hullguard.images import open_image, parse_source
    from hullguard.secrets.redact import redact_sbom

    if parse_source(job.source).kind == "sbom":  # an SBOM file: nothing to walk, no journal
        from hullguard.catalog import catalog_image

        sbom = redact_sbom(catalog_image(job.source, job.options))
        return ScanOutcome(ImageResult(job.name, job.source, job.origin, sbom,
                                       _match(sbom, job.db_path)))
    with open_image(job.source, job.options) as source:
        key = journal_key(source.info, job.source, job.secrets)
        reused, warning = Journal(job.journal).load(key) if job.journal and key else (None, "")
        if reused is not None and reused.sbom.image.config_digest != source.info.config_digest:
            reused, warning = None, "journal entry for another image ignored; scanned again"
        if reused is not None:
            return ScanOutcome(_result(job, reused.sbom, reused.secrets, reused=True))
        sbom, secrets = _walk(job, source)
    entry = JournalEntry(sbom, secrets)
    return ScanOutcome(_result(job, sbom, secrets, warnings=(warning,) if warning else ()),
                       key, entry)


def _result(job: ScanJob, sbom: Sbom, secrets: tuple[SecretFinding, ...], reused: bool = False,
            warnings: tuple[str, ...] = ()) -> ImageResult:
    """Findings are always matched now, against the database of this run."""
    return ImageResult(job.name, job.source, job.origin, sbom, _match(sbom, job.db_path),
                       secrets, reused=reused, warnings=warnings)


def _walk(job: ScanJob, source: ImageSource) -> tuple[Sbom, tuple[SecretFinding, ...]]:
    """The SBOM and the secrets, redacted before they leave the worker (nothing downstream,
    journal, store or folder, ever sees a secret in clear)."""
    from hullguard.catalog import catalog_source
    from hullguard.secrets import secret_tee, tee_report
    from hullguard.secrets.redact import Redactor, config_secrets

    stored = _stored_sbom(job, source)
    if not job.secrets:
        sbom = stored or catalog_source(source)
        return Redactor(config_secrets(source.info)).sbom(sbom), ()
    tee = secret_tee(source)
    sbom = stored or catalog_source(tee)
    findings = tee_report(tee).findings
    seen = {s.decode("utf-8", errors="replace") for s in tee.collector.seen if s}
    redactor = Redactor(seen | config_secrets(source.info))
    return redactor.sbom(sbom), tuple(map(redactor.finding, findings))


def _stored_sbom(job: ScanJob, source: ImageSource) -> Sbom | None:
    """The SBOM stored for this manifest digest, if the store has one (no layer walk then)."""
    digest = source.info.digest
    if not job.store_url or digest is None:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from hullguard import __version__
    from hullguard.respond.persist import load_sbom_by_digest

    try:
        stored = load_sbom_by_digest(job.store_url, str(digest))
    except (HullguardError, SQLAlchemyError, OSError):
        return None  # an unusable store costs the reuse, never the scan
    # another release catalogs differently: its SBOM is not this analysis's result
    return stored if stored is not None and stored.tool_version == __version__ else None


def _match(sbom: Sbom, db_path: str) -> tuple[Finding, ...]:
    if not db_path:
        return ()
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import scan_sbom

    with VulnDB.open(db_path) as db:
        return scan_sbom(sbom, db).findings


def scan_fleet(jobs: Sequence[ScanJob], *, workers: int = 0, journal: Journal | None = None,
               on_done: Callable[[ImageResult], None] | None = None) -> list[ImageResult]:
    """Scan all jobs (``workers`` processes; 0 = one per CPU). Workers read the journal; this
    process alone writes it, as each image finishes, so an interrupted run keeps them."""
    results: dict[str, ImageResult] = {}
    if journal is not None:
        jobs = [replace(job, journal=str(journal.root)) for job in jobs]
    for job, outcome in _run(jobs, workers or os.cpu_count() or 1):
        if journal is not None and outcome.entry is not None and outcome.key:
            journal.save(outcome.key, outcome.entry)
        results[job.name] = outcome.result
        if on_done:
            on_done(outcome.result)
    return [results[job.name] for job in jobs]


def _quiet_worker() -> None:
    """Ctrl-C goes to the whole process group: the parent alone handles it (one line, exit
    130) and stops the workers; a worker must not print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(jobs: Sequence[ScanJob], workers: int) -> Iterator[tuple[ScanJob, ScanOutcome]]:
    if workers <= 1 or len(jobs) <= 1:
        yield from ((job, scan_job(job)) for job in jobs)
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), initializer=_quiet_worker)
    try:
        futures: dict[Future[ScanOutcome], ScanJob] = {
            pool.submit(scan_job, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Interrupted (Ctrl-C, an error in this process): queued jobs are dropped and running
    workers are terminated now rather than finishing their images; none is left behind."""
    processes = list((pool._processes or {}).values())  # no public API to stop a running job
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)
