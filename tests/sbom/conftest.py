"""Fixtures for the SBOM format tests: a hand-built catalog and a fixed SOURCE_DATE_EPOCH."""

from __future__ import annotations

import pytest

from hullguard.model import Sbom
from tests.sbom.samples import sample_sbom

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture
def sbom() -> Sbom:
    return sample_sbom()


@pytest.fixture
def fixed_epoch(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    return EPOCH
