"""Real registries for the tests, on 127.0.0.1, one set per pytest(-xdist) worker.

* :func:`start_registry` runs Debian's ``docker-registry`` (distribution 2.8) with storage in a
  temp dir: anonymous plain HTTP, htpasswd + TLS, or token auth backed by :class:`TokenServer`
  (a tiny JWT issuer written here; the registry trusts its certificate as ``rootcertbundle``).
* :class:`FakeRegistry` is a scriptable HTTP server for misbehaving-registry tests: routes map
  a path to a handler, and every request's headers are recorded.
* Session fixtures other areas can import into their conftest: ``registry_server``,
  ``tls_registry``, ``token_registry`` (each yields a :class:`RegistryServer`).

Push images with :func:`skopeo_push` (skopeo from Debian) or the project's own client
(``hullguard.images.registry.push_layout``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.server
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hullguard.model import Digest
from tests.support.env import missing, tool

REGISTRY_BIN = "/usr/bin/docker-registry"
READY_TIMEOUT = 20.0
USERNAME, PASSWORD = "hullguard", "s3cret-Pa55word-for-tests"
SERVICE, ISSUER = "hullguard-test-registry", "hullguard-test-issuer"


def free_port() -> int:
    """A port that was free a moment ago (the registry needs a number in its config)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- certificates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path

    def der(self) -> bytes:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        return x509.load_pem_x509_certificate(self.cert.read_bytes()).public_bytes(Encoding.DER)


def make_cert(directory: Path, name: str = "server") -> CertPair:
    """A self-signed RSA certificate for localhost / 127.0.0.1 / ::1 (also usable as a CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hullguard test {name}")])
    now = datetime.datetime.now(datetime.UTC)
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertPair(directory / f"{name}.crt", directory / f"{name}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return pair


# -- a tiny JWT token server ----------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt(claims: dict[str, Any], pair: CertPair) -> str:
    """RS256 JWT with the certificate in ``x5c`` (distribution verifies it against its
    ``rootcertbundle``: registry/auth/token/token.go, parseAndVerifyCertChain)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(pair.der()).decode()]}
    signing_input = f"{_b64url(json.dumps(header).encode())}." \
                    f"{_b64url(json.dumps(claims).encode())}"
    key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


@dataclass
class TokenServer:
    """Issues registry tokens. Credentials are required unless ``anonymous_pull`` (then an
    anonymous caller gets pull access only). ``requests`` records (path+query, headers)."""

    pair: CertPair
    username: str = USERNAME
    password: str = PASSWORD
    anonymous_pull: bool = False
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> TokenServer:
        self._server = serve(self._handle)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, handler: Handler) -> None:
        self.requests.append((handler.path, dict(handler.headers.items())))
        query = parse_qs(urlsplit(handler.path).query)
        authorized = handler.headers.get("Authorization", "") == "Basic " + base64.b64encode(
            f"{self.username}:{self.password}".encode()).decode()
        if not authorized and not self.anonymous_pull:
            handler.reply(401, b'{"details":"bad credentials"}')
            return
        access = [_grant(scope, authorized) for scope in query.get("scope", [])]
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": self.username if authorized else "", "aud": SERVICE,
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": f"t{now}-{id(query)}",
                  "access": [a for a in access if a]}
        body = {"token": sign_jwt(claims, self.pair), "expires_in": 300}
        handler.reply(200, json.dumps(body).encode(), "application/json")


def _grant(scope: str, authorized: bool) -> dict[str, Any] | None:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    allowed = [a for a in actions.split(",") if authorized or a == "pull"]
    return {"type": kind, "name": name, "actions": allowed} if kind and name else None


# -- a scriptable HTTP server ---------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    """Dispatches every request to the server's ``route`` callable."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.route(self)

    do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_GET

    def reply(self, status: int, body: bytes = b"", content_type: str = "",
              headers: dict[str, str] | None = None, length: int | None = None) -> None:
        """Send a response; ``length`` may lie about the body size (truncation tests)."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if length is not None and length != len(body):
            self.close_connection = True

    def read_body(self) -> bytes:
        size = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(size) if size else b""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on recorded requests instead."""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    route: Callable[[Handler], None]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer is what several tests provoke: stay quiet."""


def serve(route: Callable[[Handler], None], host: str = "127.0.0.1",
          context: ssl.SSLContext | None = None) -> _Server:
    """Start a threaded HTTP(S) server on a free port calling ``route`` for each request."""
    server = _Server((host, 0), Handler)
    server.route = route
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


class FakeRegistry:
    """A misbehaving registry: ``routes[(METHOD, path)]`` or ``routes[path]`` handles a
    request; unknown paths get 404. ``/v2/`` answers 200 unless routed."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[Any, Callable[[Handler], None]] = {}
        self.requests: list[Recorded] = []
        self._server = serve(self._route, host)
        self.port = int(self._server.server_address[1])
        self.host = f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _route(self, handler: Handler) -> None:
        path = urlsplit(handler.path).path
        self.requests.append(Recorded(handler.command, handler.path,
                                      {k.lower(): v for k, v in handler.headers.items()}))
        route = self.routes.get((handler.command, path)) or self.routes.get(path)
        if route is not None:
            route(handler)
        elif path == "/v2/":
            handler.reply(200, b"{}", "application/json")
        else:
            handler.reply(404, b'{"errors":[{"code":"NOT_FOUND","message":"nothing here"}]}',
                          "application/json")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- docker-registry ------------------------------------------------------------------------

@dataclass
class RegistryServer:
    """A running docker-registry. ``host`` is ``127.0.0.1:PORT`` (use it in references)."""

    host: str
    root: Path
    scheme: str = "http"
    ca_file: Path | None = None
    username: str = ""
    password: str = ""
    token_server: TokenServer | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def ref(self, repository: str, tag: str = "latest") -> str:
        return f"{self.host}/{repository}:{tag}"


def _registry_config(root: Path, port: int, extra: dict[str, Any]) -> Path:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")},
                    "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "hullguard-tests"}}
    for key, value in extra.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    path = root / "config.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path,
                context: ssl.SSLContext | None) -> None:
    """Poll ``/v2/`` until it answers (any HTTP status) or the bounded timeout passes."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url + "/v2/", timeout=2, context=context).close()
            return
        except urllib.error.HTTPError:
            return  # 401: up and asking for auth
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry not ready after {READY_TIMEOUT} s: {log.read_text()}")


@contextlib.contextmanager
def start_registry(root: Path, *, tls: bool = False, htpasswd: bool = False,
                   token: bool = False, anonymous_pull: bool = False,
                   config: dict[str, Any] | None = None) -> Iterator[RegistryServer]:
    """Run docker-registry in ``root`` until the block ends. ``htpasswd`` and ``token`` set up
    the two auth modes (user :data:`USERNAME` / :data:`PASSWORD`); ``tls`` serves https with a
    fresh self-signed certificate (``server.ca_file`` trusts it). ``config`` sections are
    merged into the registry's config (e.g. JSON logs and notification endpoints); its log
    goes to ``root/registry.log``."""
    if not Path(REGISTRY_BIN).exists():
        missing("docker-registry not installed (Debian package docker-registry)")
    root.mkdir(parents=True, exist_ok=True)
    server = RegistryServer("", root)
    extra: dict[str, Any] = dict(config or {})
    token_server = None
    if tls:
        pair = make_cert(root / "tls")
        extra["http"] = {"tls": {"certificate": str(pair.cert), "key": str(pair.key)}}
        server.scheme, server.ca_file = "https", pair.cert
    if htpasswd:
        extra["auth"] = {"htpasswd": {"realm": "hullguard-test", "path": _htpasswd(root)}}
    if token:
        token_server = TokenServer(make_cert(root / "token", "token"),
                                   anonymous_pull=anonymous_pull).start()
        extra["auth"] = {"token": {"realm": token_server.realm, "service": SERVICE,
                                   "issuer": ISSUER,
                                   "rootcertbundle": str(token_server.pair.cert)}}
    if htpasswd or token:
        server.username, server.password = USERNAME, PASSWORD
    server.token_server = token_server
    try:
        yield from _run(server, extra)
    finally:
        if token_server:
            token_server.stop()


def _run(server: RegistryServer, extra: dict[str, Any]) -> Iterator[RegistryServer]:
    for attempt in range(3):  # the free port may be taken between probe and bind: retry
        port = free_port()
        config = _registry_config(server.root, port, extra)
        log = server.root / "registry.log"
        with log.open("wb") as out:
            process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=out,
                                       stderr=subprocess.STDOUT)
        server.host, server.process = f"127.0.0.1:{port}", process
        context = ssl.create_default_context(cafile=str(server.ca_file)) \
            if server.ca_file else None
        try:
            _wait_ready(process, server.url, log, context)
            break
        except RuntimeError:
            process.kill()
            process.wait()
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a clean shutdown), SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _htpasswd(root: Path) -> str:
    done = subprocess.run([tool("htpasswd"), "-Bbn", USERNAME, PASSWORD], capture_output=True,
                          check=True)
    path = root / "htpasswd"
    path.write_bytes(done.stdout)
    return str(path)


# -- pushing --------------------------------------------------------------------------------

def skopeo_push(layout: Path, tag: str, server: RegistryServer, repository: str,
                dest_tag: str = "", *, all_platforms: bool = True, format: str = "") -> None:
    """``skopeo copy oci:LAYOUT:TAG docker://HOST/REPO:TAG`` (TLS verification off);
    ``format="v2s2"`` converts to Docker schema-2 manifests on the way."""
    skopeo = tool("skopeo")
    policy = server.root / "policy.json"
    policy.write_text('{"default":[{"type":"insecureAcceptAnything"}]}')
    command = [skopeo, "--policy", str(policy), "copy", "--quiet", "--dest-tls-verify=false"]
    if all_platforms:
        command.append("--all")
    if format:
        command += ["--format", format]
    if server.username:
        command += ["--dest-creds", f"{server.username}:{server.password}"]
    command += [f"oci:{layout}:{tag}", f"docker://{server.host}/{repository}:{dest_tag or tag}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"skopeo copy failed: {done.stderr[-2000:]}")


@dataclass(frozen=True)
class Pushed:
    """An image the tests pushed: where it is, by tag and by digest."""

    host: str
    repository: str
    tag: str
    digest: Digest

    @property
    def by_tag(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"

    @property
    def by_digest(self) -> str:
        return f"{self.host}/{self.repository}@{self.digest}"


# -- fixtures (import them into a conftest.py to use them) ----------------------------------

@pytest.fixture(scope="session")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """Anonymous plain-HTTP docker-registry on 127.0.0.1 (one per xdist worker)."""
    with start_registry(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """docker-registry with htpasswd (Basic) auth over TLS; ``ca_file`` trusts its cert."""
    with start_registry(tmp_path_factory.mktemp("tls-registry"), tls=True,
                        htpasswd=True) as server:
        yield server


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """docker-registry with bearer-token auth from a :class:`TokenServer` (plain HTTP)."""
    with start_registry(tmp_path_factory.mktemp("token-registry"), token=True) as server:
        yield server


def have_skopeo() -> bool:
    return shutil.which("skopeo") is not None
