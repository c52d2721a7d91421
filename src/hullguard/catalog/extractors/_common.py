"""Small helpers every extractor shares: text decoding, PURLs, RFC 822 paragraphs."""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from packageurl import PackageURL

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.errors import InputError, LimitExceeded
from hullguard.model import Location

T = TypeVar("T")
MAX_TEXT_BYTES = 32 << 20  # package databases larger than this are hostile, not real
MAX_RECORDS = 50_000  # packages per database file (real ones hold a few thousand)


def text_of(scan_input: ScanInput, limit: int = MAX_TEXT_BYTES) -> str:
    """The file as text; undecodable bytes are replaced rather than failing the whole file."""
    return scan_input.entry.read(min(limit, scan_input.max_file_bytes)).decode(
        "utf-8", "replace")


def json_of(scan_input: ScanInput, limit: int = MAX_TEXT_BYTES) -> object:
    """The file as JSON through the one bounded loader for untrusted JSON (yamlsafe: nesting
    depth, malformed text). An Extraction holding the warning when it is not usable JSON."""
    from hullguard.inventory.yamlsafe import loads_json  # PyYAML only when a file needs it

    text = text_of(scan_input, limit)
    try:
        return loads_json(text, scan_input.path)
    except (InputError, LimitExceeded) as error:
        return Extraction(warnings=(f"{scan_input.path}: invalid JSON ({error.message})",))
    except ValueError as error:  # e.g. an integer of over 4300 digits
        return Extraction(warnings=(f"{scan_input.path}: invalid JSON ({error})",))


def location(scan_input: ScanInput, path: str | None = None) -> tuple[Location, ...]:
    return (Location(path or scan_input.path, scan_input.layer_diff_id),)


def purl(kind: str, name: str, version: str, namespace: str | None = None,
         qualifiers: Mapping[str, str] | None = None, subpath: str | None = None) -> str:
    """A PURL via packageurl-python; empty qualifier values are dropped.

    InputError when the parts cannot name this package faithfully: packageurl strips
    surrounding whitespace (a name of only whitespace then fails with TypeError, a version
    " " silently vanishes, "@ " turns into "%40"), refuses some names with ValueError, and
    lone surrogates fail to encode. Callers skip such a package with a warning."""
    clean = {k: v for k, v in (qualifiers or {}).items() if v}
    _check_purl_parts(kind, name, version, namespace, [*clean.values(), subpath or ""])
    try:
        return str(PackageURL(kind, namespace or None, name, version or None, clean or None,
                              subpath).to_string())
    except (TypeError, ValueError) as error:  # UnicodeError is a ValueError
        raise InputError(f"{kind} package {name[:80]!r} cannot make a valid PURL ({error})"
                         ) from None


def _check_purl_parts(kind: str, name: str, version: str, namespace: str | None,
                      others: list[str]) -> None:
    for label, part in (("name", name), ("version", version), ("namespace", namespace or "")):
        if part != part.strip() or (label == "name" and not part):
            raise InputError(f"{kind} package {label} {part[:80]!r} is blank or has surrounding "
                             "whitespace; it cannot make a valid PURL")
    for part in (name, version, namespace or "", *others):
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{kind} package {part[:80]!r} holds a lone surrogate; it cannot "
                             "make a valid PURL") from None


def or_warning(build: Callable[[], T], where: str, warnings: list[str]) -> T | None:
    """``build()``, or None and a warning when its record is invalid (InputError, e.g. a name
    that cannot make a PURL): one hostile record skips itself, not the whole database."""
    try:
        return build()
    except InputError as error:
        warnings.append(f"{where}: {error.message}; skipped")
        return None


def upstream(name: str, version: str, source_name: str, source_version: str) -> str:
    """The PURL ``upstream=`` qualifier syft and trivy write for OS packages built from a
    source package of another name (``libgcc-s1`` from ``gcc-12``) or version (binNMUs):
    ``SOURCE`` or ``SOURCE@SOURCE_VERSION`` when the source version differs; "" otherwise."""
    if not source_name or (source_name == name and source_version in ("", version)):
        return ""
    if source_version and source_version != version:
        return f"{source_name}@{source_version}"
    return source_name


def parent_name(path: str) -> str:
    return posixpath.basename(posixpath.dirname(path))


def paragraphs(text: str) -> Iterator[dict[str, str]]:
    """RFC 822 style stanzas (dpkg status): ``Key: value`` with continuation lines."""
    fields: dict[str, str] = {}
    key = ""
    for line in lines(text):
        if not line.strip():
            if fields:
                yield fields
            fields, key = {}, ""
        elif line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    if fields:
        yield fields


def lines(text: str) -> Iterator[str]:
    """Lines without their ends, one at a time (a database can hold a million lines)."""
    for line in io.StringIO(text):
        yield line.rstrip("\r\n")


def sorted_meta(pairs: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in pairs.items() if v))


def may_be_evidence(path: str) -> bool:
    """Could a language package's evidence live at ``path``? Keeps ownership tables small:
    an image's OS packages list hundreds of thousands of files, almost all of them
    documentation, headers, libraries and scripts that no language cataloger reads."""
    base = path.rpartition("/")[2]
    if "." not in base:
        return True  # executables (Go, Rust binaries) and directories
    return base in _EVIDENCE_NAMES or base.endswith(_EVIDENCE_SUFFIXES)


_EVIDENCE_NAMES = frozenset(("package.json", "METADATA", "PKG-INFO", "installed.json"))
_EVIDENCE_SUFFIXES = (".jar", ".war", ".ear", ".hpi", ".jpi", ".egg-info", ".gemspec",
                      ".deps.json")


def evidence_paths(paths: Iterable[str]) -> frozenset[str]:
    return frozenset(path for path in paths if may_be_evidence(path))


def bounded(records: Iterable[T], where: str) -> Iterator[T]:
    """``records`` up to MAX_RECORDS; more is a hostile database (LimitExceeded)."""
    for number, record in enumerate(records, start=1):
        if number > MAX_RECORDS:
            raise LimitExceeded(f"more than {MAX_RECORDS} package records", where=where)
        yield record
