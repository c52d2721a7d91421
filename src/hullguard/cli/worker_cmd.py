"""``hullguard worker``: a Celery worker that scans image jobs from RabbitMQ or Redis."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hullguard.cli.common import check_store, handle_errors


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)


@handle_errors
def worker_command(
    broker: Annotated[str | None, typer.Option(
        "--broker", envvar="HULLGUARD_BROKER",
        help="Celery broker: amqp://USER:PASS@HOST:5672// (RabbitMQ) or redis://HOST:6379/0 "
             "(default: $HULLGUARD_BROKER).")] = None,
    store: Annotated[str | None, typer.Option(
        "--store", envvar="HULLGUARD_STORE",
        help="Store the worker records submitted scans in and reuses SBOMs from, for jobs "
             "that name none: SQLite path or postgresql:// DSN.")] = None,
    queues: Annotated[str, typer.Option(
        "--queues", help="Comma-separated queues to consume: push, rescan.")] = "push,rescan",
    concurrency: Annotated[int, typer.Option(
        "--concurrency", "-c", help="Worker processes (0 = CPUs).")] = 0,
) -> None:
    """Run a scan worker until stopped (Ctrl-C or SIGTERM finish the running scans first;
    a killed worker's scans are handed to another worker by the broker)."""
    from hullguard.errors import InputError
    from hullguard.pipeline.submit import QUEUES

    check_store(store)
    if not broker:
        raise InputError("no broker given", where="--broker",
                         hint="--broker amqp://guest:guest@HOST:5672// or "
                              "redis://HOST:6379/0 (or $HULLGUARD_BROKER)")
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown or not chosen:
        raise InputError(f"unknown queue(s): {', '.join(unknown) or '(none)'}",
                         where="--queues", hint=f"one or more of {', '.join(QUEUES)}")
    if concurrency < 0:
        raise InputError("must be 0 (CPUs) or more", where="--concurrency")
    _start(broker, store or "", chosen, concurrency or os.cpu_count() or 1)


def _start(broker: str, store: str, queues: list[str], concurrency: int) -> None:
    from hullguard.errors import InputError

    try:
        from hullguard.workers.app import make_app
    except ImportError as error:
        raise InputError(f"the workers extra is not installed ({error.name})",
                         where="worker", hint="pip install 'hullguard[workers]'") from None
    app = make_app(broker)
    app.conf.hullguard_store = store
    app.worker_main(["worker", "--queues", ",".join(queues), "--concurrency",
                     str(concurrency), "--loglevel", "INFO", "--pool", "prefork",
                     "--without-gossip", "--without-mingle", "--hostname",
                     f"hullguard-{os.getpid()}@%h"])
