"""The interface every log source implements, and the record readers they share.

A source turns the lines of one file into :class:`Outcome` items, one per record: the events
it yields (zero, one, or several: a notification envelope carries many), or why the record is
bad, or that it carries no event (``ignored``). Nothing is dropped silently: the caller counts
every outcome. Values are read with explicit types (:func:`text`, :func:`integer`): a field of
the wrong type makes the record bad instead of being coerced.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from hullguard.forensics.model import Event

MAX_LINE_BYTES = 1 << 20  # longer lines are counted bad and skipped without being held
MAX_DOCUMENT_BYTES = 256 << 20  # a pretty-printed JSON document (kubectl -o json) is buffered


class BadRecord(ValueError):
    """A record a source cannot use; the message says why (shown in the ingest report)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    line: int  # first line of the record (1-based)
    raw: str  # the record as stored in ``events.raw``
    events: tuple[Event, ...] = ()
    problem: str = ""  # non-empty: the record is bad
    ignored: bool = False


class Source(Protocol):
    name: str
    description: str  # the expected format, shown by ``hullguard forensics sources``

    def parse(self, lines: Iterable[bytes]) -> Iterator[Outcome]: ...


Converter = Callable[[dict[str, Any]], "tuple[Event, ...] | None"]


class JsonSource:
    """A source of JSON records (lines or documents): ``convert`` maps one record to its
    events (None: no event in it); ``unwrap`` names the list a document keeps them in."""

    name = ""
    description = ""
    unwrap: tuple[str, ...] = ()
    convert: Converter

    def parse(self, lines: Iterable[bytes]) -> Iterator[Outcome]:
        yield from outcomes(json_records(lines, self.unwrap), type(self).convert)


def parse_all(source: Source, lines: Iterable[bytes]) -> tuple[list[Event], int]:
    """Every event of ``lines`` and the number of bad records (small inputs, tests)."""
    events: list[Event] = []
    bad = 0
    for outcome in source.parse(lines):
        events.extend(outcome.events)
        bad += bool(outcome.problem)
    return events, bad


# -- values -----------------------------------------------------------------------------------

def text(obj: dict[str, Any], key: str) -> str:
    """A string field, "" when absent or null; BadRecord when it is another type."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{key!r} is {type(value).__name__}, expected string")
    return value


def mapping(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRecord(f"{key!r} is {type(value).__name__}, expected object")
    return value


def integer(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord(f"{key!r} is {type(value).__name__}, expected integer")
    return value


def timestamp(value: str, what: str = "time") -> datetime.datetime:
    """RFC 3339 (nanoseconds are cut to microseconds); a time without zone is UTC."""
    if not value:
        raise BadRecord(f"{what} missing")
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise BadRecord(f"{what} {value[:40]!r} is not an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def epoch(value: object, what: str = "time") -> datetime.datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRecord(f"{what} is not a number of seconds")
    try:
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRecord(f"{what} {value} is out of range") from None


def host_only(addr: str) -> str:
    """``1.2.3.4:5678`` -> ``1.2.3.4``; ``[::1]:80`` -> ``::1``; anything else as given."""
    if addr.startswith("["):
        return addr[1:].partition("]")[0]
    if addr.count(":") == 1:
        return addr.partition(":")[0]
    return addr


_DIGEST_RE = re.compile(r"(sha256|sha512):[0-9a-f]{32,128}")


def split_image(reference: str) -> tuple[str, str, str, str]:
    """``[registry/]repository[:tag][@digest]`` -> (registry, repository, tag, digest),
    tolerant (audit records are not validated references). The first component is a
    registry when it has a dot or colon or is ``localhost``."""
    rest, _, digest = reference.partition("@")
    if not digest and (found := _DIGEST_RE.search(rest)) and rest.endswith(found.group(0)):
        digest, rest = found.group(0), rest[:found.start()].rstrip(":@")
    name, tag = rest, ""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1:]
    registry = ""
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, remainder
    return registry, name, tag, digest


# -- record readers ---------------------------------------------------------------------------

def decode(line: bytes) -> str:
    """Strict UTF-8 without the line end; BadRecord for anything else."""
    try:
        return line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise BadRecord(f"not UTF-8 (byte {error.start})") from None


def json_records(lines: Iterable[bytes], unwrap: tuple[str, ...] = ()) -> Iterator[
        tuple[int, str, Any, str]]:
    """JSON lines, or whole JSON documents (pretty-printed, starting with a line that is just
    ``{`` or ``[``), one item per record: (line, raw, value, problem). A top-level list, or a
    top-level object's list under one of ``unwrap`` (``items``, ``logs``), is split into its
    items. A document is bounded by MAX_DOCUMENT_BYTES."""
    buffer: list[str] = []
    size, start = 0, 0
    for number, line in enumerate(lines, 1):
        try:
            body = decode(line)
        except BadRecord as error:
            yield number, "", None, str(error)
            continue
        if buffer:
            buffer.append(body)
            size += len(body)
            if body in ("}", "]"):  # the end of a pretty-printed document
                done = _document(start, "\n".join(buffer), unwrap)
                if done is not None:
                    yield from done
                    buffer, size = [], 0
                    continue
            if size > MAX_DOCUMENT_BYTES:
                yield start, "", None, f"JSON document over {MAX_DOCUMENT_BYTES} bytes"
                buffer, size = [], 0
            continue
        stripped = body.strip()
        if stripped in ("{", "["):
            buffer, size, start = [body], len(body), number
            continue
        if not stripped:
            continue
        yield from _line(number, body, unwrap)
    if buffer:
        yield start, "", None, "JSON document not terminated"


def json_line(number: int, line: bytes, unwrap: tuple[str, ...] = ()) -> Iterator[
        tuple[int, str, Any, str]]:
    """The records of one JSON line (for sources that never see pretty-printed documents)."""
    try:
        body = decode(line)
    except BadRecord as error:
        yield number, "", None, str(error)
        return
    if body.strip():
        yield from _line(number, body, unwrap)


def _line(number: int, body: str, unwrap: tuple[str, ...]) -> Iterator[tuple[int, str, Any, str]]:
    try:
        value = orjson.loads(body)  # about 3x json.loads on registry lines
    except (orjson.JSONDecodeError, RecursionError) as error:
        yield number, body, None, f"not JSON ({str(error)[:80]})"
        return
    yield from _items(number, body, value, unwrap, whole=True)


Record = tuple[int, str, Any, str]  # (line, raw, value, problem)


def _document(start: int, body: str, unwrap: tuple[str, ...]) -> list[Record] | None:
    try:
        value = orjson.loads(body)
    except (ValueError, RecursionError):
        return None  # not finished yet (a closing line inside the document)
    return list(_items(start, body, value, unwrap, whole=False))


def _items(number: int, body: str, value: Any, unwrap: tuple[str, ...],
           whole: bool) -> Iterator[tuple[int, str, Any, str]]:
    items = value if isinstance(value, list) else None
    if isinstance(value, dict):
        for key in unwrap:
            if isinstance(value.get(key), list):
                items = value[key]
                break
    try:
        if items is None:
            yield number, body if whole else _compact(value), value, ""
            return
        for item in items:
            yield number, _compact(item), item, ""
    except orjson.JSONEncodeError:  # nested deeper than the encoder allows
        yield number, body[:1000], None, "JSON nested too deeply"


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def outcomes(records: Iterable[tuple[int, str, Any, str]], convert: Converter) -> Iterator[
        Outcome]:
    """Apply ``convert(value) -> tuple[Event, ...] | None`` (None: ignored) to each record,
    turning BadRecord into a bad outcome."""
    for number, raw, value, problem in records:
        if problem:
            yield Outcome(number, raw, problem=problem)
            continue
        if not isinstance(value, dict):
            yield Outcome(number, raw, problem=f"record is {type(value).__name__}, not object")
            continue
        try:
            events = convert(value)
        except BadRecord as error:
            yield Outcome(number, raw, problem=str(error))
            continue
        yield Outcome(number, raw, events or (), ignored=events is None)
