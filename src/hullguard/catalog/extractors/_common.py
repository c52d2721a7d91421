"""Small helpers every extractor shares: text decoding, PURLs, RFC 822 paragraphs."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping

from packageurl import PackageURL

from hullguard.catalog.api import ScanInput
from hullguard.model import Location

MAX_TEXT_BYTES = 64 << 20  # package databases larger than this are hostile, not real


def text_of(scan_input: ScanInput, limit: int = MAX_TEXT_BYTES) -> str:
    """The file as text; undecodable bytes are replaced rather than failing the whole file."""
    return scan_input.entry.read(min(limit, scan_input.max_file_bytes)).decode(
        "utf-8", "replace")


def location(scan_input: ScanInput, path: str | None = None) -> tuple[Location, ...]:
    return (Location(path or scan_input.path, scan_input.layer_diff_id),)


def purl(kind: str, name: str, version: str, namespace: str | None = None,
         qualifiers: Mapping[str, str] | None = None, subpath: str | None = None) -> str:
    """A PURL via packageurl-python; empty qualifier values are dropped."""
    clean = {k: v for k, v in (qualifiers or {}).items() if v}
    return str(PackageURL(kind, namespace or None, name, version or None, clean or None,
                          subpath).to_string())


def parent_name(path: str) -> str:
    return posixpath.basename(posixpath.dirname(path))


def paragraphs(text: str) -> Iterator[dict[str, str]]:
    """RFC 822 style stanzas (dpkg status): ``Key: value`` with continuation lines."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
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


def sorted_meta(pairs: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in pairs.items() if v))
