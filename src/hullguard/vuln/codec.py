"""Advisories to and from compact JSON: the form records take inside the database.

Keys are short and empty fields are left out so that a record costs little to store and to
decode; decoding is the hot path of every lookup, so it builds the dataclasses directly.
"""

from __future__ import annotations

import json
from typing import Any

from hullguard.model import Advisory, Affected, CvssScore, Event, Range, Severity

_EVENT_KEYS = ("introduced", "fixed", "last_affected", "limit")


def _event_to(event: Event) -> list[str]:
    for key in _EVENT_KEYS:
        value = getattr(event, key)
        if value:
            return [key, value]
    return ["introduced", ""]


def _affected_to(aff: Affected) -> dict[str, Any]:
    out: dict[str, Any] = {"e": aff.ecosystem, "n": aff.name}
    if aff.ranges:
        out["r"] = [[r.type, [_event_to(e) for e in r.events]] for r in aff.ranges]
    if aff.versions:
        out["v"] = list(aff.versions)
    if aff.by_source:
        out["s"] = 1
    return out


def cvss_to(score: CvssScore) -> list[Any]:
    return [score.version, score.vector, score.score, int(score.severity)]


def cvss_from(raw: list[Any]) -> CvssScore:
    return CvssScore(str(raw[0]), str(raw[1]), float(raw[2]), Severity(int(raw[3])))


def advisory_to_dict(adv: Advisory) -> dict[str, Any]:
    out: dict[str, Any] = {"id": adv.id, "src": adv.source}
    optional = {
        "al": list(adv.aliases), "su": adv.summary, "de": adv.details,
        "af": [_affected_to(a) for a in adv.affected], "cv": [cvss_to(c) for c in adv.cvss],
        "sv": int(adv.severity), "pu": adv.published, "mo": adv.modified,
        "wd": adv.withdrawn, "rf": list(adv.references),
    }
    out.update({key: value for key, value in optional.items() if value})
    return out


def advisory_to_json(adv: Advisory) -> str:
    return json.dumps(advisory_to_dict(adv), separators=(",", ":"), ensure_ascii=False)


def _affected_from(raw: dict[str, Any]) -> Affected:
    ranges = tuple(
        Range(rtype, tuple(Event(**{key: value}) for key, value in events))
        for rtype, events in raw.get("r", ())
    )
    return Affected(raw["e"], raw["n"], ranges, tuple(raw.get("v", ())), bool(raw.get("s")))


def advisory_from_dict(raw: dict[str, Any]) -> Advisory:
    return Advisory(
        id=raw["id"], source=raw["src"], aliases=tuple(raw.get("al", ())),
        summary=raw.get("su", ""), details=raw.get("de", ""),
        affected=tuple(_affected_from(a) for a in raw.get("af", ())),
        cvss=tuple(cvss_from(c) for c in raw.get("cv", ())),
        severity=Severity(raw.get("sv", 0)), published=raw.get("pu", ""),
        modified=raw.get("mo", ""), withdrawn=raw.get("wd", ""),
        references=tuple(raw.get("rf", ())),
    )


def advisory_from_json(text: str | bytes) -> Advisory:
    return advisory_from_dict(json.loads(text))
