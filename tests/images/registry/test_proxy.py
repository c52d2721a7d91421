"""HTTP(S)_PROXY and NO_PROXY are honoured, as by curl and the Go tools; loopback registries
always go direct (as in Go's net/http); a proxy password never shows in an error.

The proxy is Debian's real tinyproxy on 127.0.0.1 (it adds a ``Via`` header, which the scripted
registry records). A proxied registry must not be on loopback, so it listens on this machine's
first non-loopback IPv4 address (plain http there needs ``insecure``, as for any remote host).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.errors import RegistryError
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient
from hullguard.images.registry.client import proxy_secrets
from hullguard.images.registry.netpolicy import AddressPolicy
from tests.support.env import missing, tool
from tests.support.registry import FakeRegistry

MANIFEST = b'{"schemaVersion": 2}'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"tinyproxy did not listen on 127.0.0.1:{port}")


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[str]:
    """A running tinyproxy; yields its URL."""
    binary = tool("tinyproxy")
    port = _free_port()
    config = tmp_path / "tinyproxy.conf"
    config.write_text(f"Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\n"
                      "LogLevel Critical\nMaxClients 20\n")
    process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _outward_address() -> str:
    """This machine's address for leaving it (no packet is sent: UDP connect only routes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        missing("no non-loopback IPv4 address to put a proxied test registry on")
    return address


@pytest.fixture
def remote() -> Iterator[FakeRegistry]:
    server = FakeRegistry(host=_outward_address())
    server.routes["/v2/r/manifests/v1"] = lambda h: h.reply(200, MANIFEST, "application/json")
    yield server
    server.close()


def _fetch(registry: FakeRegistry, **kw: object) -> bytes:
    # the test registry is on this machine's outward address, usually a private one
    allowed = AddressPolicy.parse([registry.host.rsplit(":", 1)[0]])
    with RegistryClient(registry.host, retry_delay=0.01, addresses=allowed,
                        **kw) as client:  # type: ignore[arg-type]
        body, _, _ = client.get_manifest(parse_reference(f"{registry.host}/r:v1"))
    return body


def _via(registry: FakeRegistry) -> set[str]:
    return {request.headers.get("via", "") for request in registry.requests}


def test_http_proxy_carries_requests_to_a_remote_registry(
        proxy: str, remote: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _fetch(remote, insecure=True) == MANIFEST
    assert all("tinyproxy" in via for via in _via(remote))  # every request went through it


def test_no_proxy_sends_the_registry_direct(
        proxy: str, remote: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", remote.host.split(":")[0])
    assert _fetch(remote, insecure=True) == MANIFEST
    assert _via(remote) == {""}


def test_loopback_registries_never_use_the_proxy(
        proxy: str, fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.routes["/v2/r/manifests/v1"] = lambda h: h.reply(200, MANIFEST, "application/json")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _fetch(fake) == MANIFEST
    assert _via(fake) == {""}


def test_any_loopback_address_goes_direct(proxy: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.2 is loopback for the net policy (plain http allowed), so it is not proxied."""
    other = FakeRegistry(host="127.0.0.2")
    other.routes["/v2/r/manifests/v1"] = lambda h: h.reply(200, MANIFEST, "application/json")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        assert _fetch(other) == MANIFEST
        assert _via(other) == {""}
    finally:
        other.close()


def test_a_dead_proxy_is_one_clear_error_without_its_password(
        remote: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://bob:Proxy-S3cret@127.0.0.1:{_free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(RegistryError) as caught:
        _fetch(remote, insecure=True)
    assert "cannot reach the registry" in caught.value.message
    assert "HTTP_PROXY=http://bob:***@127.0.0.1:" in caught.value.hint  # the user learns why
    assert f"NO_PROXY={remote.host.split(':')[0]}" in caught.value.hint
    assert "Proxy-S3cret" not in caught.value.diagnostics()
    assert remote.requests == []


def test_proxy_secrets_are_found_in_any_proxy_variable() -> None:
    environ = {"HTTPS_PROXY": "http://u:one@p:1", "http_proxy": "http://two-only@p:1",
               "ALL_PROXY": "socks5://u:three@p:1", "PATH": "http://u:not-a-proxy@x"}
    assert sorted(proxy_secrets(environ)) == ["one", "three"]
