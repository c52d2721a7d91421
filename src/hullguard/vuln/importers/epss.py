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
    # newline="": the csv module sees every line end itself (a bare \r is one too)
    lines = io.StringIO(doc.decode("utf-8", errors="replace"), newline="")
    date = ""
    for lineno, row in enumerate(_rows(lines, where, stats), start=1):
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


def _rows(lines: io.StringIO, where: str, stats: ImportStats) -> Iterator[list[str]]:
    """The CSV rows; a row csv cannot parse (a field over its size limit) is skipped and
    counted, an empty row standing in for it keeps the row numbers."""
    reader = csv.reader(lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            stats.skip(f"{where}:{reader.line_num}", f"bad EPSS row ({error})")
            row = []
        yield row


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
