"""What can be fixed in one image, from the incident's findings: OS package upgrades per
package manager (with the finding ids each fixes), findings left, the distribution and
whether it is still supported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from hullguard.remediate.langpins import LangFix, lang_fixes

OS_TYPES = ("apk", "deb", "rpm")
SAFE_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+._-]{0,127}")
# Finding ids end up in Dockerfile comments and shell arguments: a newline would start a
# new instruction, so anything but an advisory-id shape is refused.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}")
@dataclass(frozen=True)
class Left:
    finding_id: str
    package: str
    why: str
    purl: str = ""  # the package's purl, for the VEX draft's subcomponent


@dataclass
class ImagePlan:
    name: str
    digest: str = ""
    distro: str = ""  # "alpine 3.10"
    upgrades: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # type -> pkg -> ids
    left: list[Left] = field(default_factory=list)
    packages: set[str] = field(default_factory=set)  # every package name in the image
    lang: list[LangFix] = field(default_factory=list)  # PyPI/npm packages with a fix

    @property
    def fixable_ids(self) -> list[str]:
        return sorted({i for pkgs in self.upgrades.values() for ids in pkgs.values() for i in ids})


def _distro(purl: str) -> str:
    qualifiers = parse_qs(purl.partition("?")[2])
    value = (qualifiers.get("distro") or [""])[0]
    name, _, version = value.partition("-")
    if name == "alpine":
        version = ".".join(version.split(".")[:2])
    elif name == "debian":
        version = version.split(".")[0]
    return f"{name} {version}" if name and version else ""


@cache
def eol_table() -> dict[str, dict[str, str]]:
    """distro -> release -> end of support (ISO date), from eol.yaml (each row there names
    its source and the day it was checked). A release not listed is "unknown"."""
    import yaml

    text = resources.files("hullguard.remediate").joinpath("eol.yaml").read_text("utf-8")
    releases = yaml.safe_load(text)["releases"]
    return {distro: {str(v): str(row["ends"]) for v, row in rows.items()}
            for distro, rows in releases.items()}


def end_of_life(distro: str, today: date) -> str:
    """"yes (since DATE)", "no (until DATE)" or "unknown"."""
    name, _, version = distro.partition(" ")
    ends = eol_table().get(name, {}).get(version)
    if not ends:
        return "unknown"
    return f"yes (since {ends})" if date.fromisoformat(ends) <= today else f"no (until {ends})"


def plan_image(image: dict[str, Any]) -> ImagePlan:
    """The plan for one ``images[]`` entry of findings.json (shape already checked there;
    fields inside findings are checked here)."""
    plan = ImagePlan(str(image["name"]), str(image.get("digest", "")))
    for finding in image.get("findings", []):
        _add(plan, finding if isinstance(finding, dict) else {})
    plan.lang = lang_fixes(list(image.get("findings", [])), SAFE_ID)
    return plan


def _add(plan: ImagePlan, finding: dict[str, Any]) -> None:
    package = finding.get("package") if isinstance(finding.get("package"), dict) else {}
    assert isinstance(package, dict)
    fid, name = str(finding.get("id", "?")), str(package.get("name", ""))
    kind, purl = str(package.get("type", "")), str(package.get("purl", ""))
    plan.distro = plan.distro or _distro(purl)
    fixed_versions = finding.get("fixed_versions")
    if not SAFE_ID.fullmatch(fid):
        plan.left.append(Left(repr(fid)[:60], name[:60], "not an advisory id: ignored"))
    elif not finding.get("has_fix"):
        plan.left.append(Left(fid, name, "no fixed version published", purl))
    elif kind not in OS_TYPES:
        fixed = ", ".join(map(str, fixed_versions if isinstance(fixed_versions, list) else []))
        plan.left.append(Left(fid, name, f"{kind} package: upgrade it to {fixed} in the "
                                         "application's dependencies", purl))
    elif kind == "rpm" or not SAFE_PACKAGE.fullmatch(name):
        plan.left.append(Left(fid, name, "not upgraded automatically (rpm, or a package name "
                                         "that is not safe in a shell command)", purl))
    else:
        plan.upgrades.setdefault(kind, {}).setdefault(name, []).append(fid)


def upgrade_command(kind: str, packages: list[str]) -> str:
    """The shell command that upgrades exactly these OS packages."""
    names = " ".join(sorted(packages))
    if kind == "apk":
        return f"apk upgrade --no-cache {names}"
    return ("apt-get update && apt-get install -y --no-install-recommends --only-upgrade "
            f"{names} && rm -rf /var/lib/apt/lists/*")


def read_sbom_packages(path: Any) -> set[str]:
    """Package names from a CycloneDX SBOM respond wrote (bounded read; unreadable = empty)."""
    import json
    from pathlib import Path

    file = Path(path) if path is not None else None
    if file is None or not file.is_file() or file.stat().st_size > 64 * 1024 * 1024:
        return set()
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError):
        return set()
    components = doc.get("components") if isinstance(doc, dict) else None
    return {c["name"] for c in components or [] if isinstance(c, dict)
            and isinstance(c.get("name"), str)}
