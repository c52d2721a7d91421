"""The one address policy (netpolicy.checked_addresses) applied to the registry host itself and
at connect time. Names resolve through a fake resolver (no public DNS here); addresses,
sockets and servers are real, on 127.0.0.1. Connections that must not happen are watched at
the socket layer (socket.create_connection, which httpcore and netpolicy.connect use)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.errors import InputError, RegistryError
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient
from hullguard.images.registry.netpolicy import (
    ALLOW_PRIVATE_ENV,
    AddressPolicy,
    AddressRefused,
    checked_addresses,
    connect,
)
from hullguard.images.registry.stall import DEADLINE_ENV
from tests.support.registry import FakeRegistry

NAMES = {"metadata.test": ["169.254.169.254"], "corp.test": ["10.1.2.3"],
         "mixed.test": ["93.184.216.34", "192.168.7.7"], "public.test": ["93.184.216.34"]}


def resolver(host: str) -> list[str]:
    return NAMES.get(host, [])


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every TCP connection attempted (then made for real)."""
    seen: list[Any] = []
    real = socket.create_connection

    def watched(address: Any, *args: Any, **kw: Any) -> socket.socket:
        seen.append(address)
        return real(address, *args, **kw)

    monkeypatch.setattr(socket, "create_connection", watched)
    yield seen


@pytest.fixture(autouse=True)
def no_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI flags record their choice in the environment: restored after each test."""
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    monkeypatch.delenv(DEADLINE_ENV, raising=False)


DEFAULT = AddressPolicy()


@pytest.mark.parametrize(("host", "reason"), [
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("fd00:ec2::254", "metadata"), ("100.100.100.200", "metadata"),
    ("0.0.0.0", "reserved"), ("224.0.0.1", "reserved"),
    ("::ffff:169.254.169.254", "link-local"), ("metadata.test", r"169\.254\.169\.254"),
    ("10.0.0.1", "private"), ("172.16.5.5", "private"), ("192.168.1.1", "private"),
    ("fc00::5", "private"), ("100.64.0.1", "private"), ("corp.test", "10.1.2.3"),
    ("mixed.test", "192.168.7.7"),  # one private answer is enough: we could land there
])
def test_refused_by_default(host: str, reason: str) -> None:
    with pytest.raises(AddressRefused, match=reason):
        checked_addresses(host, what="registry", where=host, policy=DEFAULT,
                          resolver=resolver)


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", ["127.0.0.1"]), ("::1", ["::1"]), ("127.9.9.9", ["127.9.9.9"]),
    ("8.8.8.8", ["8.8.8.8"]), ("public.test", ["93.184.216.34"]),
    ("unresolvable.test", []),
])
def test_allowed_by_default(host: str, expected: list[str]) -> None:
    assert checked_addresses(host, what="registry", where=host, policy=DEFAULT,
                             resolver=resolver) == expected


@pytest.mark.parametrize(("allow", "host"), [
    ("*", "10.0.0.1"), ("*", "fc00::5"), ("*", "100.64.0.1"), ("corp.test", "corp.test"),
    ("10.0.0.0/8", "corp.test"), ("192.168.7.7", "mixed.test"), ("x.test, *", "172.16.0.9"),
])
def test_private_allowed_when_the_user_says_so(allow: str, host: str) -> None:
    policy = AddressPolicy.from_env({ALLOW_PRIVATE_ENV: allow})
    assert checked_addresses(host, what="registry", where=host, policy=policy,
                             resolver=resolver)


@pytest.mark.parametrize("allow", ["*", "169.254.0.0/16", "metadata.test"])
def test_metadata_is_refused_whatever_is_allowed(allow: str) -> None:
    policy = AddressPolicy.from_env({ALLOW_PRIVATE_ENV: allow})
    with pytest.raises(AddressRefused, match="link-local"):
        checked_addresses("metadata.test", what="registry", where="w", policy=policy,
                          resolver=resolver)


def test_allow_list_other_names_stay_refused() -> None:
    policy = AddressPolicy.from_env({ALLOW_PRIVATE_ENV: "corp.test,192.168.0.0/16"})
    with pytest.raises(AddressRefused):
        checked_addresses("10.0.0.1", what="registry", where="w", policy=policy)


def test_bad_allow_list_entry_is_an_input_error() -> None:
    with pytest.raises(InputError, match="HULLGUARD_ALLOW_PRIVATE"):
        AddressPolicy.from_env({ALLOW_PRIVATE_ENV: "10.0.0.0/33!"})


def test_connect_refuses_before_any_socket(attempts: list[Any]) -> None:
    with pytest.raises(AddressRefused):
        connect("169.254.169.254", 80, timeout=1, what="feed", where="w")
    assert attempts == []


def test_registry_from_a_manifest_on_the_metadata_address_is_never_contacted(
        attempts: list[Any]) -> None:
    """An image reference ``169.254.169.254/...`` (say, from an attacker's manifest): no
    connection to port 443 or 80, one clear error."""
    ref = parse_reference("169.254.169.254/latest/meta-data:v1")
    with RegistryClient(ref.api_registry, insecure=True, timeout=2) as client, \
            pytest.raises(AddressRefused, match=r"refusing registry 169\.254\.169\.254"):
        client.get_manifest(ref)
    assert attempts == []


def test_private_registry_needs_the_users_allowance(attempts: list[Any]) -> None:
    ref = parse_reference("10.1.2.3:5000/app:v1")
    with RegistryClient(ref.api_registry, timeout=2) as client, \
            pytest.raises(AddressRefused) as caught:
        client.get_manifest(ref)
    assert "private" in caught.value.message
    assert "--allow-private-registries" in caught.value.hint
    assert attempts == []


def rebinding(first: str, later: str) -> Callable[[str], list[str]]:
    """A name whose first answer (the pre-check) is ``first`` and every later one
    (connect time) is ``later``: a DNS-rebinding attacker's resolver."""
    answers = iter([[first]])
    return lambda host: next(answers, [later])


@pytest.mark.parametrize("later", ["169.254.169.254", "10.0.0.7"])
def test_rebinding_is_caught_at_connect_time(fake: FakeRegistry, attempts: list[Any],
                                             later: str) -> None:
    port = fake.host.rsplit(":", 1)[1]
    with RegistryClient(f"rebind.test:{port}", insecure=True, timeout=2, retry_delay=0.01,
                        resolver=rebinding("127.0.0.1", later)) as client, \
            pytest.raises(AddressRefused) as caught:
        client.get_manifest(parse_reference(f"rebind.test:{port}/r:v1"))
    assert later in caught.value.message
    assert attempts == [] and fake.requests == []


def test_connection_goes_to_the_checked_address(fake: FakeRegistry,
                                                attempts: list[Any]) -> None:
    """The name is resolved once per connection by the policy, and the socket opened to
    that address (no second lookup an attacker could answer differently)."""
    port = fake.host.rsplit(":", 1)[1]
    fake.routes["/v2/r/manifests/v1"] = lambda h: h.reply(
        200, b'{"schemaVersion":2}', "application/json")
    with RegistryClient(f"loop.test:{port}", insecure=True, timeout=2,
                        resolver=lambda host: ["127.0.0.1"]) as client:
        body, _, _ = client.get_manifest(parse_reference(f"loop.test:{port}/r:v1"))
    assert body == b'{"schemaVersion":2}'
    assert attempts and all(address[0] == "127.0.0.1" for address in attempts)


def test_cli_refuses_private_registry_without_the_flag(attempts: list[Any]) -> None:
    result = CliRunner().invoke(app, ["sbom", "192.168.77.77:5000/app:v1", "-q"])
    assert result.exit_code == 2
    assert "private address" in result.output and "--allow-private-registries" in result.output
    assert attempts == []


def test_cli_flag_allows_private_registries(monkeypatch: pytest.MonkeyPatch,
                                            attempts: list[Any]) -> None:
    """With the flag the private registry is contacted (nothing listens there: the error is
    then about reaching it, not the policy)."""
    monkeypatch.setattr(socket, "create_connection", _refuse_connection(attempts))
    result = CliRunner().invoke(app, ["sbom", "192.168.77.77:5000/app:v1", "-q",
                                      "--allow-private-registries", "--registry-deadline", "5"])
    assert result.exit_code == 2
    assert "private address" not in result.output
    assert "cannot reach the registry" in result.output
    assert ("192.168.77.77", 5000) in attempts


def _refuse_connection(seen: list[Any]) -> Callable[..., socket.socket]:
    """Record the attempt and fail it at once (no packet leaves for 192.168.77.77)."""
    def refuse(address: Any, *args: Any, **kw: Any) -> socket.socket:
        seen.append(address)
        raise ConnectionRefusedError(111, "Connection refused")
    return refuse


def test_no_answer_at_connect_time_opens_no_socket(fake: FakeRegistry,
                                                   attempts: list[Any]) -> None:
    """An empty answer must not hand the name to the socket layer's own lookup (which an
    attacker's DNS could answer with 169.254.169.254)."""
    port = fake.host.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"]])
    with RegistryClient(f"vanish.test:{port}", insecure=True, timeout=2, retry_delay=0.01,
                        resolver=lambda host: next(answers, [])) as client, \
            pytest.raises(RegistryError, match="not known"):
        client.get_manifest(parse_reference(f"vanish.test:{port}/r:v1"))
    assert attempts == [] and fake.requests == []
