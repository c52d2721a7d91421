"""Secrets at rest: no SBOM hullguard writes (``sbom`` outputs, the store of ``sbom``/``scan``/
``scan-fleet``/``respond``, the respond journal and incident folder, graph indexes,
attestations) holds a credential of the image config in clear.

:func:`redact_sbom` runs once, where every SBOM is produced (:mod:`hullguard.catalog`:
``catalog_image`` and ``catalog_source``, SBOM files read with ``sbom:`` included), so every
writer downstream only ever sees the redacted form. It is idempotent: a redacted form is never
redacted again (an SBOM read back from the store passes through unchanged).

The image config carries them (``ENV AWS_SECRET_ACCESS_KEY=...``, ``RUN curl -H "token: ..."``),
and the SBOM keeps the config's Env, Labels, Entrypoint/Cmd and every layer command. A value
is replaced by its redacted form (the same prefix, length and fingerprint the secret reports
show: :func:`hullguard.model.secret.redacted_form`) when

* the secret scanner's rules flag it (the config is scanned here, so this holds with
  ``--no-secrets`` and for an SBOM taken from the store too), or
* it is assigned to a name that looks sensitive (``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``,
  ``*API_KEY*``, ...): ``NAME=value`` in Env and in layer commands. Names are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from hullguard.model import ImageConfig, ImageInfo, Sbom
from hullguard.model.secret import SecretFinding
from hullguard.secrets.collect import redact_secret

if TYPE_CHECKING:
    from hullguard.secrets.engine import Matcher

SENSITIVE_NAME = re.compile(
    r"passw|passphrase|secret|token|credential|auth|api_?key|access_?key|private_?key"
    r"|(^|_)pass$|(^|_)pwd$", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"""\b([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s"';&|]+)""")
# what :func:`~hullguard.model.secret.redacted_form` writes (the prefix is up to 4 characters)
_REDACTED = re.compile(r"(?s).{0,4}\*{4} \(len \d+, sha256:[0-9a-f]{16}\)")

__all__ = ["Redactor", "config_secrets", "is_sensitive_name", "redact_sbom", "redact_secret"]


def is_sensitive_name(name: str) -> bool:
    return bool(SENSITIVE_NAME.search(name))


def _is_redacted(value: str) -> bool:
    return _REDACTED.fullmatch(value) is not None


@lru_cache(maxsize=1)
def _matcher() -> Matcher:
    from hullguard.secrets.engine import Matcher

    return Matcher()


def config_secrets(info: ImageInfo) -> frozenset[str]:
    """The secrets the scanner's rules find in the config (Env, Labels, commands, history)."""
    from hullguard.secrets.collect import Collector
    from hullguard.secrets.image import scan_config

    collector = Collector(_matcher())
    scan_config(info.config, info.layers, collector)
    return frozenset(s.decode("utf-8", errors="replace") for s in collector.seen if s)


class Redactor:
    """Scrubs text of the given secrets and of values assigned to sensitive names."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted(set(secrets), key=len, reverse=True)  # longest first
        self._done: dict[str, str] = {}

    def text(self, text: str) -> str:
        if not text:
            return text
        if text not in self._done:
            self._done[text] = self._scrub(text)
        return self._done[text]

    def _scrub(self, text: str) -> str:
        """Redacted forms already in ``text`` are kept as they are; the rest is scrubbed."""
        pieces = _REDACTED.split(text)
        kept = _REDACTED.findall(text)
        scrubbed = [self._scrub_clear(piece) for piece in pieces]
        return "".join(p + k for p, k in zip(scrubbed, [*kept, ""], strict=True))

    def _scrub_clear(self, text: str) -> str:
        def assignment(match: re.Match[str]) -> str:
            name, value = match.group(1), match.group(2)
            return f"{name}={redact_secret(value)}" if is_sensitive_name(name) else match[0]

        text = _ASSIGNMENT.sub(assignment, text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, redact_secret(secret))
        return text

    def env(self, item: str) -> str:
        name, sep, value = item.partition("=")
        if _is_redacted(value):
            return item
        if sep and value and (is_sensitive_name(name) or any(s in value for s in self._secrets)):
            return f"{name}={redact_secret(value)}"
        return self.text(item)

    def label(self, pair: tuple[str, str]) -> tuple[str, str]:
        key, value = pair
        if _is_redacted(value):
            return pair
        if value and (is_sensitive_name(key) or any(s in value for s in self._secrets)):
            return key, redact_secret(value)
        return key, self.text(value)

    def config(self, config: ImageConfig) -> ImageConfig:
        history = tuple(replace(h, created_by=self.text(h.created_by), comment=self.text(
            h.comment)) for h in config.history)
        return replace(config, env=tuple(map(self.env, config.env)),
                       labels=tuple(map(self.label, config.labels)),
                       entrypoint=tuple(map(self.text, config.entrypoint)),
                       cmd=tuple(map(self.text, config.cmd)),
                       healthcheck=tuple(map(self.text, config.healthcheck)), history=history)

    def sbom(self, sbom: Sbom) -> Sbom:
        image = sbom.image
        layers = tuple(replace(layer, created_by=self.text(layer.created_by))
                       for layer in image.layers)
        packages = tuple(replace(p, created_by=self.text(p.created_by)) if p.created_by else p
                         for p in sbom.packages)
        return replace(sbom, image=replace(image, config=self.config(image.config),
                                           layers=layers), packages=packages)

    def finding(self, finding: SecretFinding) -> SecretFinding:
        return replace(finding, locations=tuple(
            replace(loc, created_by=self.text(loc.created_by)) for loc in finding.locations))


def redact_sbom(sbom: Sbom, found: Iterable[str] = ()) -> Sbom:
    """``sbom`` without the secrets its config holds (plus ``found``, already known ones)."""
    return Redactor({*config_secrets(sbom.image), *found}).sbom(sbom)
