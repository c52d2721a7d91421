"""``/metrics`` (Prometheus text format 0.0.4) and ``/healthz``.

Both answer without a token: they hold counts and ages, nothing of an image (set
``Settings.public_metrics`` to False to ask for a read token on ``/metrics``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse

if TYPE_CHECKING:
    from hullguard.service.app import Service

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_router(service: Service) -> APIRouter:
    router = APIRouter(tags=["operations"])
    needs = [] if service.settings.public_metrics else [Depends(service.require("read"))]
    refused: dict[int | str, dict[str, Any]] = {} if service.settings.public_metrics else {
        401: {"description": "no token"}}

    @router.get("/metrics", response_class=PlainTextResponse, dependencies=needs,
                responses=refused)
    def metrics() -> PlainTextResponse:
        """Submissions by status, queue depth, findings by severity, advisory DB age."""
        return PlainTextResponse(render_metrics(service), media_type=CONTENT_TYPE)

    @router.get("/healthz", responses={503: {"description": "the store does not answer"}})
    def healthz() -> JSONResponse:
        """200 when the store answers, else 503 with why."""
        from hullguard.store.base import reachable

        why = reachable(service.engine)
        return JSONResponse({"status": "ok" if not why else "unavailable",
                             **({"store": why} if why else {})}, 503 if why else 200)

    return router


def _family(name: str, kind: str, help_text: str, samples: Mapping[str, float],
            label: str = "") -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for key, value in sorted(samples.items()):
        labels = f'{{{label}="{key}"}}' if label else ""
        lines.append(f"{name}{labels} {value:g}")
    return lines


def render_metrics(service: Service) -> str:
    from hullguard.store import queries
    from hullguard.store.service import status_counts
    from hullguard.store.views import SEVERITIES

    statuses = {s: 0 for s in ("queued", "running", "done", "failed")}
    statuses.update(status_counts(service.engine))
    with service.session() as session:
        severities = dict.fromkeys(SEVERITIES, 0) | queries.findings_by_severity(session)
        kinds = queries.scans_by_kind(session)
    depth = getattr(service.submitter, "depth", None)
    lines = [
        *_family("hullguard_submissions", "gauge", "Scan submissions by status.", statuses,
                 "status"),
        *_family("hullguard_scans_total", "counter", "Scans recorded in the store, by kind.",
                 kinds, "kind"),
        *_family("hullguard_findings", "gauge", "Active findings of each image's latest scan, "
                 "by severity.", severities, "severity")]
    if depth is not None:
        lines += _family("hullguard_queue_depth", "gauge", "Scans queued or running in this "
                         "process.", {"": float(depth)})
    lines += _broker_lines(service)
    age = _db_age_seconds(service.settings.db_path)
    if age is not None:
        lines += _family("hullguard_advisory_db_age_seconds", "gauge", "Seconds since the "
                         "oldest advisory source was imported or confirmed current.",
                         {"": age})
    return "\n".join(lines) + "\n"


def _broker_lines(service: Service) -> list[str]:
    """With ``--broker``: whether the broker answered and, only if it did, the messages
    waiting on each queue (never a depth nobody read: a down broker shows no depth)."""
    from hullguard.service.broker_queue import BrokerDepths

    depths = getattr(service.submitter, "depths", None)
    if not isinstance(depths, BrokerDepths):
        return []
    reading = depths.reading()
    lines = _family("hullguard_broker_up", "gauge", "1 if the broker answered the last "
                    "queue-depth reading, else 0.", {"": float(reading.depths is not None)})
    if reading.depths is None:
        return lines
    return [*lines,
            *_family("hullguard_queue_depth", "gauge", "Scans waiting on the broker, by "
                     "queue (messages no worker holds yet).", reading.depths, "queue"),
            *_family("hullguard_queue_depth_age_seconds", "gauge", "Seconds since the "
                     "broker's queue depths were read (they are cached briefly).",
                     {"": round(reading.age, 3)})]


def _db_age_seconds(path: str) -> float | None:
    if not path:
        return None
    from hullguard.errors import HullguardError
    from hullguard.vuln.db import VulnDB

    try:
        with VulnDB.open(path) as db:
            days = db.oldest_age_days()
    except HullguardError:
        return None
    return days * 86400 if days is not None else None
