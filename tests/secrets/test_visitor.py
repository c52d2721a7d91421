"""One walk for catalog and secrets: with the secret visitor, the walk gives the same SBOM and
the same secret report as two separate walks, and each layer is walked once."""

from __future__ import annotations

from pathlib import Path

from hullguard.catalog import catalog_source
from hullguard.images import open_image
from hullguard.images.api import ImageSource, LayerWalk
from hullguard.images.walk import walk_layers
from hullguard.model import Layer
from hullguard.secrets import scan_image, secret_visitor, visitor_report
from tests.secrets.corpus import write_planted


class CountingSource:
    """Delegates to a real source and counts walk_layer calls per layer."""

    def __init__(self, source: ImageSource) -> None:
        self._source = source
        self.walks: dict[int, int] = {}

    @property
    def info(self):  # type: ignore[no-untyped-def]
        return self._source.info

    def walk_layer(self, layer: Layer) -> LayerWalk:
        self.walks[layer.index] = self.walks.get(layer.index, 0) + 1
        return self._source.walk_layer(layer)


def _secrets_key(report) -> set[tuple[str, str, tuple[tuple[str, int, str], ...]]]:  # type: ignore[no-untyped-def]
    return {(f.rule_id, f.fingerprint, tuple(sorted((loc.path, loc.layer_index, str(loc.state))
                                                     for loc in f.locations)))
            for f in report.findings}


def test_visitor_equals_two_walks_and_walks_each_layer_once(tmp_path: Path) -> None:
    ref = f"docker-archive:{write_planted(tmp_path)}"
    separate_secrets = scan_image(ref)
    with open_image(ref) as source:
        separate_sbom = catalog_source(source)
    with open_image(ref) as source:
        counting = CountingSource(source)
        visitor = secret_visitor()
        sbom = catalog_source(counting, visitors=[visitor])  # type: ignore[arg-type]
        report = visitor_report(visitor, source.info)
    assert set(counting.walks.values()) == {1}
    assert len(counting.walks) == len(sbom.image.layers)
    assert [p.purl for p in sbom.packages] == [p.purl for p in separate_sbom.packages]
    assert _secrets_key(report) == _secrets_key(separate_secrets)
    assert any(str(loc.state) == "deleted" for f in report.findings for loc in f.locations)


def test_visitor_alone_scans_every_layer(tmp_path: Path) -> None:
    ref = f"docker-archive:{write_planted(tmp_path)}"
    with open_image(ref) as source:
        visitor = secret_visitor()
        walk_layers(source, [visitor])  # the secret scanner alone
        report = visitor_report(visitor, source.info)
    assert _secrets_key(report) == _secrets_key(scan_image(ref))
