"""Text output of the forensics answers: table (terminal-safe), JSON, CSV, and SARIF for IoC
matches. Pure functions returning text; only the CLI prints."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Sequence
from typing import Any

from hullguard.forensics.ioc import IocReport
from hullguard.forensics.model import IngestSummary
from hullguard.forensics.queries import Anomaly, PullGroup
from hullguard.textsafe import escape_controls

FORMATS = ("table", "json", "csv")
IOC_FORMATS = ("table", "json", "sarif")
MAX_CELL = 120  # table cells are cut (JSON and CSV keep everything)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned columns; control characters in attacker-written values escaped."""
    text = [[escape_controls(cell(v))[:MAX_CELL] for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in text]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def tabular(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, map(_json_value, r), strict=True)) for r in rows],
                          indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[cell(v) for v in r] for r in rows])
        return out.getvalue()
    return table(columns, rows)


def _json_value(value: Any) -> Any:
    return cell(value) if isinstance(value, datetime.datetime) else value


PULL_COLUMNS = ("digest", "by", "value", "count", "first", "last")


def pulls(groups: list[PullGroup], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([_json_tree(g.__dict__) for g in groups], indent=2) + "\n"
    rows: list[list[Any]] = []
    for group in groups:
        rows.append([group.digest or "(unknown)", "total", "", group.count, group.first,
                     group.last])
        for label, bucket in (("actor", group.by_actor), ("client", group.by_client),
                              ("user-agent", group.by_user_agent)):
            rows += [[group.digest or "(unknown)", label, item["value"] or "(none)",
                      item["count"], item["first"], item["last"]] for item in bucket]
    return tabular(PULL_COLUMNS, rows, fmt)


def _json_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_tree(v) for v in value]
    return _json_value(value)


ANOMALY_COLUMNS = ("kind", "subject", "detail", "first", "last", "count", "evidence")


def anomalies(found: list[Anomaly], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([_json_tree(a.__dict__) for a in found], indent=2) + "\n"
    rows = [[a.kind, a.subject, a.detail, a.first, a.last, a.count,
             "; ".join(f"{e['file']}:{e['line']}" for e in a.events[:5]) +
             (" ..." if len(a.events) > 5 else "")] for a in found]
    return tabular(ANOMALY_COLUMNS, rows, fmt)


def summary(result: IngestSummary) -> str:
    rows = [[r.source, r.path, r.records, r.events, r.new_events, r.bad, r.ignored,
             "; ".join(r.bad_examples[:2])] for r in result.files]
    text = table(("source", "file", "records", "events", "new", "bad", "ignored",
                  "first problems"), rows)
    return text + (f"{result.total_events} events in {result.database} "
                   f"(Parquet: {result.parquet})\n")


IOC_COLUMNS = ("target", "where", "path", "state", "indicator", "detail")


def ioc(report: IocReport, fmt: str) -> str:
    if fmt == "json":
        from hullguard.forensics.ioc import to_json

        return to_json(report)
    if fmt == "sarif":
        return _sarif(report)
    rows = [[m.target, m.where, m.path, m.state, m.indicator, m.detail] for m in report.matches]
    if not rows:
        return "no indicator found in " + ", ".join(report.targets) + "\n"
    joined = [[h.indicator, ", ".join(h.images), ", ".join(h.workloads) or "(none known)",
               h.log_records, h.first_seen, h.first_seen_by] for h in report.indicators]
    return table(IOC_COLUMNS, rows) + "\n" + table(JOIN_COLUMNS, joined)


JOIN_COLUMNS = ("indicator", "images", "workloads", "log records", "first seen", "first seen by")


def _sarif(report: IocReport) -> str:
    from hullguard.sarif import sarif_log

    kinds = sorted({m.indicator.partition(":")[0] for m in report.matches})
    joined: dict[str, dict[str, Any]] = {
        h.indicator: {"images": h.images, "workloads": h.workloads,
                      "firstSeen": cell(h.first_seen) or None,
                      "firstSeenBy": h.first_seen_by} for h in report.indicators}
    rules = [{"id": f"ioc-{kind}", "name": f"IoC{kind.title()}",
              "shortDescription": {"text": f"indicator of compromise ({kind})"},
              "defaultConfiguration": {"level": "error"}} for kind in kinds]
    results = [{"ruleId": f"ioc-{m.indicator.partition(':')[0]}", "level": "error",
                "message": {"text": f"{m.indicator} in {m.target} ({m.state})"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": m.path.lstrip("/")}},
                    "properties": {"target": m.target, "where": m.where, "layer": m.layer,
                                   "state": m.state}}],
                "properties": _reach(m.indicator, joined)}
               for m in report.matches]
    return sarif_log(rules, results, {"targets": report.targets})


def _reach(indicator: str, joined: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A SARIF result's properties: the indicator and where it reaches (joins.py)."""
    return {"indicator": indicator, **joined.get(indicator, {})}
