"""An image job and its outcome: plain values that serialize to JSON and back.

A job names one image of a fleet and everything a worker needs to scan it; it can be put on
a queue, run in another process and retried: the work is keyed by the verified image digest
(the journal, the stored SBOM), so running a job twice gives the same result. The outcome
carries the result (SBOM, findings, secrets, coverage or a :class:`Problem`) and, for a fresh
scan, the journal key under which the one writer (the parent) records it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from hullguard.errors import HullguardError, InputError
from hullguard.images.api import SourceOptions
from hullguard.model import Sbom
from hullguard.model.inventory import Origin
from hullguard.model.problem import Problem
from hullguard.pipeline.codec import from_plain, to_plain
from hullguard.pipeline.timing import Timings
from hullguard.respond.model import ImageResult

JOB_SCHEMA = "hullguard-image-job/1"
OUTCOME_SCHEMA = "hullguard-image-outcome/1"


@dataclass(frozen=True)
class JobOptions:
    """What every job of one run shares: the worker opens ``db_path`` and ``store_url`` once."""

    db_path: str = ""  # the advisory database; "" = no vulnerability matching
    secrets: bool = True
    store_url: str = ""  # reuse an SBOM stored for the same manifest digest ("" = none)
    journal: str = ""  # the journal folder to reuse earlier results from ("" = none)
    # Credentials (username/password) travel with the job: a queue must be trusted with them.
    source: SourceOptions = field(default_factory=SourceOptions)
    # per-layer records: "" = the user cache directory, "off" = none, else a directory
    layer_cache: str = ""


@dataclass(frozen=True)
class ImageJob:
    reference: str  # the normalized reference from the inventory
    source: str  # what to open: the reference itself, or a local source (docker-archive:...)
    origin: Origin = Origin.INTERNAL
    # The platform manifest digest an earlier attempt resolved (ImageInfo.digest): a retry
    # then scans that very image or reports that the tag moved ("" = whatever it names now).
    digest: str = ""
    options: JobOptions = field(default_factory=JobOptions)

    def to_json(self) -> str:
        return json.dumps({"schema": JOB_SCHEMA, **to_plain(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ImageJob:
        return from_plain(cls, _document(text, JOB_SCHEMA), "image job")


@dataclass(frozen=True)
class ImageOutcome:
    """What a worker hands back: the result and, for a fresh scan, the journal key to record
    its SBOM and secrets under ("" = nothing to journal: reused, an SBOM file, a failure),
    and where the job's time went (a measurement, not part of the result: outcomes of two
    runs of one job compare equal)."""

    result: ImageResult
    journal_key: str = ""
    timings: Timings = field(default=Timings(), compare=False)

    def to_json(self) -> str:
        return json.dumps({"schema": OUTCOME_SCHEMA, "journal_key": self.journal_key,
                           "result": result_to_plain(self.result),
                           "timings": to_plain(self.timings)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ImageOutcome:
        doc = _document(text, OUTCOME_SCHEMA)
        key = from_plain(str, doc.get("journal_key", ""), "image outcome")
        # an outcome from a worker of an earlier release has no timings: zeros
        timings = from_plain(Timings, doc.get("timings", {}), "image outcome timings")
        return cls(result_from_plain(doc.get("result")), key, timings)


def result_to_plain(result: ImageResult) -> dict[str, Any]:
    """Every field, the SBOM included (the native SBOM format sorts what it writes, so it
    would not give back an equal value)."""
    plain: dict[str, Any] = to_plain(result)
    return plain


def result_from_plain(data: Any) -> ImageResult:
    return from_plain(ImageResult, data, "image outcome")


def _document(text: str | bytes, schema: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InputError(f"not JSON: {str(error)[:200]}", where=schema) from None
    if not isinstance(doc, dict) or doc.pop("schema", None) != schema:
        raise InputError(f"not a {schema} document", where=schema)
    return doc


def problem_of(error: BaseException) -> Problem:
    """The structured form of a failure; anything but a HullguardError is a bug (internal)."""
    if isinstance(error, HullguardError):
        return Problem(type(error).__name__, error.where, error.message, error.hint)
    return Problem("internal", message=f"internal error: {type(error).__name__}: {error}")


__all__ = ["ImageJob", "ImageOutcome", "JobOptions", "Timings", "problem_of"]


def named_sbom(sbom: Sbom, job: ImageJob) -> Sbom:
    """A job scanned by digest for a name (a webhook's pushed tag): the image is recorded
    under that name too, so names over time and lineage lookups by tag find it."""
    if job.reference == job.source or job.reference in sbom.image.tags:
        return sbom
    image = replace(sbom.image, tags=(*sbom.image.tags, job.reference))
    return replace(sbom, image=image)
