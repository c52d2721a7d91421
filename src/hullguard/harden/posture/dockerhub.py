"""Docker Hub organization posture, read through the Hub API (hub.docker.com/v2).

The endpoints (Docker Hub API reference, OpenAPI "2-beta"): ``POST /v2/auth/token`` (falls
back to the deprecated ``POST /v2/users/login``), ``/v2/orgs/{org}/members``,
``/v2/orgs/{org}/groups``, ``/v2/access-tokens`` (the caller's personal tokens),
``/v2/orgs/{org}/access-tokens`` (organization tokens, with their resources),
``/v2/namespaces/{org}/repositories`` and ``/v2/auditlogs/{org}``. What the API does not
expose (2FA, SSO, webhooks, Scout) is a manual check with the steps to verify it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import AuthError, InputError
from hullguard.harden.posture.http import ApiClient, Denied, Memo
from hullguard.harden.posture.registry import CheckFunction, Outcome, failed, manual, passed

HUB_API = "https://hub.docker.com"
DOCKER_IO_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
                  "registry-1.docker.io")
USER_ENVS = ("HULLGUARD_DOCKERHUB_USERNAME", "DOCKERHUB_USERNAME")
TOKEN_ENVS = ("HULLGUARD_DOCKERHUB_TOKEN", "DOCKERHUB_TOKEN")
MAX_OWNERS = 3
UNUSED_DAYS = 90
PULL_ROTATION_DAYS, PUSH_ROTATION_DAYS = 90, 30  # quarterly / monthly
AUDIT_DAYS = 30  # how far back the audit log is read
BURST_LIMIT, BURST_WINDOW = 10, dt.timedelta(hours=1)
AUDIT_PAGE, MAX_AUDIT_PAGES = 100, 100
WRITE_WORDS = ("write", "admin", "push", "delete")


@dataclass(frozen=True)
class Credentials:
    username: str  # the Docker ID, or the organization name for an organization token
    secret: str  # a personal or organization access token: never printed
    source: str  # where it came from (shown in errors)


def credentials(org: str, environ: dict[str, str] | None = None) -> Credentials:
    """From HULLGUARD_DOCKERHUB_TOKEN / DOCKERHUB_TOKEN (with ..._USERNAME, default the
    organization: an organization token's identifier), else the docker config."""
    env = dict(os.environ if environ is None else environ)
    token = next((env[name] for name in TOKEN_ENVS if env.get(name)), "")
    if token:
        user = next((env[name] for name in USER_ENVS if env.get(name)), org)
        return Credentials(user, token, "environment")
    return _from_docker_config(env)


def _from_docker_config(env: dict[str, str]) -> Credentials:
    folder = Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME", "~")) / ".docker")
    path = folder.expanduser() / "config.json"
    hint = "set HULLGUARD_DOCKERHUB_TOKEN (and HULLGUARD_DOCKERHUB_USERNAME) or `docker login`"
    try:
        auths = json.loads(path.read_text("utf-8")[:1 << 20]).get("auths", {})
    except (OSError, ValueError, AttributeError):
        raise AuthError("no Docker Hub token in the environment or docker config",
                        where=str(path), hint=hint) from None
    entry: dict[str, Any] = next(
        (auths[k] for k in DOCKER_IO_KEYS if isinstance(auths.get(k), dict)), {})
    try:
        user, _, secret = base64.b64decode(entry.get("auth", "")).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        user, secret = "", ""
    if not user or not secret:
        raise AuthError("the docker config has no Docker Hub credentials (a credential "
                        "helper keeps them elsewhere)", where=str(path), hint=hint)
    return Credentials(user, secret, str(path))


def login(api: ApiClient, creds: Credentials) -> None:
    """Exchange the access token for a short-lived bearer token (never shown)."""
    try:
        doc, _ = api.request("POST", "/v2/auth/token",
                             body={"identifier": creds.username, "secret": creds.secret})
        bearer = doc.get("access_token") if isinstance(doc, dict) else None
    except Denied:  # older deployments: the deprecated login route
        doc, _ = api.request("POST", "/v2/users/login",
                             body={"username": creds.username, "password": creds.secret})
        bearer = doc.get("token") if isinstance(doc, dict) else None
    if not isinstance(bearer, str) or not bearer:
        raise AuthError("Docker Hub returned no bearer token", where=creds.source)
    api.authorize(f"Bearer {bearer}")


@dataclass(frozen=True)
class Token:
    kind: str  # personal | organization
    id: str
    label: str
    scopes: tuple[str, ...]
    created: dt.datetime | None
    last_used: dt.datetime | None
    expires: dt.datetime | None
    active: bool
    owner: str  # the user whose pushes the audit log shows for it

    @property
    def name(self) -> str:
        return f"{self.kind} token {self.label or '(no label)'} ({self.id})"

    @property
    def writes(self) -> bool:
        return any(word in scope.lower() for scope in self.scopes for word in WRITE_WORDS)


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class DockerHub:
    """The organization's data, each endpoint fetched once (see :class:`~.http.Memo`)."""

    def __init__(self, api: ApiClient, org: str, caller: str,
                 now: dt.datetime | None = None) -> None:
        self.api, self.org, self.caller = api, org, caller
        self.now = now or dt.datetime.now(dt.UTC)
        self.memo = Memo()

    def members(self) -> list[dict[str, Any]]:
        return self.memo.once("members", lambda: _dicts(self.api.pages(
            f"/v2/orgs/{self.org}/members", {"page_size": 100})))

    def groups(self) -> list[dict[str, Any]]:
        return self.memo.once("groups", lambda: _dicts(self.api.pages(
            f"/v2/orgs/{self.org}/groups", {"page_size": 100})))

    def repositories(self) -> list[dict[str, Any]]:
        return self.memo.once("repositories", lambda: _dicts(self.api.pages(
            f"/v2/namespaces/{self.org}/repositories", {"page_size": 100})))

    def settings(self) -> dict[str, Any]:
        """``GET /v2/orgs/{org}/settings`` (orgSettings: ``restricted_images``)."""
        def fetch() -> dict[str, Any]:
            doc, _ = self.api.get(f"/v2/orgs/{self.org}/settings")
            return doc if isinstance(doc, dict) else {}
        return self.memo.once("settings", fetch)

    def tokens(self) -> list[Token]:
        """Personal tokens of the caller and the organization's tokens; either listing may be
        denied alone (then only the other is judged, and the check says so)."""
        found: list[Token] = []
        for fetch in (self.personal_tokens, self.org_tokens):
            try:
                found += fetch()
            except Denied:
                continue
        if not found:
            self.personal_tokens()  # both denied: raise the first denial
            self.org_tokens()
        return found

    def personal_tokens(self) -> list[Token]:
        return self.memo.once("pats", lambda: [_pat(raw, self.caller) for raw in _dicts(
            self.api.pages("/v2/access-tokens", {"page_size": 100}))])

    def org_tokens(self) -> list[Token]:
        return self.memo.once("oats", lambda: [self._oat(raw) for raw in _dicts(
            self.api.pages(f"/v2/orgs/{self.org}/access-tokens", {"page_size": 100}))])

    def _oat(self, raw: dict[str, Any]) -> Token:
        if "resources" not in raw:  # the listing may leave out resources: read the token
            detail, _ = self.api.get(f"/v2/orgs/{self.org}/access-tokens/{raw.get('id')}")
            raw = {**raw, **(detail if isinstance(detail, dict) else {})}
        scopes = tuple(str(s) for r in raw.get("resources") or [] if isinstance(r, dict)
                       for s in r.get("scopes") or [])
        return Token("organization", str(raw.get("id", "")), str(raw.get("label", "")),
                     scopes, parse_time(raw.get("created_at")),
                     parse_time(raw.get("last_used_at")), parse_time(raw.get("expires_at")),
                     raw.get("is_active", True) is not False, str(raw.get("label", "")))

    def audit_events(self) -> list[dict[str, Any]]:
        return self.memo.once("audit", self._read_audit)

    def _read_audit(self) -> list[dict[str, Any]]:
        start = (self.now - dt.timedelta(days=AUDIT_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        events: list[dict[str, Any]] = []
        for page in range(1, MAX_AUDIT_PAGES + 1):  # page & page_size, no next link here
            doc, _ = self.api.get(f"/v2/auditlogs/{self.org}",
                                  {"from": start, "page": page, "page_size": AUDIT_PAGE})
            logs = doc.get("logs") if isinstance(doc, dict) else None
            batch = _dicts(logs if isinstance(logs, list) else [])
            events += batch
            if len(batch) < AUDIT_PAGE:
                break
        return events


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)]


def _pat(raw: dict[str, Any], caller: str) -> Token:
    return Token("personal", str(raw.get("uuid", "")), str(raw.get("token_label", "")),
                 tuple(str(s) for s in raw.get("scopes") or []),
                 parse_time(raw.get("created_at")), parse_time(raw.get("last_used")),
                 parse_time(raw.get("expires_at")), raw.get("is_active", True) is not False,
                 caller)


def _days(since: dt.datetime | None, now: dt.datetime) -> int:
    return (now - since).days if since else -1


# -- checks ------------------------------------------------------------------------------

def two_factor(hub: DockerHub) -> Iterator[Outcome]:
    names = ", ".join(str(m.get("username")) for m in hub.members()[:20])
    yield manual(f"2FA status is not in the API; verify these members by hand: {names}")


def sso(hub: DockerHub) -> Iterator[Outcome]:
    yield manual("SSO enforcement is not in the API; verify it in the Admin Console")


def owners(hub: DockerHub) -> Iterator[Outcome]:
    found = [str(m.get("username")) for m in hub.members()
             if str(m.get("role", "")).lower() == "owner" or "owners" in (m.get("groups") or [])]
    text = f"{len(found)} owner(s) of {len(hub.members())} member(s): {', '.join(found)}"
    yield (failed if len(found) > MAX_OWNERS else passed)(text)


def team_permissions(hub: DockerHub) -> Iterator[Outcome]:
    teams = [f"{g.get('name')} ({g.get('member_count', '?')} members)" for g in hub.groups()]
    yield manual(f"review the repository permissions of {len(teams)} team(s): "
                 + (", ".join(teams) or "none"))


def never_expiring(hub: DockerHub) -> Iterator[Outcome]:
    tokens = [t for t in hub.tokens() if t.active]
    for token in tokens:
        if token.expires is None:
            yield failed(f"{token.name} never expires (scopes {', '.join(token.scopes)})",
                         token.name)
    yield from _partial(hub, f"{len(tokens)} active token(s) checked")


def unused(hub: DockerHub) -> Iterator[Outcome]:
    for token in (t for t in hub.tokens() if t.active):
        if token.last_used is None:
            yield failed(f"{token.name} was never used "
                         f"(created {_days(token.created, hub.now)} days ago)", token.name)
        elif _days(token.last_used, hub.now) > UNUSED_DAYS:
            yield failed(f"{token.name} last used {_days(token.last_used, hub.now)} days ago",
                         token.name)
    yield from _partial(hub, "every active token was used recently")


def write_used_for_pulls(hub: DockerHub) -> Iterator[Outcome]:
    writers = [t for t in hub.tokens() if t.active and t.writes and t.last_used]
    labelled = [t for t in writers if any(w in t.label.lower() for w in ("pull", "read"))]
    for token in labelled:
        yield failed(f"{token.name} has {', '.join(token.scopes)} but its label says it "
                     "pulls", token.name)
    rest = [t for t in writers if t not in labelled]
    if rest:
        pushers = {_actor(e) for e in hub.audit_events() if _is_push(e)}
        for token in rest:
            if token.owner not in pushers:
                yield failed(f"{token.name} has {', '.join(token.scopes)} and was used, but the "
                             f"audit log shows no push by {token.owner} in {AUDIT_DAYS} days",
                             token.name)
    yield from _partial(hub, f"{len(writers)} used write-scoped token(s) checked")


def rotation(hub: DockerHub) -> Iterator[Outcome]:
    for token in (t for t in hub.tokens() if t.active):
        limit = PUSH_ROTATION_DAYS if token.writes else PULL_ROTATION_DAYS
        age = _days(token.created, hub.now)
        if token.created is None:
            yield manual(f"{token.name} has no creation date; check its age by hand",
                         token.name)
        elif age > limit:
            kind = "write" if token.writes else "pull-only"
            yield failed(f"{token.name} is {age} days old; {kind} tokens rotate every "
                         f"{limit} days", token.name)
    yield from _partial(hub, "every active token is within its rotation period")


def _partial(hub: DockerHub, summary: str) -> Iterator[Outcome]:
    """A pass covers only the listings the token could read: say which were not."""
    for key, what in (("pats", "personal tokens"), ("oats", "organization tokens")):
        denial = hub.memo.denied(key)
        if denial is not None:
            yield manual(f"{what} could not be listed ({denial.message}); check them by hand")
    yield passed(summary)


def public_repositories(hub: DockerHub) -> Iterator[Outcome]:
    repos = hub.repositories()
    for repo in repos:
        if repo.get("is_private") is False:
            yield failed(f"{hub.org}/{repo.get('name')} is public", f"{hub.org}/{repo.get('name')}")
    yield passed(f"{len(repos)} repositories checked")


def immutable_tags(hub: DockerHub) -> Iterator[Outcome]:
    for repo in hub.repositories():
        name = f"{hub.org}/{repo.get('name')}"
        settings = repo.get("immutable_tags_settings")
        if not isinstance(settings, dict):
            yield manual(f"{name}: immutable tag settings not in the answer; check the "
                         "repository's settings page", name)
        elif not settings.get("enabled"):
            yield failed(f"{name}: immutable tags are off", name)
        else:
            yield passed(f"{name}: immutable tags on ({', '.join(settings.get('rules') or [])})",
                         name)


def audit_log(hub: DockerHub) -> Iterator[Outcome]:
    events = hub.audit_events()
    if not events:
        yield failed(f"the audit log answered but holds no events in {AUDIT_DAYS} days")
    else:
        yield passed(f"{len(events)} audit event(s) in {AUDIT_DAYS} days")


def push_bursts(hub: DockerHub) -> Iterator[Outcome]:
    pushes: dict[tuple[str, str], list[dt.datetime]] = defaultdict(list)
    for event in hub.audit_events():
        when = parse_time(event.get("timestamp"))
        if _is_push(event) and when is not None:
            pushes[(_actor(event), str(event.get("name", "")).split(":")[0])].append(when)
    for (actor, repo), times in sorted(pushes.items()):
        count, start = busiest_hour(times)
        if count > BURST_LIMIT:
            yield failed(f"{actor} pushed {count} times to {repo} within one hour from "
                         f"{start:%Y-%m-%d %H:%M}Z", f"{repo} by {actor}")
    yield passed(f"{sum(len(t) for t in pushes.values())} push(es) checked")


def busiest_hour(times: list[dt.datetime]) -> tuple[int, dt.datetime]:
    """The largest number of events in any one-hour window (sliding, not clock hours)."""
    ordered = sorted(times)
    best, best_start, first = 0, ordered[0], 0
    for last, when in enumerate(ordered):
        while when - ordered[first] >= BURST_WINDOW:
            first += 1
        if last - first + 1 > best:
            best, best_start = last - first + 1, ordered[first]
    return best, best_start


def _is_push(event: dict[str, Any]) -> bool:
    return "push" in str(event.get("action", "")).lower()


def _actor(event: dict[str, Any]) -> str:
    return str(event.get("actor", ""))


def webhooks(hub: DockerHub) -> Iterator[Outcome]:
    yield manual("webhooks are not in the public Hub API; review each repository's Webhooks")


def scanning(hub: DockerHub) -> Iterator[Outcome]:
    yield manual("Docker Scout enrolment is not in the Hub API; verify it in Scout settings")


def image_access(hub: DockerHub) -> Iterator[Outcome]:
    restricted = hub.settings().get("restricted_images")
    if not isinstance(restricted, dict) or not isinstance(restricted.get("enabled"), bool):
        yield manual("the organization's settings carry no restricted_images (a plan without "
                     "Image Access Management?); verify in the Admin Console")
        return
    allowed = ", ".join(kind for key, kind in (("allow_official_images", "Official Images"),
                                               ("allow_verified_publishers",
                                                "Verified Publisher images"))
                        if restricted.get(key) is True) or "only the organization's images"
    if restricted["enabled"]:
        yield passed(f"Image Access Management is on (allowed: {allowed})")
    else:
        yield failed("Image Access Management is off: members may pull any public image")


def check_org(org: str) -> str:
    if not org or not all(c.isalnum() or c in "-_." for c in org):
        raise InputError(f"not a Docker Hub organization name: {org!r}", where="--org")
    return org


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-PD001": two_factor,
    "HG-PD002": sso,
    "HG-PD003": owners,
    "HG-PD004": team_permissions,
    "HG-PD005": never_expiring,
    "HG-PD006": unused,
    "HG-PD007": write_used_for_pulls,
    "HG-PD008": rotation,
    "HG-PD009": public_repositories,
    "HG-PD010": immutable_tags,
    "HG-PD011": audit_log,
    "HG-PD012": push_bursts,
    "HG-PD013": webhooks,
    "HG-PD014": scanning,
    "HG-PD015": image_access,
}
