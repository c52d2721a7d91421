"""Which hosts we may talk to, over which scheme, and with which credentials.

This is the one address policy for every outgoing connection hullguard makes (registries,
their token realms and redirects, feeds, webhooks). Other clients call
:func:`checked_addresses` (or :func:`connect`) before connecting, or build their httpx client
with :func:`hullguard.images.registry.transport.guarded_client`, which checks the resolved
addresses at connect time. :class:`AddressPolicy` says what a destination may be:

* loopback and public addresses: allowed;
* link-local (169.254.0.0/16, fe80::/10), cloud metadata (incl. fd00::/8), unspecified,
  multicast and reserved addresses: always refused;
* private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, CGNAT 100.64/10): refused unless
  the user allows them (``--allow-private-registries``, or ``HULLGUARD_ALLOW_PRIVATE`` with
  ``*``, host names and CIDRs, comma-separated).

A name is judged by every address it resolves to, and the connection goes to the addresses
that were checked (no second lookup), so a name re-bound to 169.254.169.254 is refused too.

A registry is attacker-controlled: its auth challenge names a token "realm" URL and its blob
responses may redirect anywhere. Following either blindly turns the client into a tool for
reaching internal services (cloud metadata at 169.254.169.254, admin ports on loopback) or for
handing the user's password to a third party. The rules, applied before any connection:

* plain ``http`` only for loopback hosts or with ``--insecure``;
* a target address is classified (public < private < loopback); it may not be *more internal*
  than the registry itself, so a public registry cannot point us at 10.0.0.0/8 or 127.0.0.1,
  while a registry on loopback may use a token server on loopback;
* link-local (169.254.0.0/16, fe80::/10), cloud-metadata (incl. fd00::/8), unspecified,
  multicast and reserved addresses are always refused.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from urllib.parse import SplitResult, urlsplit

from hullguard.errors import AuthError, InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOW_PRIVATE_ENV = "HULLGUARD_ALLOW_PRIVATE"
Resolver = Callable[[str], list[str]]

# Cloud metadata endpoints outside link-local space: Alibaba, Oracle, and fd00::/8 (the AWS
# IPv6 endpoint fd00:ec2::254 lives there; refusing the whole /8 follows our security brief).
_METADATA = tuple(ipaddress.ip_network(net) for net in (
    "100.100.100.200/32", "192.0.0.192/32", "fd00::/8"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class AddressClass(IntEnum):
    """Ordered from most external to most internal; FORBIDDEN is never reachable."""

    PUBLIC = 0
    PRIVATE = 1
    LOOPBACK = 2
    FORBIDDEN = 3


def classify_address(address: IPAddress) -> AddressClass:
    """The class of one IP address (IPv4-mapped IPv6 is judged as its IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in net for net in _METADATA if net.version == address.version):
        return AddressClass.FORBIDDEN
    if address.is_loopback:
        return AddressClass.LOOPBACK
    if (address.is_link_local or address.is_unspecified or address.is_multicast
            or address.is_reserved):
        return AddressClass.FORBIDDEN
    if address.is_private or (address.version == 4 and address in _CGNAT):
        return AddressClass.PRIVATE
    return AddressClass.PUBLIC


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (an empty list when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def classify_host(host: str, resolver: Resolver = system_resolver) -> AddressClass:
    """The most internal class among the addresses ``host`` resolves to.

    Taking the most internal one means a name resolving to both a public and a private
    address is treated as private (the connection could land on either).
    """
    literal = _literal(host)
    if literal is not None:
        return classify_address(literal)
    if host.lower().rstrip(".") in LOCAL_NAMES or host.lower().endswith(".localhost"):
        return AddressClass.LOOPBACK
    addresses = [a for a in (_literal(text) for text in resolver(host)) if a is not None]
    if not addresses:
        return AddressClass.PUBLIC  # unresolvable: the connection itself will fail
    return max(classify_address(address) for address in addresses)


def is_loopback_host(host: str) -> bool:
    """True for localhost names and 127.0.0.0/8 / ::1 literals (no DNS lookup)."""
    literal = _literal(host)
    if literal is not None:
        return classify_address(literal) is AddressClass.LOOPBACK
    return host.lower().rstrip(".") in LOCAL_NAMES or host.lower().endswith(".localhost")


def split_host_port(netloc: str) -> tuple[str, int | None]:
    """``host:port`` / ``[v6]:port`` / ``host`` -> (host, port)."""
    parts = urlsplit("//" + netloc)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or netloc).lower(), port


class AddressRefused(AuthError):
    """A destination's address is not one the address policy lets us connect to."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which private destinations the user allowed (see the module docstring)."""

    all_private: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def parse(cls, entries: Iterable[str], where: str = ALLOW_PRIVATE_ENV) -> AddressPolicy:
        """``*`` (every private range), host names and CIDRs / addresses."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        every = False
        for entry in (e.strip().lower() for e in entries):
            if entry == "*":
                every = True
            elif entry:
                network = _network(entry)
                if network is None and not _looks_like_host(entry):
                    raise InputError(f"{entry!r} is not '*', a host name or a CIDR",
                                     where=where)
                networks += [network] if network is not None else []
                hosts |= set() if network is not None else {entry.strip("[]")}
        return cls(every, frozenset(hosts), tuple(networks))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AddressPolicy:
        """The policy ``HULLGUARD_ALLOW_PRIVATE`` (which the CLI flag sets) describes."""
        text = (os.environ if environ is None else environ).get(ALLOW_PRIVATE_ENV, "")
        return cls.parse(text.split(","))

    def permits(self, host: str, address: IPAddress) -> bool:
        """May we connect to ``address`` (one answer for ``host``)?"""
        kind = classify_address(address)
        if kind is AddressClass.FORBIDDEN:
            return False
        if kind is not AddressClass.PRIVATE or self.all_private:
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return host.lower().strip("[]").rstrip(".") in self.hosts or any(
            address in net for net in self.networks if net.version == address.version)


def allow_private_everywhere(entries: str = "*") -> None:
    """Add ``entries`` to ``HULLGUARD_ALLOW_PRIVATE`` for this process and its children (the
    CLI flag: fleet scans run in worker processes, which inherit the environment)."""
    current = os.environ.get(ALLOW_PRIVATE_ENV, "")
    os.environ[ALLOW_PRIVATE_ENV] = ",".join(p for p in (current, entries) if p)


def checked_addresses(host: str, *, what: str, where: str,
                      policy: AddressPolicy | None = None,
                      resolver: Resolver = system_resolver) -> list[str]:
    """The addresses of ``host`` we may connect to; AddressRefused if any answer is refused.

    The public entry point of the policy: resolve once, judge every answer (a name with one
    forbidden answer is refused, as the connection could land there), then connect only to
    the returned addresses. An unresolvable name returns [] (connecting will fail)."""
    policy = AddressPolicy.from_env() if policy is None else policy
    literal = _literal(host)
    texts = [str(literal)] if literal is not None else resolver(host)
    addresses = [a for a in (_literal(t) for t in texts) if a is not None]
    for address in addresses:
        if not policy.permits(host, address):
            raise _refusal(host, address, what, where)
    return [str(a) for a in addresses]


def connect(host: str, port: int, *, timeout: float, what: str, where: str,
            policy: AddressPolicy | None = None,
            resolver: Resolver = system_resolver) -> socket.socket:
    """A TCP connection to ``host:port`` through :func:`checked_addresses` (raw clients)."""
    addresses = checked_addresses(host, what=what, where=where, policy=policy,
                                  resolver=resolver)
    if not addresses:
        raise OSError(f"{host} does not resolve")
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as failed:
            error = failed
    assert error is not None
    raise error


def _refusal(host: str, address: IPAddress, what: str, where: str) -> AddressRefused:
    subject = what if host.strip("[]") in what else f"{what} {host}"
    via = "" if str(address) == host.strip("[]") else f"it resolves to {address}, "
    if classify_address(address) is AddressClass.FORBIDDEN:
        return AddressRefused(f"refusing {subject}: {via}a link-local, cloud-metadata or "
                              "reserved address", where=where,
                              hint="such addresses are never contacted (SSRF protection)")
    return AddressRefused(f"refusing {subject}: {via}a private address", where=where,
                          hint=f"pass --allow-private-registries, or set {ALLOW_PRIVATE_ENV}="
                               "HOST or CIDR (comma-separated; * for every private range)")


def _network(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        return None


def _looks_like_host(text: str) -> bool:
    return all(part and all(c.isalnum() or c in "-_" for c in part)
               for part in text.rstrip(".").split("."))


class NetPolicy:
    """The rules for one registry: what its realm and redirect URLs may point to."""

    def __init__(self, registry_host: str, *, insecure: bool,
                 resolver: Resolver = system_resolver,
                 addresses: AddressPolicy | None = None) -> None:
        self.registry_host = registry_host.lower()
        self.insecure = insecure
        self.resolver = resolver
        self.addresses = AddressPolicy.from_env() if addresses is None else addresses
        self.plain_http_allowed = insecure or is_loopback_host(registry_host)
        self._registry_class: AddressClass | None = None

    @property
    def registry_class(self) -> AddressClass:
        if self._registry_class is None:
            self._registry_class = classify_host(self.registry_host, self.resolver)
        return self._registry_class

    def check_url(self, url: str, what: str, where: str) -> None:
        """Raise AuthError unless ``url`` is a safe target for ``what`` (realm, redirect)."""
        parts = _split(url)
        host = (parts.hostname or "").lower() if parts else ""
        if parts is None or parts.scheme not in ("http", "https") or not host:
            raise AuthError(f"refusing {what} {_shown(url)}: not an http(s) URL", where=where)
        if parts.username is not None or parts.password is not None:
            raise AuthError(f"refusing {what} with credentials embedded in its URL", where=where)
        if parts.scheme == "http" and not self.plain_http_allowed:
            raise AuthError(f"refusing {what} {_shown(url)}: plain http from a registry that "
                            "is not on localhost", where=where,
                            hint="use --insecure only if you trust the network path")
        self._check_address(host, url, what, where)

    def check_registry(self, where: str) -> None:
        """Raise AddressRefused unless the registry host itself may be contacted."""
        checked_addresses(self.registry_host, what="registry", where=where,
                          policy=self.addresses, resolver=self.resolver)

    def _check_address(self, host: str, url: str, what: str, where: str) -> None:
        checked_addresses(host, what=f"{what} {_shown(url)}", where=where,
                          policy=self.addresses, resolver=self.resolver)
        target = classify_host(host, self.resolver)
        if target is AddressClass.FORBIDDEN:
            raise AuthError(f"refusing {what} {_shown(url)}: it resolves to a link-local, "
                            "metadata or reserved address", where=where)
        if host != self.registry_host and target > self.registry_class:
            raise AuthError(f"refusing {what} {_shown(url)}: it points to a "
                            f"{target.name.lower()} address while the registry is "
                            f"{self.registry_class.name.lower()}", where=where)

    def may_send_credentials(self, url: str) -> bool:
        """Credentials go to the registry host itself, or to another host only over https."""
        parts = _split(url)
        return parts is not None and (parts.scheme == "https" or
                                      (parts.hostname or "").lower() == self.registry_host)


def _split(url: str) -> SplitResult | None:
    """``urlsplit``, or None for text it rejects (``http://[::1``: hostile Location headers)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        return None
    return parts


def _shown(url: str) -> str:
    """A URL for messages: without query string (it may carry tokens), length-bounded."""
    parts = _split(url)
    if parts is None:
        return repr(url[:80])
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return repr(f"{parts.scheme}://{host}{port}{parts.path}"[:200])


def same_origin(first: str, second: str) -> bool:
    """Scheme, host and port equal (the unit a browser would share an Authorization with)."""
    a, b = _split(first), _split(second)
    if a is None or b is None:
        return False
    return (a.scheme, (a.hostname or "").lower(), a.port or _default_port(a.scheme)) \
        == (b.scheme, (b.hostname or "").lower(), b.port or _default_port(b.scheme))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
