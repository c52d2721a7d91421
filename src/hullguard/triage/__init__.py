"""Triage: a priority P0-P3 per image and workload with a deadline and a one-line reason.

Priority = criticality x exploitability x exposure (x environment), as a small point score with
two fixed rules, so every result can be explained in one line:

- criticality: critical 3, high 2, medium or unknown 1, low 0
- exploitability: easy 3, moderate 1, hard 0 (see :func:`exploitability`)
- exposure: internet-facing 2, internal 0
- environment: production 1, staging or unknown 0, development -2
- P0 at 8 points or more, P1 at 6, P2 at 3, else P3; but low criticality in development is
  always P3, and a finding in CISA KEV on an internet-facing workload is never below P1.
"""

from hullguard.triage.engine import (
    DEFAULT_SLA,
    Context,
    Sla,
    exploitability,
    parse_sla,
    prioritize_finding,
    triage,
)

__all__ = [
    "DEFAULT_SLA",
    "Context",
    "Sla",
    "exploitability",
    "parse_sla",
    "prioritize_finding",
    "triage",
]
