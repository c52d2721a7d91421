"""Which hosts we may talk to, over which scheme, and with which credentials.

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
import socket
from collections.abc import Callable
from enum import IntEnum
from urllib.parse import SplitResult, urlsplit

from hullguard.errors import AuthError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
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


class NetPolicy:
    """The rules for one registry: what its realm and redirect URLs may point to."""

    def __init__(self, registry_host: str, *, insecure: bool,
                 resolver: Resolver = system_resolver) -> None:
        self.registry_host = registry_host.lower()
        self.insecure = insecure
        self.resolver = resolver
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

    def _check_address(self, host: str, url: str, what: str, where: str) -> None:
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
