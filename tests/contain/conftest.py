from __future__ import annotations

from pathlib import Path

import pytest

from tests.contain.kube import run_demo


@pytest.fixture(scope="session")
def demo_incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real incident folder: `hullguard respond --demo`."""
    return run_demo(tmp_path_factory.mktemp("demo-incident"))
