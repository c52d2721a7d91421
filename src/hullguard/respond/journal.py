"""The resumable journal of ``respond`` / ``scan-fleet``: one JSON file per finished image
under ``OUT/.hullguard-state/scans``.

The folder is a plain output folder, so an entry is untrusted input: it is JSON (never code,
never pickle), read with a size cap and strict types, and used only when it names the very
image just opened. An entry is keyed by

* the image's identity verified while reading it: the config digest (which commits to every
  layer's diff_id) and the manifest digest, never a path or a modification time;
* the :func:`analysis_version`: hullguard's version, the catalogers and the secret rules.

Findings are not journaled: they are matched again against this run's advisory database, so a
new database is always used. What is stored is already redacted (see secrets/redact.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hullguard.errors import HullguardError
from hullguard.fsutil import write_text_atomic
from hullguard.model import ImageInfo, Sbom, Severity
from hullguard.model.secret import FileState, SecretFinding, SecretLocation
from hullguard.sbom.fields import Fields

JOURNAL_SCHEMA = "hullguard-journal"
JOURNAL_VERSION = 2  # 1 was pickle: never read again
MAX_ENTRY_BYTES = 256 * 1024 * 1024
# Bump when what respond derives from an image changes without a hullguard release (the
# redaction, the way catalog and secret scan are combined).
RESPOND_ANALYSIS = 1


@lru_cache(maxsize=1)
def analysis_version() -> str:
    """One string naming everything a journaled result depends on besides the image: the
    hullguard release, the cataloger set and the secret rule set (by content)."""
    from importlib import resources

    from hullguard import __version__
    from hullguard.catalog.registry import default_extractors

    catalogers = ",".join(sorted(extractor.name for extractor in default_extractors()))
    rules = resources.files("hullguard.secrets").joinpath("rules.yaml").read_bytes()
    return (f"hullguard {__version__}; respond {RESPOND_ANALYSIS}; catalogers {catalogers}; "
            f"secret rules sha256:{hashlib.sha256(rules).hexdigest()[:16]}")


def journal_key(info: ImageInfo, source: str, secrets: bool) -> str:
    """The key of an opened image, or "" when it has no verified identity to key on."""
    if info.config_digest is None:
        return ""
    parts = (analysis_version(), str(info.config_digest), str(info.digest or ""), source,
             f"secrets={secrets}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class JournalEntry:
    sbom: Sbom
    secrets: tuple[SecretFinding, ...] = ()


class Journal:
    """Reads entries (any process) and writes them (the parent process only, atomically)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / f"{key[:40]}.json"

    def load(self, key: str) -> tuple[JournalEntry | None, str]:
        """The entry for ``key`` and "" ; or None and a warning when one was there but unusable
        (it is ignored: the image is scanned again and the entry replaced)."""
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_ENTRY_BYTES + 1)
        except FileNotFoundError:
            return None, ""
        except OSError as error:
            return None, f"journal entry {path} unreadable ({error.strerror}); scanned again"
        try:
            if len(data) > MAX_ENTRY_BYTES:
                raise ValueError(f"larger than {MAX_ENTRY_BYTES} bytes")
            return _decode(json.loads(data), key, str(path)), ""
        except (HullguardError, ValueError, TypeError, KeyError, RecursionError) as error:
            reason = error.diagnostics() if isinstance(error, HullguardError) else str(error)
            return None, f"journal entry {path} ignored and scanned again: {reason[:200]}"

    def save(self, key: str, entry: JournalEntry) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self._path(key), json.dumps(_encode(key, entry)))


def _encode(key: str, entry: JournalEntry) -> dict[str, Any]:
    from hullguard.sbom.native import to_dict

    return {"schema": JOURNAL_SCHEMA, "version": JOURNAL_VERSION, "key": key,
            "sbom": to_dict(entry.sbom), "secrets": [_secret(s) for s in entry.secrets]}


def _secret(finding: SecretFinding) -> dict[str, Any]:
    return {"rule_id": finding.rule_id, "title": finding.title,
            "severity": finding.severity.name, "fingerprint": finding.fingerprint,
            "prefix": finding.prefix, "length": finding.length,
            "locations": [{"path": loc.path, "line": loc.line, "layer_index": loc.layer_index,
                           "layer_diff_id": loc.layer_diff_id, "created_by": loc.created_by,
                           "state": loc.state.value} for loc in finding.locations]}


def _decode(data: Any, key: str, where: str) -> JournalEntry:
    from hullguard.sbom.native import from_dict

    doc = Fields(data, where)
    if doc.string("schema") != JOURNAL_SCHEMA or doc.integer("version") != JOURNAL_VERSION:
        doc.fail("not a journal entry of this hullguard version")
    if doc.string("key") != key:
        doc.fail("the entry is for another image or analysis")
    sbom = from_dict(doc.obj("sbom").data, where)
    return JournalEntry(sbom, tuple(_read_secret(s) for s in doc.objects("secrets")))


def _read_secret(fields: Fields) -> SecretFinding:
    severity = fields.string("severity")
    if severity not in Severity.__members__:
        fields.fail(f"unknown severity {severity[:20]!r}")
    locations = tuple(_read_location(loc) for loc in fields.objects("locations"))
    if not locations:
        fields.fail("a secret finding without a location")
    return SecretFinding(fields.string("rule_id"), fields.string("title"), Severity[severity],
                         fields.string("fingerprint"), fields.string("prefix"),
                         fields.integer("length"), locations)


def _read_location(fields: Fields) -> SecretLocation:
    state = fields.string("state")
    if state not in FileState._value2member_map_:
        fields.fail(f"unknown state {state[:20]!r}")
    return SecretLocation(fields.string("path"), fields.integer("line"),
                          fields.integer("layer_index"), fields.string("layer_diff_id"),
                          fields.string("created_by"), FileState(state))
