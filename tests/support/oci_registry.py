"""A registry with the OCI 1.1 referrers API on 127.0.0.1, for the trust and mirror tests.

Debian's docker-registry (tests/support/registry.py) has no referrers API, so writers keep the
referrers tag schema index themselves there. This is the other side: go-containerregistry's
registry package (pkg/registry v0.22.1) with ``WithReferrersSupport(true)``, served by the small
Go program in ``tests/support/ggcr_registry`` that scripts/test builds into the Go tools' bin
directory. Manifests are kept in memory, blobs on disk.

What it implements and what it does not (checked against v0.22.1 by
``tests/harden/trust/test_referrers_api.py::test_the_referrers_api_registry_as_documented``):

* ``GET /v2/<name>/referrers/<digest>`` answers an OCI image index (200, also when empty) of
  every manifest whose ``subject`` is that digest, with their annotations;
* it lists each referrer's **config media type** as ``artifactType`` (not the manifest's own
  ``artifactType`` as OCI 1.1 final says): a bundle with the empty config shows up as
  ``application/vnd.oci.empty.v1+json``;
* it ignores the ``artifactType`` query (no filtering, no ``OCI-Filters-Applied`` header);
* it does not answer ``OCI-Subject`` on a manifest PUT with a subject;
* an unknown repository answers 404 ``NAME_UNKNOWN`` on the referrers endpoint;
* no auth, no TLS, no deletes of blobs; the process forgets its manifests when it stops.
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import go_tool
from tests.support.registry import RegistryServer, stop_process

READY_TIMEOUT = 20.0


def _bound_address(process: subprocess.Popen[bytes], log: Path) -> str:
    """The ``127.0.0.1:PORT`` the program prints once it listens (bounded wait)."""
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline().decode()
            if line.startswith("listening on "):
                return line.removeprefix("listening on ").strip()
        if process.poll() is not None:
            break
    process.kill()
    process.wait()
    raise RuntimeError(f"ggcr_registry did not start: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def start_referrers_registry(root: Path) -> Iterator[RegistryServer]:
    """Run the referrers-API registry with blobs under ``root`` until the block ends; its
    request log goes to ``root/registry.log``. Stops it with SIGTERM (a clean shutdown)."""
    binary = go_tool("ggcr_registry")
    root.mkdir(parents=True, exist_ok=True)
    log = root / "registry.log"
    with log.open("wb") as err:
        process = subprocess.Popen([binary, "-addr", "127.0.0.1:0", "-blobs",
                                    str(root / "blobs")], stdout=subprocess.PIPE, stderr=err)
    try:
        yield RegistryServer(_bound_address(process, log), root, process=process)
    finally:
        stop_process(process)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def referrers_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """go-containerregistry's registry with the OCI 1.1 referrers API (one per xdist worker)."""
    with start_referrers_registry(tmp_path_factory.mktemp("referrers-registry")) as server:
        yield server
