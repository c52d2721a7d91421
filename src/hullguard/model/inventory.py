"""The fleet inventory: image references, where each was found, and the workloads that run them.

Pure data shared by inventory (which builds it), the store, graph (blast radius) and triage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hullguard.model.reference import ImageReference


class SourceKind(StrEnum):
    """Where an image reference was found."""

    KUBERNETES = "kubernetes"  # a manifest file (or Helm-rendered output)
    KUBECTL = "kubectl"  # a `kubectl get ... -o json` dump
    CLUSTER = "cluster"  # a live cluster through the API
    COMPOSE = "compose"
    DOCKERFILE = "dockerfile"
    LIST = "list"  # a plain image list


class Origin(StrEnum):
    """Which kind of registry an image comes from."""

    DOCKER_HUB = "dockerhub"
    PUBLIC = "public"  # another well-known public registry (ghcr.io, quay.io, ...)
    INTERNAL = "internal"


class Environment(StrEnum):
    PRODUCTION = "production"
    STAGING = "staging"
    DEVELOPMENT = "development"
    UNKNOWN = "unknown"


class Criticality(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """One place an image reference came from: a file and line, or a workload's container."""

    kind: SourceKind
    path: str = ""  # file path, or "cluster:<context>"
    line: int = 0  # 1-based; 0 when unknown (JSON dumps, live clusters)
    namespace: str = ""
    workload_kind: str = ""  # Deployment, CronJob, compose-service, ...
    workload: str = ""
    container: str = ""  # container name, compose service, or Dockerfile stage
    helm_source: str = ""  # the chart template from a `# Source:` comment

    @property
    def workload_key(self) -> str:
        """``namespace/Kind/name`` of the workload, or "" for files without one."""
        if not self.workload:
            return ""
        return f"{self.namespace}/{self.workload_kind}/{self.workload}"

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}" if self.line else self.path
        if self.workload:
            ns = f"{self.namespace}/" if self.namespace else ""
            text += f" {self.workload_kind} {ns}{self.workload}"
            if self.container:
                text += f" container {self.container}"
        elif self.container:
            text += f" stage {self.container}"
        return text


@dataclass(frozen=True)
class ImageOccurrence:
    """A reference as written at one location, with what ran there when known."""

    ref: ImageReference
    raw: str  # the reference text as written (after variable substitution)
    location: SourceLocation
    running_digest: str = ""  # from status.containerStatuses[].imageID
    # container | init | ephemeral (pod specs), service (compose), final | build (Dockerfile
    # stages: only the final stage's image ships), copy (COPY --from=image), list
    role: str = "container"


@dataclass(frozen=True)
class Exposure:
    """How a workload can be reached; ``via`` says what makes it internet-facing."""

    internet_facing: bool = False
    via: tuple[str, ...] = ()  # "Ingress shop/web", "Service shop/web (LoadBalancer)"

    def __str__(self) -> str:
        if not self.internet_facing:
            return "internal"
        return "internet-facing via " + ", ".join(self.via)


@dataclass(frozen=True)
class Workload:
    """Something that runs containers: a Kubernetes workload or a compose service."""

    namespace: str
    kind: str
    name: str
    source: str = ""  # file path, or "cluster:<context>"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    pod_labels: tuple[tuple[str, str], ...] = ()
    containers: tuple[str, ...] = ()  # container names in pod-spec order
    exposure: Exposure = field(default_factory=Exposure)
    environment: Environment = Environment.UNKNOWN
    criticality: Criticality = Criticality.UNKNOWN
    criticality_source: str = ""  # "label", "annotation", "config <glob>"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"


@dataclass(frozen=True)
class InventoryImage:
    """One distinct (normalized) reference and every place it occurs."""

    ref: ImageReference
    origin: Origin
    occurrences: tuple[ImageOccurrence, ...]

    @property
    def running_digests(self) -> tuple[str, ...]:
        return tuple(sorted({o.running_digest for o in self.occurrences if o.running_digest}))

    @property
    def workload_keys(self) -> tuple[str, ...]:
        keys = {o.location.workload_key for o in self.occurrences}
        return tuple(sorted(k for k in keys if k))


@dataclass(frozen=True)
class InventoryIssue:
    """A per-file problem: an ``error`` means the file (or document) was skipped, a
    ``warning`` that it was used with something ignored."""

    path: str
    message: str
    line: int = 0
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class DeclaredBase:
    """A Dockerfile's declared base: the image built from ``dockerfile`` starts ``FROM base``.

    ``target`` names the built image when known (a compose service's ``image:``)."""

    dockerfile: str
    base: ImageReference
    line: int = 0
    stage: str = ""
    target: ImageReference | None = None
    consumer: str = ""  # key of the compose service that builds from this Dockerfile


@dataclass(frozen=True)
class Inventory:
    images: tuple[InventoryImage, ...] = ()
    workloads: tuple[Workload, ...] = ()
    issues: tuple[InventoryIssue, ...] = ()
    sources: tuple[str, ...] = ()  # files (or clusters) read successfully
    declared_bases: tuple[DeclaredBase, ...] = ()

    def workload(self, key: str) -> Workload | None:
        return next((w for w in self.workloads if w.key == key), None)

    def image(self, name: str) -> InventoryImage | None:
        return next((i for i in self.images if i.ref.key == name), None)
