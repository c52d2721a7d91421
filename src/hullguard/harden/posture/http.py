"""The JSON API client of the posture checks (Docker Hub, Harbor).

Every connection goes through hullguard's address policy
(:func:`hullguard.images.registry.transport.guarded_client`), every request runs under a
deadline and minimum rate, and every body is read with a size bound. Plain http is allowed
only for loopback hosts. The answers that shape a report:

* 401: the token is expired or invalid: one :class:`~hullguard.errors.AuthError` (nothing
  is assessed with a half-working token);
* 403 or 404 on one endpoint: :class:`Denied`; the checks that need it become "manual" with
  the reason, never a pass;
* 429: wait ``Retry-After`` seconds (at most :data:`MAX_RETRY_WAIT`, :data:`MAX_RETRIES`
  times), then a clear error.

The credential is sent only to the origin the user named, and never appears in an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast
from urllib.parse import urljoin, urlsplit

from hullguard.errors import AuthError, InputError, LimitExceeded, RegistryError
from hullguard.images.registry.netpolicy import is_loopback_host, same_origin

MAX_BODY = 16 << 20  # bytes per answer
MAX_PAGES = 200  # per listing: a server that links forever is cut off
MAX_RETRIES = 3
MAX_RETRY_WAIT = 30.0  # seconds per Retry-After
DEADLINE, MIN_RATE, WINDOW = 120.0, 256.0, 30.0


class Denied(RegistryError):
    """The token may not read this endpoint (403), or the endpoint does not exist here (404):
    the checks that need it are reported as manual."""


T = TypeVar("T")


class Memo:
    """Each endpoint fetched once; a denial is kept too, so every check that needs the
    endpoint reports it (as manual) without asking again."""

    def __init__(self) -> None:
        self._values: dict[str, object] = {}

    def once(self, key: str, fetch: Callable[[], T]) -> T:
        if key not in self._values:
            try:
                self._values[key] = fetch()
            except Denied as error:
                self._values[key] = error
        value = self._values[key]
        if isinstance(value, Denied):
            raise value
        return cast(T, value)

    def denied(self, key: str) -> Denied | None:
        value = self._values.get(key)
        return value if isinstance(value, Denied) else None


def check_base_url(url: str, where: str) -> str:
    """``url`` without a trailing slash; https, or http on a loopback host only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"not an http(s) URL: {url!r}", where=where)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InputError("plain http would send the token in clear text", where=where,
                         hint="use https:// (plain http is accepted for loopback only)")
    return url.rstrip("/")


class ApiClient:
    """GET/POST JSON with a bearer or basic credential, bounded and policy-checked."""

    def __init__(self, base_url: str, *, sleep: Callable[[float], None] = time.sleep,
                 verify: bool | str = True) -> None:
        from hullguard.images.registry.transport import guarded_client

        self.base_url = check_base_url(base_url, "--url")
        self.client, self.budgets = guarded_client(timeout=30.0, follow_redirects=False,
                                                   verify=verify)
        self.headers: dict[str, str] = {"Accept": "application/json"}
        self.sleep = sleep

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def authorize(self, header: str) -> None:
        self.headers["Authorization"] = header

    def url(self, path: str) -> str:
        target = urljoin(self.base_url + "/", path.lstrip("/"))
        if not same_origin(target, self.base_url):  # a "next" link may not move the token
            raise RegistryError(f"a link points to another server: {target[:200]!r}",
                                where=self.base_url)
        return target

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """The decoded JSON answer and the response headers."""
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: dict[str, Any] | None = None) -> tuple[Any, Any]:
        url = self.url(path)
        for attempt in range(MAX_RETRIES + 1):
            status, headers, data = self._once(method, url, params, body)
            if status != 429:
                return _decoded(status, data, url, path), headers
            if attempt == MAX_RETRIES:
                break
            self.sleep(_retry_after(headers.get("retry-after"), path))
        raise RegistryError(f"still rate limited (429) after {MAX_RETRIES} waits", where=path,
                            hint="try again later, or with a token that has a higher limit")

    def _once(self, method: str, url: str, params: dict[str, Any] | None,
              body: dict[str, Any] | None) -> tuple[int, Any, bytes]:
        import httpx

        where = urlsplit(url).path
        try:
            with self.budgets.active(where, deadline=DEADLINE, min_rate=MIN_RATE,
                                     window=WINDOW), \
                    self.client.stream(method, url, params=params, json=body,
                                       headers=self.headers) as response:
                return response.status_code, response.headers, _bounded(response.iter_bytes(),
                                                                        where)
        except httpx.HTTPError as error:
            raise RegistryError(f"request failed: {type(error).__name__}: {error}",
                                where=where) from None

    def pages(self, path: str, params: dict[str, Any] | None = None,
              key: str = "results") -> Iterator[Any]:
        """Every item of a paginated listing: a ``next`` link in the body (Docker Hub), a
        ``Link: <...>; rel="next"`` header (Harbor), or a plain list."""
        target: str | None = path
        query = dict(params or {})
        for _ in range(MAX_PAGES):
            if target is None:
                return
            # httpx replaces a URL's query with ``params``: none for a next link
            doc, headers = self.get(target, query or None)
            items = doc.get(key) if isinstance(doc, dict) else doc
            if not isinstance(items, list):
                raise RegistryError(f"expected a list under {key!r}", where=path)
            yield from items
            target, query = _next_link(doc, headers), {}
        raise LimitExceeded(f"more than {MAX_PAGES} pages", where=path)


def _bounded(chunks: Iterator[bytes], where: str) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_BODY:
            raise LimitExceeded(f"answer larger than {MAX_BODY} bytes", where=where)
    return bytes(data)


def _decoded(status: int, data: bytes, url: str, path: str) -> Any:
    where = urlsplit(url).path
    if status == 401:
        raise AuthError("the token was refused (401): it is expired, revoked or wrong",
                        where=where, hint="create a new access token and pass it again")
    if status in (403, 404):
        raise Denied(f"HTTP {status}: "
                     + ("the token may not read this" if status == 403 else "not available"),
                     where=where)
    if not 200 <= status < 300:
        raise RegistryError(f"unexpected HTTP {status}", where=where)
    try:
        return json.loads(data) if data.strip() else None
    except ValueError:
        raise RegistryError("the answer is not JSON", where=where) from None


def _retry_after(value: str | None, where: str) -> float:
    """Seconds to wait; a missing or absurd Retry-After is a bounded default."""
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        seconds = 1.0  # an HTTP date: wait briefly rather than parse attacker text
    if seconds != seconds or seconds < 0:
        seconds = 1.0
    if seconds > MAX_RETRY_WAIT:
        raise RegistryError(f"rate limited (429) for {seconds:.0f} s", where=where,
                            hint=f"waits longer than {MAX_RETRY_WAIT:.0f} s are not made; "
                                 "try again later")
    return seconds


def _next_link(doc: Any, headers: Any) -> str | None:
    if isinstance(doc, dict) and isinstance(doc.get("next"), str) and doc["next"]:
        return str(doc["next"])
    for part in (headers.get("link") or "").split(","):
        if 'rel="next"' in part and "<" in part and ">" in part:
            return part[part.index("<") + 1:part.index(">")]
    return None
