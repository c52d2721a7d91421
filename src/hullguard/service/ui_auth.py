"""The dashboard behind the API tokens: a page under ``/ui`` needs a token with the read scope,
from the ``Authorization`` header or from an HttpOnly, SameSite=Strict cookie that ``/login``
sets (a browser cannot send a bearer header by itself). A page asked for without one
redirects to the sign-in form."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hullguard.service.dashboard.pages import render

if TYPE_CHECKING:
    from hullguard.service.app import Service

COOKIE = "hullguard_token"
MAX_FORM = 4096  # a token and a path
SESSION_SECONDS = 12 * 3600  # the cookie's life (the token's expiry wins when sooner)


class LoginRequired(Exception):
    """A dashboard page was asked for without a usable token: redirect to sign in."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _token_of(request: Request) -> str:
    given = request.headers.get("authorization", "")
    if given.startswith("Bearer "):
        return given.removeprefix("Bearer ").strip()
    return request.cookies.get(COOKIE, "")


def page_guard(service: Service) -> Callable[[Request], None]:
    """A dependency for the dashboard router: the request's token must grant read."""
    from hullguard.service.auth import verify

    def guard(request: Request) -> None:
        token = _token_of(request)
        if not token or verify(service.engine, token, "read")[0] is None:
            raise LoginRequired(request.url.path)

    return guard


def _safe_next(path: str) -> str:
    """Only a dashboard path of this site (no open redirect to another host)."""
    return path if path.startswith("/ui/") and "//" not in path and "\\" not in path \
        else "/ui/"


def login_router(service: Service) -> APIRouter:
    from hullguard.service.auth import verify

    router = APIRouter(include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(next: str = "/ui/") -> HTMLResponse:
        return HTMLResponse(render("login.html", prefix="/ui", next=_safe_next(next[:300]),
                                   error=""))

    @router.post("/login")
    async def login(request: Request) -> Response:
        body = (await request.body())[:MAX_FORM].decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, max_num_fields=4).items()}
        target = _safe_next(form.get("next", "/ui/")[:300])
        info, why = verify(service.engine, form.get("token", "").strip(), "read")
        if info is None:
            return HTMLResponse(render("login.html", prefix="/ui", next=target, error=why),
                                status_code=401)
        response = RedirectResponse(target, status_code=303)
        age = SESSION_SECONDS
        if info.expires_at is not None:
            from datetime import UTC, datetime

            age = max(0, min(age, int((info.expires_at - datetime.now(UTC)).total_seconds())))
        response.set_cookie(COOKIE, form["token"].strip(), max_age=age, path="/",
                            httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router


def redirect_to_login(_request: Request, error: Exception) -> Response:
    path = error.path if isinstance(error, LoginRequired) else "/ui/"
    return RedirectResponse(f"/login?next={quote(_safe_next(path))}", status_code=303)
