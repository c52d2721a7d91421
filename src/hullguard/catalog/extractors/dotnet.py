""".NET dependencies: ``*.deps.json`` next to an application (libraries of type package)."""

from __future__ import annotations

import json

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import location, purl, sorted_meta, text_of
from hullguard.images.api import FileInfo
from hullguard.model import Package, PackageType


class DotnetDepsExtractor:
    name = "dotnet"

    def file_required(self, info: FileInfo) -> bool:
        return info.path.endswith(".deps.json") and info.size < (32 << 20)

    def extract(self, scan_input: ScanInput) -> Extraction:
        try:
            doc = json.loads(text_of(scan_input, 32 << 20))
        except ValueError as error:
            return Extraction(warnings=(f"{scan_input.path}: invalid JSON ({error})",))
        libraries = doc.get("libraries") if isinstance(doc, dict) else None
        if not isinstance(libraries, dict):
            return Extraction()
        packages = []
        for key, value in sorted(libraries.items()):
            if not isinstance(value, dict) or value.get("type") != "package" or "/" not in key:
                continue
            name, _, version = key.partition("/")
            packages.append(Package(
                name=name, version=version, type=PackageType.NUGET,
                purl=purl("nuget", name, version), cataloger=self.name,
                locations=location(scan_input),
                metadata=sorted_meta({"sha512": str(value.get("sha512", ""))}),
            ))
        return Extraction(tuple(packages))
