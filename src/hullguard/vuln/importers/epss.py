"""FIRST EPSS scores CSV (``epss_scores-YYYY-MM-DD.csv[.gz]``): a ``#model_version:...,
score_date:...`` comment line, then ``cve,epss,percentile``."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator

from hullguard.model import Epss
from hullguard.vuln.importers.base import EpssRecord, ImportStats, valid_id

NAME = "epss"


def sniff_text(data: bytes) -> bool:
    head = data[:200].lstrip().lower()
    return head.startswith((b"#model_version", b"cve,epss"))


def accepts(doc: object) -> bool:
    return isinstance(doc, bytes) and sniff_text(doc)


def _score_date(comment: str) -> str:
    fields = dict(part.partition(":")[::2] for part in comment.lstrip("#").split(","))
    return fields.get("score_date", "").strip()[:10]


def parse(doc: bytes, where: str, stats: ImportStats) -> Iterator[EpssRecord]:
    lines = io.StringIO(doc.decode("utf-8", errors="replace"))
    date = ""
    for lineno, row in enumerate(csv.reader(lines), start=1):
        if row and row[0].startswith("#"):
            date = _score_date(",".join(row))
            continue
        if row[:1] == ["cve"] or not row:
            continue
        record = _row(row, date)
        if record is None:
            stats.skip(f"{where}:{lineno}", f"bad EPSS row {','.join(row)[:80]!r}")
        else:
            yield record


def _row(row: list[str], date: str) -> EpssRecord | None:
    if len(row) < 3 or not valid_id(row[0]):
        return None
    try:
        score, percentile = float(row[1]), float(row[2])
    except ValueError:
        return None
    if not (0 <= score <= 1 and 0 <= percentile <= 1) or math.isnan(score + percentile):
        return None
    return EpssRecord(row[0], Epss(score, percentile, date))
