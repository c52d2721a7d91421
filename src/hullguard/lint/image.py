"""Image checks (HG-I*): the image config and the squashed filesystem (modes, well-known
binaries, caches), walked once into hullguard.images.tree.FileTree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from hullguard.images.api import FileInfo, FileKind, ImageSource
from hullguard.lint.common import describe, is_root, secret_reason
from hullguard.lint.dockerfile import PIPE_TO_SHELL
from hullguard.lint.registry import CheckFunction, Hit
from hullguard.model.image import ImageInfo

MAX_HITS = 50  # per check: a hostile image can have millions of odd files
_ADD_URL = re.compile(r"\bADD\s+(?:--\S+\s+)*(?:https?|ftp)://")
_CACHES = ("/var/lib/apt/lists/", "/var/cache/apt/", "/var/cache/apk/", "/root/.cache/pip/",
           "/root/.npm/_cacache/", "/var/cache/yum/", "/var/cache/dnf/")
_SUDO = ("/usr/bin/sudo", "/bin/sudo", "/usr/sbin/sudo")
_SSHD = ("/usr/sbin/sshd", "/usr/sbin/dropbear", "/sbin/dropbear", "/usr/bin/dropbear")
_PACKAGE_MANAGERS = ("/sbin/apk", "/usr/bin/apk", "/usr/bin/apt", "/usr/bin/apt-get",
                     "/usr/bin/dpkg", "/usr/bin/rpm", "/usr/bin/yum", "/usr/bin/dnf",
                     "/usr/bin/microdnf", "/usr/bin/pip", "/usr/bin/pip3",
                     "/usr/local/bin/pip", "/usr/local/bin/pip3", "/usr/bin/npm",
                     "/usr/local/bin/npm", "/usr/bin/gem")
_SHELLS = ("/bin/sh", "/bin/bash", "/bin/ash", "/bin/dash", "/bin/zsh", "/usr/bin/bash",
           "/usr/bin/sh", "/bin/busybox")


@dataclass(frozen=True)
class ImageContext:
    info: ImageInfo
    files: dict[str, FileInfo]  # the squashed filesystem: visible path -> info


def squash(source: ImageSource) -> tuple[dict[str, FileInfo], list[str]]:
    """Visible files after every layer (whiteouts applied) and the tree's warnings."""
    from hullguard.images.tree import FileTree

    tree = FileTree()
    for layer in source.info.layers:
        tree.start_layer(layer.index)
        for entry in source.walk_layer(layer):
            tree.apply(entry.info, layer.index)
    return {info.path: info for _, info in tree.iter_visible()}, list(tree.warnings)


def _capped(hits: list[Hit], what: str) -> Iterator[Hit]:
    yield from hits[:MAX_HITS]
    if len(hits) > MAX_HITS:
        yield Hit(f"... and {len(hits) - MAX_HITS} more {what}")


def runs_as_root(image: ImageContext) -> Iterator[Hit]:
    if is_root(image.info.config.user):
        shown = image.info.config.user or "(not set)"
        yield Hit(f"config User is {shown}: containers start as root", "config:User")


def no_healthcheck(image: ImageContext) -> Iterator[Hit]:
    test = image.info.config.healthcheck
    if not test or test[0].upper() == "NONE":
        yield Hit("no HEALTHCHECK in the image config", "config:Healthcheck")


def secrets_in_config(image: ImageContext) -> Iterator[Hit]:
    from hullguard.secrets import scan_bytes

    config = image.info.config
    pairs = [(f"config:Env[{i}]", *item.partition("=")[::2]) for i, item in enumerate(config.env)]
    pairs += [(f"config:Labels[{k}]", k, v) for k, v in config.labels]
    for where, name, value in pairs:
        reason = secret_reason(name, value)
        if reason:
            yield Hit(f"{name}: {reason} ({describe(value)})", where)
    for index, entry in enumerate(config.history):
        for finding in scan_bytes(entry.created_by.encode(), config=True).findings:
            yield Hit(f"{finding.title} in a build command ({finding.redacted})",
                      f"config:history[{index}]")


def caches_left(image: ImageContext) -> Iterator[Hit]:
    for cache in _CACHES:
        files = [p for p, i in image.files.items()
                 if p.startswith(cache) and i.kind is FileKind.FILE and not p.endswith("/lock")]
        if files:
            yield Hit(f"{len(files)} file(s) left in {cache}", cache)


def _mode_hits(image: ImageContext, wanted: int, message: str) -> list[Hit]:
    hits = []
    for path, info in sorted(image.files.items()):
        if info.kind is FileKind.SYMLINK or not info.mode & wanted:
            continue
        if wanted == 0o002 and info.kind is FileKind.DIR and info.mode & 0o1000:
            continue  # sticky directories such as /tmp are meant to be shared
        hits.append(Hit(f"{message} (mode {info.mode & 0o7777:04o})", path))
    return hits


def setuid_files(image: ImageContext) -> Iterator[Hit]:
    hits = [h for h in _mode_hits(image, 0o6000, "setuid/setgid")
            if image.files[h.location].kind is FileKind.FILE]
    yield from _capped(hits, "setuid/setgid files")


def world_writable(image: ImageContext) -> Iterator[Hit]:
    yield from _capped(_mode_hits(image, 0o002, "world-writable"), "world-writable paths")


def _present(image: ImageContext, paths: tuple[str, ...], message: str) -> Iterator[Hit]:
    for path in paths:
        if path in image.files:
            yield Hit(message, path)


def sudo(image: ImageContext) -> Iterator[Hit]:
    yield from _present(image, _SUDO, "sudo is installed")


def ssh_server(image: ImageContext) -> Iterator[Hit]:
    yield from _present(image, _SSHD, "an SSH server is installed")


def package_managers(image: ImageContext) -> Iterator[Hit]:
    yield from _present(image, _PACKAGE_MANAGERS, "package manager in the final image")


def shells(image: ImageContext) -> Iterator[Hit]:
    yield from _present(image, _SHELLS, "shell in the final image")


def risky_history(image: ImageContext) -> Iterator[Hit]:
    for index, entry in enumerate(image.info.config.history):
        if PIPE_TO_SHELL.search(entry.created_by):
            yield Hit("a build step piped a downloaded script into an interpreter",
                      f"config:history[{index}]")
        elif _ADD_URL.search(entry.created_by):
            yield Hit("a build step ADDed a remote URL", f"config:history[{index}]")


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-I001": runs_as_root,
    "HG-I002": no_healthcheck,
    "HG-I003": secrets_in_config,
    "HG-I004": caches_left,
    "HG-I005": setuid_files,
    "HG-I006": world_writable,
    "HG-I007": sudo,
    "HG-I008": ssh_server,
    "HG-I009": package_managers,
    "HG-I010": shells,
    "HG-I011": risky_history,
}
