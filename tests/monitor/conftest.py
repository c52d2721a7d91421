"""Fixtures of the monitor tests: a store on SQLite and on the real PostgreSQL at 127.0.0.1,
real advisory files from the corpus, local alert receivers (an HTTP server that verifies
Standard Webhooks signatures with the library, and aiosmtpd), the real registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hullguard.model import Digest, Distro, ImageInfo, Layer, Package, PackageType, Sbom
from tests.store import conftest as store_fixtures
from tests.support import registry as support
from tests.support.env import missing

registry_server = support.registry_server
fresh_store = store_fixtures.fresh_store  # a new store on SQLite and on the real PostgreSQL
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "advisories" / "pypa" / "vulns"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus/advisories/pypa/vulns")
SECRET = "whsec_" + "bW9uaXRvci10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM="


def corpus_file(package: str, name: str) -> Path:
    path = CORPUS / package / name
    if not path.is_file():
        missing(f"the advisory corpus is not at {CORPUS}")
    return path


def python_sbom(reference: str, packages: dict[str, str]) -> Sbom:
    """A stored image with these PyPI packages (name -> version)."""
    digest = Digest("sha256", hashlib.sha256(reference.encode()).hexdigest())
    layer = Layer(0, None, Digest("sha256", hashlib.sha256(b"l" + reference.encode())
                                  .hexdigest()))
    info = ImageInfo(reference, "registry", digest, layers=(layer,))
    found = tuple(Package(name, version, PackageType.PYTHON, f"pkg:pypi/{name}@{version}")
                  for name, version in sorted(packages.items()))
    return Sbom(info, Distro("alpine", "3.20.3"), found)


@dataclass
class Receiver:
    """A local HTTP server recording every POST (path, headers, body)."""

    url: str
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for p, _h, body in self.posts if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    def route(handler: support.Handler) -> None:
        body = handler.read_body()
        holder[0].posts.append((handler.path, dict(handler.headers.items()), body))
        handler.reply(holder[0].status, b"ok", "text/plain")

    server = support.serve(route)
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}"))
    yield holder[0]
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    box = Mailbox("127.0.0.1", support.free_port())

    class Collect(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            box.messages.append(message)

    controller = Controller(Collect(), hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()
