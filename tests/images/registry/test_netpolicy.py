"""Which realm and redirect targets a registry may send us to. DNS answers come from a fake
resolver (a public registry cannot run here); the address logic is the real one."""

from __future__ import annotations

import ipaddress

import pytest

from hullguard.errors import AuthError
from hullguard.images.registry.netpolicy import (
    AddressClass,
    AddressPolicy,
    NetPolicy,
    classify_address,
    classify_host,
    is_loopback_host,
    same_origin,
)

DNS = {"registry.example.com": ["93.184.216.34"], "auth.example.com": ["93.184.216.35"],
       "internal.example.com": ["10.1.2.3"], "split.example.com": ["93.184.216.36", "10.0.0.5"],
       "rebind.example.com": ["169.254.169.254"], "corp-registry": ["10.9.9.9"]}


def resolver(host: str) -> list[str]:
    return DNS.get(host, [])


def public_policy(insecure: bool = False) -> NetPolicy:
    return NetPolicy("registry.example.com", insecure=insecure, resolver=resolver)


@pytest.mark.parametrize(("address", "kind"), [
    ("8.8.8.8", AddressClass.PUBLIC), ("2606:4700::1111", AddressClass.PUBLIC),
    ("10.0.0.1", AddressClass.PRIVATE), ("192.168.1.1", AddressClass.PRIVATE),
    ("172.16.0.1", AddressClass.PRIVATE), ("100.64.0.1", AddressClass.PRIVATE),
    ("fc00::1", AddressClass.PRIVATE),
    ("127.0.0.1", AddressClass.LOOPBACK), ("127.5.5.5", AddressClass.LOOPBACK),
    ("::1", AddressClass.LOOPBACK),
    ("169.254.169.254", AddressClass.FORBIDDEN), ("fe80::1", AddressClass.FORBIDDEN),
    ("fd00:ec2::254", AddressClass.FORBIDDEN), ("fd12::1", AddressClass.FORBIDDEN),
    ("100.100.100.200", AddressClass.FORBIDDEN), ("0.0.0.0", AddressClass.FORBIDDEN),
    ("224.0.0.1", AddressClass.FORBIDDEN), ("240.0.0.1", AddressClass.FORBIDDEN),
    ("::ffff:169.254.169.254", AddressClass.FORBIDDEN),
    ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
])
def test_address_classes(address: str, kind: AddressClass) -> None:
    assert classify_address(ipaddress.ip_address(address)) is kind


def test_host_class_takes_the_most_internal_answer() -> None:
    assert classify_host("split.example.com", resolver) is AddressClass.PRIVATE
    assert classify_host("localhost", resolver) is AddressClass.LOOPBACK
    assert classify_host("[::1]", resolver) is AddressClass.LOOPBACK


@pytest.mark.parametrize("realm", [
    "https://auth.example.com/token",  # Docker Hub style: another public host over https
    "https://registry.example.com/token",
])
def test_public_realms_allowed(realm: str) -> None:
    public_policy().check_url(realm, "token realm", "where")


@pytest.mark.parametrize(("realm", "reason"), [
    ("http://auth.example.com/token", "plain http"),
    ("https://10.1.2.3/token", "private"),
    ("https://internal.example.com/token", "private"),
    ("https://split.example.com/token", "private"),
    ("https://127.0.0.1:5001/token", "loopback"),
    ("https://localhost/token", "loopback"),
    ("https://rebind.example.com/token", "link-local"),
    ("https://[fe80::1%25eth0]/token", "link-local"),
    ("ftp://auth.example.com/token", "not an http"),
    ("https:///token", "not an http"),
])
def test_public_registry_refuses(realm: str, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        public_policy().check_url(realm, "token realm", "where")


def test_insecure_allows_http_but_not_internal_addresses() -> None:
    policy = public_policy(insecure=True)
    policy.check_url("http://auth.example.com/token", "token realm", "w")
    with pytest.raises(AuthError, match="private"):
        policy.check_url("http://10.0.0.1/token", "token realm", "w")


def test_private_registry_may_use_private_realm_but_not_loopback() -> None:
    policy = NetPolicy("corp-registry", insecure=False, resolver=resolver,
                       addresses=AddressPolicy(all_private=True))
    policy.check_url("https://internal.example.com/token", "token realm", "w")
    with pytest.raises(AuthError, match="loopback"):
        policy.check_url("https://127.0.0.1/token", "token realm", "w")


def test_loopback_registry_allows_http_loopback_realm() -> None:
    policy = NetPolicy("127.0.0.1", insecure=False, resolver=resolver)
    assert policy.plain_http_allowed
    policy.check_url("http://localhost:5001/token", "token realm", "w")
    with pytest.raises(AuthError):
        policy.check_url("http://169.254.169.254/", "token realm", "w")


def test_credentials_only_to_same_host_or_https() -> None:
    policy = NetPolicy("127.0.0.1", insecure=False, resolver=resolver)
    assert policy.may_send_credentials("http://127.0.0.1:5001/token")
    assert policy.may_send_credentials("https://localhost/token")
    assert not policy.may_send_credentials("http://localhost:5001/token")


def test_messages_hide_query_strings() -> None:
    with pytest.raises(AuthError) as caught:
        public_policy().check_url("http://10.0.0.1/t?access_token=SECRETTOKEN", "redirect", "w")
    assert "SECRETTOKEN" not in str(caught.value)


def test_helpers() -> None:
    assert is_loopback_host("127.0.0.2") and is_loopback_host("LOCALHOST")
    assert not is_loopback_host("example.com") and not is_loopback_host("10.0.0.1")
    assert same_origin("https://a:443/x", "https://A/y")
    assert not same_origin("http://a/x", "https://a/x")
    assert not same_origin("http://a:1/x", "http://a:2/x")
