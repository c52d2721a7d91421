"""``hullguard serve``: the FastAPI app over the store (PostgreSQL, or SQLite for one user).

:func:`create_app` wires the parts: the JSON API (:mod:`.api`), registry webhooks
(:mod:`.hooks`), ``/metrics`` and ``/healthz`` (:mod:`.metrics`) and the dashboard under
``/ui``. Scans go through a :class:`~hullguard.pipeline.submit.Submitter`: by default the
in-process one (:mod:`.submitter`), or with ``settings.broker`` the Celery one
(:class:`~hullguard.workers.client.CelerySubmitter`), whose workers update the rows."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hullguard.errors import DatabaseError, HullguardError, InputError, NotFoundError
from hullguard.pipeline.jobs import ImageJob, JobOptions
from hullguard.pipeline.submit import PUSH_QUEUE, Submitter
from hullguard.service.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from hullguard.graph.model import GraphSource
    from hullguard.store.service import TokenInfo

log = logging.getLogger("hullguard.service")
# The Docker Hub secret is part of its webhook's path: never written to a log line.
_SECRET_PATH = re.compile(r"^(/webhooks/dockerhub/)[^/?]*")


class Service:
    """What every route shares: settings, the store engine, the submitter."""

    def __init__(self, settings: Settings, engine: Engine, submitter: Submitter) -> None:
        self.settings, self.engine, self.submitter = settings, engine, submitter

    @contextmanager
    def session(self) -> Iterator[Session]:
        from sqlalchemy.orm import Session

        with Session(self.engine) as session:
            yield session

    def job_options(self) -> JobOptions:
        s = self.settings
        return JobOptions(s.db_path, s.secrets, s.store_url, source=s.source)

    def submit_reference(self, reference: str, *, digest: str = "", trigger: str = "api",
                         name: str = "") -> str:
        """Queue a scan of one reference (checked by the reference grammar first); ``name``:
        what the image is recorded as too (a pushed tag, when ``reference`` is by digest)."""
        from hullguard.images.reference import parse_reference

        reference = str(parse_reference(reference))  # normalized, as the inventory's are
        job = ImageJob(name or reference, reference, options=self.job_options())
        return self.submitter.submit(job, queue=PUSH_QUEUE, trigger=trigger, digest=digest)

    def graph(self, query: Callable[[GraphSource], Any]) -> dict[str, Any]:
        """A lineage query over the store's index, as its JSON rendering."""
        from hullguard.graph.render import render
        from hullguard.store.graph import StoreGraph

        with StoreGraph(self.engine, sync=False) as source:
            found: dict[str, Any] = json.loads(render(query(source), "json"))
        return found

    def require(self, scope: str) -> Callable[..., TokenInfo]:
        """A dependency: the request's bearer token, known, usable and granting ``scope``."""
        from fastapi import Depends, HTTPException
        from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

        from hullguard.service.auth import verify

        bearer = HTTPBearer(auto_error=False, description="an API token (hullguard token "
                            "create)")

        # FastAPI's dependency idiom: the default is evaluated once, on purpose
        def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)  # noqa: B008
                  ) -> TokenInfo:
            if credentials is None:
                raise HTTPException(401, "an API token is required",
                                    headers={"WWW-Authenticate": "Bearer"})
            info, why = verify(self.engine, credentials.credentials, scope)
            if info is None:
                status = 403 if "scope" in why else 401
                log.info("refused: %s", why)  # why names the token's id, never the token
                raise HTTPException(status, why, headers={"WWW-Authenticate": "Bearer"})
            return info

        return check


def create_app(settings: Settings, submitter: Submitter | None = None) -> FastAPI:
    """The service app; the store is created (or checked current) now, so a bad ``--store``
    fails before anything listens."""
    from fastapi import Depends, FastAPI

    from hullguard.service.api import api_router
    from hullguard.service.dashboard.pages import dashboard_router
    from hullguard.service.hooks import webhook_router
    from hullguard.service.metrics import metrics_router
    from hullguard.service.ui_auth import login_router, page_guard
    from hullguard.store.base import ensure_schema, make_engine

    engine = make_engine(settings.store_url)
    ensure_schema(engine)
    own = submitter is None
    if submitter is None:
        submitter = (_on_workers(settings, engine) if settings.broker
                     else _in_process(settings, engine))
    service = Service(settings, engine, submitter)
    app = FastAPI(title="hullguard", version=_version(),
                  description="Container supply-chain security: scans, findings, lineage.")
    app.state.service = service
    app.include_router(api_router(service))
    app.include_router(webhook_router(service))
    app.include_router(metrics_router(service))
    app.include_router(login_router(service))
    app.include_router(dashboard_router(service.session),
                       dependencies=[Depends(page_guard(service))])
    _handlers(app)
    app.middleware("http")(_access_log)
    app.router.on_shutdown.append(lambda: _close(service, own))
    return app


def _in_process(settings: Settings, engine: Engine) -> Submitter:
    from hullguard.service.submitter import InProcessSubmitter
    from hullguard.store.service import interrupt_active

    # This process's queue is the only one: whatever a previous run left queued is lost.
    interrupt_active(engine, "the service stopped before this scan finished; submit again")
    return InProcessSubmitter(engine, workers=settings.workers, queue_size=settings.queue_size)


def _on_workers(settings: Settings, engine: Engine) -> Submitter:
    from hullguard.service.broker_queue import BoundedBrokerSubmitter, BrokerDepths
    from hullguard.workers.client import CelerySubmitter

    # The queue is the broker's and the workers update the rows: submissions a previous run
    # left queued or running are still on their way, so they stay as they are. Its depth is
    # read from the broker too (/metrics, --queue-size).
    depths = BrokerDepths(settings.broker, ttl=settings.broker_depth_ttl)
    return BoundedBrokerSubmitter(CelerySubmitter(settings.broker, engine=engine), depths,
                                  settings.queue_size)


def _close(service: Service, own: bool) -> None:
    close = getattr(service.submitter, "close", None)
    if own and callable(close):
        close()
    service.engine.dispose()


def _version() -> str:
    from hullguard import __version__

    return __version__


STATUS = ((NotFoundError, 404), (InputError, 422), (DatabaseError, 503))


def _handlers(app: FastAPI) -> None:
    from fastapi.responses import JSONResponse

    from hullguard.service.submitter import QueueFull
    from hullguard.service.ui_auth import LoginRequired, redirect_to_login
    from hullguard.workers.client import BrokerUnreachable

    async def hullguard_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HullguardError)
        status = 503 if isinstance(error, QueueFull | BrokerUnreachable) else next(
            (code for kind, code in STATUS if isinstance(error, kind)), 400)
        headers = {"Retry-After": "30"} if status == 503 else None
        return JSONResponse({"detail": error.message, "where": error.where,
                             "hint": error.hint}, status, headers=headers)

    app.add_exception_handler(HullguardError, hullguard_error)
    app.add_exception_handler(LoginRequired, redirect_to_login)


async def _access_log(request: Request, call_next: Any) -> Any:
    """One line per request (uvicorn's own access log is off): method, path with the Docker
    Hub secret masked, status. Headers (tokens) and query strings are never logged."""
    response = await call_next(request)
    path = _SECRET_PATH.sub(r"\1***", request.url.path)
    log.info("%s %s %s", request.method, path, response.status_code)
    return response
