"""The operating system: /etc/os-release and the older per-distro release files."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import text_of
from hullguard.images.api import FileInfo
from hullguard.model import Distro

# Most trustworthy first. /etc/os-release is often a symlink to ../usr/lib/os-release; the
# engine ranks by the path /etc/os-release resolves to (see choose_distro).
RELEASE_FILES = (
    "/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release", "/etc/redhat-release",
    "/etc/centos-release", "/etc/fedora-release", "/etc/rocky-release", "/etc/system-release",
    "/etc/debian_version", "/etc/lsb-release",
)
_RELEASE_SET = frozenset(RELEASE_FILES)
_DEBIAN_CODENAMES = {"9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm",
                     "13": "trixie", "14": "forky"}
_RELEASE_NAMES = (("red hat enterprise linux", "rhel"), ("centos", "centos"),
                  ("fedora", "fedora"), ("rocky", "rocky"), ("almalinux", "almalinux"),
                  ("amazon linux", "amzn"), ("oracle linux", "ol"))
_RELEASE_RE = re.compile(r"^(?P<name>.*?)\s+release\s+(?P<version>[\d.]+)\s*(\((?P<code>[^)]*)\))?")


class OsReleaseExtractor:
    name = "os-release"

    def file_required(self, info: FileInfo) -> bool:
        return info.path in _RELEASE_SET and info.size < (1 << 20)

    def extract(self, scan_input: ScanInput) -> Extraction:
        text = text_of(scan_input, 1 << 20)
        parser = _PARSERS.get(scan_input.path, parse_os_release)
        distro = parser(text)
        return Extraction(distro=distro) if distro else Extraction()


def parse_os_release(text: str) -> Distro | None:
    """``KEY=value`` lines with shell quoting (os-release(5))."""
    values = _shell_assignments(text)
    if not values.get("ID"):
        return None
    return Distro(
        id=values["ID"].lower(), version_id=values.get("VERSION_ID", ""),
        codename=values.get("VERSION_CODENAME", "") or values.get("UBUNTU_CODENAME", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
        id_like=tuple(values.get("ID_LIKE", "").split()),
    )


def _shell_assignments(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or not key.replace("_", "").isalnum():
            continue
        try:
            words = shlex.split(raw, comments=True)
        except ValueError:  # unbalanced quote: take the text as written
            words = [raw.strip("\"'")]
        values[key] = " ".join(words)
    return values


def parse_alpine_release(text: str) -> Distro | None:
    version = text.strip().splitlines()[0].strip() if text.strip() else ""
    return Distro("alpine", version, pretty_name=f"Alpine Linux v{version}") if version else None


def parse_debian_version(text: str) -> Distro | None:
    version = text.strip()
    if not version:
        return None
    major = version.split(".")[0]
    if major.isdigit():
        return Distro("debian", major, _DEBIAN_CODENAMES.get(major, ""))
    codename = version.split("/")[0]  # "trixie/sid" on testing
    return Distro("debian", "", codename)


def parse_redhat_release(text: str) -> Distro | None:
    match = _RELEASE_RE.match(text.strip())
    if not match:
        return None
    lowered = match["name"].lower()
    distro_id = next((ident for key, ident in _RELEASE_NAMES if key in lowered), "")
    if not distro_id:
        return None
    return Distro(distro_id, match["version"], (match["code"] or "").lower(), text.strip())


def parse_lsb_release(text: str) -> Distro | None:
    values = _shell_assignments(text)
    if not values.get("DISTRIB_ID"):
        return None
    return Distro(values["DISTRIB_ID"].lower(), values.get("DISTRIB_RELEASE", ""),
                  values.get("DISTRIB_CODENAME", ""), values.get("DISTRIB_DESCRIPTION", ""))


_PARSERS: Mapping[str, Callable[[str], Distro | None]] = {
    "/etc/alpine-release": parse_alpine_release,
    "/etc/debian_version": parse_debian_version,
    "/etc/redhat-release": parse_redhat_release, "/etc/centos-release": parse_redhat_release,
    "/etc/fedora-release": parse_redhat_release, "/etc/rocky-release": parse_redhat_release,
    "/etc/system-release": parse_redhat_release, "/etc/lsb-release": parse_lsb_release,
}


def choose_distro(found: Mapping[str, Distro],
                  resolve: Callable[[str], str | None]) -> Distro | None:
    """The best distro among the surviving release files. ``/etc/os-release`` counts through
    its symlink (resolved inside the image root); a lone debian_version fills in the codename."""
    ranked = list(RELEASE_FILES)
    target = resolve("/etc/os-release")
    if target and target in found:
        ranked.insert(0, target)
    best = next((found[path] for path in ranked if path in found), None)
    if best and best.id == "debian" and not best.version_id and "/etc/debian_version" in found:
        fallback = found["/etc/debian_version"]
        best = Distro(best.id, fallback.version_id, best.codename or fallback.codename,
                      best.pretty_name, best.id_like)
    return best
