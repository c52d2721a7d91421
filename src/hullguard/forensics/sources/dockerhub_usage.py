"""``dockerhub-usage``: the Docker Hub pulls usage CSV (Usage page, "send report"): a header
with ``datehour`` (``yyyy/mm/dd/hh``), ``user_name``, ``repository``, ``access_token_name``
(``pat_name`` in older files), ``ips``, ``tag``, ``digest``, ``version_checks``, ``pulls``.
Each row aggregates an hour: it becomes one ``pull`` event whose ``count`` is ``pulls`` (or a
``check`` event counting ``version_checks`` when nothing was pulled), timed at the hour.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator

from hullguard.forensics.model import Event
from hullguard.forensics.sources.base import BadRecord, Outcome, decode

REQUIRED = ("datehour", "repository", "pulls")


class DockerHubUsage:
    name = "dockerhub-usage"
    description = ("Docker Hub pulls usage CSV with a header: datehour, user_name, repository, "
                   "access_token_name, ips, tag, digest, version_checks, pulls")

    def parse(self, lines: Iterable[bytes]) -> Iterator[Outcome]:
        header: list[str] | None = None
        for number, line in enumerate(lines, 1):
            try:
                body = decode(line)
                if not body.strip():
                    continue
                row = next(csv.reader([body]))
                if header is None:
                    header = _header(row)
                    yield Outcome(number, body, ignored=True)
                    continue
                yield Outcome(number, body, (_event(dict(zip(header, row, strict=False)), row,
                                                    header),))
            except BadRecord as error:
                yield Outcome(number, "", problem=str(error))
            except csv.Error as error:
                yield Outcome(number, "", problem=f"not CSV ({error})")


def _header(row: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in row]
    absent = [name for name in REQUIRED if name not in names]
    if absent:
        raise BadRecord(f"header lacks {', '.join(absent)} (is this the usage CSV?)")
    return names


def _event(values: dict[str, str], row: list[str], header: list[str]) -> Event:
    if len(row) != len(header):
        raise BadRecord(f"{len(row)} columns, the header has {len(header)}")
    try:
        when = datetime.datetime.strptime(values["datehour"], "%Y/%m/%d/%H").replace(
            tzinfo=datetime.UTC)
    except ValueError:
        raise BadRecord(f"datehour {values['datehour'][:30]!r} is not yyyy/mm/dd/hh") from None
    pulls, checks = _count(values, "pulls"), _count(values, "version_checks")
    repository = values["repository"]
    if "/" not in repository and repository:
        repository = "library/" + repository
    return Event(
        time=when, action="pull" if pulls or not checks else "check",
        actor=values.get("user_name", ""), registry="docker.io", repository=repository,
        tag=values.get("tag", ""), digest=values.get("digest", ""), ok=True,
        count=pulls or checks,
        detail=f"token={values.get('access_token_name') or values.get('pat_name', '')} "
               f"ips={values.get('ips', '')}")


def _count(values: dict[str, str], key: str) -> int:
    cell = values.get(key, "").strip() or "0"
    if not cell.isdigit():
        raise BadRecord(f"{key} {cell[:20]!r} is not a count")
    return int(cell)
