"""The one SARIF 2.1.0 writer: the log envelope, hullguard's tool driver and the default
severity -> level mapping. Every SARIF output (scan, secrets, lint, gate, DCT audit, forensics,
the incident report) builds its rules and results itself and its envelope here, so the schema
URI, version and driver block cannot drift between formats. Pure functions; imports only the
model."""

from __future__ import annotations

import json
from typing import Any

from hullguard import __version__
from hullguard.model import Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/hullguard/hullguard"


def sarif_level(severity: Severity) -> str:
    """error (high and above), warning (medium), note (below)."""
    if severity >= Severity.HIGH:
        return "error"
    return "warning" if severity >= Severity.MEDIUM else "note"


def run(rules: list[dict[str, Any]], results: list[dict[str, Any]],
        **extra: Any) -> dict[str, Any]:
    """One run of hullguard; ``extra`` (invocations, properties, ...) follows in its order."""
    return {"tool": {"driver": {"name": "hullguard", "version": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "results": results, **extra}


def envelope(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": SCHEMA_URI, "version": VERSION, "runs": runs}


def dumps(doc: dict[str, Any], *, ascii_only: bool) -> str:
    """The log as text (2-space indent, final newline)."""
    return json.dumps(doc, indent=2, ensure_ascii=ascii_only) + "\n"


def sarif_log(rules: list[dict[str, Any]], results: list[dict[str, Any]],
              properties: dict[str, Any] | None = None) -> str:
    """A one-run log, ASCII-escaped (the secrets, lint, gate, DCT and forensics formats)."""
    extra = {"properties": properties} if properties else {}
    return dumps(envelope([run(rules, results, **extra)]), ascii_only=True)
