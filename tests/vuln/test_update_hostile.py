"""``db update`` against hostile feed servers on 127.0.0.1: dripping, endless, truncated and
redirecting bodies, and no network at all. Every server is bounded (it gives up after a few
seconds or megabytes) so a regression fails the test instead of hanging it."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.errors import HullguardError
from hullguard.vuln.config import Feed
from hullguard.vuln.update import Bounds, FeedUnreachable, update_feeds
from tests.support.registry import make_cert
from tests.vuln.feeds import osv_record

Behaviour = Callable[[BaseHTTPRequestHandler], None]
GOOD = json.dumps([osv_record("A-1", "a")]).encode()
SERVER_GIVES_UP = 8.0  # seconds a dripping server keeps going (bounds a regression)


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Behaviour]
    seen: list[str]
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("//", 1)[-1].partition("/")[2] if "://" in self.path \
            else self.path.lstrip("/")  # a proxied request carries the absolute URL
        self.seen.append("/" + path)
        behaviour = self.routes.get("/" + path)
        if behaviour is None:
            self.send_error(404)
            return
        with contextlib.suppress(OSError):  # the client hung up, as it should
            behaviour(self)


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[str, list[str], dict[str, Behaviour]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(tls: Path | None = None) -> tuple[str, list[str], dict[str, Behaviour]]:
        routes: dict[str, Behaviour] = {}
        seen: list[str] = []
        handler = type("H", (_Handler,), {"routes": routes, "seen": seen})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            pair = make_cert(tls)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(pair.cert, pair.key)
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            scheme = "https"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"{scheme}://127.0.0.1:{httpd.server_address[1]}", seen, routes

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _body(data: bytes) -> Behaviour:
    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
    return send


def _drip(h: BaseHTTPRequestHandler) -> None:
    """Declares 10 MB, then sends one byte every 0.1 s: no read ever times out."""
    h.send_response(200)
    h.send_header("Content-Length", str(10_000_000))
    h.end_headers()
    stop = time.monotonic() + SERVER_GIVES_UP
    while time.monotonic() < stop:
        h.wfile.write(b"[")
        h.wfile.flush()
        time.sleep(0.1)


def _endless(h: BaseHTTPRequestHandler) -> None:
    """No Content-Length, body until the connection closes: 64 MiB of valid-looking JSON."""
    h.send_response(200)
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(b"[" + b" " * 1024)
    for _ in range(64 * 1024):
        h.wfile.write(b" " * 1024)


def _truncated(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(len(GOOD) * 10))
    h.end_headers()
    h.wfile.write(GOOD)
    h.wfile.flush()
    h.connection.shutdown(2)


def _redirect(location: str) -> Behaviour:
    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return send


def _fast(**kwargs: object) -> Bounds:
    return Bounds.starting_now(**{"seconds": 30.0, "window": 1.0, **kwargs})  # type: ignore[arg-type]


def _seeded_db(tmp_path: Path, base: str, routes: dict[str, Behaviour]) -> tuple[Path, bytes]:
    routes["/good.json"] = _body(GOOD)
    db_path = tmp_path / "db.sqlite"
    assert update_feeds(db_path, [Feed("osv-a", f"{base}/good.json")]).failures == []
    return db_path, db_path.read_bytes()


def test_dripping_server_fails_on_the_minimum_rate(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _seen, routes = serve()
    db_path, before = _seeded_db(tmp_path, base, routes)
    routes["/good.json"] = _drip
    started = time.monotonic()
    result = update_feeds(db_path, [Feed("osv-a", f"{base}/good.json")], bounds=_fast())
    assert time.monotonic() - started < 4.0  # the window is 1 s; the server drips for 8 s
    assert "stalled" in result.failures[0][1]
    assert db_path.read_bytes() == before


def test_endless_body_stops_at_the_feed_cap_and_keeps_the_database(serve, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                   ) -> None:
    base, _seen, routes = serve()
    db_path, before = _seeded_db(tmp_path, base, routes)
    routes["/good.json"] = _endless
    config = tmp_path / "config.toml"
    config.write_text('[vulndb]\nenabled = ["osv-a"]\n[vulndb.max_mib]\n"osv-a" = 1\n')
    result = CliRunner().invoke(app, ["db", "update", "--db", str(db_path), "--config",
                                      str(config), "--url", f"osv-a={base}/good.json"])
    assert result.exit_code == 2, result.output
    assert "exceeds its 1048576-byte limit" in result.output
    assert db_path.read_bytes() == before
    assert not list((tmp_path / "db.sqlite.feeds").glob("*.part"))  # nothing kept to resume


def test_declared_oversize_is_refused_before_reading(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _seen, routes = serve()
    routes["/big.json"] = _drip  # declares 10 MB
    result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{base}/big.json", max_bytes=1000)],
                          bounds=_fast())
    assert "10000000 bytes exceeds its 1000-byte limit" in result.failures[0][1]


def test_truncated_body_keeps_the_database_and_exits_2(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _seen, routes = serve()
    db_path, before = _seeded_db(tmp_path, base, routes)
    routes["/good.json"] = _truncated
    result = CliRunner().invoke(app, ["db", "update", "--db", str(db_path), "--source", "osv-a",
                                      "--url", f"osv-a={base}/good.json"])
    assert result.exit_code == 2 and "download failed" in result.output
    assert db_path.read_bytes() == before


def test_overall_deadline(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _seen, routes = serve()
    routes["/slow.json"] = _drip
    started = time.monotonic()
    result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{base}/slow.json")],
                          bounds=_fast(seconds=1.5, min_rate=1.0, window=60.0))
    assert time.monotonic() - started < 4.0
    assert "deadline" in result.failures[0][1]


def test_redirect_to_metadata_address_is_refused(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _seen, routes = serve()
    routes["/feed.json"] = _redirect("http://169.254.169.254/latest/meta-data/")
    started = time.monotonic()
    result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{base}/feed.json")],
                          bounds=_fast())
    assert time.monotonic() - started < 3.0  # refused before any connection attempt
    assert "link-local" in result.failures[0][1]
    assert not (tmp_path / "db.sqlite").exists()


def test_public_feed_may_not_redirect_to_loopback(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The feed host resolves (by the injected resolver) to a public address; the test server
    plays an HTTP proxy so the request still lands on 127.0.0.1."""
    base, seen, routes = serve()
    port = base.rsplit(":", 1)[1]
    routes["/feed.json"] = _redirect(f"http://127.0.0.1:{port}/secret")
    routes["/secret"] = _body(GOOD)
    feed_url = f"http://feeds.example.test:{port}/feed.json"
    client = httpx.Client(mounts={f"http://feeds.example.test:{port}":
                                  httpx.HTTPTransport(proxy=base)})
    bounds = _fast(resolver=lambda host: ["93.184.216.34"])
    with client:
        result = update_feeds(tmp_path / "db.sqlite", [Feed("x", feed_url)], client=client,
                              bounds=bounds)
    assert "loopback address while the registry is public" in result.failures[0][1]
    assert seen == ["/feed.json"]  # /secret was never requested
    # A feed that itself lives on loopback may redirect within loopback.
    routes["/feed.json"] = _redirect(f"{base}/secret")
    assert update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{base}/feed.json")]).failures == []


def test_https_to_http_downgrade_is_refused(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain, seen, plain_routes = serve()
    plain_routes["/feed.json"] = _body(GOOD)
    secure, _seen, routes = serve(tls=tmp_path / "tls")
    routes["/feed.json"] = _redirect(f"{plain}/feed.json")
    with httpx.Client(verify=ssl.create_default_context(
            cafile=str(tmp_path / "tls" / "server.crt"))) as client:
        result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{secure}/feed.json")],
                              client=client, bounds=_fast())
    assert "from https to plain http" in result.failures[0][1]
    assert seen == []


def test_offline_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    feeds = [Feed(f"f{i}", f"http://127.0.0.1:{port}/{i}.json") for i in range(12)]
    feeds.append(Feed("dns", "https://feeds.invalid/all.zip"))
    with pytest.raises(FeedUnreachable) as caught:
        update_feeds(tmp_path / "db.sqlite", feeds, bounds=_fast())
    assert "13 feeds" in caught.value.message
    assert "db feeds" in caught.value.hint and "db import" in caught.value.hint
    assert isinstance(caught.value, HullguardError) and caught.value.exit_code == 2
    config = tmp_path / "config.toml"  # every default feed, pointed at the dead port
    config.write_text("[vulndb.urls]\n" + "".join(
        f'"{name}" = "http://127.0.0.1:{port}/{name}"\n' for name in _default_names()))
    result = CliRunner().invoke(app, ["db", "update", "--db", str(tmp_path / "db.sqlite"),
                                      "--config", str(config)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) <= 3, result.output
    assert "hullguard db feeds" in result.output and "hullguard db import" in result.output


def _default_names() -> list[str]:
    from hullguard.vuln.config import default_feeds

    return [feed.name for feed in default_feeds() if not feed.name.startswith("nvd-")]


def _drip_headers_server() -> tuple[str, socket.socket]:
    """A raw socket on 127.0.0.1 that answers every request with a status line, then one
    header byte per 0.1 s for SERVER_GIVES_UP seconds: no read ever times out, and httpx's
    own timeouts never end it."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            stop = time.monotonic() + SERVER_GIVES_UP
            while time.monotonic() < stop:
                conn.sendall(b"a")
                time.sleep(0.1)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=serve, args=(listener.accept()[0],),
                                 daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def test_dripping_headers_fail_on_the_minimum_rate(tmp_path: Path) -> None:
    base, listener = _drip_headers_server()
    started = time.monotonic()
    with listener:
        result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{base}/feed.json")],
                              bounds=_fast())  # a 1 s window: the default rule, sooner
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, f"held for {elapsed:.1f} s"  # the server drips for 8 s
    assert "stalled" in result.failures[0][1]
    assert not (tmp_path / "db.sqlite").exists()


def _resolver(answers: dict[str, list[list[str]]]) -> Callable[[str], list[str]]:
    """Answers each name with its next list (the last one repeats): a rebinding DNS server."""
    def resolve(host: str) -> list[str]:
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]
    return resolve


def test_feed_name_resolving_to_link_local_is_refused_at_connect(serve, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                 ) -> None:
    base, seen, routes = serve()
    port = base.rsplit(":", 1)[1]
    routes["/feed.json"] = _body(GOOD)
    # A name the system cannot resolve: the connection goes to the address the policy
    # checked, through the injected resolver (no second lookup).
    bounds = _fast(resolver=_resolver({"feeds.example.test": [["127.0.0.1"]]}))
    feed = Feed("osv-a", f"http://feeds.example.test:{port}/feed.json")
    assert update_feeds(tmp_path / "ok.sqlite", [feed], bounds=bounds).failures == []
    assert seen == ["/feed.json"]
    bounds = _fast(resolver=_resolver({"meta.example.test": [["169.254.169.254"]]}))
    result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"http://meta.example.test:{port}"
                                                             "/feed.json")], bounds=bounds)
    assert "169.254.169.254, a link-local" in result.failures[0][1]
    assert seen == ["/feed.json"] and not (tmp_path / "db.sqlite").exists()


def test_redirect_target_rebound_to_link_local_is_refused_at_connect(serve, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                      ) -> None:
    """The redirect check sees 127.0.0.1 (it resolves the name twice: the policy, then the
    address class); the name then re-binds to the metadata address for the connection."""
    base, seen, routes = serve()
    port = base.rsplit(":", 1)[1]
    routes["/feed.json"] = _redirect(f"http://rebind.example.test:{port}/next.json")
    routes["/next.json"] = _body(GOOD)
    bounds = _fast(resolver=_resolver(
        {"rebind.example.test": [["127.0.0.1"], ["127.0.0.1"], ["169.254.169.254"]]}))
    result = update_feeds(tmp_path / "db.sqlite", [Feed("x", f"{base}/feed.json")],
                          bounds=bounds)
    assert "169.254.169.254, a link-local" in result.failures[0][1]
    assert seen == ["/feed.json"]


def test_private_feed_mirror_needs_the_allowance(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The registries' rule: a private address only when the user allows it."""
    monkeypatch.setenv("HULLGUARD_ALLOW_PRIVATE", "")  # restored after the flag sets it
    command = ["db", "update", "--db", str(tmp_path / "db.sqlite"), "--source", "osv-a",
               "--url", "osv-a=http://10.255.255.1:9/all.json", "--deadline", "2"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert "10.255.255.1: a private address" in result.output.replace("\n", " ")
    assert "--allow-private-registries" in result.output
    result = CliRunner().invoke(app, [*command, "--allow-private-registries"])
    assert result.exit_code == 2  # allowed now: it tries to connect (nothing answers there)
    assert "private address" not in result.output
    assert not (tmp_path / "db.sqlite").exists()
