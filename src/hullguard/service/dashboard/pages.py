"""The dashboard's FastAPI router: one handler per page, each reading :mod:`.data` in one
store session and rendering one Jinja2 template (autoescaped: every name, path and summary on
a page comes from images or feeds and is attacker-controlled text)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from hullguard.store import views as data

if TYPE_CHECKING:
    import jinja2
    from fastapi import APIRouter
    from fastapi.responses import HTMLResponse
    from sqlalchemy.orm import Session

SessionOpener = Callable[[], AbstractContextManager["Session"]]
MAX_SINCE_HOURS = 24 * 90


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("hullguard.service.dashboard"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def render(template: str, **values: Any) -> str:
    return _environment().get_template(template).render(severities=data.SEVERITIES, **values)


def dashboard_router(open_session: SessionOpener, prefix: str = "/ui") -> APIRouter:
    """The pages under ``prefix``; ``open_session`` gives a read session on the store."""
    from fastapi import APIRouter, HTTPException, Query
    from fastapi.responses import HTMLResponse

    router = APIRouter(prefix=prefix, include_in_schema=False)

    def page(template: str, **values: Any) -> HTMLResponse:
        return HTMLResponse(render(template, prefix=prefix, **values))

    @router.get("/", response_class=HTMLResponse)
    def overview_page() -> HTMLResponse:
        with open_session() as session:
            return page("overview.html", overview=data.overview(session))

    @router.get("/queue", response_class=HTMLResponse)
    def queue_page() -> HTMLResponse:
        with open_session() as session:
            return page("queue.html", queue=data.queue(session))

    @router.get("/images", response_class=HTMLResponse)
    def images_page(severity: str = Query("", max_length=20),
                    q: str = Query("", max_length=200),
                    offset: int = Query(0, ge=0, le=10_000_000)) -> HTMLResponse:
        with open_session() as session:
            rows = data.image_rows(session, min_severity=severity, text=q, offset=offset)
        return page("images.html", rows=rows, severity=severity, q=q, offset=offset)

    @router.get("/images/{key:path}", response_class=HTMLResponse)
    def image_page(key: str) -> HTMLResponse:
        with open_session() as session:
            detail = data.image_detail(session, key[:300])
        if detail is None:
            raise HTTPException(404, "no such image in the store")
        return page("image.html", image=detail)

    @router.get("/search", response_class=HTMLResponse)
    def search_page(q: str = Query("", max_length=200)) -> HTMLResponse:
        with open_session() as session:
            vulns, packages = data.search(session, q)
        return page("search.html", q=q, vulns=vulns, packages=packages)

    @router.get("/changes", response_class=HTMLResponse)
    def changes_page(hours: int = Query(24, ge=1, le=MAX_SINCE_HOURS)) -> HTMLResponse:
        since = datetime.now(UTC) - timedelta(hours=hours)
        with open_session() as session:
            found = data.changes(session, since)
        return page("changes.html", changes=found, hours=hours, since=since)

    return router


class StoreSessions:
    """Read sessions on one store (the engine is made once and disposed by :meth:`close`)."""

    def __init__(self, store_url: str) -> None:
        from sqlalchemy.orm import sessionmaker

        from hullguard.store.base import make_engine

        self.engine = make_engine(store_url, must_exist=True)
        self.factory = sessionmaker(self.engine)

    def __call__(self) -> AbstractContextManager[Session]:
        return self.factory()

    def close(self) -> None:
        self.engine.dispose()


def create_dashboard_app(store_url: str) -> Any:
    """A FastAPI app with the dashboard alone (``hullguard serve`` mounts the same router)."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    sessions = StoreSessions(store_url)
    app = FastAPI(title="hullguard dashboard", openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.include_router(dashboard_router(sessions))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.router.on_shutdown.append(sessions.close)
    return app
