"""The JSON API under ``/api/v1``: submit scans, read images, findings, who-has, blast radius,
lineage, the priority queue, coverage and scan history, manage tokens. Every answer comes
from the store; every route needs a token with the route's scope (:mod:`.auth`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from hullguard.errors import InputError, NotFoundError
from hullguard.images.reference import parse_reference
from hullguard.service.settings import MAX_UPLOAD_BODY
from hullguard.store import views as data

if TYPE_CHECKING:
    from fastapi import APIRouter

    from hullguard.service.app import Service

SeverityName = Literal["critical", "high", "medium", "low", "negligible", "unknown"]
Limit = Query(100, ge=1, le=1000)
MAX_REFERENCES = 1000


class Problem(BaseModel):
    detail: Any
    where: str = ""
    hint: str = ""


# What any route may answer besides its success (documented for OpenAPI clients).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or an unknown, expired or revoked one"},
    403: {"model": Problem, "description": "the token lacks the route's scope"},
    404: {"model": Problem, "description": "not in the store"},
    422: {"model": Problem, "description": "a parameter or the body is not acceptable"},
    503: {"model": Problem, "description": "the scan queue is full or the store unavailable"},
}


class InventoryUpload(BaseModel):
    filename: str = Field(..., min_length=1, max_length=200,
                          description="How to read it: a Kubernetes manifest (.yaml, .json), "
                          "a compose file (compose.yaml), a Dockerfile, or a list (.txt)")
    content: str = Field(..., max_length=MAX_UPLOAD_BODY)


class ScanRequest(BaseModel):
    references: list[str] = Field(default_factory=list, max_length=MAX_REFERENCES)
    inventory: InventoryUpload | None = None


class Submitted(BaseModel):
    reference: str
    id: str


class ScanAccepted(BaseModel):
    submissions: list[Submitted]
    issues: list[str] = Field(default_factory=list)


class TokenRequest(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    scopes: list[Literal["read", "scan", "admin"]] = Field(..., min_length=1)
    expires_days: int | None = Field(None, ge=1, le=3650)


def api_router(service: Service) -> APIRouter:
    from fastapi import APIRouter, Depends

    router = APIRouter(prefix="/api/v1", responses=ERRORS)
    read, scan, admin = (Depends(service.require(s)) for s in ("read", "scan", "admin"))
    _scan_routes(router, service, scan, read)
    _image_routes(router, service, read)
    _fleet_routes(router, service, read)
    _graph_routes(router, service, read)
    _token_routes(router, service, admin)
    return router


def _scan_routes(router: APIRouter, service: Service, scan: Any, read: Any) -> None:
    from fastapi import HTTPException

    @router.post("/scans", status_code=202, dependencies=[scan])
    def submit_scans(request: ScanRequest) -> ScanAccepted:
        """Queue scans of image references and of the images an uploaded inventory names."""
        references, issues = list(request.references), list[str]()
        if request.inventory is not None:
            found, issues = _inventory_references(request.inventory)
            references += found
        if not references:
            raise InputError("no image reference to scan", where="request",
                             hint="give references or an inventory naming images")
        for reference in references:  # all checked before any is queued
            parse_reference(reference)
        return ScanAccepted(submissions=[Submitted(reference=r, id=service.submit_reference(r))
                                         for r in dict.fromkeys(references)], issues=issues)

    @router.get("/scans", dependencies=[read])
    def list_scans(status: Literal["queued", "running", "done", "failed", ""] = "",
                   digest: str = Query("", max_length=200), limit: int = Limit,
                   offset: int = Query(0, ge=0, le=10_000_000)) -> list[dict[str, Any]]:
        """Submissions, newest first."""
        from hullguard.store.service import list_submissions

        return [_plain(s) for s in list_submissions(service.engine, digest=digest,
                                                    status=status, limit=limit, offset=offset)]

    @router.get("/scans/{submission_id}", dependencies=[read])
    def get_scan(submission_id: str) -> dict[str, Any]:
        from hullguard.store.service import get_submission

        found = get_submission(service.engine, submission_id[:64])
        if found is None:
            raise HTTPException(404, "no such submission")
        return _plain(found)


def _image_routes(router: APIRouter, service: Service, read: Any) -> None:
    from fastapi import HTTPException

    from hullguard.store import queries

    @router.get("/images/{digest}", dependencies=[read])
    def get_image(digest: str) -> dict[str, Any]:
        """The image stored under this manifest digest, its names over time, latest scan."""
        with service.session() as session:
            found = queries.image_by_digest(session, digest[:300])
        if found is None:
            raise HTTPException(404, "no such image in the store")
        return found

    @router.get("/images/{digest}/scans", dependencies=[read])
    def image_history(digest: str, limit: int = Limit) -> list[dict[str, Any]]:
        with service.session() as session:
            return queries.scan_history(session, digest[:300], limit)

    @router.get("/history", dependencies=[read])
    def scan_history(limit: int = Limit,
                     offset: int = Query(0, ge=0, le=10_000_000)) -> list[dict[str, Any]]:
        """Every recorded scan, newest first."""
        with service.session() as session:
            return queries.scan_history(session, "", limit, offset)

    @router.get("/findings", dependencies=[read])
    def findings(severity: SeverityName | None = None,
                 package: str = Query("", max_length=255), vuln: str = Query("", max_length=200),
                 image: str = Query("", max_length=300), suppressed: bool = False,
                 limit: int = Limit,
                 offset: int = Query(0, ge=0, le=10_000_000)) -> list[dict[str, Any]]:
        """Findings of each image's latest scan: at or above ``severity``, in ``package``,
        for ``vuln`` (an id or alias such as a CVE), of ``image``; worst first."""
        wanted = queries.FindingFilter(severity or "", package, vuln, image, suppressed)
        with service.session() as session:
            return queries.findings(session, wanted, limit, offset)



def _fleet_routes(router: APIRouter, service: Service, read: Any) -> None:
    from hullguard.store import queries

    @router.get("/queue", dependencies=[read])
    def priority_queue(limit: int = Limit) -> list[dict[str, Any]]:
        """Images workloads run, riskiest first, with the reasons."""
        with service.session() as session:
            rows = data.queue(session, limit)
        return [{"image": r.image.key, "names": list(r.image.names), "counts": r.image.counts,
                 "internet_facing": r.image.internet_facing, "reasons": list(r.reasons),
                 "workloads": [w.key for w in r.workloads]} for r in rows]

    @router.get("/coverage", dependencies=[read])
    def coverage() -> dict[str, Any]:
        with service.session() as session:
            return queries.coverage(session)


def _graph_routes(router: APIRouter, service: Service, read: Any) -> None:
    from hullguard.graph import queries as graph

    @router.get("/who-has/package", dependencies=[read])
    def who_has_package(name: str = Query(..., min_length=1, max_length=300)) -> dict[str, Any]:
        """Images holding a package: ``name``, ``name@version`` or a purl-style query."""
        return service.graph(lambda source: graph.who_has(source, name))

    @router.get("/who-has/vuln", dependencies=[read])
    def who_has_vuln(id: str = Query(..., min_length=1, max_length=200)) -> dict[str, Any]:
        """Images whose latest scan has the vulnerability (an id or an alias, e.g. a CVE)."""
        from hullguard.store import queries

        with service.session() as session:
            return {"vuln": id, "images": queries.images_with_vuln(session, id)}

    @router.get("/blast-radius", dependencies=[read])
    def blast_radius(image: str = Query(..., min_length=1, max_length=700)) -> dict[str, Any]:
        """Every image built on ``image`` (a name or digest) and the workloads running them."""
        return service.graph(lambda source: graph.blast_radius(source, image))

    @router.get("/lineage", dependencies=[read])
    def lineage(image: str = Query(..., min_length=1, max_length=700)) -> dict[str, Any]:
        """The base-image chain of ``image``."""
        return service.graph(lambda source: graph.lineage(source, image))


def _token_routes(router: APIRouter, service: Service, admin: Any) -> None:
    from datetime import timedelta

    from fastapi import HTTPException

    from hullguard.service.auth import create_token
    from hullguard.store.service import list_tokens, revoke_token

    @router.post("/tokens", status_code=201, dependencies=[admin])
    def new_token(request: TokenRequest) -> dict[str, Any]:
        """A new token; the answer is the only time the token itself is shown."""
        days = timedelta(days=request.expires_days) if request.expires_days else None
        made = create_token(service.engine, request.name, tuple(request.scopes), days)
        return {"token": made.token, **_plain(made.info)}

    @router.get("/tokens", dependencies=[admin])
    def tokens() -> list[dict[str, Any]]:
        return [_plain(t) for t in list_tokens(service.engine)]

    @router.delete("/tokens/{token_id}", dependencies=[admin])
    def revoke(token_id: int) -> dict[str, Any]:
        if not revoke_token(service.engine, token_id):
            raise HTTPException(404, "no such token")
        return {"revoked": token_id}


def _plain(value: Any) -> dict[str, Any]:
    """A dataclass as JSON-ready values (times in ISO 8601)."""
    from dataclasses import asdict
    from datetime import datetime

    return {k: v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, tuple)
            else v for k, v in asdict(value).items()}


def _inventory_references(upload: InventoryUpload) -> tuple[list[str], list[str]]:
    """The image references an uploaded inventory file names, and its issues: the file is
    read by the inventory stage (the same hostile-input bounds as ``hullguard inventory``)
    from a private temporary folder, under a plain file name."""
    from hullguard.inventory.collect import collect

    name = Path(upload.filename).name.strip() or "inventory.yaml"
    if name.startswith(".") or not name.isprintable():
        raise InputError("unusable inventory file name", where="inventory.filename")
    with tempfile.TemporaryDirectory(prefix="hullguard-upload-") as folder:
        path = Path(folder) / name
        path.write_text(upload.content, encoding="utf-8", errors="surrogateescape")
        inventory = collect([path], environ={})
    issues = [f"{i.severity}: {i.message}" for i in inventory.issues][:100]
    if not inventory.images and not issues:
        raise NotFoundError("the inventory names no image", where="inventory")
    return [image.ref.key for image in inventory.images], issues


__all__ = ["api_router"]
