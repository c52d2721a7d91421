"""The cataloger (extractor) interface, modelled on osv-scalibr's filesystem extractors.

Each format is one module with one class implementing :class:`Extractor`, listed once in
:mod:`hullguard.catalog.registry`. The engine walks the image once; for every regular file it
asks each extractor the cheap question ``file_required(info)`` (a path/mode/size test, no I/O)
and hands the content to ``extract`` only for the files an extractor asked for. ``extract`` sees
one file at a time, in the layer that holds it; the engine applies whiteouts and later-layer
overrides afterwards, adds distro qualifiers to OS package PURLs, records the introducing layer
and resolves OS-package ownership of language packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hullguard.images.api import FileInfo, LayerEntry
from hullguard.model import Distro, Package


@dataclass(frozen=True)
class FileOwnership:
    """Paths an OS package installed (dpkg ``info/*.list``, apk ``F:``/``R:``, rpm file list)."""

    owner: str  # e.g. "deb:node-lodash"
    paths: frozenset[str]


@dataclass(frozen=True)
class LicenseEvidence:
    """Licenses a file declares for an OS package it does not itself list (e.g. Debian's
    ``/usr/share/doc/NAME/copyright``); the engine adds them to that package."""

    owner: str  # e.g. "deb:bash"
    licenses: tuple[str, ...]


@dataclass(frozen=True)
class Extraction:
    """What one extractor found in one file."""

    packages: tuple[Package, ...] = ()
    ownerships: tuple[FileOwnership, ...] = ()
    distro: Distro | None = None
    warnings: tuple[str, ...] = ()
    license_evidence: tuple[LicenseEvidence, ...] = ()


@dataclass(frozen=True)
class ScanInput:
    """One requested file during the walk: its header, its layer and a way to read it."""

    entry: LayerEntry
    layer_index: int
    layer_diff_id: str
    max_file_bytes: int = field(default=256 << 20)

    @property
    def info(self) -> FileInfo:
        return self.entry.info

    @property
    def path(self) -> str:
        return self.entry.info.path

    def read(self) -> bytes:
        """The whole file, bounded by ``max_file_bytes`` (LimitExceeded beyond)."""
        return self.entry.read(self.max_file_bytes)


class Extractor(Protocol):
    """One package format. ``name`` is stable (it appears in SBOMs and statuses)."""

    name: str

    def file_required(self, info: FileInfo) -> bool:
        """Cheap test on the header alone: must this file be handed to ``extract``?"""
        ...

    def extract(self, scan_input: ScanInput) -> Extraction:
        """Parse one file. Raise a HullguardError subclass for bad content; the engine records
        it in this extractor's status and carries on with the rest of the image."""
        ...
