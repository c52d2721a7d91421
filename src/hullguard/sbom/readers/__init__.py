"""Read SBOM documents back into the model: CycloneDX JSON, SPDX JSON, hullguard's native JSON.

Every document is untrusted: the file size and JSON nesting are bounded, and anything malformed
ends in one :class:`~hullguard.errors.InputError` naming the file. Components a document holds
that the model cannot represent (a purl type we have no ecosystem for, no purl at all) are
skipped with one summarizing warning each, so the rest is still usable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hullguard.errors import HullguardError, InputError
from hullguard.model import Sbom
from hullguard.sbom.readers.load import load_json_object

CYCLONEDX_VERSIONS = ("1.4", "1.5", "1.6", "1.7")
SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")


def read_sbom(path: str | Path) -> Sbom:
    where = str(path)
    data = load_json_object(Path(path))
    try:
        return _dispatch(data, where).sorted()
    except HullguardError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        # Defence in depth: the readers check types, but no odd document may end in a traceback.
        raise InputError(f"malformed SBOM document ({type(error).__name__}: {error})"[:300],
                         where=where) from None


def _dispatch(data: dict[str, Any], where: str) -> Sbom:
    from hullguard.sbom import native

    if data.get("bomFormat") == "CycloneDX":
        _check_version("CycloneDX", data.get("specVersion"), CYCLONEDX_VERSIONS, where)
        from hullguard.sbom.readers.cyclonedx import read_cyclonedx

        return read_cyclonedx(data, where)
    if "spdxVersion" in data:
        _check_version("SPDX", data.get("spdxVersion"), SPDX_VERSIONS, where)
        from hullguard.sbom.readers.spdx import read_spdx

        return read_spdx(data, where)
    if native.is_native(data):
        return native.from_dict(data, where)
    raise InputError("not an SBOM this tool reads", where=where, hint=_hint(data))


def _check_version(kind: str, version: object, supported: tuple[str, ...], where: str) -> None:
    if version not in supported:
        shown = repr(version)[:40]
        raise InputError(f"{kind} version {shown} is not supported ({', '.join(supported)})",
                         where=where)


def _hint(data: dict[str, Any]) -> str:
    if "artifacts" in data and "source" in data:
        return "this looks like syft's own JSON; write it with -o cyclonedx-json or spdx-json"
    if "@context" in data:
        return "SPDX 3 (JSON-LD) is not supported; use SPDX 2.3 JSON"
    return "expected CycloneDX JSON (bomFormat), SPDX 2.x JSON (spdxVersion) or hullguard JSON"


__all__ = ["read_sbom"]
