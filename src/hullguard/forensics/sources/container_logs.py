"""``cri-log`` and ``docker-log``: container logs as the kubelet (CRI: ``TIME STREAM P|F
MESSAGE``) and Docker's json-file driver (``{"log", "stream", "time"}``) write them. Every line
is a ``log`` event whose ``detail`` is the message, for the IoC search and the timeline. CRI
lines are application output: bytes that are not UTF-8 are kept (replaced), not rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import (
    BadRecord,
    Outcome,
    json_records,
    outcomes,
    text,
    timestamp,
)


class CriLog:
    name = "cri-log"
    description = "CRI container log lines: RFC3339NANO-time stdout|stderr P|F message"

    def parse(self, lines: Iterable[bytes]) -> Iterator[Outcome]:
        for number, line in enumerate(lines, 1):
            body = line.decode("utf-8", "replace").rstrip("\r\n")
            if not body:
                continue
            try:
                yield Outcome(number, body, (_cri(body),))
            except BadRecord as error:
                yield Outcome(number, body, problem=str(error))


def _cri(body: str) -> Event:
    parts = body.split(" ", 3)
    if len(parts) < 3 or parts[1] not in ("stdout", "stderr") or parts[2] not in ("P", "F"):
        raise BadRecord("not 'TIME STREAM P|F MESSAGE'")
    return Event(time=timestamp(parts[0]), action="log", status=parts[1],
                 detail=parts[3] if len(parts) == 4 else "")


class DockerLog:
    name = "docker-log"
    description = 'Docker json-file container log lines: {"log", "stream", "time"}'

    def parse(self, lines: Iterable[bytes]) -> Iterator[Outcome]:
        yield from outcomes(json_records(lines), _docker)


def _docker(record: dict[str, Any]) -> tuple[Event, ...]:
    if "log" not in record:
        raise BadRecord("'log' missing")
    return (Event(time=timestamp(text(record, "time")), action="log",
                  status=text(record, "stream"), detail=text(record, "log").rstrip("\n")),)
