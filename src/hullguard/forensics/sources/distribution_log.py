"""``distribution-log``: CNCF distribution (Debian ``docker-registry``) JSON logs.

With ``log.formatter: json`` every request ends in one JSON line whose ``msg`` is "response
completed" (or "... with error") and whose fields include ``http.request.method``, ``.uri``,
``.remoteaddr``, ``.useragent``, ``.host``, ``http.response.status``, ``time`` and, with auth,
``auth.user.name``. Repository, tag and digest come from the URI (distribution 2.8 logs
``vars.name`` only on errors). The text access log (``log.accesslog``) writes the same request
again in combined format on the same stream: those lines are ignored, not counted twice.
A manifest fetched by tag carries no digest here; ``pulls-of`` resolves it from the last push
of that tag (``distribution-events``) when those were ingested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

import orjson

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    Outcome,
    host_only,
    integer,
    json_line,
    outcomes,
    text,
    timestamp,
)

_URI_RE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<ref>.*)$")


class DistributionLog:
    name = "distribution-log"
    description = ("docker-registry / CNCF distribution JSON log lines (log.formatter: json); "
                   "one request per 'response completed' line; text access-log lines ignored")

    def parse(self, lines: Iterable[bytes]) -> Iterator[Outcome]:
        for number, line in enumerate(lines, 1):
            if line[:1] == b"{":
                yield _fast(number, line)
            elif b'"' in line and b" - " in line:
                # combined-format access log: the JSON line of the same request counts
                yield Outcome(number, line.decode("utf-8", "replace").rstrip(), ignored=True)
            elif line.strip():
                yield from outcomes(json_line(number, line), convert)


def _fast(number: int, line: bytes) -> Outcome:
    """One JSON line without the generic reader's layers (this source is the big one)."""
    try:
        body = line.decode("utf-8").rstrip("\r\n")
        record = orjson.loads(line)
    except UnicodeDecodeError as error:
        return Outcome(number, "", problem=f"not UTF-8 (byte {error.start})")
    except (orjson.JSONDecodeError, RecursionError) as error:
        return Outcome(number, body, problem=f"not JSON ({str(error)[:80]})")
    if not isinstance(record, dict):
        return Outcome(number, body, problem=f"record is {type(record).__name__}, not object")
    try:
        events = convert(record)
    except BadRecord as error:
        return Outcome(number, body, problem=str(error))
    return Outcome(number, body, events or (), ignored=events is None)


_STRING_FIELDS = ("http.request.method", "http.request.uri", "time", "auth.user.name",
                  "http.request.remoteaddr", "http.request.useragent", "http.request.host",
                  "http.request.id")


def convert(record: dict[str, Any]) -> tuple[Event, ...] | None:
    # One pass over the string fields instead of a text() call each: this runs per line of
    # the biggest source, and the per-field calls were a third of its parse time.
    method, uri, when, actor, addr, agent, host, request = (
        _string(record, key) for key in _STRING_FIELDS)
    status = integer(record, "http.response.status")
    if not method or not uri or status is None:
        return None  # start-up and other messages
    path, _, query = uri.partition("?")  # urlsplit costs more than the rest of the line
    action, repository, tag, digest = classify(method, path, status)
    if action == "push-blob":
        digest = (parse_qs(query).get("digest") or [""])[0]
    return (Event(
        time=timestamp(when), action=action, actor=actor, client_addr=host_only(addr),
        user_agent=agent, registry=host, repository=repository, tag=tag, digest=digest,
        status=str(status), ok=200 <= status < 400, request_id=request),)


def _string(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value.__class__ is str:  # the common case, without isinstance's subclass walk
        return value
    return text(record, key)


def classify(method: str, path: str, status: int) -> tuple[str, str, str, str]:
    """(action, repository, tag, digest) of a registry API request."""
    match = _URI_RE.match(path)
    if match is None:
        return "request", "", "", ""
    name, kind, ref = match.group("name", "kind", "ref")
    if kind == "tags":
        return "list", name, "", ""
    if kind == "blobs" and ref.startswith("uploads"):
        done = method == "PUT" and status == 201
        return ("push-blob" if done else "upload"), name, "", ""
    tag, digest = ("", ref) if ":" in ref else (ref, "")
    verb = {"GET": "pull", "HEAD": "check", "PUT": "push", "DELETE": "delete"}.get(method)
    if verb is None:
        return "request", name, tag, digest
    if kind == "blobs" and verb in ("pull", "push"):
        verb += "-blob"
    return verb, name, tag, digest

