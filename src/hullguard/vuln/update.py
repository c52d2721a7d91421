"""``db update``: fetch feeds over HTTP(S), conditionally and resumably, then import them.

Per feed: a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the last import;
304 means the data is current), or, when an earlier download was cut off, a ``Range`` request
continuing the ``.part`` file (``If-Range`` makes the server send the whole file instead when it
changed meanwhile). The download's sha256 is recorded and checked against the upstream's
published one where there is one (NVD ``.meta``). All fetched feeds are then imported in one
atomic step; a failed feed is reported and leaves its previous data in place.

Feed servers are untrusted (a mirror, a proxy, or an attacker on the path), so every download
is bounded: a size cap per feed (:func:`hullguard.vuln.config.default_max_bytes`), and the
registry client's transport (:func:`hullguard.images.registry.transport.guard`): the minimum
transfer rate (:data:`hullguard.images.api.MIN_TRANSFER_RATE` over each window) applies to
every byte read from the socket, status line and headers included, and each request ends by
the deadline of the whole run. The same transport connects only to addresses the one address
policy (:mod:`hullguard.images.registry.netpolicy`) accepted at connect time, so a feed name
that resolves to a link-local/metadata address (DNS rebinding included) is refused. Redirects
are followed by hand, each target checked before it is requested
(:class:`~hullguard.images.registry.netpolicy.NetPolicy`): never more internal than the feed
host itself, never from https down to http.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from hullguard import __version__
from hullguard.errors import HullguardError, IntegrityError, LimitExceeded, RegistryError
from hullguard.images.api import MIN_TRANSFER_RATE
from hullguard.images.registry.netpolicy import NetPolicy, Resolver, system_resolver
from hullguard.images.registry.transport import Budgets, guard
from hullguard.vuln.config import DEFAULT_DEADLINE, Feed, default_max_bytes
from hullguard.vuln.dbwrite import ImportInput, SourceReport, import_inputs

if TYPE_CHECKING:
    import httpx

TIMEOUT = 60.0  # per read, and the window of the minimum transfer rate
MAX_REDIRECTS = 5
OFFLINE_HINT = ("without network access: `hullguard db feeds` lists the feed URLs; download "
                "them on another machine and load the files with `hullguard db import FILE...`")


class FeedError(HullguardError):
    """A feed could not be fetched (HTTP status, network, interrupted download)."""


class FeedUnreachable(FeedError):
    """The feed's server could not be reached at all (no network, DNS, refused connection)."""


@dataclass(frozen=True)
class Bounds:
    """What one ``db update`` run may spend: a deadline (monotonic clock) for everything, and
    per transfer the minimum average rate over each ``window`` seconds."""

    deadline: float
    min_rate: float = MIN_TRANSFER_RATE
    window: float = TIMEOUT
    resolver: Resolver = system_resolver

    @classmethod
    def starting_now(cls, seconds: float = DEFAULT_DEADLINE, **kwargs: object) -> Bounds:
        return cls(time.monotonic() + seconds, **kwargs)  # type: ignore[arg-type]

    def remaining(self, where: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FeedError("the overall deadline of `db update` passed", where=where,
                            hint="raise it with --deadline SECONDS (or deadline_seconds in "
                                 "the config file)")
        return left


@dataclass(frozen=True)
class Download:
    path: Path | None  # None: not modified upstream
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    resumed_from: int = 0


@dataclass
class UpdateResult:
    reports: list[SourceReport] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def cache_dir(db_path: Path) -> Path:
    """Downloads live beside the database (``<db>.feeds/``), so resumes survive restarts."""
    return db_path.with_name(db_path.name + ".feeds")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


def _previous(db_path: Path) -> dict[str, tuple[str, str]]:
    """feed name -> (etag, last-modified) of its last import."""
    if not db_path.is_file():
        return {}
    from hullguard.vuln.db import VulnDB

    try:
        with VulnDB.open(db_path) as db:
            return {s.name: (s.etag, s.last_modified) for s in db.sources()}
    except HullguardError:
        return {}  # unreadable or old schema: fetch everything unconditionally


@dataclass(frozen=True)
class FeedClient:
    """An httpx client on the guarded transport, and the budgets its requests run under."""

    http: httpx.Client
    budgets: Budgets

    @classmethod
    def guarding(cls, http: httpx.Client, bounds: Bounds) -> FeedClient:
        """``http`` put on the guarded transport (address policy, time bounds)."""
        budgets = Budgets()
        return cls(guard(http, budgets, resolver=bounds.resolver), budgets)


def update_feeds(db_path: Path, feeds: list[Feed], quiet: bool = True,
                 client: httpx.Client | None = None, bounds: Bounds | None = None
                 ) -> UpdateResult:
    """Fetch every feed, then import what arrived in one atomic step. Raises FeedUnreachable
    when no feed server could be reached at all (offline: one error instead of one per feed)."""
    import httpx

    bounds = bounds or Bounds.starting_now()
    result = UpdateResult()
    inputs: list[ImportInput] = []
    unchanged: list[str] = []
    unreachable: list[tuple[str, FeedUnreachable]] = []
    previous = _previous(db_path)
    own = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=True,
                                 headers={"User-Agent": f"hullguard/{__version__}"})
    guarded = FeedClient.guarding(own, bounds)
    try:
        for feed in feeds:
            try:
                download = fetch(guarded, feed, cache_dir(db_path), previous.get(feed.name),
                                 bounds)
            except FeedUnreachable as error:
                unreachable.append((feed.name, error))
                result.failures.append((feed.name, error.diagnostics()))
                continue
            except HullguardError as error:
                result.failures.append((feed.name, error.diagnostics()))
                continue
            _note(result, feed, download, inputs, unchanged)
    finally:
        if client is None:
            own.close()
    if feeds and len(unreachable) == len(feeds):
        raise _offline(unreachable)
    if inputs or unchanged:
        result.reports = import_inputs(db_path, inputs, checked=unchanged)
    return result


def _offline(errors: list[tuple[str, FeedUnreachable]]) -> FeedUnreachable:
    names = ", ".join(name for name, _ in errors[:3]) + (", ..." if len(errors) > 3 else "")
    first = errors[0][1]
    return FeedUnreachable(f"no feed server could be reached ({len(errors)} feeds: {names}); "
                           f"first error: {first.message}", where=first.where,
                           hint=OFFLINE_HINT)


def _note(result: UpdateResult, feed: Feed, download: Download, inputs: list[ImportInput],
          unchanged: list[str]) -> None:
    if download.path is None:
        unchanged.append(feed.name)
        result.notes.append((feed.name, "not modified upstream (HTTP 304)"))
        return
    resumed = f", resumed at byte {download.resumed_from}" if download.resumed_from else ""
    result.notes.append((feed.name, f"downloaded sha256:{download.sha256[:16]}...{resumed}"))
    inputs.append(ImportInput(download.path, feed.name, feed.url, download.etag,
                              download.last_modified, download.sha256))


def fetch(client: FeedClient, feed: Feed, cache: Path,
          previous: tuple[str, str] | None, bounds: Bounds | None = None) -> Download:
    """Download ``feed`` into ``cache`` (or learn it is unchanged)."""
    bounds = bounds or Bounds.starting_now()
    cache.mkdir(parents=True, exist_ok=True)
    part = cache / f"{_safe(feed.name)}.part"
    meta = cache / f"{_safe(feed.name)}.part.json"
    headers, offset = _request_headers(feed, part, meta, previous)
    download = _stream(client, feed, (part, meta), headers, offset, bounds)
    if download.path is None:
        return download
    sha256 = _sha256(part)
    if feed.checksum_url:
        _verify(client, feed, part, sha256, bounds)
    final = cache / f"{_safe(feed.name)}.data"
    part.replace(final)
    meta.unlink(missing_ok=True)
    return Download(final, download.etag, download.last_modified, sha256, offset)


def _request_headers(feed: Feed, part: Path, meta: Path, previous: tuple[str, str] | None
                     ) -> tuple[dict[str, str], int]:
    validator = _partial_validator(feed, part, meta)
    if validator:
        return {"Range": f"bytes={part.stat().st_size}-", "If-Range": validator}, \
            part.stat().st_size
    part.unlink(missing_ok=True)
    headers = {}
    if previous and previous[0]:
        headers["If-None-Match"] = previous[0]
    if previous and previous[1]:
        headers["If-Modified-Since"] = previous[1]
    return headers, 0


def _partial_validator(feed: Feed, part: Path, meta: Path) -> str:
    """The strong validator of an interrupted download of the same URL, or ""."""
    if not part.is_file() or part.stat().st_size == 0 or not meta.is_file():
        return ""
    try:
        info = json.loads(meta.read_text())
    except (ValueError, OSError):
        return ""
    if not isinstance(info, dict) or info.get("url") != feed.url:
        return ""
    etag = str(info.get("etag", ""))
    return etag if etag and not etag.startswith("W/") else str(info.get("last_modified", ""))


def _stream(client: FeedClient, feed: Feed, files: tuple[Path, Path],
            headers: dict[str, str], offset: int, bounds: Bounds) -> Download:
    part, meta = files
    with _get(client, feed.url, {**headers, "Accept-Encoding": "identity"}, bounds,
              feed.url) as response:
        if response.status_code == 304:
            return Download(None)
        append = _check_status(response, feed, offset)
        etag = response.headers.get("etag", "")
        modified = response.headers.get("last-modified", "")
        _check_declared_size(response, feed, offset if append else 0)
        meta.write_text(json.dumps({"url": feed.url, "etag": etag,
                                    "last_modified": modified}))
        _write_body(response, part, append, feed, bounds)
        return Download(part, etag, modified)


@contextmanager
def _get(client: FeedClient, url: str, headers: dict[str, str], bounds: Bounds,
         where: str) -> Iterator[httpx.Response]:
    """A streamed GET of ``url``, redirects followed by hand and checked (see module doc),
    on a request budget (read the body inside); transport failures become FeedError
    (FeedUnreachable when nothing answered)."""
    policy = NetPolicy(urlsplit(url).hostname or "", insecure=True, resolver=bounds.resolver)
    with client.budgets.active(where, deadline=bounds.remaining(where),
                               min_rate=bounds.min_rate, window=bounds.window), \
            _feed_errors(where):
        response = _follow(client.http, url, headers, bounds, (policy, where))
        try:
            yield response
        finally:
            response.close()


@contextmanager
def _feed_errors(where: str) -> Iterator[None]:
    import httpx

    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise FeedUnreachable(f"cannot connect: {error}", where=where,
                              hint=OFFLINE_HINT) from None
    except httpx.HTTPError as error:
        raise _transfer_error(error, where) from None
    except RegistryError as error:  # the transport's time bounds, or the address policy
        raise _bounds_error(error, where) from None


def _bounds_error(error: RegistryError, where: str) -> FeedError:
    if "overall deadline" in error.message:
        return FeedError(error.message, where=where, hint="raise it with --deadline SECONDS "
                         "(or deadline_seconds in the config file)")
    if "stalled" in error.message:
        return FeedError(error.message, where=where,
                         hint="the feed server or the network is too slow; `db update` "
                              "resumes the download on the next run")
    return FeedError(error.message, where=where, hint=error.hint)


def _transfer_error(error: Exception, where: str) -> FeedError:
    return FeedError(f"download failed: {type(error).__name__}: {error}", where=where,
                     hint="run `hullguard db update` again; it resumes where it stopped")


def _follow(client: httpx.Client, url: str, headers: dict[str, str], bounds: Bounds,
            check: tuple[NetPolicy, str]) -> httpx.Response:
    policy, where = check
    for _ in range(MAX_REDIRECTS + 1):
        timeout = min(TIMEOUT, bounds.remaining(where))
        request = client.build_request("GET", url, headers=headers, timeout=timeout)
        response = client.send(request, stream=True, follow_redirects=False)
        location = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307, 308) or not location:
            return response
        response.close()
        url = _checked_redirect(policy, url, urljoin(url, location), where)
    raise FeedError(f"more than {MAX_REDIRECTS} redirects", where=where)


def _checked_redirect(policy: NetPolicy, current: str, target: str, where: str) -> str:
    if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
        raise FeedError("refusing a redirect from https to plain http", where=where)
    try:
        policy.check_url(target, "redirect", where)
    except RegistryError as error:
        raise FeedError(error.message, where=where) from None
    return target


def _check_declared_size(response: httpx.Response, feed: Feed, offset: int) -> None:
    declared = response.headers.get("content-length", "")
    cap = feed.max_bytes or default_max_bytes(feed.name)
    if declared.isdigit() and offset + int(declared) > cap:
        raise LimitExceeded(f"feed of {offset + int(declared)} bytes exceeds its "
                            f"{cap}-byte limit", where=feed.url, hint=_cap_hint(feed))


def _cap_hint(feed: Feed) -> str:
    return f"raise it with [vulndb.max_mib] \"{feed.name}\" = N in the config file"


def _check_status(response: httpx.Response, feed: Feed, offset: int) -> bool:
    """True to append to the partial file (206 continuing at ``offset``)."""
    if response.status_code == 206 and offset:
        start = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
        if start and int(start.group(1)) == offset:
            return True
        raise FeedError("server resumed at the wrong offset", where=feed.url)
    if response.status_code == 200:
        return False
    raise FeedError(f"HTTP {response.status_code}", where=feed.url)


def _write_body(response: httpx.Response, part: Path, append: bool, feed: Feed,
                bounds: Bounds) -> None:
    size = part.stat().st_size if append else 0
    cap = feed.max_bytes or default_max_bytes(feed.name)
    with part.open("ab" if append else "wb") as handle:
        # Raw bytes as they arrive (with identity encoding requested): a cut connection leaves
        # exactly what was received in the .part file, ready for a Range request. The
        # transport's request budget counts them against the minimum rate.
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > cap:
                break
            handle.write(chunk)
            bounds.remaining(feed.url)
    if size > cap:  # an endless or oversized body: nothing of it is worth resuming
        part.unlink(missing_ok=True)
        raise LimitExceeded(f"feed exceeds its {cap}-byte limit", where=feed.url,
                            hint=_cap_hint(feed))


def _sha256(path: Path, gunzip: bool = False) -> str:
    digest = hashlib.sha256()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gunzip else None
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(inflater.decompress(chunk) if inflater else chunk)
    return digest.hexdigest()


def _published_sha256(client: FeedClient, feed: Feed, bounds: Bounds) -> str:
    with _get(client, feed.checksum_url, {}, bounds, feed.checksum_url) as response:
        head = b""
        for chunk in response.iter_bytes():
            head += chunk
            if len(head) >= 4096:
                break
    found = re.search(r"(?i)\b(?:sha256:)?([0-9a-f]{64})\b", head[:4096].decode("latin-1"))
    if response.status_code != 200 or not found:
        raise FeedError("no sha256 in the checksum file", where=feed.checksum_url)
    return found.group(1).lower()


def _verify(client: FeedClient, feed: Feed, part: Path, sha256: str, bounds: Bounds) -> None:
    """Compare with the published sha256 (NVD's is of the uncompressed JSON)."""
    published = _published_sha256(client, feed, bounds)
    candidates = {sha256}
    with part.open("rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if gzipped:
        with contextlib.suppress(zlib.error):
            candidates.add(_sha256(part, gunzip=True))
    if published not in candidates:
        part.unlink(missing_ok=True)
        raise IntegrityError(f"sha256 mismatch: published {published[:16]}..., "
                             f"downloaded {sha256[:16]}...", where=feed.url)
