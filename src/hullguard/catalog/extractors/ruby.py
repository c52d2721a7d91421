"""Installed Ruby gems: ``specifications/*.gemspec`` (the Ruby source RubyGems writes).

The file is code, so it is never evaluated: name, version and licenses are read with
patterns that match what ``Gem::Specification#to_ruby`` emits.
"""

from __future__ import annotations

import posixpath
import re

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import location, purl, text_of
from hullguard.images.api import FileInfo
from hullguard.model import Package, PackageType

_NAME = re.compile(r"""\.name\s*=\s*["']([^"']+)["']""")
_VERSION = re.compile(r"""\.version\s*=\s*["']([^"']+)["']""")
_LICENSES = re.compile(r"""\.licenses?\s*=\s*\[?([^\]\n]*)""")
_QUOTED = re.compile(r"""["']([^"']+)["']""")


class RubyGemExtractor:
    name = "ruby"

    def file_required(self, info: FileInfo) -> bool:
        """``specifications/NAME-VER.gemspec`` and the default gems Ruby itself ships
        (``specifications/default/``: bundler, json, psych, openssl, ... real versions that
        advisories name, e.g. CVE-2020-10663 in json < 2.3.0)."""
        if not info.path.endswith(".gemspec") or info.size >= (1 << 20):
            return False
        parent = posixpath.dirname(info.path)
        if posixpath.basename(parent) == "default":
            parent = posixpath.dirname(parent)
        return posixpath.basename(parent) == "specifications"

    def extract(self, scan_input: ScanInput) -> Extraction:
        text = text_of(scan_input, 1 << 20)
        name, version = _NAME.search(text), _VERSION.search(text)
        if not name or not version:
            return Extraction(warnings=(f"{scan_input.path}: no name/version found",))
        licenses = _LICENSES.search(text)
        package = Package(
            name=name[1], version=version[1], type=PackageType.GEM,
            purl=purl("gem", name[1], version[1]), cataloger=self.name,
            licenses=tuple(_QUOTED.findall(licenses[1])) if licenses else (),
            locations=location(scan_input),
        )
        return Extraction((package,))
