"""Feed URLs and vulnerability-data settings: defaults, a TOML config file, environment
variables and ``--url`` flags, in rising precedence.

Config file (``--config``, ``$HULLGUARD_CONFIG`` or ``config.toml`` in the user config dir)::

    [vulndb]
    max_age_days = 7
    enabled = ["osv-PyPI", "alpine-v3.20-main", "kev"]   # replaces the default set
    osv_ecosystems = ["PyPI", "Go", "npm"]                 # which osv-* feeds exist
    alpine_branches = ["v3.19", "v3.20"]                   # which alpine-* feeds exist

    deadline_seconds = 1800                                # the whole `db update` run

    [vulndb.urls]                                          # a mirror, or a new feed name
    "osv-PyPI" = "https://mirror.example/osv/PyPI/all.zip"

    [vulndb.max_mib]                                       # download size caps, MiB
    "osv-npm" = 2048

Environment: ``HULLGUARD_FEED_<NAME>_URL`` (name upper-cased, other characters as ``_``,
e.g. ``HULLGUARD_FEED_OSV_PYPI_URL``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.fsutil import read_bounded
from hullguard.model.package import LANGUAGE_ECOSYSTEMS

OSV_ECOSYSTEMS = tuple(LANGUAGE_ECOSYSTEMS.values())  # the model's one ecosystem table
ALPINE_BRANCHES = ("v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22")
OSV_URL = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
ALPINE_URL = "https://secdb.alpinelinux.org/{branch}/{repo}.json"
NVD_URL = "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-{part}.json.gz"
NVD_META_URL = "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-{part}.meta"
FIXED_FEEDS = {
    "debian": "https://security-tracker.debian.org/tracker/data/json",
    "epss": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
    "kev": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
}
DEFAULT_MAX_AGE_DAYS = 7.0
MAX_CONFIG_BYTES = 1 << 20  # a config file is a few lines
DEFAULT_DEADLINE = 1800.0  # seconds for a whole `db update` run
MiB = 1 << 20
# Download caps per feed (name prefix -> bytes): several times today's size, far below what
# an endless body would fill. The first matching prefix wins; other feeds get the last one.
DEFAULT_MAX_BYTES: tuple[tuple[str, int], ...] = (
    ("osv-", 1024 * MiB),  # all.zip: PyPI ~30 MiB, npm/Maven a few hundred MiB
    ("alpine-", 32 * MiB),  # secdb JSON: under 1 MiB
    ("debian", 512 * MiB),  # tracker JSON: ~100 MiB uncompressed
    ("nvd-", 256 * MiB),  # modified/recent .json.gz: a few MiB
    ("epss", 64 * MiB),  # csv.gz: ~2 MiB
    ("kev", 32 * MiB),  # JSON: ~1 MiB
    ("", 512 * MiB),  # feeds defined in the config or with --url
)


def default_max_bytes(name: str) -> int:
    return next(cap for prefix, cap in DEFAULT_MAX_BYTES if name.startswith(prefix))


@dataclass(frozen=True)
class Feed:
    name: str
    url: str
    checksum_url: str = ""  # a file publishing the sha256 (NVD ``.meta``)
    max_bytes: int = 0  # download cap; 0: default_max_bytes(name)


@dataclass(frozen=True)
class Settings:
    feeds: tuple[Feed, ...]
    enabled: tuple[str, ...]
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    sources: dict[str, str] = field(default_factory=dict)  # feed -> where its URL came from
    deadline: float = DEFAULT_DEADLINE

    def feed(self, name: str) -> Feed:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        known = ", ".join(f.name for f in self.feeds)
        raise InputError(f"unknown feed {name!r}", where="--source",
                         hint=f"known feeds: {known}; or define one with --url NAME=URL")

    def select(self, names: list[str]) -> list[Feed]:
        return [self.feed(name) for name in (names or list(self.enabled))]


def default_feeds(ecosystems: tuple[str, ...] = OSV_ECOSYSTEMS,
                  branches: tuple[str, ...] = ALPINE_BRANCHES) -> list[Feed]:
    feeds = [Feed(f"osv-{eco}", OSV_URL.format(ecosystem=eco)) for eco in ecosystems]
    feeds += [Feed(f"alpine-{branch}-{repo}", ALPINE_URL.format(branch=branch, repo=repo))
              for branch in branches for repo in ("main", "community")]
    feeds += [Feed(name, url) for name, url in FIXED_FEEDS.items()]
    feeds += [Feed(f"nvd-{part}", NVD_URL.format(part=part), NVD_META_URL.format(part=part))
              for part in ("modified", "recent")]
    return feeds


def env_name(feed: str) -> str:
    return "HULLGUARD_FEED_" + re.sub(r"[^A-Za-z0-9]", "_", feed).upper() + "_URL"


def default_config_path() -> Path:
    if os.environ.get("HULLGUARD_CONFIG"):
        return Path(os.environ["HULLGUARD_CONFIG"])
    import platformdirs

    return Path(platformdirs.user_config_path("hullguard")) / "config.toml"


def _read_toml(path: Path | None) -> dict[str, Any]:
    explicit = path is not None
    path = path or default_config_path()
    if not path.exists():
        if explicit:
            raise InputError("config file not found", where=str(path))
        return {}
    try:
        text = read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8")
        section = tomllib.loads(text).get("vulndb", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        raise InputError(f"invalid config file: {error}", where=str(path)) from None
    if not isinstance(section, dict):
        raise InputError("[vulndb] must be a table", where=str(path))
    return section


def _strings(section: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = section.get(key, default)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError(f"[vulndb] {key} must be a list of strings", where="config")
    return tuple(value)


def _with_url(feeds: list[Feed], name: str, url: str) -> list[Feed]:
    if not url.startswith(("https://", "http://")):
        raise InputError(f"feed URL {url!r} must be http(s)", where=name)
    if any(f.name == name for f in feeds):
        return [replace(f, url=url, checksum_url="") if f.name == name else f for f in feeds]
    return [*feeds, Feed(name, url)]


def load_config(path: Path | None = None, url_overrides: list[str] | None = None) -> Settings:
    section = _read_toml(path)
    feeds = default_feeds(_strings(section, "osv_ecosystems", OSV_ECOSYSTEMS),
                          _strings(section, "alpine_branches", ALPINE_BRANCHES))
    origin = {f.name: "default" for f in feeds}
    urls = section.get("urls", {})
    if not isinstance(urls, dict):
        raise InputError("[vulndb.urls] must be a table", where="config")
    overrides = [(name, str(url), "config") for name, url in urls.items()]
    overrides += [(f.name, os.environ[env_name(f.name)], "env") for f in feeds
                  if os.environ.get(env_name(f.name))]
    overrides += [(*_split(item), "flag") for item in url_overrides or []]
    for name, url, where in overrides:
        feeds = _with_url(feeds, name, url)
        origin[name] = where
    enabled = _strings(section, "enabled", tuple(f.name for f in feeds if f.name in origin
                                                 and not f.name.startswith("nvd-")))
    feeds = _with_caps(feeds, section.get("max_mib", {}))
    return Settings(tuple(feeds), enabled, _positive(section, "max_age_days",
                                                     DEFAULT_MAX_AGE_DAYS), origin,
                    _positive(section, "deadline_seconds", DEFAULT_DEADLINE))


def _positive(section: dict[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InputError(f"[vulndb] {key} must be a positive number", where="config")
    return float(value)


def _with_caps(feeds: list[Feed], caps: Any) -> list[Feed]:
    """``[vulndb.max_mib]``: per-feed download caps in MiB."""
    if not isinstance(caps, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in caps.values()):
        raise InputError("[vulndb.max_mib] must map feed names to positive integers (MiB)",
                         where="config")
    return [replace(f, max_bytes=caps[f.name] * MiB) if f.name in caps else f for f in feeds]


def _split(item: str) -> tuple[str, str]:
    name, sep, url = item.partition("=")
    if not sep or not name.strip() or not url.strip():
        raise InputError(f"expected NAME=URL, got {item!r}", where="--url")
    return name.strip(), url.strip()
