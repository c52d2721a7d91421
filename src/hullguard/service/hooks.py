"""The webhook routes: authenticate the sender, bound and parse the payload, check every
claimed push against the registry, queue a scan per digest the registry really holds.

Authentication: a shared secret (``--webhook-secret``). CNCF distribution sends it in a
header its ``notifications.endpoints[].headers`` config sets; Harbor in its policy's "auth
header" (sent as ``Authorization``); Docker Hub signs nothing and sets no header, so its
secret is the last part of the URL path (``/webhooks/dockerhub/SECRET``): anyone who sees
that URL can trigger scans of tags of the configured registries, never anything else."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from hullguard.errors import HullguardError
from hullguard.service.settings import MAX_WEBHOOK_BODY
from hullguard.service.webhooks import RateLimiter, parse, resolve

if TYPE_CHECKING:
    from hullguard.service.app import Service
    from hullguard.service.webhooks import Push

log = logging.getLogger("hullguard.service")
SECRET_HEADER = "x-hullguard-webhook-secret"
HOOK_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the payload is not JSON"},
    422: {"description": "the payload is JSON but not of the sender's format"},
    401: {"description": "wrong webhook secret"},
    413: {"description": "the payload is too large"},
    429: {"description": "too many requests from this sender (Retry-After)"},
    503: {"description": "webhooks are off (no secret configured) or the queue is full"},
}


def webhook_router(service: Service) -> APIRouter:
    router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=HOOK_ERRORS)
    limiter = RateLimiter(service.settings.webhook_rate, service.settings.webhook_burst)

    @router.post("/distribution", status_code=202)
    async def distribution(request: Request) -> dict[str, Any]:
        """CNCF distribution notifications (an events envelope); the secret in the
        ``X-Hullguard-Webhook-Secret`` header or as ``Authorization: Bearer SECRET``."""
        return await _handle(service, limiter, request, "distribution", _header_secret(request))

    @router.post("/harbor", status_code=202)
    async def harbor(request: Request) -> dict[str, Any]:
        """Harbor webhooks, default or CloudEvents format; the secret as the policy's auth
        header (``Authorization: SECRET`` or ``Bearer SECRET``)."""
        return await _handle(service, limiter, request, "harbor", _header_secret(request))

    @router.post("/dockerhub/{secret}", status_code=202)
    async def dockerhub(request: Request, secret: str) -> dict[str, Any]:
        """Docker Hub webhooks: the secret is the last path segment (Hub signs nothing)."""
        return await _handle(service, limiter, request, "dockerhub", secret)

    return router


def _header_secret(request: Request) -> str:
    given = request.headers.get(SECRET_HEADER) or request.headers.get("authorization") or ""
    return given.removeprefix("Bearer ").strip()


async def _handle(service: Service, limiter: RateLimiter, request: Request, kind: str,
                  secret: str) -> dict[str, Any]:
    sender = request.client.host if request.client else "unknown"
    wait = limiter.allow(sender)
    if wait:
        raise HTTPException(429, "too many webhook requests",
                            headers={"Retry-After": str(max(1, round(wait)))})
    expected = service.settings.webhook_secret
    if not expected:
        raise HTTPException(503, "webhooks are off: start the service with --webhook-secret")
    if not hmac.compare_digest(secret.encode("utf-8", "replace"), expected.encode()):
        log.warning("webhook %s from %s refused: wrong secret", kind, sender)
        raise HTTPException(401, "wrong webhook secret")
    payload = await _bounded_json(request)
    pushes = parse(kind, payload)
    return await run_in_threadpool(_queue_pushes, service, kind, pushes)


async def _bounded_json(request: Request) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BODY:
        raise HTTPException(413, f"the payload is over {MAX_WEBHOOK_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BODY:
            raise HTTPException(413, f"the payload is over {MAX_WEBHOOK_BODY} bytes")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise HTTPException(400, "the payload is not JSON") from None


def _queue_pushes(service: Service, kind: str, pushes: list[Push]) -> dict[str, Any]:
    accepted: list[dict[str, str]] = []
    ignored: list[dict[str, str]] = []
    for push in pushes:
        reason, entry = _queue_one(service, kind, push)
        if reason:
            ignored.append({"reference": push.reference[:300], "reason": reason})
        else:
            accepted.append(entry)
    return {"accepted": accepted, "ignored": ignored}


def _tag_name(push: Push) -> str:
    """The pushed tag's full name (normalized), or "" when there is none or it is not one."""
    from hullguard.images.reference import parse_reference

    if not push.tag:
        return ""
    try:
        return str(parse_reference(f"{push.registry}/{push.repository}:{push.tag}"))
    except HullguardError:
        return ""


def _queue_one(service: Service, kind: str, push: Push) -> tuple[str, dict[str, str]]:
    """("", what was queued) or (why nothing was, {})."""
    if push.registry not in service.settings.registries:
        return "registry not configured for webhooks (hullguard serve --registry)", {}
    try:
        digest = resolve(push, service.settings.source)
    except HullguardError as error:
        return f"registry check failed: {error.message[:200]}", {}
    if digest is None:
        return "the registry has no such manifest: nothing scanned", {}
    reference = f"{push.registry}/{push.repository}@{digest}"
    submission = service.submit_reference(reference, digest=digest, trigger=f"webhook:{kind}",
                                          name=_tag_name(push))
    return "", {"reference": reference, "digest": digest, "id": submission}
