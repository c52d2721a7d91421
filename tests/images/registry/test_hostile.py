"""Misbehaving registries (a scripted HTTP server): every one ends in one clear error, nothing
unverified is kept, and credentials never leak to other hosts or into messages."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from hullguard.errors import (
    AuthError,
    HullguardError,
    IntegrityError,
    LimitExceeded,
    NotFoundError,
    RegistryError,
)
from hullguard.images.api import SourceOptions
from hullguard.images.manifest import OCI_MANIFEST, Descriptor
from hullguard.images.reference import parse_reference
from hullguard.images.registry import Credentials, RegistryClient, open_registry_image
from hullguard.model import Digest
from tests.support.env import missing
from tests.support.registry import FakeRegistry, Handler

SECRET = "Hunter2-registry-secret"
CREDS = Credentials("alice", SECRET, origin="test")
BASIC = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()


def digest(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def descriptor(data: bytes, media_type: str = "application/octet-stream") -> Descriptor:
    return Descriptor(media_type, digest(data), len(data))


def send(body: bytes, status: int = 200, **kwargs: object) -> Callable[[Handler], None]:
    def route(handler: Handler) -> None:
        handler.reply(status, body, **kwargs)  # type: ignore[arg-type]
    return route


def client(fake: FakeRegistry, credentials: Credentials | None = None) -> RegistryClient:
    return RegistryClient(fake.host, credentials=credentials, retry_delay=0.01)


def basic_protected(fake: FakeRegistry) -> None:
    """Make ``/v2/`` demand our Basic credentials (as an htpasswd registry does)."""
    def v2(handler: Handler) -> None:
        if handler.headers.get("Authorization") == BASIC:
            handler.reply(200, b"{}")
        else:
            handler.reply(401, headers={"WWW-Authenticate": 'Basic realm="fake"'})
    fake.routes["/v2/"] = v2


# -- blobs ----------------------------------------------------------------------------------

BLOB = b"layer bytes " * 1000


@pytest.mark.parametrize(("served", "length", "message"), [
    (BLOB[:-1] + b"X", None, "digest"),  # same size, altered
    (BLOB + b"extra", None, "larger"),  # more bytes than the descriptor
    (BLOB[:100], None, "bytes, its descriptor says"),  # honest but short
    (BLOB[:100], len(BLOB), "broke off"),  # Content-Length promises more, then closes
])
def test_bad_blob_is_refused_and_not_kept(fake: FakeRegistry, tmp_path: Path, served: bytes,
                                          length: int | None, message: str) -> None:
    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(served, length=length)
    dest = tmp_path / "blob"
    with client(fake) as c, pytest.raises(IntegrityError) as caught:
        c.fetch_blob("r", wanted, dest)
    assert message in caught.value.message
    assert str(wanted.digest) in caught.value.where
    assert list(tmp_path.iterdir()) == []  # neither the blob nor its .part survives


def test_good_blob_is_kept(fake: FakeRegistry, tmp_path: Path) -> None:
    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(BLOB)
    with client(fake) as c:
        assert c.fetch_blob("r", wanted, tmp_path / "blob").read_bytes() == BLOB


def test_transfer_encoding_is_not_trusted(fake: FakeRegistry, tmp_path: Path) -> None:
    """A server that gzips the body on the wire fails verification instead of making us
    inflate attacker-chosen data (we ask for identity encoding)."""
    import gzip

    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(
        gzip.compress(BLOB), headers={"Content-Encoding": "gzip"})
    with client(fake) as c, pytest.raises(IntegrityError):
        c.fetch_blob("r", wanted, tmp_path / "blob")
    assert fake.requests[-1].headers["accept-encoding"] == "identity"


# -- manifests ------------------------------------------------------------------------------

def manifest_bytes(config: bytes = b"{}", layers: tuple[bytes, ...] = ()) -> bytes:
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": str(digest(config)), "size": len(config)},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": str(digest(b)), "size": len(b)} for b in layers]}
    return json.dumps(doc).encode()


def test_oversized_manifest(fake: FakeRegistry) -> None:
    fake.routes["/v2/r/manifests/big"] = send(b" " * (5 << 20), content_type=OCI_MANIFEST)
    with client(fake) as c, pytest.raises(LimitExceeded) as caught:
        c.get_manifest(parse_reference(f"{fake.host}/r:big"))
    assert "limit" in caught.value.message


def test_manifest_digest_header_mismatch(fake: FakeRegistry) -> None:
    body = manifest_bytes()
    fake.routes["/v2/r/manifests/v1"] = send(body, content_type=OCI_MANIFEST, headers={
        "Docker-Content-Digest": str(digest(body + b" "))})
    with client(fake) as c, pytest.raises(IntegrityError) as caught:
        c.get_manifest(parse_reference(f"{fake.host}/r:v1"))
    assert "Docker-Content-Digest" in caught.value.message


def test_manifest_other_than_the_pinned_digest(fake: FakeRegistry) -> None:
    body, wanted = manifest_bytes(), digest(b"something else")
    fake.routes[f"/v2/r/manifests/{wanted}"] = send(body, content_type=OCI_MANIFEST)
    with client(fake) as c, pytest.raises(IntegrityError) as caught:
        c.get_manifest(parse_reference(f"{fake.host}/r@{wanted}"))
    assert "from the reference" in caught.value.message


def test_malformed_digest_header(fake: FakeRegistry) -> None:
    fake.routes["/v2/r/manifests/v1"] = send(manifest_bytes(), content_type=OCI_MANIFEST,
                                             headers={"Docker-Content-Digest": "sha256:xyz"})
    with client(fake) as c, pytest.raises(RegistryError) as caught:
        c.get_manifest(parse_reference(f"{fake.host}/r:v1"))
    assert "malformed digest" in caught.value.message


def test_config_with_wrong_digest_fails_open(fake: FakeRegistry) -> None:
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode()
    fake.routes["/v2/r/manifests/v1"] = send(manifest_bytes(config), content_type=OCI_MANIFEST)
    fake.routes[f"/v2/r/blobs/{digest(config)}"] = send(config.replace(b"layers", b"LAYERS"))
    with pytest.raises(IntegrityError):
        open_registry_image(parse_reference(f"{fake.host}/r:v1"), SourceOptions())


def test_schema1_manifest_is_a_clear_error(fake: FakeRegistry) -> None:
    body = json.dumps({"schemaVersion": 1, "name": "r", "tag": "v1", "fsLayers": []}).encode()
    fake.routes["/v2/r/manifests/v1"] = send(
        body, content_type="application/vnd.docker.distribution.manifest.v1+prettyjws")
    with pytest.raises(HullguardError) as caught:
        open_registry_image(parse_reference(f"{fake.host}/r:v1"), SourceOptions())
    assert "schema" in str(caught.value).lower() or "media type" in str(caught.value)


# -- realms ---------------------------------------------------------------------------------

@pytest.mark.parametrize("realm", [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "https://169.254.169.254/token",
    "https://[fe80::1]/token",  # IPv6 link-local
    "https://[fd00:ec2::254]/token",  # AWS IPv6 metadata (fd00::/8)
    "https://100.100.100.200/token",  # Alibaba metadata
    "https://0.0.0.0/token",
    "file:///etc/passwd",
    "https://user:pw@127.0.0.1/token",
])
def test_evil_realm_is_refused(fake: FakeRegistry, realm: str) -> None:
    fake.routes["/v2/"] = send(b"", 401, headers={
        "WWW-Authenticate": f'Bearer realm="{realm}",service="evil"'})
    with client(fake, CREDS) as c, pytest.raises(AuthError) as caught:
        c.list_tags("r")
    assert "refusing token realm" in caught.value.message
    assert SECRET not in str(caught.value)


def test_credentials_never_go_over_http_to_another_host(fake: FakeRegistry) -> None:
    """Registry 127.0.0.1, realm on http://localhost (another host name): refused before any
    request reaches the token server."""
    tokens = FakeRegistry()
    try:
        fake.routes["/v2/"] = send(b"", 401, headers={
            "WWW-Authenticate": f'Bearer realm="http://localhost:{tokens.port}/token"'})
        with client(fake, CREDS) as c, pytest.raises(AuthError) as caught:
            c.list_tags("r")
        assert "refusing to send credentials" in caught.value.message
        assert tokens.requests == []
    finally:
        tokens.close()


def test_anonymous_token_from_another_loopback_host_is_fine(fake: FakeRegistry) -> None:
    tokens = FakeRegistry()
    try:
        tokens.routes["/token"] = send(b'{"access_token": "tok-123456", "expires_in": 300}')
        challenge = (f'Bearer realm="http://localhost:{tokens.port}/token",service="svc",'
                     'scope="repository:r:pull"')

        def tags(handler: Handler) -> None:
            if handler.headers.get("Authorization") == "Bearer tok-123456":
                handler.reply(200, b'{"name":"r","tags":["a"]}')
            else:
                handler.reply(401, headers={"WWW-Authenticate": challenge})
        fake.routes["/v2/r/tags/list"] = tags
        with client(fake) as c:
            assert c.list_tags("r") == ["a"]
        query = tokens.requests[0].path
        assert "service=svc" in query and "scope=repository%3Ar%3Apull" in query
        assert "authorization" not in tokens.requests[0].headers
    finally:
        tokens.close()


@pytest.mark.parametrize("answer", [b"{}", b'{"token": 5}', b"not json", b"[1]",
                                    b'{"token": "' + b"x" * 70000 + b'"}'])
def test_unusable_token_answers(fake: FakeRegistry, answer: bytes) -> None:
    fake.routes["/token"] = send(answer)
    fake.routes["/v2/"] = send(b"", 401, headers={
        "WWW-Authenticate": f'Bearer realm="http://{fake.host}/token"'})
    with client(fake) as c, pytest.raises(AuthError) as caught:
        c.list_tags("r")
    assert "token service" in caught.value.message


def test_malformed_challenge(fake: FakeRegistry) -> None:
    fake.routes["/v2/"] = send(b"", 401, headers={"WWW-Authenticate": 'Bearer realm="x'})
    with client(fake) as c, pytest.raises(AuthError) as caught:
        c.list_tags("r")
    assert "malformed WWW-Authenticate" in caught.value.message


# -- redirects ------------------------------------------------------------------------------

def test_redirect_to_another_host_drops_credentials(fake: FakeRegistry, tmp_path: Path) -> None:
    storage = FakeRegistry()
    try:
        basic_protected(fake)
        wanted = descriptor(BLOB)
        fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(b"", 307, headers={
            "Location": f"http://localhost:{storage.port}/bucket/blob?sig=abc"})
        storage.routes["/bucket/blob"] = send(BLOB)
        with client(fake, CREDS) as c:
            c.fetch_blob("r", wanted, tmp_path / "blob")
        assert fake.requests[-1].headers.get("authorization") == BASIC
        assert [r.path for r in storage.requests] == ["/bucket/blob?sig=abc"]
        assert "authorization" not in storage.requests[0].headers
    finally:
        storage.close()


def test_redirect_to_same_origin_keeps_credentials(fake: FakeRegistry, tmp_path: Path) -> None:
    basic_protected(fake)
    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(b"", 302, headers={
        "Location": "/storage/blob"})

    def storage(handler: Handler) -> None:
        ok = handler.headers.get("Authorization") == BASIC
        handler.reply(200 if ok else 401, BLOB if ok else b"")
    fake.routes["/storage/blob"] = storage
    with client(fake, CREDS) as c:
        assert c.fetch_blob("r", wanted, tmp_path / "blob").read_bytes() == BLOB


def test_redirect_loop_is_bounded(fake: FakeRegistry, tmp_path: Path) -> None:
    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(b"", 302, headers={
        "Location": f"/v2/r/blobs/{wanted.digest}"})
    with client(fake) as c, pytest.raises(RegistryError) as caught:
        c.fetch_blob("r", wanted, tmp_path / "blob")
    assert "redirects" in caught.value.message
    assert len(fake.requests) <= 8


def test_redirect_to_metadata_is_refused(fake: FakeRegistry, tmp_path: Path) -> None:
    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(b"", 302, headers={
        "Location": "http://169.254.169.254/latest/meta-data/iam"})
    with client(fake) as c, pytest.raises(AuthError) as caught:
        c.fetch_blob("r", wanted, tmp_path / "blob")
    assert "refusing redirect" in caught.value.message


# -- retries, errors, redaction -------------------------------------------------------------

def flaky(statuses: list[int], then: bytes) -> Callable[[Handler], None]:
    def route(handler: Handler) -> None:
        if statuses:
            handler.reply(statuses.pop(0), b"busy", headers={"Retry-After": "0"})
        else:
            handler.reply(200, then)
    return route


def test_retries_429_and_5xx_then_succeeds(fake: FakeRegistry) -> None:
    fake.routes["/v2/r/tags/list"] = flaky([429, 503, 502], b'{"tags":["x"]}')
    with client(fake) as c:
        assert c.list_tags("r") == ["x"]
    assert sum(r.path == "/v2/r/tags/list" for r in fake.requests) == 4


def test_retries_are_bounded(fake: FakeRegistry) -> None:
    fake.routes["/v2/r/tags/list"] = flaky([503] * 50, b"{}")
    with client(fake) as c, pytest.raises(RegistryError) as caught:
        c.list_tags("r")
    assert "HTTP 503" in caught.value.message
    assert sum(r.path == "/v2/r/tags/list" for r in fake.requests) == 4


def test_registry_echoing_the_password_is_redacted(fake: FakeRegistry,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A hostile registry reflects the Authorization header into its error message."""
    caplog.set_level(logging.DEBUG)
    basic_protected(fake)

    def denied(handler: Handler) -> None:
        echoed = f"{handler.headers.get('Authorization')} / {SECRET}"
        body = json.dumps({"errors": [{"code": "DENIED", "message": echoed}]}).encode()
        handler.reply(403, body, "application/json")
    fake.routes["/v2/r/tags/list"] = denied
    with client(fake, CREDS) as c, pytest.raises(AuthError) as caught:
        c.list_tags("r")
    text = f"{caught.value}|{caught.value!r}|{caught.value.where}|{caplog.text}"
    assert "DENIED" in text and "***" in text
    assert SECRET not in text and BASIC.split()[1] not in text


def test_basic_credentials_rejected(fake: FakeRegistry) -> None:
    basic_protected(fake)
    fake.routes["/v2/r/tags/list"] = fake.routes["/v2/"]
    wrong = Credentials("alice", "Wrong-Secret-777", origin="--username/--password")
    with client(fake, wrong) as c, pytest.raises(AuthError) as caught:
        c.list_tags("r")
    assert "--username/--password" in caught.value.message
    assert "Wrong-Secret-777" not in str(caught.value)


def test_not_found_carries_registry_message(fake: FakeRegistry) -> None:
    with client(fake) as c, pytest.raises(NotFoundError) as caught:
        c.get_manifest(parse_reference(f"{fake.host}/r:v1"))
    assert "NOT_FOUND nothing here" in caught.value.message
    assert caught.value.where == f"{fake.host}/r:v1"


def test_plain_http_refused_for_remote_registries() -> None:
    """A registry not named as loopback is only tried over https; the error names --insecure.

    The machine's own host name resolves locally without being a loopback *name*, and a
    closed port on it refuses the connection (no traffic leaves the machine)."""
    import socket

    host = socket.gethostname()
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        missing(f"this machine's host name {host!r} does not resolve")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with RegistryClient(f"{host}:{port}", retry_delay=0.01) as c, \
            pytest.raises(RegistryError) as caught:
        c.list_tags("r")
    assert c.policy.plain_http_allowed is False
    assert "--insecure" in caught.value.hint


def test_plain_http_fallback_on_loopback(fake: FakeRegistry) -> None:
    """https is tried first (Docker's order); a loopback registry answering only plain http
    is then used over http."""
    fake.routes["/v2/r/tags/list"] = send(b'{"tags":["a"]}')
    with client(fake) as c:
        assert c.list_tags("r") == ["a"]
        assert c._base_url() == f"http://{fake.host}"


def test_refused_token_is_refreshed_once(fake: FakeRegistry) -> None:
    """A token the registry refuses (expired, too narrow) is replaced once, not looped on."""
    issued = iter([b'{"token": "first-token"}', b'{"token": "second-token"}',
                   b'{"token": "third-token"}', b'{"token": "fourth-token"}'])
    fake.routes["/token"] = lambda h: h.reply(200, next(issued))
    challenge = f'Bearer realm="http://{fake.host}/token",service="s"'
    fake.routes["/v2/"] = send(b"", 401, headers={"WWW-Authenticate": challenge})
    fake.routes["/v2/ok/tags/list"] = lambda h: h.reply(
        200 if h.headers.get("Authorization") == "Bearer second-token" else 401,
        b'{"tags": ["t"]}', headers={"WWW-Authenticate": challenge})
    fake.routes["/v2/never/tags/list"] = send(b"", 401, headers={"WWW-Authenticate": challenge})
    with client(fake) as c:
        assert c.list_tags("ok") == ["t"]
        assert c.auth.token_requests == 2
        with pytest.raises(AuthError, match="access denied"):
            c.list_tags("never")
        assert c.auth.token_requests == 4  # proactive + one refresh for the new scope, no loop


def test_index_entry_with_wrong_size(fake: FakeRegistry) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    child = manifest_bytes(config)
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": OCI_MANIFEST, "digest": str(digest(child)),
                                       "size": len(child) + 7,
                                       "platform": {"os": "linux", "architecture": "amd64"}}]})
    fake.routes["/v2/r/manifests/v1"] = send(
        index.encode(), content_type="application/vnd.oci.image.index.v1+json")
    fake.routes[f"/v2/r/manifests/{digest(child)}"] = send(child, content_type=OCI_MANIFEST)
    with pytest.raises(IntegrityError) as caught:
        open_registry_image(parse_reference(f"{fake.host}/r:v1"), SourceOptions())
    assert "size" in caught.value.message


@pytest.mark.parametrize(("location", "message"), [
    ("http://[::1", "Invalid URL in location"),  # httpx itself refuses to parse it
    ("http://127.0.0.1:99999/x", "refusing redirect"),
    ("http://exa mple.com/", "cannot reach"),  # a (bogus) public name: tried, fails cleanly
    ("\x00\x01", "bad answer from the registry"),  # h11 rejects the header line
])
def test_malformed_redirect_location(fake: FakeRegistry, tmp_path: Path, location: str,
                                     message: str) -> None:
    """Garbage Location headers end in one HullguardError, never a traceback."""
    wanted = descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = send(b"", 302, headers={"Location": location})
    with client(fake) as c, pytest.raises(HullguardError) as caught:
        c.fetch_blob("r", wanted, tmp_path / "blob")
    assert message in caught.value.message


def test_long_rate_limit_is_reported_not_slept(fake: FakeRegistry) -> None:
    def limited(handler: Handler) -> None:
        handler.reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
                      headers={"Retry-After": "3600"})
    fake.routes["/v2/r/tags/list"] = limited
    with client(fake) as c, pytest.raises(RegistryError) as caught:
        c.list_tags("r")
    assert "rate limited" in caught.value.message and "3600" in caught.value.hint
    assert sum(r.path == "/v2/r/tags/list" for r in fake.requests) == 1


def test_huge_ping_body_is_not_read(fake: FakeRegistry) -> None:
    """/v2/ claiming a 10 GiB body: the client looks at the status and hangs up."""
    fake.routes["/v2/"] = lambda h: h.reply(200, b"x" * 1000, length=10 << 30)
    fake.routes["/v2/r/tags/list"] = send(b'{"tags": ["a"]}')
    with client(fake) as c:
        assert c.list_tags("r") == ["a"]
