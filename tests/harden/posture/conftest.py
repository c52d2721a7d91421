from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harden.posture.standin import DockerHubStandIn, HarborStandIn


@pytest.fixture
def hub() -> Iterator[DockerHubStandIn]:
    server = DockerHubStandIn()
    yield server
    server.close()


@pytest.fixture
def harbor() -> Iterator[HarborStandIn]:
    server = HarborStandIn()
    yield server
    server.close()
