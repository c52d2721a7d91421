"""A self-hosted CNCF distribution registry (``registry:2``, Debian's docker-registry), judged
from its configuration file (``config.yml``: version 0.1, sections http, auth, storage, log,
notifications, proxy).

The file is read with hullguard's bounded YAML loader. Settings the registry also takes from
``REGISTRY_*`` environment variables are judged as written in the file: the report says so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.harden.posture.registry import CheckFunction, Outcome, failed, passed

MAX_CONFIG = 1 << 20
LOCAL_DRIVERS = ("filesystem", "inmemory")
STORAGE_KEYS = ("maintenance", "cache", "delete", "redirect", "tag")
ENV_NOTE = ("settings given as REGISTRY_* environment variables override the file and are "
            "not seen here")


@dataclass(frozen=True)
class RegistryConfig:
    path: str
    doc: dict[str, Any]

    def section(self, *names: str) -> dict[str, Any]:
        node: Any = self.doc
        for name in names:
            node = node.get(name) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}


def load(path: Path) -> RegistryConfig:
    from hullguard.inventory.yamlsafe import Limits, loads_all, read_text

    if not path.is_file():
        raise InputError("no such file", where=str(path))
    result = loads_all(read_text(path, Limits(max_bytes=MAX_CONFIG)), str(path))
    doc = result.documents[0] if len(result.documents) == 1 else None
    if not isinstance(doc, dict) or "version" not in doc or "storage" not in doc:
        raise InputError("not a distribution registry config (needs version and storage)",
                         where=str(path))
    return RegistryConfig(str(path), doc)


def _listens_on_loopback(addr: str) -> bool:
    host = addr.rpartition(":")[0].strip("[]") if ":" in addr else addr
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _all_interfaces(addr: str) -> bool:
    host = addr.rpartition(":")[0].strip("[]") if ":" in addr else addr
    return host in ("", "0.0.0.0", "::")


def authentication(config: RegistryConfig) -> Iterator[Outcome]:
    kinds = sorted(config.section("auth"))
    if "htpasswd" in kinds or "token" in kinds:
        yield passed(f"auth: {', '.join(kinds)}", "auth")
    elif kinds == ["silly"]:
        yield failed("auth.silly is a test mode that accepts any credentials", "auth")
    else:
        yield failed("no auth section: anyone who reaches the port can push and pull", "auth")


def tls(config: RegistryConfig) -> Iterator[Outcome]:
    http = config.section("http")
    settings = config.section("http", "tls")
    addr = str(http.get("addr", ":5000"))
    if (settings.get("certificate") and settings.get("key")) or settings.get("letsencrypt"):
        yield passed("http.tls configured", "http.tls")
    elif _listens_on_loopback(addr):
        yield passed(f"plain http on loopback {addr} (a TLS proxy must front it)", "http.addr")
    else:
        yield failed(f"plain http on {addr}: credentials and images travel unencrypted",
                     "http.tls")


def listen_address(config: RegistryConfig) -> Iterator[Outcome]:
    addr = str(config.section("http").get("addr", ":5000"))
    yield (failed if _all_interfaces(addr) else passed)(f"http.addr is {addr!r}", "http.addr")


def delete_enabled(config: RegistryConfig) -> Iterator[Outcome]:
    on = config.section("storage", "delete").get("enabled") is True
    yield (failed if on else passed)(f"storage.delete.enabled is {str(on).lower()}",
                                     "storage.delete")


def notifications(config: RegistryConfig) -> Iterator[Outcome]:
    endpoints = config.section("notifications").get("endpoints") or []
    usable = [e for e in endpoints if isinstance(e, dict) and not e.get("disabled")
              and str(e.get("url", "")).startswith("https://")]
    if usable:
        yield passed(f"{len(usable)} https notification endpoint(s): "
                     f"{', '.join(str(e.get('name')) for e in usable)}", "notifications")
    else:
        yield failed(f"no enabled https notification endpoint ({len(endpoints)} configured)",
                     "notifications")


def access_log(config: RegistryConfig) -> Iterator[Outcome]:
    off = config.section("log", "accesslog").get("disabled") is True
    yield (failed if off else passed)(f"log.accesslog.disabled is {str(off).lower()}",
                                      "log.accesslog")


def pull_through(config: RegistryConfig) -> Iterator[Outcome]:
    proxy = config.section("proxy")
    if not proxy.get("remoteurl"):
        yield passed("no pull-through cache configured", "proxy")
        return
    url = str(proxy.get("remoteurl"))
    problems = [failed(f"proxy.remoteurl {url} is not https", "proxy.remoteurl")] \
        if not url.startswith("https://") else []
    if proxy.get("password"):
        problems.append(failed("proxy.password is written in the config file",
                               "proxy.password"))
    yield from problems or [passed(f"pull-through cache of {url}", "proxy")]


def storage_redirect(config: RegistryConfig) -> Iterator[Outcome]:
    drivers = [k for k in config.section("storage") if k not in STORAGE_KEYS]
    driver = drivers[0] if drivers else "filesystem"
    disabled = config.section("storage", "redirect").get("disable") is True
    if driver in LOCAL_DRIVERS or disabled:
        yield passed(f"driver {driver}, redirect.disable {str(disabled).lower()}", "storage")
    else:
        yield failed(f"driver {driver} hands clients pre-signed storage URLs", "storage")


def debug_server(config: RegistryConfig) -> Iterator[Outcome]:
    addr = config.section("http", "debug").get("addr")
    if addr and not _listens_on_loopback(str(addr)):
        yield failed(f"http.debug.addr {addr} serves pprof without authentication",
                     "http.debug")
    else:
        yield passed(f"http.debug.addr is {addr or 'unset'}", "http.debug")


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-PR001": authentication,
    "HG-PR002": tls,
    "HG-PR003": listen_address,
    "HG-PR004": delete_enabled,
    "HG-PR005": notifications,
    "HG-PR006": access_log,
    "HG-PR007": pull_through,
    "HG-PR008": storage_redirect,
    "HG-PR009": debug_server,
}
