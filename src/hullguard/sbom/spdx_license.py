"""Declared licenses as SPDX license expressions.

A value that is a valid SPDX expression is used as parsed (``GPL-2.0`` becomes
``GPL-2.0-only``); free text (``Apache 2.0``, ``BSD-style``) becomes a ``LicenseRef-`` with an
ExtractedLicensingInfo holding the original text, as SPDX 2.3 requires. Several values are
joined with AND (a package that declares two licenses is under both).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hullguard.sbom import ids


@lru_cache(maxsize=4096)
def _parse_valid(value: str) -> Any | None:
    from spdx_tools.common.spdx_licensing import spdx_licensing

    try:
        info = spdx_licensing.validate(value)
        if info.errors or info.invalid_symbols:
            return None
        return spdx_licensing.parse(value)
    except Exception:  # license_expression raises several unrelated types on odd text
        return None


def license_ref(value: str) -> str:
    return f"LicenseRef-{ids.spdx_safe(value)[:40]}-{ids.short_hash(value, 8)}"


def expression_for(values: list[str], extracted: dict[str, Any]) -> Any:
    """One expression for ``values``; free-text ones are added to ``extracted`` by id."""
    from spdx_tools.common.spdx_licensing import spdx_licensing
    from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo

    parts = []
    for value in dict.fromkeys(values):
        parsed = _parse_valid(value)
        if parsed is None:
            ref = license_ref(value)
            extracted[ref] = ExtractedLicensingInfo(license_id=ref, extracted_text=value,
                                                    license_name=value[:200])
            parsed = spdx_licensing.parse(ref)
        parts.append(parsed)
    return parts[0] if len(parts) == 1 else spdx_licensing.AND(*parts)
