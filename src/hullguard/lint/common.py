"""Helpers several check modules share: image pinning, secret-looking values, redaction."""

from __future__ import annotations

import hashlib
import re

from hullguard.secrets.rules import is_placeholder

# Variable names that announce a credential (matched at the end: DB_PASSWORD, GITHUB_TOKEN).
SECRET_NAME = re.compile(
    r"(?i)(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key"
    r"|secret[_-]?key|credentials?|auth[_-]?key)$")
WEAK_DEFAULTS = ("changeme", "password", "secret", "admin", "root", "test", "default")
ROOT_USERS = ("", "root", "0", "0:0", "root:root", "root:0", "0:root")


def pin_state(reference: str) -> str:
    """``digest`` (pinned), ``tag`` (a specific tag), ``mutable`` (latest or no tag), or
    ``unknown`` (unresolved variables, empty)."""
    if not reference or "$" in reference:
        return "unknown"
    if "@sha256:" in reference or "@sha512:" in reference:
        return "digest"
    last = reference.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    return "mutable" if tag in ("", "latest") else "tag"


def describe(value: str) -> str:
    """A value identified without showing it: length and a short fingerprint."""
    digest = hashlib.sha256(value.encode("utf-8", errors="replace")).hexdigest()[:16]
    return f"len {len(value)}, sha256:{digest}"


def secret_reason(name: str, value: str) -> str:
    """Why ``name=value`` looks like a leaked secret ("" when it does not): a secret rule
    that matches, else a secret-like name with a literal (non-reference) value."""
    from hullguard.secrets import scan_bytes

    if not value:
        return ""
    report = scan_bytes(f"{name}={value}".encode(), config=True)
    if report.findings:
        return report.findings[0].title
    reference = value.startswith("$") or "${" in value
    # a default password baked into an image is a finding even though it is a placeholder
    weak_default = value.lower() in WEAK_DEFAULTS
    if SECRET_NAME.search(name) and not reference and (
            weak_default or not is_placeholder(value.encode())):
        return "secret-named variable with a literal value"
    return ""


def is_root(user: str) -> bool:
    return user.strip().lower() in ROOT_USERS
