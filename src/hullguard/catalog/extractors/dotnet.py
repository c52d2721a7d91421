""".NET dependencies: ``*.deps.json`` next to an application.

Libraries of type ``package`` are NuGet packages. Type ``runtimepack`` is the .NET runtime
itself: a self-contained app carries it (``runtimepack.Microsoft.NETCore.App.Runtime.linux-x64``,
``runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64``) and so does an installed shared
framework (``shared/Microsoft.NETCore.App/8.0.1/Microsoft.NETCore.App.deps.json``). They are
reported as the NuGet runtime packs they were restored from
(``pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.1``): GitHub's and OSV's .NET runtime
advisories name exactly those NuGet packages, so the runtime matches them like any package.
"""

from __future__ import annotations

import json

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import location, purl, sorted_meta, text_of
from hullguard.images.api import FileInfo
from hullguard.model import Package, PackageType

_REPORTED = ("package", "runtimepack")


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
            kind = value.get("type") if isinstance(value, dict) else None
            if kind not in _REPORTED or "/" not in key:
                continue
            name, _, version = key.partition("/")
            name = name.removeprefix("runtimepack.")
            if not name or not version:
                continue
            packages.append(Package(
                name=name, version=version, type=PackageType.NUGET,
                purl=purl("nuget", name, version), cataloger=self.name,
                locations=location(scan_input),
                metadata=sorted_meta({"sha512": str(value.get("sha512", "")),
                                      "type": str(kind)}),
            ))
        return Extraction(tuple(packages))
