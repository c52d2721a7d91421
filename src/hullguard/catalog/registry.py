"""The one list of catalogers. A new format is one module in extractors/ and one line here."""

from __future__ import annotations

from hullguard.catalog.api import Extractor
from hullguard.catalog.extractors.apk import ApkExtractor
from hullguard.catalog.extractors.dotnet import DotnetDepsExtractor
from hullguard.catalog.extractors.dpkg import DpkgExtractor
from hullguard.catalog.extractors.golang import GoBinaryExtractor
from hullguard.catalog.extractors.java import JavaArchiveExtractor
from hullguard.catalog.extractors.node import NodeExtractor
from hullguard.catalog.extractors.osrelease import OsReleaseExtractor
from hullguard.catalog.extractors.php import ComposerExtractor
from hullguard.catalog.extractors.python import PythonExtractor
from hullguard.catalog.extractors.rpm import RpmExtractor
from hullguard.catalog.extractors.ruby import RubyGemExtractor


def default_extractors() -> list[Extractor]:
    """Fresh instances (extractors may keep per-walk state)."""
    return [
        OsReleaseExtractor(),
        ApkExtractor(),
        DpkgExtractor(),
        RpmExtractor(),
        PythonExtractor(),
        NodeExtractor(),
        GoBinaryExtractor(),
        JavaArchiveExtractor(),
        RubyGemExtractor(),
        ComposerExtractor(),
        DotnetDepsExtractor(),
    ]
