"""The gate policy: a YAML file validated against the published JSON Schema, then resolved for
one stage (the top-level rules with the stage's overrides applied).

Two stages of parsing, as packaging does: the YAML loader (bounded, safe) and the schema
check (strict: unknown keys, wrong types and bad dates are errors naming the path in the
file), then typed values the rules read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from hullguard.errors import InputError

STAGES = ("build", "scan", "sign", "deploy")
DEFAULT_STAGE = "deploy"
RULE_KEYS = ("allowed_registries", "digest_pinned", "signatures", "attestations",
             "vulnerabilities", "base_images", "non_root", "secrets", "licenses")


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str


@dataclass(frozen=True)
class Signatures:
    required: bool = False
    keys: tuple[Path, ...] = ()
    identities: tuple[Identity, ...] = ()
    trusted_root: Path | None = None  # keyless: identities are checked against it, offline


@dataclass(frozen=True)
class Vulnerabilities:
    severities: tuple[str, ...] = ("critical", "high")
    fixable_only: bool = False
    max_age_days: int | None = None  # a finding published within N days is not yet blocking
    kev: str = "ignore"
    epss_above: float | None = None


@dataclass(frozen=True)
class BaseImages:
    allow: tuple[str, ...] = ()
    max_age_days: int | None = None


@dataclass(frozen=True)
class PolicyException:
    id: str
    reason: str
    expires: date
    images: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class StagePolicy:
    """The rules in force at one stage; ``None`` = the rule is off."""

    stage: str
    allowed_registries: tuple[str, ...] | None = None
    digest_pinned: bool | None = None
    signatures: Signatures | None = None
    attestations: tuple[str, ...] | None = None
    vulnerabilities: Vulnerabilities | None = None
    base_images: BaseImages | None = None
    non_root: bool | None = None
    secrets: str | None = None
    licenses: tuple[str, ...] | None = None
    exceptions: tuple[PolicyException, ...] = field(default=())
    source: str = ""
    explicit: frozenset[str] = frozenset()  # rules the stage's own section sets

    def value(self, key: str) -> object:
        return getattr(self, key)


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema (``hullguard gate schema`` prints it)."""
    text = resources.files(__package__).joinpath("policy.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load_policy(path: Path, stage: str = DEFAULT_STAGE) -> StagePolicy:
    """Read, validate and resolve ``path`` for ``stage``; InputError names what is wrong."""
    from hullguard.inventory.yamlsafe import load_file

    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})",
                         where="--stage")
    documents = load_file(path).documents
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise InputError("a policy is one YAML mapping", where=str(path))
    document: dict[str, Any] = _dates_as_text(documents[0])
    validate(document, str(path))
    return resolve(document, stage, str(path))


def _dates_as_text(value: Any) -> Any:
    """YAML reads ``2027-01-31`` as a date; the schema (like JSON) sees the text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    return value


def validate(document: Any, where: str) -> None:
    """Check ``document`` against the schema; the first error, with its path, is raised."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        path = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"policy invalid at {path}: {_short(error.message)}{more}",
                         where=where, hint="`hullguard gate schema` prints the schema")


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:300] + "..."


def resolve(document: dict[str, Any], stage: str, where: str) -> StagePolicy:
    rules = {key: document.get(key) for key in RULE_KEYS}
    overrides = (document.get("stages") or {}).get(stage) or {}
    rules.update({key: value for key, value in overrides.items()})
    base = Path(where).parent
    return StagePolicy(
        stage=stage,
        allowed_registries=_tuple(rules["allowed_registries"]),
        digest_pinned=rules["digest_pinned"] or None,
        signatures=_signatures(rules["signatures"], base),
        attestations=_tuple(rules["attestations"]) or None,
        vulnerabilities=_vulnerabilities(rules["vulnerabilities"]),
        base_images=_base_images(rules["base_images"]),
        non_root=rules["non_root"] or None,
        secrets=rules["secrets"] if rules["secrets"] == "none" else None,
        licenses=_tuple((rules["licenses"] or {}).get("deny")) or None,
        exceptions=tuple(_exception(item, f"{where}: exceptions[{index}]")
                         for index, item in enumerate(document.get("exceptions") or [])),
        source=where, explicit=frozenset(k for k, v in overrides.items() if v is not None))


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(item) for item in value)


def _signatures(value: Any, base: Path) -> Signatures | None:
    if not value or not (value.get("required") or value.get("keys") or value.get("identities")):
        return None
    keys = tuple(path if path.is_absolute() else base / path
                 for path in (Path(text) for text in value.get("keys", [])))
    identities = tuple(Identity(item["issuer"], item["subject"])
                       for item in value.get("identities", []))
    root = Path(value["trusted_root"]) if value.get("trusted_root") else None
    if root is not None and not root.is_absolute():
        root = base / root
    return Signatures(bool(value.get("required", True)), keys, identities, root)


def _vulnerabilities(value: Any) -> Vulnerabilities | None:
    if value is None:
        return None
    defaults = Vulnerabilities()
    return Vulnerabilities(
        severities=tuple(value.get("severities", defaults.severities)),
        fixable_only=bool(value.get("fixable_only", False)),
        max_age_days=value.get("max_age_days"),
        kev=value.get("kev", "ignore"),
        epss_above=value.get("epss_above"))


def _base_images(value: Any) -> BaseImages | None:
    if not value:
        return None
    return BaseImages(tuple(value.get("allow", ())), value.get("max_age_days"))


def _exception(item: dict[str, Any], where: str) -> PolicyException:
    try:
        expires = date.fromisoformat(item["expires"])
    except ValueError:
        raise InputError(f"expires {item['expires']!r} is not a date (YYYY-MM-DD)",
                         where=where) from None
    return PolicyException(item["id"], item["reason"], expires,
                           tuple(item.get("images") or ("*",)))
