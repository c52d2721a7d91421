"""Real brokers and real ``hullguard worker`` processes for the worker tests.

Each test module gets private broker instances (Debian's ``redis-server`` and RabbitMQ's own
``rabbitmq-server`` script, on free ports on 127.0.0.1, data in a temp folder), so a test may
stop and restart its broker without disturbing anything else; ``scripts/test`` installs both
packages. Workers run as ``python -m hullguard worker`` in their own process group, so a
test can kill one (and its pool children) with SIGKILL, as a dying machine would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cli import REPO
from tests.support.env import missing
from tests.support.registry import free_port

REDIS_BIN = "/usr/bin/redis-server"
RABBITMQ_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server"
READY_TIMEOUT = 60.0


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"broker not listening on {port} after {timeout} s")


def _wait_broker(url: str, timeout: float) -> None:
    """Until the broker answers its own protocol (RabbitMQ listens before it accepts)."""
    from kombu import Connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            with Connection(url, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Broker:
    """A private broker: ``url`` for clients; :meth:`stop` and :meth:`start` for faults
    (data persists across them: RabbitMQ's durable queues, Redis's append-only file)."""

    kind: str  # "redis" or "rabbitmq"
    root: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    node: str = field(default_factory=lambda: f"hg{uuid.uuid4().hex[:8]}")
    dist_port: int = 0

    @property
    def url(self) -> str:
        if self.kind == "redis":
            return f"redis://127.0.0.1:{self.port}/0"
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        log = self.root / f"{self.kind}.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(self._command(), stdout=out,
                                            stderr=subprocess.STDOUT, env=self._env(),
                                            cwd=self.root, start_new_session=True)
        _wait_port(self.port, self.process, log, READY_TIMEOUT)
        _wait_broker(self.url, READY_TIMEOUT)

    def stop(self) -> None:
        _stop(self.process)

    def _command(self) -> list[str]:
        if self.kind == "redis":
            return [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.root), "--appendonly", "yes", "--save", "",
                    "--protected-mode", "yes"]
        return [RABBITMQ_BIN]

    def _env(self) -> dict[str, str]:
        if self.kind == "redis":
            return dict(os.environ)
        return {**os.environ, "HOME": str(self.root),
                "RABBITMQ_NODENAME": f"{self.node}@localhost",
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.root / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "plugins"),
                "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq")}


@contextlib.contextmanager
def start_broker(kind: str, root: Path) -> Iterator[Broker]:
    binary = REDIS_BIN if kind == "redis" else RABBITMQ_BIN
    if not Path(binary).exists():
        missing(f"{binary} not installed (Debian package {kind}-server)")
    root.mkdir(parents=True, exist_ok=True)
    broker = Broker(kind, root, free_port(), dist_port=free_port())
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL to the worker and its pool children at once: no goodbye to the broker."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        _stop(self.process)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def start_worker(broker: str, log: Path, *, store: str = "", queues: str = "push,rescan",
                 concurrency: int = 1, env: dict[str, str] | None = None) -> Iterator[Worker]:
    """``hullguard worker`` until the block ends; waits until Celery says it is ready."""
    command = [sys.executable, "-m", "hullguard", "worker", "--broker", broker,
               "--queues", queues, "--concurrency", str(concurrency)]
    if store:
        command += ["--store", store]
    full = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep
            + os.environ.get("PYTHONPATH", ""), **(env or {})}
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=full,
                                   start_new_session=True)
    worker = Worker(process, log)
    try:
        _wait_ready(worker)
        yield worker
    finally:
        worker.stop()


def _wait_ready(worker: Worker) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker exited: {worker.text()[-3000:]}")
        if " ready." in worker.text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready after {READY_TIMEOUT} s: {worker.text()[-3000:]}")
