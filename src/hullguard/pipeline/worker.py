"""One image job, as a worker runs it: catalog, match and secret-scan one image.

:func:`run_image_job` is the entry point for every executor (in-process, a local process
pool, and later a queue task). It never raises: a failure becomes the result's
:class:`~hullguard.model.problem.Problem`, so one bad image never stops the fleet.

A worker process opens the advisory database and the store once (:class:`WorkerContext`,
kept per process and reused by every job with the same settings), not once per image.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError
from hullguard.model import Finding, Sbom
from hullguard.model.secret import SecretFinding
from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions, problem_of
from hullguard.pipeline.timing import PhaseClock, TimedSource
from hullguard.respond.model import ImageResult

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from hullguard.images.api import ImageSource
    from hullguard.images.layercache import LayerCache
    from hullguard.vuln.db import VulnDB


@dataclass
class WorkerContext:
    """The advisory DB and the store engine of one process, opened on first use."""

    db_path: str = ""
    store_url: str = ""
    opens: int = 0  # how often a database or store was opened (tests hold it to one each)
    _db: VulnDB | None = None
    _store: Engine | None = None
    _store_tried: bool = False
    pid: int = field(default_factory=os.getpid)

    def db(self) -> VulnDB | None:
        if self._db is None and self.db_path:
            from hullguard.vuln.db import VulnDB

            self._db = VulnDB.open(self.db_path)
            self.opens += 1
        return self._db

    def store(self) -> Engine | None:
        """The store's engine, or None when there is none (an unusable store costs the SBOM
        reuse, never the scan)."""
        if not self._store_tried and self.store_url:
            from hullguard.store.base import make_engine

            self._store_tried = True
            try:
                self._store = make_engine(self.store_url, must_exist=True)
                self.opens += 1
            except HullguardError:
                self._store = None
        return self._store

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        if self._store is not None:
            self._store.dispose()
        self._db, self._store, self._store_tried = None, None, False


_CONTEXT: WorkerContext | None = None


def worker_context(options: JobOptions) -> WorkerContext:
    """This process's context for ``options`` (replaced only when the settings change)."""
    global _CONTEXT
    if _CONTEXT is not None and (_CONTEXT.pid != os.getpid() or (
            _CONTEXT.db_path, _CONTEXT.store_url) != (options.db_path, options.store_url)):
        if _CONTEXT.pid == os.getpid():
            _CONTEXT.close()
        _CONTEXT = None
    if _CONTEXT is None:
        _CONTEXT = WorkerContext(options.db_path, options.store_url)
    return _CONTEXT


def close_worker_context() -> None:
    global _CONTEXT
    if _CONTEXT is not None and _CONTEXT.pid == os.getpid():
        _CONTEXT.close()
    _CONTEXT = None


def init_pool_worker(options: JobOptions) -> None:
    """Process-pool initializer: open the DB and the store now, once for all the process's
    jobs. Ctrl-C goes to the whole process group: the parent alone handles it (one line,
    exit 130) and stops the workers; a worker must not print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    context = worker_context(options)
    with contextlib.suppress(HullguardError):  # reported per image, with the same problem
        context.db()
    context.store()


def run_image_job(job: ImageJob) -> ImageOutcome:
    """Scan one image; never raises. The outcome says where the time went (even a failure's:
    up to the failure)."""
    clock = PhaseClock()
    try:
        outcome = _scan(job, worker_context(job.options), clock)
    except HullguardError as error:
        outcome = ImageOutcome(_failed(job, error))
    except Exception as error:  # a bug or an unforeseen input must not stop the fleet
        outcome = ImageOutcome(_failed(job, error))
    return replace(outcome, timings=clock.timings())


def run_image_job_json(text: str) -> str:
    """:func:`run_image_job` for a queue: a job document in, an outcome document out."""
    return run_image_job(ImageJob.from_json(text)).to_json()


def _failed(job: ImageJob, error: BaseException) -> ImageResult:
    return ImageResult(job.reference, job.source, job.origin, problem=problem_of(error))


def _scan(job: ImageJob, context: WorkerContext, clock: PhaseClock) -> ImageOutcome:
    """One walk of the image feeds both the catalog engine and the secret scanner; ``clock``
    hears the phase boundaries (see :mod:`hullguard.pipeline.timing`)."""
    from hullguard.images import open_image, parse_source
    from hullguard.respond.journal import Journal, journal_key
    from hullguard.secrets.redact import redact_sbom

    options = job.options
    if parse_source(job.source).kind == "sbom":  # an SBOM file: nothing to walk, no journal
        from hullguard.catalog import catalog_image

        with clock.phase("walk"):
            sbom = redact_sbom(catalog_image(job.source, options.source))
        return ImageOutcome(_result(job, context, clock, sbom, ()))
    with clock.phase("registry"):
        opened = open_image(job.source, options.source)
    with opened as source:
        _check_digest(job, source)
        key = journal_key(source.info, job.source, options.secrets)
        reused, warning = Journal(options.journal).load(key) \
            if options.journal and key else (None, "")
        if reused is not None and reused.sbom.image.config_digest != source.info.config_digest:
            reused, warning = None, "journal entry for another image ignored; scanned again"
        if reused is not None:
            return ImageOutcome(_result(job, context, clock, reused.sbom, reused.secrets, True))
        with clock.phase("walk"):
            sbom, secrets = _walk(job, context, TimedSource(source, clock))
    result = _result(job, context, clock, sbom, secrets,
                     warnings=(warning,) if warning else ())
    return ImageOutcome(result, key)


def _check_digest(job: ImageJob, source: ImageSource) -> None:
    """A job made for one manifest digest scans that image or none: a retry after the tag
    moved must not report another image under the job's digest."""
    found = str(source.info.digest or "")
    if job.digest and found and found != job.digest:
        from hullguard.errors import IntegrityError

        raise IntegrityError(f"the image is now {found}, not {job.digest}", where=job.source,
                             hint="the tag moved since the inventory: run again")


def _result(job: ImageJob, context: WorkerContext, clock: PhaseClock, sbom: Sbom,
            secrets: tuple[SecretFinding, ...], reused: bool = False,
            warnings: tuple[str, ...] = ()) -> ImageResult:
    """Findings are always matched now, against the database of this run."""
    with clock.phase("match"):
        findings = _match(sbom, context)
    return ImageResult(job.reference, job.source, job.origin, sbom, findings,
                       secrets, reused=reused, warnings=warnings)


def _walk(job: ImageJob, context: WorkerContext,
          source: ImageSource) -> tuple[Sbom, tuple[SecretFinding, ...]]:
    """The SBOM and the secrets, redacted before they leave the worker (nothing downstream,
    journal, store or folder, ever sees a secret in clear)."""
    from hullguard.catalog import catalog_source
    from hullguard.secrets import secret_visitor, visitor_report
    from hullguard.secrets.redact import Redactor, config_secrets

    stored = _stored_sbom(context, source)
    cache = _layer_cache(job.options)
    if not job.options.secrets:
        sbom = stored or catalog_source(source, cache=cache)
        return Redactor(config_secrets(source.info)).sbom(sbom), ()
    visitor = secret_visitor()
    if stored is None:
        sbom = catalog_source(source, visitors=[visitor], cache=cache)
    else:  # the SBOM came from the store: walk for the secrets alone
        from hullguard.images.walk import walk_layers

        sbom = stored
        walk_layers(source, [visitor], cache=cache)
    findings = visitor_report(visitor, source.info).findings
    seen = {s.decode("utf-8", errors="replace") for s in visitor.collector.seen if s}
    redactor = Redactor(seen | config_secrets(source.info))
    return redactor.sbom(sbom), tuple(map(redactor.finding, findings))


def _layer_cache(options: JobOptions) -> LayerCache | None:
    from hullguard.images.layercache import open_layer_cache

    return open_layer_cache(options.layer_cache,
                            verify_diff_ids=options.source.verify_diff_ids)


def _stored_sbom(context: WorkerContext, source: ImageSource) -> Sbom | None:
    """The SBOM stored for this manifest digest, if the store has one (no layer walk then)."""
    digest = source.info.digest
    engine = context.store()
    if engine is None or digest is None:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from hullguard import __version__

    try:
        from hullguard.store.scans import load_sbom_from

        stored = load_sbom_from(engine, str(digest))
    except (HullguardError, SQLAlchemyError, OSError):
        return None  # an unusable store costs the reuse, never the scan
    # another release catalogs differently: its SBOM is not this analysis's result
    return stored if stored is not None and stored.tool_version == __version__ else None


def _match(sbom: Sbom, context: WorkerContext) -> tuple[Finding, ...]:
    db = context.db()
    if db is None:
        return ()
    from hullguard.vuln.scan import scan_sbom

    return scan_sbom(sbom, db).findings
