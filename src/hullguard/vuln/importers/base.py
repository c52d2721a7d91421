"""What every feed importer shares: limits, counters, the records they yield, safe parsing."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from hullguard.errors import InputError
from hullguard.inventory.yamlsafe import loads_strings
from hullguard.model import CvssScore, Epss, Kev

MiB = 1 << 20

# Ids end up in tables, file names and terminals: letters, digits and a few separators only.
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+/-]{0,127}$")


@dataclass(frozen=True)
class Limits:
    """Safety bounds for hostile feeds (sizes are uncompressed bytes)."""

    max_file_bytes: int = 1024 * MiB  # one plain file: the Debian tracker JSON is ~100 MiB
    max_member_bytes: int = 64 * MiB  # one zip member or gzip stream
    max_total_bytes: int = 4096 * MiB  # everything inside one archive
    max_ratio: int = 200  # compression ratio above which a large member is a bomb
    ratio_floor_bytes: int = 1 * MiB  # small members may compress well
    max_yaml_bytes: int = 16 * MiB  # PyYAML is slow and memory hungry
    max_versions: int = 50_000  # explicit versions of one affected package
    max_events: int = 1_000  # events of one range
    max_affected: int = 20_000  # affected entries of one record
    max_text: int = 65_536  # summary/details are truncated beyond this
    max_warnings: int = 200  # warnings kept for display; all are counted


@dataclass(frozen=True)
class CvssRecord:
    """NVD's CVSS data for one CVE (used when an advisory carries none)."""

    cve: str
    scores: tuple[CvssScore, ...]


@dataclass(frozen=True)
class EpssRecord:
    cve: str
    epss: Epss


@dataclass(frozen=True)
class KevRecord:
    cve: str
    kev: Kev


@dataclass
class ImportStats:
    """Counts of what one input gave: records by kind, and skips with their reasons."""

    loaded: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)
    limits: Limits = field(default_factory=Limits)

    def skip(self, where: str, reason: str) -> None:
        self.skipped += 1
        if len(self.warnings) < self.limits.max_warnings:
            self.warnings.append(f"{where}: {reason}")

    @property
    def total(self) -> int:
        return sum(self.loaded.values())


def parse_yaml(data: bytes, where: str, limits: Limits) -> Any:
    """A feed document: every scalar a string, aliases refused (yamlsafe.loads_strings)."""
    return loads_strings(data, where, limits.max_yaml_bytes)


def parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise InputError(f"invalid JSON: {str(error)[:200]}", where=where) from None


def text(value: Any, limit: int) -> str:
    """A feed's free text, kept as written (escaped on output) but bounded."""
    return value[:limit] if isinstance(value, str) else ""


def valid_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(ID_RE.match(value))
