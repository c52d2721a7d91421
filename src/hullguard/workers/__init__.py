"""``hullguard worker``: image scans as Celery tasks on RabbitMQ or Redis.

:mod:`.app` builds the Celery app (queues, late acknowledgement, the dead-letter queue),
:mod:`.tasks` is the task that runs one image job, :mod:`.client` submits jobs
(:class:`~.client.CelerySubmitter`) and runs a fleet through the workers
(:class:`~.client.CeleryExecutor`). Celery is imported only here, never at CLI start-up.
"""

from __future__ import annotations

__all__: list[str] = []
