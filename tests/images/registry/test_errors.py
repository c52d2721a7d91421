from __future__ import annotations

import pytest

from hullguard.errors import RegistryError
from hullguard.images import open_image
from hullguard.images.api import SourceOptions


def test_unresolvable_registry_points_to_local_sources() -> None:
    # .invalid never resolves (RFC 2606), so this fails in name resolution on any machine.
    with pytest.raises(RegistryError) as caught:
        open_image("registry.hullguard.invalid/app:1", SourceOptions(timeout=10))
    text = caught.value.diagnostics()
    assert "cannot reach the registry" in text
    assert "docker-archive:PATH" in text and "--insecure" not in text
