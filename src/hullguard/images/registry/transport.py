"""The socket layer under every registry (and feed) request: address policy and time bounds.

httpx's timeouts are per read, so a server that drips one header byte every few seconds, or a
404 body byte by byte, never trips them. Here every byte read from a socket is counted against
the request's :class:`~.stall.RequestBudget` (a minimum rate over each window, and an overall
deadline that also shortens each read's timeout), headers and error bodies included. And
every TCP connection goes only to addresses :func:`.netpolicy.checked_addresses` accepted, at
connect time, so a name that re-resolves to 169.254.169.254 is refused too.

httpx has no public hook for the network backend, so :func:`guard` replaces the backend of
each transport's httpcore pool (``_pool._network_backend``); it fails loudly if a future
httpx moves it, rather than silently running unguarded.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from hullguard.images.registry.netpolicy import (
    AddressPolicy,
    Resolver,
    checked_addresses,
    system_resolver,
)
from hullguard.images.registry.stall import RequestBudget


class Budgets:
    """The budget of the request in progress, per thread (a client may serve threads)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def current(self) -> RequestBudget | None:
        return getattr(self._local, "budget", None)

    @contextlib.contextmanager
    def active(self, where: str, *, deadline: float, min_rate: float,
               window: float) -> Iterator[RequestBudget]:
        """Run under the current budget, or a new one if there is none (a token request
        inside a manifest request shares the manifest request's deadline)."""
        outer = self.current()
        if outer is not None:
            yield outer
            return
        self._local.budget = budget = RequestBudget(deadline, min_rate, window, where)
        try:
            yield budget
        finally:
            self._local.budget = None


@contextlib.contextmanager
def _deadline_wins(budget: RequestBudget | None) -> Iterator[None]:
    """A timeout that the deadline caused is reported as the deadline (not a ReadTimeout
    that the retry loop would try again)."""
    try:
        yield
    except httpcore.TimeoutException:
        if budget is not None:
            budget.read_timeout(None)  # raises once the deadline has passed
        raise


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, budgets: Budgets) -> None:
        self.inner, self.budgets = inner, budgets

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = self.budgets.current()
        if budget is None:
            return self.inner.read(max_bytes, timeout)
        with _deadline_wins(budget):
            data = self.inner.read(max_bytes, budget.read_timeout(timeout))
        budget.feed(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = self.budgets.current()
        if budget is None:
            self.inner.write(buffer, timeout)
            return
        with _deadline_wins(budget):
            self.inner.write(buffer, budget.read_timeout(timeout))
        budget.sent()

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        budget = self.budgets.current()
        timeout = budget.read_timeout(timeout) if budget else timeout
        with _deadline_wins(budget):
            inner = self.inner.start_tls(ssl_context, server_hostname, timeout)
        return _GuardedStream(inner, self.budgets)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to checked addresses (``check`` False for a user-configured proxy,
    whose own address the user chose) and wraps every stream in the budget."""

    def __init__(self, inner: httpcore.NetworkBackend, budgets: Budgets, *, check: bool,
                 policy: AddressPolicy | None, resolver: Resolver) -> None:
        self.inner, self.budgets, self.check = inner, budgets, check
        self.policy, self.resolver = policy, resolver

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        budget = self.budgets.current()
        timeout = budget.read_timeout(timeout) if budget else timeout
        targets = [host]
        if self.check:
            # connect to exactly the checked answers: never let the socket resolve again
            targets = checked_addresses(host, what="host", where=f"{host}:{port}",
                                        policy=self.policy, resolver=self.resolver)
            if not targets:
                raise httpcore.ConnectError(f"[Errno -2] Name or service not known: {host}")
        error: httpcore.ConnectError | None = None
        for address in targets:
            try:
                with _deadline_wins(budget):
                    stream = self.inner.connect_tcp(address, port, timeout, local_address,
                                                    socket_options)
                return _GuardedStream(stream, self.budgets)
            except httpcore.ConnectError as failed:
                error = failed
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def guard(client: httpx.Client, budgets: Budgets, *, policy: AddressPolicy | None = None,
          resolver: Resolver = system_resolver) -> httpx.Client:
    """Put every transport of ``client`` on a :class:`GuardedBackend`; returns ``client``.

    ``policy`` None reads ``HULLGUARD_ALLOW_PRIVATE`` at each connection."""
    transports = [(getattr(client, "_transport", None), True)]
    transports += [(t, False) for t in getattr(client, "_mounts", {}).values() if t is not None]
    for transport, direct in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if inner is None:
            raise RuntimeError("this httpx has no _pool._network_backend: the address "
                               "policy and request deadlines cannot be installed")
        pool._network_backend = GuardedBackend(  # type: ignore[union-attr]
            inner, budgets, check=direct, policy=policy, resolver=resolver)
    return client


def guarded_client(*, policy: AddressPolicy | None = None, resolver: Resolver = system_resolver,
                   **httpx_options: Any) -> tuple[httpx.Client, Budgets]:
    """An httpx client for other outgoing connections (feeds, webhooks): the address
    policy at connect time, and the time bounds of each request made inside
    ``with budgets.active(url, deadline=..., min_rate=..., window=...):`` (read its body
    inside that block too)."""
    budgets = Budgets()
    client = guard(httpx.Client(**httpx_options), budgets, policy=policy, resolver=resolver)
    return client, budgets
