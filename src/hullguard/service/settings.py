"""What ``hullguard serve`` runs with: the store, the advisory DB, webhook settings, bounds."""

from __future__ import annotations

from dataclasses import dataclass, field

from hullguard.images.api import SourceOptions

MAX_WEBHOOK_BODY = 1 << 20  # a registry's notification is a few KiB; 1 MiB is generous
MAX_UPLOAD_BODY = 8 << 20  # an inventory upload (Kubernetes manifests, compose, a list)


@dataclass(frozen=True)
class Settings:
    store_url: str
    db_path: str = ""  # the advisory database ("" = catalog only, no findings)
    # The shared secret every webhook must present (Docker Hub: in the URL path);
    # "" = webhooks are refused.
    webhook_secret: str = ""
    # Registry hosts a webhook may name (host[:port]); a payload naming another is ignored,
    # so a webhook can never make the service connect somewhere of the sender's choosing.
    registries: tuple[str, ...] = ()
    workers: int = 2  # threads scanning in-process
    # queued scans beyond which a submission is refused (503): in this process, or with a
    # broker the messages waiting on the queue the submission goes to (read from the broker)
    queue_size: int = 100
    webhook_rate: float = 1.0  # webhook requests per second per sender (sustained)
    webhook_burst: int = 30
    public_metrics: bool = True  # False: /metrics needs a token with the read scope
    secrets: bool = True  # scan layers for secrets too
    source: SourceOptions = field(default_factory=SourceOptions)
    # A Celery broker URL: scans go to `hullguard worker` processes instead of this
    # process's pool ("" = in-process); the queue then lives on the broker.
    broker: str = ""
    broker_depth_ttl: float = 5.0  # seconds a queue-depth reading of the broker is reused
