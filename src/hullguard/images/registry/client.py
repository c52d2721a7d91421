"""An OCI Distribution API client (pull and push) on httpx.

One :class:`RegistryClient` talks to one registry host. It finds the scheme with a ``/v2/``
ping (https first; plain http only for loopback hosts or ``insecure``), answers auth
challenges through :class:`Authenticator`, follows redirects itself (bounded, checked by
:class:`NetPolicy`, never carrying credentials to another origin), retries 429/5xx with
bounded backoff, and verifies everything it downloads: manifests by digest before parsing,
blobs by size and digest while streaming to disk (a mismatch deletes the partial file).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin

import httpx

from hullguard.errors import (
    AuthError,
    HullguardError,
    InputError,
    IntegrityError,
    LimitExceeded,
    NotFoundError,
    RateLimited,
    RegistryError,
)
from hullguard.images.api import MIN_TRANSFER_RATE
from hullguard.images.manifest import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
)
from hullguard.images.registry.auth import Authenticator, Redactor
from hullguard.images.registry.credentials import Credentials
from hullguard.images.registry.netpolicy import (
    AddressPolicy,
    NetPolicy,
    Resolver,
    is_loopback_host,
    same_origin,
    split_host_port,
    system_resolver,
)
from hullguard.images.registry.stall import StallGuard, deadline_from_env
from hullguard.images.registry.transport import Budgets, guard
from hullguard.model import Digest

log = logging.getLogger("hullguard.registry")

ALL_MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
MAX_ATTEMPTS = 4
MAX_RETRY_AFTER = 30.0
MAX_ERROR_BODY = 64 * 1024
MAX_TAG_PAGES = 1000
CHUNK = 1 << 20
LOOPBACK_PATTERNS = ("all://localhost", "all://127.0.0.1", "all://[::1]")
PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy")


Progress = Callable[[str, int, int], None]  # (blob digest, bytes done, bytes total)


class ManifestRef(Protocol):
    """What :meth:`RegistryClient.get_manifest` needs of a reference."""

    @property
    def repository(self) -> str: ...

    @property
    def tag(self) -> str: ...

    @property
    def digest(self) -> Digest | None: ...


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """Trust ``ca_file``, else $HULLGUARD_CA_FILE, else $SSL_CERT_FILE, else the system store."""
    path = ca_file or os.environ.get("HULLGUARD_CA_FILE") or os.environ.get("SSL_CERT_FILE")
    return _trusting(path)


# One context per CA file per process: loading the system store costs 20-60 ms, once per
# registry client before (a fleet scan opens a client per image). A context is read-only after
# it is made and safe to share between threads; a CA file edited while a process runs is read
# again only by a new process. Failures are not cached (lru_cache does not keep exceptions).
@functools.lru_cache(maxsize=8)
def _trusting(path: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=path) if path else \
            ssl.create_default_context()
    except (OSError, ssl.SSLError) as error:
        raise InputError(f"cannot load CA certificates: {error}", where=str(path)) from None


@functools.cache
def _unverified() -> ssl.SSLContext:
    """--insecure: httpx would build (and load the system store into) a fresh context per
    client and transport for ``verify=False``; one shared context that checks nothing."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def proxy_secrets(environ: Mapping[str, str]) -> list[str]:
    """Passwords in proxy URLs (``http://user:secret@proxy:3128``): never shown in errors."""
    urls = [value for key, value in environ.items() if key.lower() in PROXY_VARIABLES]
    found = []
    for url in urls:
        with contextlib.suppress(httpx.InvalidURL):
            password = httpx.URL(url).password
            found += [password] if password else []
    return found


class RegistryClient:
    """A client for one registry host (``host[:port]``, e.g. ``registry-1.docker.io``)."""

    def __init__(self, host: str, *, credentials: Credentials | None = None,
                 insecure: bool = False, timeout: float = 60.0, ca_file: str | None = None,
                 retry_delay: float = 0.5, resolver: Resolver = system_resolver,
                 progress: Progress | None = None,
                 min_rate: float = MIN_TRANSFER_RATE, deadline: float | None = None,
                 addresses: AddressPolicy | None = None) -> None:
        self.host = host
        self.timeout, self.min_rate = timeout, min_rate
        # one request's overall bound (connect, headers, body): stall.DEFAULT_DEADLINE
        self.deadline = deadline if deadline is not None else deadline_from_env()
        self.progress = progress
        self.insecure = insecure
        self.retry_delay = retry_delay
        self.where = host
        self.policy = NetPolicy(split_host_port(host)[0], insecure=insecure, resolver=resolver,
                                addresses=addresses)
        self._loopback = is_loopback_host(split_host_port(host)[0])
        self.redact = Redactor()
        self.redact.add(*proxy_secrets(os.environ))
        verify = _unverified() if insecure else ssl_context(ca_file)
        # trust_env: HTTP(S)_PROXY, ALL_PROXY and NO_PROXY, as curl and the Go tools honour
        # them (httpx 0.28 reads no .netrc and, with our own SSL context, no SSL_CERT_FILE);
        # loopback registries always go direct, as in Go's net/http.
        self.http = httpx.Client(verify=verify, follow_redirects=False, trust_env=True,
                                 mounts=dict.fromkeys(self._direct_patterns()),
                                 timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
                                 headers={"User-Agent": "hullguard",
                                          # no transfer compression: bytes are verified as
                                          # stored, and no server can make us inflate a bomb
                                          "Accept-Encoding": "identity"})
        self.budgets = Budgets()
        guard(self.http, self.budgets, policy=self.policy.addresses, resolver=resolver)
        self.auth = Authenticator(self.http, self.policy, credentials, self.redact, host,
                                  self.stall_guard)
        self._base: str | None = None

    def close(self) -> None:
        self.http.close()

    def stall_guard(self, where: str) -> StallGuard:
        """A fresh minimum-rate check for one transfer (see :mod:`.stall`)."""
        return StallGuard(self.min_rate, self.timeout, where)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------

    def get_manifest(self, ref: ManifestRef,
                     accept: tuple[str, ...] = ALL_MANIFEST_TYPES) -> tuple[bytes, str, Digest]:
        """The manifest or index bytes, its media type and its verified digest."""
        target = str(ref.digest) if ref.digest else ref.tag
        where = f"{self.host}/{ref.repository}@{target}" if ref.digest else \
            f"{self.host}/{ref.repository}:{target}"
        path = f"/v2/{ref.repository}/manifests/{target}"
        with self._request("GET", path, _pull(ref.repository), where,
                           headers={"Accept": ", ".join(accept)}) as response:
            body = self._read_bounded(response, MAX_MANIFEST_BYTES, where)
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            header = response.headers.get("docker-content-digest")
        digest = _verify_manifest(body, ref.digest, header, where)
        return body, media_type, digest

    def head_manifest(self, ref: ManifestRef) -> Digest | None:
        """The digest the registry holds under the reference (tag or digest), from a HEAD;
        None when it has no such manifest (404). A registry that omits the digest header is
        asked with a GET, whose body is verified. Used to check what a webhook claims."""
        target = str(ref.digest) if ref.digest else ref.tag
        where = f"{self.host}/{ref.repository}@{target}"
        with self._request("HEAD", f"/v2/{ref.repository}/manifests/{target}",
                           _pull(ref.repository), where, allow=(404,),
                           headers={"Accept": ", ".join(ALL_MANIFEST_TYPES)}) as response:
            if response.status_code == 404:
                return None
            found = _header_digest(response.headers.get("docker-content-digest"), where)
        if found is None:
            return self.get_manifest(ref)[2]
        if ref.digest is not None and found != ref.digest:
            raise IntegrityError(f"the registry answered {found}, not {ref.digest}", where=where)
        return found

    def fetch_blob(self, repository: str, descriptor: Descriptor, dest: Path) -> Path:
        """Stream a blob to ``dest``, verifying size and digest on the way.

        The bytes go to ``dest.part`` and are renamed only once verified; any failure deletes
        the partial file, so a file at ``dest`` always holds exactly the described content.
        """
        where = f"{self.host}/{repository}@{descriptor.digest}"
        part = dest.with_name(dest.name + ".part")
        try:
            with self._request("GET", f"/v2/{repository}/blobs/{descriptor.digest}",
                               _pull(repository), where) as response:
                chunks = self.stall_guard(where).watch(response.iter_raw())
                _stream_verified(chunks, descriptor, part, where, self.progress)
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
        return dest

    def fetch_blob_bytes(self, repository: str, descriptor: Descriptor, limit: int) -> bytes:
        """A small blob (a config) in memory, size- and digest-verified."""
        where = f"{self.host}/{repository}@{descriptor.digest}"
        if descriptor.size > limit:
            raise LimitExceeded(f"blob is {descriptor.size} bytes, over the {limit}-byte "
                                "limit", where=where)
        with self._request("GET", f"/v2/{repository}/blobs/{descriptor.digest}",
                           _pull(repository), where) as response:
            body = self._read_bounded(response, descriptor.size, where, integrity=True)
        _check_digest(hashlib.new(descriptor.digest.algorithm, body), len(body), descriptor,
                      where)
        return body

    def blob_exists(self, repository: str, digest: Digest) -> bool:
        where = f"{self.host}/{repository}@{digest}"
        with self._request("HEAD", f"/v2/{repository}/blobs/{digest}", _push(repository),
                           where, allow=(404,)) as response:
            return response.status_code == 200

    def push_blob(self, repository: str, content: bytes | Path,
                  digest: Digest | None = None) -> Digest:
        """Upload a blob (monolithic POST + PUT); skipped when the registry already has it."""
        digest = digest or _digest_of(content)
        if self.blob_exists(repository, digest):
            return digest
        where = f"{self.host}/{repository}@{digest}"
        with self._request("POST", f"/v2/{repository}/blobs/uploads/", _push(repository),
                           where, headers={"Content-Length": "0"}) as started:
            location = started.headers.get("location", "")
        if not location:
            raise RegistryError("upload start answered without a Location", where=where)
        url = urljoin(self._base_url() + "/", location)
        if not same_origin(url, self._base_url()):
            self.policy.check_url(url, "upload location", where)
        url += ("&" if "?" in url else "?") + f"digest={digest}"
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        with self._request("PUT", url, _push(repository), where, headers=headers,
                           content=content):
            pass
        return digest

    def push_manifest(self, repository: str, reference: str, data: bytes,
                      media_type: str) -> Digest:
        """PUT a manifest or index under a tag (or its digest); returns its digest."""
        digest = Digest("sha256", hashlib.sha256(data).hexdigest())
        where = f"{self.host}/{repository}:{reference}"
        with self._request("PUT", f"/v2/{repository}/manifests/{reference}", _push(repository),
                           where, headers={"Content-Type": media_type}, content=data):
            pass
        return digest

    def list_tags(self, repository: str, *, page_size: int = 0, max_tags: int = 0) -> list[str]:
        """Every tag of ``repository`` (following ``Link`` pagination, bounded); ``page_size``
        asks for pages of that many (``?n=``); ``max_tags`` stops reading after that many."""
        where = f"{self.host}/{repository}"
        tags: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list" + (f"?n={page_size}" if page_size else "")
        for _ in range(MAX_TAG_PAGES):
            if path is None or 0 < max_tags <= len(tags):
                return tags[:max_tags] if max_tags else tags
            with self._request("GET", path, _pull(repository), where) as response:
                doc = _json_object(self._read_bounded(response, 16 << 20, where), where)
                path = _next_link(response.headers.get("link", ""))
            page = doc.get("tags") or []
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise RegistryError("tag list is not a list of strings", where=where)
            tags.extend(page)
        raise LimitExceeded(f"more than {MAX_TAG_PAGES} pages of tags", where=where)

    # -- transport -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _request(self, method: str, path: str, scope: str, where: str, *,
                 headers: dict[str, str] | None = None, content: bytes | Path | None = None,
                 allow: tuple[int, ...] = ()) -> Iterator[httpx.Response]:
        """An authenticated request whose (streamed) response is checked and then closed,
        all of it (auth, redirects, retries, the body read by the caller) under one
        :class:`~.stall.RequestBudget`."""
        with self._budget(where):
            try:
                response = self._authenticated(method, path, scope, where, headers or {},
                                               content)
            except HullguardError as error:
                raise self.redact.error(error) from None
            try:
                if response.status_code not in allow and not 200 <= response.status_code < 300:
                    raise self.redact.error(self._status_error(response, where))
                yield response
            except HullguardError as error:
                raise self.redact.error(error) from None
            finally:
                response.close()

    def _budget(self, where: str) -> contextlib.AbstractContextManager[Any]:
        return self.budgets.active(where, deadline=self.deadline, min_rate=self.min_rate,
                                   window=self.timeout)

    def _authenticated(self, method: str, path: str, scope: str, where: str,
                       headers: dict[str, str], content: bytes | Path | None) -> httpx.Response:
        url = path if "://" in path else self._base_url() + path
        authorization = self.auth.header_for(scope)
        response = self._send(method, url, headers, authorization, content, where)
        if response.status_code != 401:
            return response
        challenges = response.headers.get_list("www-authenticate")
        response.close()
        authorization = self.auth.respond(challenges, scope, sent=authorization)
        response = self._send(method, url, headers, authorization, content, where)
        if response.status_code == 401:
            response.close()
            raise self.auth.rejected(scope)
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], authorization: str | None,
              content: bytes | Path | None, where: str) -> httpx.Response:
        """One logical request: bounded retries around manual redirect following."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._follow(method, url, headers, authorization, content, where)
            except httpx.TransportError as error:
                if attempt == MAX_ATTEMPTS or isinstance(error, httpx.UnsupportedProtocol):
                    raise self._transport_error(error, where) from None
                self._sleep(self._backoff(attempt), where, type(error).__name__)
                continue
            asked = _retry_after(response)
            if (response.status_code not in RETRY_STATUSES or attempt == MAX_ATTEMPTS
                    or (asked or 0) > MAX_RETRY_AFTER):
                return response
            delay = asked if asked is not None else self._backoff(attempt)
            response.close()
            self._sleep(delay, where, f"HTTP {response.status_code}")
        raise AssertionError("unreachable")

    def _follow(self, method: str, url: str, headers: dict[str, str], authorization: str | None,
                content: bytes | Path | None, where: str) -> httpx.Response:
        """Send, following redirects ourselves: each target is checked by the net policy and
        gets the Authorization header only when it has the registry's own origin."""
        base = self._base_url()
        for _ in range(MAX_REDIRECTS + 1):
            sent = dict(headers)
            if authorization and same_origin(url, base):
                sent["Authorization"] = authorization
            try:
                request = self.http.build_request(method, url, headers=sent,
                                                  content=_body(content))
            except httpx.InvalidURL as error:
                raise RegistryError(f"invalid URL: {error}", where=where) from None
            response = self.http.send(request, stream=True)
            location = response.headers.get("location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response
            response.close()
            url = urljoin(url, location)
            self.policy.check_url(url, "redirect", where)
            if response.status_code == 303 or (response.status_code in (301, 302)
                                               and method == "POST"):
                method, content = "GET", None
        raise RegistryError(f"more than {MAX_REDIRECTS} redirects", where=where)

    def _base_url(self) -> str:
        """``scheme://host`` found by pinging ``/v2/`` (https first)."""
        if self._base is None:
            self._base = self._ping()
        return self._base

    def _ping(self) -> str:
        """Docker's order: https, then (loopback or insecure only) plain http. The first
        scheme answering like a registry (200 or 401 on /v2/) wins."""
        schemes = ("https", "http") if self.policy.plain_http_allowed else ("https",)
        errors: list[httpx.TransportError] = []
        answered: list[str] = []
        self.policy.check_registry(self.host)  # also checked at connect time (DNS rebinding)
        for scheme in schemes:
            base = f"{scheme}://{self.host}"
            try:  # streamed and closed unread: a hostile /v2/ body could be huge
                with self._budget(self.host):
                    response = self.http.send(self.http.build_request("GET", base + "/v2/"),
                                              stream=True)
                    response.close()
            except httpx.TransportError as error:
                errors.append(error)
                continue
            if response.status_code in (200, 401):
                self._note_ping(response)
                log.debug("registry %s speaks %s", self.host, scheme)
                return base
            answered.append(base)
        if errors:  # e.g. TLS failed and plain http got "HTTP request to an HTTPS server"
            raise self.redact.error(self._transport_error(errors[0], self.host))
        return answered[0]

    def _note_ping(self, response: httpx.Response) -> None:
        if response.status_code == 401:
            try:
                self.auth.note_challenges(response.headers.get_list("www-authenticate"))
            except HullguardError as error:
                raise self.redact.error(error) from None

    def _transport_error(self, error: httpx.TransportError, where: str) -> HullguardError:
        text = self.redact(f"{type(error).__name__}: {error}")
        hint = ""
        if "CERTIFICATE" in text or "SSL" in text:
            hint = ("trust the registry's CA with SSL_CERT_FILE or HULLGUARD_CA_FILE, or skip "
                    "verification with --insecure")
        elif "Name or service not known" in text or "nodename nor servname" in text \
                or "Temporary failure in name resolution" in text:
            hint = ("the registry's host name does not resolve (offline?); to scan a local "
                    "file use docker-archive:PATH, oci-archive:PATH or oci:DIR")
        elif not self.policy.plain_http_allowed:
            hint = ("if the registry only speaks plain HTTP or uses a self-signed certificate, "
                    "pass --insecure (plain http is used by default only for localhost)")
        what = "bad answer from the registry" if isinstance(error, httpx.ProtocolError) \
            else "cannot reach the registry"
        proxies = self._proxy_note()
        hint = f"{hint}; {proxies}" if hint and proxies else hint or proxies
        return RegistryError(f"{what}: {text}", where=where, hint=self.redact(hint))

    def _direct_patterns(self) -> list[str]:
        """URL patterns never proxied: the usual loopback names (a loopback token server) and
        this registry when the net policy counts it as loopback (127.0.0.2, x.localhost)."""
        own = [f"all://{self.host}"] if self._loopback else []
        return [*LOOPBACK_PATTERNS, *own]

    def _proxy_note(self) -> str:
        """Which proxy variables may route this registry (none for a loopback registry)."""
        if self._loopback:
            return ""
        found = [f"{key}={value}" for key, value in sorted(os.environ.items())
                 if key.lower() in PROXY_VARIABLES]
        if not found:
            return ""
        return (f"the proxy settings apply ({', '.join(found)}); "
                f"NO_PROXY={split_host_port(self.host)[0]} sends this registry direct")

    def _status_error(self, response: httpx.Response, where: str) -> HullguardError:
        detail = _error_detail(response)
        status = response.status_code
        if status == 404:
            return NotFoundError(f"not found{detail}", where=where)
        if status in (401, 403):
            return AuthError(f"access denied (HTTP {status}){detail}", where=where)
        if status == 429:
            wait = rate_limit_wait(response)
            return RateLimited(f"rate limited (HTTP 429){detail}", where=where,
                               hint=f"the registry asks to wait {wait:.0f} s" if wait else
                               "try again later or authenticate for a higher limit",
                               retry_after=wait)
        return RegistryError(f"registry answered HTTP {status}{detail}", where=where)

    def _read_bounded(self, response: httpx.Response, limit: int, where: str,
                      integrity: bool = False) -> bytes:
        declared = response.headers.get("content-length", "")
        kind = IntegrityError if integrity else LimitExceeded
        if declared.isdigit() and int(declared) > limit:
            raise kind(f"answer of {declared} bytes is over the {limit}-byte limit", where=where)
        body = bytearray()
        try:
            for chunk in self.stall_guard(where).watch(response.iter_raw()):
                body.extend(chunk)
                if len(body) > limit:
                    raise kind(f"answer is over the {limit}-byte limit", where=where)
        except httpx.HTTPError as error:
            raise RegistryError(f"download failed: {type(error).__name__}",
                                where=where) from None
        return bytes(body)

    def _backoff(self, attempt: int) -> float:
        return float(self.retry_delay * (2 ** (attempt - 1)))

    def _sleep(self, delay: float, where: str, reason: str) -> None:
        log.info("%s: %s, retrying in %.1f s", where, reason, delay)
        time.sleep(min(delay, MAX_RETRY_AFTER))


def _pull(repository: str) -> str:
    return f"repository:{repository}:pull"


def _push(repository: str) -> str:
    return f"repository:{repository}:pull,push"


def _body(content: bytes | Path | None) -> bytes | Iterator[bytes] | None:
    if isinstance(content, Path):
        return _file_chunks(content)
    return content


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _digest_of(content: bytes | Path) -> Digest:
    digest = hashlib.sha256()
    for chunk in (_file_chunks(content) if isinstance(content, Path) else [content]):
        digest.update(chunk)
    return Digest("sha256", digest.hexdigest())


def _stream_verified(chunks: Iterator[bytes], descriptor: Descriptor, part: Path,
                     where: str, progress: Progress | None) -> None:
    """Write the body to ``part``, failing as soon as it exceeds the descriptor size.

    ``chunks`` are the raw network reads as they arrive (no chunk size: httpx would buffer up
    to it, and a dripping server would then never be checked by the stall guard)."""
    hasher = hashlib.new(descriptor.digest.algorithm)
    written = 0
    with part.open("wb") as handle:
        try:
            for chunk in chunks:
                written += len(chunk)
                if written > descriptor.size:
                    raise IntegrityError(f"blob is larger than its descriptor size "
                                         f"{descriptor.size}", where=where)
                hasher.update(chunk)
                handle.write(chunk)
                if progress:
                    progress(str(descriptor.digest), written, descriptor.size)
        except httpx.HTTPError as error:
            raise IntegrityError(f"download broke off after {written} bytes "
                                 f"({type(error).__name__})", where=where) from None
    _check_digest(hasher, written, descriptor, where)


def _check_digest(hasher: Any, size: int, descriptor: Descriptor, where: str) -> None:
    if size != descriptor.size:
        raise IntegrityError(f"blob has {size} bytes, its descriptor says {descriptor.size}",
                             where=where, hint="truncated or altered download")
    actual = hasher.hexdigest()
    if actual != descriptor.digest.hex:
        raise IntegrityError(f"blob digest is {descriptor.digest.algorithm}:{actual[:16]}…, "
                             f"expected {descriptor.digest}", where=where,
                             hint="the registry served different content")


def _verify_manifest(body: bytes, wanted: Digest | None, header: str | None,
                     where: str) -> Digest:
    """Check the manifest bytes against the reference's digest and Docker-Content-Digest."""
    computed = Digest("sha256", hashlib.sha256(body).hexdigest())
    for expected, source in ((wanted, "the reference"), (_header_digest(header, where),
                                                         "Docker-Content-Digest")):
        if expected is None:
            continue
        actual = hashlib.new(expected.algorithm, body).hexdigest()
        if actual != expected.hex:
            raise IntegrityError(f"manifest digest {expected.algorithm}:{actual[:16]}… does "
                                 f"not match {expected} from {source}", where=where)
    return wanted or computed


def _header_digest(header: str | None, where: str) -> Digest | None:
    if not header:
        return None
    try:
        return Digest.parse(header.strip(), where=f"{where} Docker-Content-Digest")
    except InputError as error:
        raise RegistryError(error.message, where=error.where) from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def rate_limit_wait(response: httpx.Response) -> float:
    """Seconds a 429 asks us to wait: ``Retry-After`` (seconds or an HTTP date), else the
    window of Docker Hub's ``RateLimit-Remaining: 0;w=SECONDS``; 0 when neither says."""
    value = response.headers.get("retry-after", "").strip()
    asked = _retry_after(response)
    if asked is not None:
        return asked
    if value:
        import email.utils

        with contextlib.suppress(TypeError, ValueError, OverflowError):
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    remaining = response.headers.get("ratelimit-remaining", "")
    count, _, window = remaining.partition(";w=")
    if count.strip() == "0" and window.strip().isdigit():
        return float(window.strip())
    return 0.0


def _error_detail(response: httpx.Response) -> str:
    """``: CODE message`` from a registry error body, bounded and printable."""
    try:
        body = b""
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > MAX_ERROR_BODY:
                return ""
        errors = _json_object(body, "").get("errors")
    except (HullguardError, httpx.HTTPError):
        return ""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    code, message = errors[0].get("code", ""), errors[0].get("message", "")
    text = f"{code} {message}".strip()[:300]
    return ": " + "".join(c if c.isprintable() else "?" for c in text) if text else ""


def _json_object(body: bytes, where: str) -> dict[str, Any]:
    import json

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError("answer is not JSON", where=where) from None
    if not isinstance(doc, dict):
        raise RegistryError("answer is not a JSON object", where=where)
    return doc


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` target of a Link header (a path on the registry)."""
    for part in header.split(","):
        if 'rel="next"' in part and "<" in part and ">" in part:
            target = part[part.index("<") + 1:part.index(">")]
            return target if target.startswith("/v2/") else None
    return None
