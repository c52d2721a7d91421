"""Leaked credentials in images (every layer, deleted files included, and the config) and in
directories (text files, Dockerfiles, compose files, Kubernetes manifests).

Public surface: :func:`scan_image`, :func:`scan_path`, :func:`scan_target`, :func:`scan_bytes`.
They return a :class:`~hullguard.model.secret.SecretReport` and never print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hullguard.images.api import ImageSource, SourceOptions
from hullguard.images.sniff import image_reference
from hullguard.model.image import ImageConfig, ImageInfo
from hullguard.model.secret import SecretReport
from hullguard.secrets.allowlist import Allowlist, load_allowlist
from hullguard.secrets.collect import Collector, Place
from hullguard.secrets.content import Limits
from hullguard.secrets.engine import Matcher
from hullguard.secrets.rules import Rule, builtin_rules

if TYPE_CHECKING:
    from hullguard.secrets.image import SecretVisitor

__all__ = ["Allowlist", "Limits", "Matcher", "builtin_rules", "image_reference",
           "load_allowlist", "scan_bytes", "scan_image", "scan_path", "scan_target",
           "secret_visitor", "visitor_report"]


def _collector(allowlist: Allowlist | None, limits: Limits | None,
               rules: Sequence[Rule] | None) -> Collector:
    return Collector(Matcher(rules), allowlist or Allowlist(), limits or Limits())


def scan_image(source_or_ref: ImageSource | str, options: SourceOptions | None = None, *,
               allowlist: Allowlist | None = None, limits: Limits | None = None,
               rules: Sequence[Rule] | None = None) -> SecretReport:
    """Scan an opened image, or open ``source_or_ref`` (any reference hullguard.images takes)."""
    collector = _collector(allowlist, limits, rules)
    if isinstance(source_or_ref, str):
        from hullguard.images import open_image

        with open_image(source_or_ref, options or SourceOptions()) as source:
            return _scan_source(source, collector)
    return _scan_source(source_or_ref, collector)


def secret_visitor(*, allowlist: Allowlist | None = None, limits: Limits | None = None,
                   rules: Sequence[Rule] | None = None) -> SecretVisitor:
    """The secret scanner as a visitor of an image walk that also feeds other visitors (the
    catalog): one walk for both. Call :func:`visitor_report` when the walk is done."""
    from hullguard.secrets.image import SecretVisitor

    return SecretVisitor(_collector(allowlist, limits, rules))


def visitor_report(visitor: SecretVisitor, info: ImageInfo) -> SecretReport:
    """The secret report of a walk ``visitor`` saw every layer of."""
    visitor.finish()
    return _report(info, visitor.collector)


def _scan_source(source: ImageSource, collector: Collector) -> SecretReport:
    from hullguard.secrets.image import scan_layers

    scan_layers(source, collector)
    return _report(source.info, collector)


def _report(info: ImageInfo, collector: Collector) -> SecretReport:
    from hullguard.secrets.image import scan_config

    scan_config(info.config, info.layers, collector)
    # the config (Env, history) and layer commands hold the secrets in clear: keep them out
    layers = tuple(replace(layer, created_by=collector.redact(layer.created_by))
                   for layer in info.layers)
    return collector.report(info.name, replace(info, config=ImageConfig(), layers=layers))


def scan_path(path: Path, *, allowlist: Allowlist | None = None, limits: Limits | None = None,
              rules: Sequence[Rule] | None = None) -> SecretReport:
    """Scan a directory tree or one file (not an image archive: see :func:`scan_target`)."""
    from hullguard.secrets.files import check_path, scan_tree

    check_path(path)
    collector = _collector(allowlist, limits, rules)
    scan_tree(path, collector)
    return collector.report(str(path))


def scan_bytes(data: bytes, path: str = "<input>", *, config: bool = False,
               rules: Sequence[Rule] | None = None) -> SecretReport:
    """Scan one in-memory text or archive (``config``: treat as key=value config text)."""
    collector = _collector(None, None, rules)
    if config:
        collector.scan_text(data, path, Place(), config=True)
    else:
        collector.scan_file(data, path, Place())
    return collector.report(path)


def scan_target(target: str, options: SourceOptions | None = None, *,
                allowlist: Allowlist | None = None, limits: Limits | None = None,
                rules: Sequence[Rule] | None = None) -> SecretReport:
    """An existing path that is not an image is scanned as files; anything else is an image."""
    path = Path(target)
    if path.exists():
        reference = image_reference(path)
        if reference is None:
            return scan_path(path, allowlist=allowlist, limits=limits, rules=rules)
        target = reference
    return scan_image(target, options, allowlist=allowlist, limits=limits, rules=rules)
