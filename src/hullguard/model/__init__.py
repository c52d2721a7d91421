"""The pure data model shared by every stage: frozen dataclasses, no I/O."""

from hullguard.model.image import (
    Digest,
    HistoryEntry,
    ImageConfig,
    ImageInfo,
    Layer,
    Platform,
)
from hullguard.model.package import (
    Distro,
    Location,
    Package,
    PackageType,
    PluginStatus,
    Sbom,
    Status,
)

__all__ = [
    "Digest",
    "Distro",
    "HistoryEntry",
    "ImageConfig",
    "ImageInfo",
    "Layer",
    "Location",
    "Package",
    "PackageType",
    "Platform",
    "PluginStatus",
    "Sbom",
    "Status",
]

from hullguard.model.advisory import (
    Advisory,
    Affected,
    CvssScore,
    Epss,
    Event,
    Finding,
    Kev,
    MatchExplanation,
    Range,
    Severity,
)

__all__ += [
    "Advisory",
    "Affected",
    "CvssScore",
    "Epss",
    "Event",
    "Finding",
    "Kev",
    "MatchExplanation",
    "Range",
    "Severity",
]
