"""Log sources: one module per format, each a class with ``name``, ``description`` and
``parse(lines)`` (see :mod:`hullguard.forensics.sources.base`). A new format is one module and
one line in :data:`SOURCES`."""

from __future__ import annotations

from hullguard.errors import InputError
from hullguard.forensics.sources.base import Source
from hullguard.forensics.sources.container_logs import CriLog, DockerLog
from hullguard.forensics.sources.distribution_events import DistributionEvents
from hullguard.forensics.sources.distribution_log import DistributionLog
from hullguard.forensics.sources.dockerhub_audit import DockerHubAudit
from hullguard.forensics.sources.dockerhub_usage import DockerHubUsage
from hullguard.forensics.sources.harbor_audit import HarborAudit
from hullguard.forensics.sources.harbor_webhook import HarborWebhook
from hullguard.forensics.sources.k8s_audit import K8sAudit
from hullguard.forensics.sources.k8s_events import K8sEvents

SOURCES: tuple[Source, ...] = (
    DistributionLog(),
    DistributionEvents(),
    HarborAudit(),
    HarborWebhook(),
    DockerHubAudit(),
    DockerHubUsage(),
    K8sAudit(),
    K8sEvents(),
    CriLog(),
    DockerLog(),
)


def get_source(name: str) -> Source:
    for source in SOURCES:
        if source.name == name:
            return source
    raise InputError(f"unknown log source {name!r}", where=name,
                     hint="one of: " + ", ".join(s.name for s in SOURCES) +
                     " (hullguard forensics sources)")
