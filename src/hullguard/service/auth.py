"""API tokens: random, shown once, stored as a SHA-256 hash, scoped, expiring, revocable.

A token is ``hgt_`` and 43 URL-safe characters (256 random bits). A plain SHA-256 is enough
to store it: a slow password hash protects guessable secrets, and 256 random bits are not
guessable; the lookup by hash then needs no per-row comparison. The token never appears in a
log line: requests are logged by uvicorn without headers, and errors name the token's id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from hullguard.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hullguard.store.service import TokenInfo

SCOPES = ("read", "scan", "admin")  # admin implies scan, scan implies read
TOKEN_PREFIX = "hgt_"
MAX_TOKEN_LENGTH = 200


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def implied(scopes: tuple[str, ...]) -> frozenset[str]:
    """Every scope the given ones grant: admin > scan > read."""
    top = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)
    return frozenset(SCOPES[:top + 1])


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InputError(f"unknown scope {', '.join(unknown)}" if unknown else "no scope",
                         where="--scope", hint=f"use {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in scopes)


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once
    info: TokenInfo


def create_token(engine: Engine, name: str, scopes: tuple[str, ...],
                 expires_in: timedelta | None) -> NewToken:
    from hullguard.store.service import add_token

    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + expires_in if expires_in is not None else None
    info = add_token(engine, name, token_hash(token), token[:12], scopes, expires)
    return NewToken(token, info)


def verify(engine: Engine, token: str, scope: str) -> tuple[TokenInfo | None, str]:
    """The token's record if it is known, usable now and grants ``scope``; else None and
    why (a reason that never repeats the token)."""
    from hullguard.store.service import find_token

    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None, "not a hullguard API token"
    info = find_token(engine, token_hash(token))
    if info is None:
        return None, "unknown token"
    if info.revoked_at is not None:
        return None, f"token {info.id} was revoked"
    if not info.usable(datetime.now(UTC)):
        return None, f"token {info.id} expired"
    if scope not in implied(info.scopes):
        return None, f"token {info.id} lacks the {scope} scope"
    return info, ""
