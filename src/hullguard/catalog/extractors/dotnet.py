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

from functools import partial

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import (
    json_of,
    location,
    or_warning,
    purl,
    sorted_meta,
)
from hullguard.images.api import FileInfo
from hullguard.model import Package, PackageType

_REPORTED = ("package", "runtimepack")


class DotnetDepsExtractor:
    name = "dotnet"

    def file_required(self, info: FileInfo) -> bool:
        return info.path.endswith(".deps.json") and info.size < (32 << 20)

    def extract(self, scan_input: ScanInput) -> Extraction:
        doc = json_of(scan_input, 32 << 20)
        if isinstance(doc, Extraction):  # not usable JSON: the warning saying why
            return doc
        libraries = doc.get("libraries") if isinstance(doc, dict) else None
        if not isinstance(libraries, dict):
            return Extraction()
        packages: list[Package] = []
        warnings: list[str] = []
        for key, value in sorted(libraries.items()):
            kind = value.get("type") if isinstance(value, dict) else None
            if kind not in _REPORTED or "/" not in key:
                continue
            name, _, version = key.partition("/")
            name = name.removeprefix("runtimepack.")
            if not name or not version:
                continue
            package = or_warning(partial(_package, name, version, value, scan_input),
                                 f"{scan_input.path}: {key[:80]!r}", warnings)
            if package is not None:
                packages.append(package)
        return Extraction(tuple(packages), warnings=tuple(warnings))


def _package(name: str, version: str, library: dict[str, object],
             scan_input: ScanInput) -> Package:
    return Package(
        name=name, version=version, type=PackageType.NUGET,
        purl=purl("nuget", name, version), cataloger=DotnetDepsExtractor.name,
        locations=location(scan_input),
        metadata=sorted_meta({"sha512": str(library.get("sha512", "")),
                              "type": str(library.get("type"))}),
    )
