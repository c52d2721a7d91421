"""Distro-aware PURLs for OS packages, fixed once the engine knows the image's distro."""

from __future__ import annotations

from packageurl import PackageURL

from hullguard.model import Distro, Package, PackageType

_APK_VENDORS = ("alpine", "wolfi", "chainguard", "postmarketos")
_DEB_VENDORS = ("debian", "ubuntu")
_RPM_VENDORS = {"rhel": "redhat", "ol": "oracle", "amzn": "amazon"}


def distro_qualifier(distro: Distro) -> str:
    """``alpine-3.18.9``, ``debian-12``, ``rhel-9.2``; codename when there is no version."""
    return f"{distro.id}-{distro.version_id or distro.codename}".rstrip("-")


def _namespace(kind: PackageType, distro: Distro, current: str | None) -> str | None:
    if kind is PackageType.APK:
        return distro.id if distro.id in _APK_VENDORS else current
    if kind is PackageType.DEB:
        return distro.id if distro.id in _DEB_VENDORS else current
    return _RPM_VENDORS.get(distro.id, distro.id)


def os_purl(package: Package, distro: Distro | None) -> str:
    """The package's PURL with the distro's namespace and ``distro=`` qualifier."""
    if distro is None or not package.type.is_os:
        return package.purl
    parsed = PackageURL.from_string(package.purl)
    qualifiers = dict(parsed.qualifiers or {})
    qualifiers["distro"] = distro_qualifier(distro)
    namespace = _namespace(package.type, distro, parsed.namespace)
    rebuilt = PackageURL(parsed.type, namespace, parsed.name, parsed.version, qualifiers,
                         parsed.subpath)
    return str(rebuilt.to_string())
