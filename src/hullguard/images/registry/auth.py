"""Answer registry auth challenges: Basic, or Bearer tokens from the challenge's realm.

Tokens are cached per (realm, service, scope) until shortly before they expire. Every realm is
checked by :class:`NetPolicy` before we connect to it, and credentials go to it only when
:meth:`NetPolicy.may_send_credentials` allows. All secrets (password, identity token, issued
tokens) are registered with the :class:`Redactor` so no message can carry them.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from hullguard.errors import AuthError, HullguardError
from hullguard.images.registry.challenge import Challenge, parse_challenges
from hullguard.images.registry.credentials import Credentials
from hullguard.images.registry.netpolicy import NetPolicy
from hullguard.images.registry.stall import StallGuard

log = logging.getLogger("hullguard.registry")

MAX_TOKEN_RESPONSE = 1 << 20
MAX_TOKEN_LENGTH = 64 * 1024
DEFAULT_TOKEN_LIFETIME = 60  # seconds, the distribution spec's default for expires_in
EXPIRY_MARGIN = 10


class Redactor:
    """Knows every secret in play and removes it from any text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if len(s) >= 3)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def error(self, error: HullguardError) -> HullguardError:
        """The same error with every secret removed from message, where and hint."""
        error.message, error.where, error.hint = (self(error.message), self(error.where),
                                                  self(error.hint))
        error.args = (error.message,)
        return error


@dataclass(frozen=True)
class _Bearer:
    realm: str
    service: str


class Authenticator:
    """Per-registry auth state: the known challenge, the credentials, the token cache."""

    def __init__(self, http: httpx.Client, policy: NetPolicy, credentials: Credentials | None,
                 redactor: Redactor, where: str,
                 stall_guard: Callable[[str], StallGuard]) -> None:
        self.http, self.policy, self.credentials = http, policy, credentials
        self.redact, self.where = redactor, where
        self.stall_guard = stall_guard  # the client's minimum-rate check, one per transfer
        self._bearer: _Bearer | None = None
        self._basic = False
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self.token_requests = 0  # for tests and diagnostics
        if credentials:
            redactor.add(*credentials.secrets)

    def header_for(self, scope: str) -> str | None:
        """The Authorization value to send proactively for ``scope``, if one is known."""
        if self._bearer is not None:
            return "Bearer " + self._token(self._bearer, scope)
        if self._basic and self.credentials:
            return self._basic_value()
        return None

    def note_challenges(self, headers: list[str]) -> None:
        """Remember the auth scheme a registry announced (its ``/v2/`` answer)."""
        challenges = parse_challenges(headers, self.where)
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is not None:
            self._bearer = self._checked_bearer(bearer)
        elif any(c.scheme == "basic" for c in challenges):
            self._basic = True

    def respond(self, headers: list[str], scope: str, sent: str | None) -> str:
        """The Authorization value answering a 401 for ``scope``; AuthError if none works.

        ``sent`` is what the refused request carried: refused Basic credentials stay refused;
        a refused token may have expired, so it is dropped and a new one fetched once.
        """
        if sent and sent.startswith("Basic "):
            raise self.rejected(scope)
        challenges = parse_challenges(headers, self.where)
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is not None:
            self._bearer = self._checked_bearer(bearer)
            self._tokens.pop((self._bearer.realm, self._bearer.service, scope), None)
            wanted = bearer.params.get("scope") or scope
            return "Bearer " + self._token(self._bearer, scope, request_scope=wanted)
        if any(c.scheme == "basic" for c in challenges):
            self._basic = True
            if not self.credentials:
                raise self._need_login()
            return self._basic_value()
        raise AuthError("registry asked for an unsupported authentication scheme "
                        f"({', '.join(c.scheme for c in challenges) or 'none'})",
                        where=self.where)

    def _checked_bearer(self, challenge: Challenge) -> _Bearer:
        if not challenge.realm:
            raise AuthError("Bearer challenge without a realm", where=self.where)
        self.policy.check_url(challenge.realm, "token realm", self.where)
        return _Bearer(challenge.realm, challenge.params.get("service", ""))

    def _basic_value(self) -> str:
        assert self.credentials is not None
        pair = f"{self.credentials.username}:{self.credentials.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _token(self, bearer: _Bearer, scope: str, request_scope: str = "") -> str:
        key = (bearer.realm, bearer.service, scope)
        cached = self._tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        token, lifetime = self._fetch_token(bearer, request_scope or scope)
        self._tokens[key] = (token, time.monotonic() + max(lifetime - EXPIRY_MARGIN, 1))
        return token

    def _fetch_token(self, bearer: _Bearer, scope: str) -> tuple[str, int]:
        creds = self.credentials
        if creds and not self.policy.may_send_credentials(bearer.realm):
            raise AuthError("refusing to send credentials over plain http to token realm host "
                            f"{httpx.URL(bearer.realm).host!r}, which is not the registry host",
                            where=self.where, hint="the registry's auth setup is unsafe")
        self.token_requests += 1
        log.debug("token request to %s for scope %r", httpx.URL(bearer.realm).host, scope)
        response = self._token_response(bearer, scope, creds)
        try:
            return self._token_from(response, scope)
        finally:
            response.close()

    def _token_response(self, bearer: _Bearer, scope: str,
                        creds: Credentials | None) -> httpx.Response:
        params = {k: v for k, v in (("service", bearer.service), ("scope", scope)) if v}
        try:
            if creds and creds.identity_token:
                form = {**params, "grant_type": "refresh_token", "client_id": "hullguard",
                        "refresh_token": creds.identity_token}
                request = self.http.build_request("POST", bearer.realm, data=form)
            else:
                headers = {"Authorization": self._basic_value()} if creds else {}
                request = self.http.build_request("GET", bearer.realm, params=params,
                                                  headers=headers)
            return self.http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise self.redact.error(AuthError(
                f"token service unreachable: {type(error).__name__}: {error}",
                where=self.where)) from None

    def _token_from(self, response: httpx.Response, scope: str) -> tuple[str, int]:
        if response.status_code in (401, 403):
            raise self.rejected(scope) if self.credentials else self._need_login()
        if response.status_code != 200:
            raise AuthError(f"token service answered HTTP {response.status_code}",
                            where=self.where)
        doc = _bounded_json(self.stall_guard(self.where).watch(response.iter_bytes()),
                            self.where)
        token = doc.get("token") or doc.get("access_token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthError("token service answered without a usable token", where=self.where)
        self.redact.add(token)
        lifetime = doc.get("expires_in")
        if isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime > 0:
            return token, lifetime
        return token, DEFAULT_TOKEN_LIFETIME

    def rejected(self, scope: str) -> AuthError:
        who = self.credentials.origin if self.credentials else "anonymous access"
        return AuthError(f"access denied for {scope or 'the registry'} (credentials from "
                         f"{who})", where=self.where,
                         hint="check the user name, password or token and its permissions")

    def _need_login(self) -> AuthError:
        return AuthError("the registry requires authentication and no credentials were found",
                         where=self.where,
                         hint="run 'docker login', set DOCKER_CONFIG, or pass --username "
                              "with --password-stdin")


def _bounded_json(chunks: Iterator[bytes], where: str) -> dict[str, Any]:
    body = bytearray()
    for chunk in chunks:
        body.extend(chunk)
        if len(body) > MAX_TOKEN_RESPONSE:
            raise AuthError("token service answer is larger than 1 MiB", where=where)
    try:
        doc = json.loads(bytes(body))
    except (ValueError, UnicodeDecodeError):
        raise AuthError("token service answer is not JSON", where=where) from None
    if not isinstance(doc, dict):
        raise AuthError("token service answer is not a JSON object", where=where)
    return doc
