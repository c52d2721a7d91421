"""Stand-ins for the Docker Hub and Harbor APIs on 127.0.0.1 (SaaS / appliance edges that
cannot run here). Their answers follow the published API descriptions, written from reading
them (not copied):

* Docker Hub API reference, OpenAPI "2-beta" (docs.docker.com/reference/api/hub/latest.yaml):
  ``POST /v2/auth/token`` -> ``{"access_token"}``; paginated listings
  ``{"count", "next", "previous", "results"}`` (org_member_paginated: username, role,
  groups); personal tokens (uuid, token_label, scopes ``repo:*``, created_at, last_used,
  expires_at, is_active); organization tokens (orgAccessToken: id, label, created_at,
  expires_at, last_used_at, is_active; getOrgAccessTokenResponse adds resources with scopes
  ``scope-image-pull``/``scope-image-push``); repositories (name, is_private,
  immutable_tags_settings {enabled, rules}); ``/v2/auditlogs/{account}`` -> ``{"logs"}``
  paged by page/page_size (actor, action ``repo.tag.push``, name, timestamp); rate limiting
  is 429 with Retry-After.
* Harbor swagger v2.0 (goharbor/harbor api/v2.0/swagger.yaml): ``/configurations`` (items
  ``{"value", "editable"}``), ``/projects`` (page/page_size, ``Link: <...>; rel="next"``,
  metadata strings, cve_allowlist), ``/projects/{name}/metadatas``, ``/robots`` (duration,
  expires_at -1 = never, permissions kind/namespace/access), ``/system/CVEAllowlist``,
  ``/replication/policies`` (src_registry, filters), ``/projects/{name}/webhook/policies``
  (targets address, skip_cert_verify).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.registry import FakeRegistry, Handler

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
ORG = "acme"
USER, SECRET = "bob", "dckr_pat_standin-secret-never-printed-4242"
BEARER = "standin-bearer-jwt"
HARBOR_USER, HARBOR_PASSWORD = "admin", "Harbor12345-standin"


def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> str:
    when = NOW - dt.timedelta(days=days, hours=hours, minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def send_json(handler: Handler, doc: Any, status: int = 200,
              headers: dict[str, str] | None = None) -> None:
    handler.reply(status, json.dumps(doc).encode(), "application/json", headers)


def query(handler: Handler) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}


class DockerHubStandIn:
    """A Docker Hub organization with a mix of good and bad settings. ``deny`` paths answer
    403, ``expired`` makes every call 401, ``throttle`` answers 429 first on a path."""

    def __init__(self) -> None:
        self.server = FakeRegistry()
        self.deny: set[str] = set()
        self.throttle: dict[str, tuple[int, str]] = {}  # path -> (times left, Retry-After)
        self.expired = False
        self.image_access = False  # orgSettings.restricted_images.enabled
        self.url = self.server.url
        routes: dict[str, Callable[[Handler], None]] = {
            "/v2/auth/token": self.auth,
            f"/v2/orgs/{ORG}/members": self.members,
            f"/v2/orgs/{ORG}/groups": self.groups,
            "/v2/access-tokens": self.pats,
            f"/v2/orgs/{ORG}/access-tokens": self.oats,
            f"/v2/orgs/{ORG}/access-tokens/oat-2": self.oat_detail,
            f"/v2/namespaces/{ORG}/repositories": self.repositories,
            f"/v2/auditlogs/{ORG}": self.audit,
            f"/v2/orgs/{ORG}/settings": lambda h: send_json(h, {"restricted_images": {
                "enabled": self.image_access, "allow_official_images": True,
                "allow_verified_publishers": False}}),
        }
        for path, route in routes.items():
            self.server.routes[path] = self._guarded(path, route)

    def close(self) -> None:
        self.server.close()

    @property
    def requests(self) -> list[Any]:
        return self.server.requests

    def _guarded(self, path: str, route: Callable[[Handler], None]) -> Callable[[Handler], None]:
        def handle(handler: Handler) -> None:
            left, wait = self.throttle.get(path, (0, "0"))
            if left:
                self.throttle[path] = (left - 1, wait)
                handler.reply(429, b'{"message":"too many requests"}', "application/json",
                              {"Retry-After": wait})
            elif self.expired:
                send_json(handler, {"message": "token expired"}, 401)
            elif path != "/v2/auth/token" and handler.headers.get("Authorization") \
                    != f"Bearer {BEARER}":
                send_json(handler, {"message": "unauthorized"}, 401)
            elif path in self.deny:
                send_json(handler, {"errinfo": None, "message": "permission denied"}, 403)
            else:
                route(handler)
        return handle

    def auth(self, handler: Handler) -> None:
        body = json.loads(handler.read_body() or b"{}")
        if body != {"identifier": USER, "secret": SECRET}:
            send_json(handler, {"message": "invalid credentials"}, 401)
        else:
            send_json(handler, {"access_token": BEARER})

    def _page(self, handler: Handler, items: list[Any], size: int = 2) -> None:
        """Docker Hub style: results plus an absolute ``next`` URL."""
        page = int(query(handler).get("page", "1"))
        chunk = items[(page - 1) * size:page * size]
        base = f"{self.url}{urlsplit(handler.path).path}"
        more = page * size < len(items)
        send_json(handler, {"count": len(items), "previous": None, "results": chunk,
                            "next": f"{base}?page={page + 1}&page_size={size}" if more else None})

    def members(self, handler: Handler) -> None:
        people = [("alice", "Owner"), ("bob", "Owner"), ("carol", "Member"), ("dave", "Owner"),
                  ("erin", "Editor"), ("frank", "Owner")]  # 4 owners: two on later pages
        self._page(handler, [{"id": f"id-{n}", "username": n, "role": r, "type": "User",
                              "groups": ["owners"] if r == "Owner" else ["developers"],
                              "is_guest": False} for n, r in people])

    def groups(self, handler: Handler) -> None:
        self._page(handler, [{"id": 1, "uuid": "g-1", "name": "owners", "member_count": 4},
                             {"id": 2, "uuid": "g-2", "name": "developers", "member_count": 2}])

    def pats(self, handler: Handler) -> None:
        tokens = [
            {"uuid": "pat-1", "token_label": "ci-pull", "scopes": ["repo:write"],
             "created_at": ago(days=40), "last_used": ago(days=1), "expires_at": None,
             "is_active": True, "token": ""},
            {"uuid": "pat-2", "token_label": "laptop", "scopes": ["repo:read"],
             "created_at": ago(days=10), "last_used": None,
             "expires_at": ago(days=-80), "is_active": True, "token": ""},
            {"uuid": "pat-3", "token_label": "release-push", "scopes": ["repo:write"],
             "created_at": ago(days=5), "last_used": ago(hours=2),
             "expires_at": ago(days=-25), "is_active": True, "token": ""},
        ]
        self._page(handler, tokens)

    def oats(self, handler: Handler) -> None:
        send_json(handler, {"total": 2, "next": None, "previous": None, "results": [
            {"id": "oat-1", "label": "prod-pull", "created_at": ago(days=30),
             "created_by": "alice", "expires_at": ago(days=-60), "last_used_at": ago(days=2),
             "is_active": True, "resources": [{"type": "TYPE_REPO", "path": f"{ORG}/*",
                                               "scopes": ["scope-image-pull"]}]},
            {"id": "oat-2", "label": "old-mirror", "created_at": ago(days=200),
             "created_by": "bob", "expires_at": None, "last_used_at": ago(days=150),
             "is_active": True}]})

    def oat_detail(self, handler: Handler) -> None:
        send_json(handler, {"id": "oat-2", "label": "old-mirror", "resources": [
            {"type": "TYPE_REPO", "path": f"{ORG}/mirror", "scopes": ["scope-image-pull"]}]})

    def repositories(self, handler: Handler) -> None:
        repos = [
            {"name": "api", "namespace": ORG, "is_private": True,
             "immutable_tags_settings": {"enabled": True, "rules": ["v.*"]}},
            {"name": "web", "namespace": ORG, "is_private": False,
             "immutable_tags_settings": {"enabled": False, "rules": []}},
            {"name": "mirror", "namespace": ORG, "is_private": True},
        ]
        self._page(handler, repos)

    def audit(self, handler: Handler) -> None:
        """12 pushes by bob to acme/api in 50 minutes that straddle a clock hour (at most 7
        fall in one clock hour: only a sliding window sees the burst), and alice's 3."""
        start = NOW.replace(minute=0, second=0) - dt.timedelta(hours=3, minutes=25)
        logs = [{"account": ORG, "action": "repo.tag.push", "name": f"{ORG}/api:v1.{i}",
                 "actor": "bob", "data": {"tag": f"v1.{i}"}, "action_description": "push",
                 "timestamp": (start + dt.timedelta(minutes=5 * i)).strftime(
                     "%Y-%m-%dT%H:%M:%SZ")} for i in range(11)]
        logs.append({**logs[0], "name": f"{ORG}/api:v2",
                     "timestamp": (start + dt.timedelta(minutes=50)).strftime(
                         "%Y-%m-%dT%H:%M:%SZ")})
        logs += [{"account": ORG, "action": "repo.tag.push", "name": f"{ORG}/web:{i}",
                  "actor": "alice", "timestamp": ago(days=i + 1)} for i in range(3)]
        q = query(handler)
        page, size = int(q.get("page", "1")), int(q.get("page_size", "100"))
        send_json(handler, {"logs": logs[(page - 1) * size:page * size]})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class HarborStandIn:
    """A Harbor instance: two projects (one public, lax), robots, allowlists, replication."""

    def __init__(self) -> None:
        self.server = FakeRegistry()
        self.url = self.server.url
        self.deny: set[str] = set()
        self.throttle: dict[str, tuple[int, str]] = {}  # path -> (times left, Retry-After)
        api = "/api/v2.0"
        routes: dict[str, Callable[[Handler], None]] = {
            f"{api}/configurations": lambda h: send_json(h, {
                "auth_mode": {"value": "db_auth", "editable": False},
                "self_registration": {"value": True, "editable": True},
                "project_creation_restriction": {"value": "adminonly", "editable": True},
                "audit_log_forward_endpoint": {"value": "", "editable": True}}),
            f"{api}/projects": self.projects,
            f"{api}/projects/library/metadatas": lambda h: send_json(h, {
                "public": "true", "auto_scan": "false", "prevent_vul": "true",
                "severity": "critical", "enable_content_trust": "true"}),
            f"{api}/projects/secure/metadatas": lambda h: send_json(h, {
                "public": "false", "auto_scan": "true", "prevent_vul": "true",
                "severity": "high", "enable_content_trust_cosign": "true"}),
            f"{api}/robots": self.robots,
            f"{api}/system/CVEAllowlist": lambda h: send_json(h, {
                "id": 1, "project_id": 0, "expires_at": None,
                "items": [{"cve_id": "CVE-2021-44228"}]}),
            f"{api}/replication/policies": lambda h: send_json(h, [
                {"id": 1, "name": "hub-everything", "enabled": True, "filters": [],
                 "src_registry": {"id": 2, "name": "hub", "type": "docker-hub",
                                  "url": "https://hub.docker.com"}},
                {"id": 2, "name": "hub-alpine", "enabled": True,
                 "filters": [{"type": "name", "value": "library/alpine"}],
                 "src_registry": {"id": 2, "url": "https://hub.docker.com"}}]),
            f"{api}/projects/library/webhook/policies": lambda h: send_json(h, [
                {"id": 1, "name": "ci", "enabled": True, "event_types": ["PUSH_ARTIFACT"],
                 "targets": [{"type": "http", "address": "http://hooks.example/ci",
                              "skip_cert_verify": True}]}]),
            f"{api}/projects/secure/webhook/policies": lambda h: send_json(h, [
                {"id": 2, "name": "siem", "enabled": True, "event_types": ["PUSH_ARTIFACT"],
                 "targets": [{"type": "http", "address": "https://siem.example/harbor",
                              "skip_cert_verify": False}]}]),
        }
        for path, route in routes.items():
            self.server.routes[path] = self._guarded(path, route)

    def close(self) -> None:
        self.server.close()

    def _guarded(self, path: str, route: Callable[[Handler], None]) -> Callable[[Handler], None]:
        def handle(handler: Handler) -> None:
            left, wait = self.throttle.get(path, (0, "0"))
            if left:  # Harbor answers 429 with its errors body (swagger: Errors)
                self.throttle[path] = (left - 1, wait)
                handler.reply(429, b'{"errors":[{"code":"TOO_MANY_REQUESTS"}]}',
                              "application/json", {"Retry-After": wait})
            elif handler.headers.get("Authorization") != basic(HARBOR_USER, HARBOR_PASSWORD):
                send_json(handler, {"errors": [{"code": "UNAUTHORIZED"}]}, 401)
            elif path in self.deny:
                send_json(handler, {"errors": [{"code": "FORBIDDEN"}]}, 403)
            else:
                route(handler)
        return handle

    def projects(self, handler: Handler) -> None:
        """One project per page; the next page in a relative Link header."""
        page = int(query(handler).get("page", "1"))
        projects = [
            {"project_id": 1, "name": "library", "metadata": {},
             "cve_allowlist": {"items": [], "expires_at": None}},
            {"project_id": 2, "name": "secure", "metadata": {},
             "cve_allowlist": {"items": [{"cve_id": "CVE-2023-1234"}], "expires_at": None}},
        ]
        headers = {"X-Total-Count": "2"}
        if page < len(projects):
            headers["Link"] = f'</api/v2.0/projects?page={page + 1}&page_size=1>; rel="next"'
        send_json(handler, [projects[page - 1]], headers=headers)

    def robots(self, handler: Handler) -> None:
        send_json(handler, [
            {"id": 1, "name": "robot$ci", "level": "project", "duration": 30,
             "expires_at": int(NOW.timestamp()) + 86400 * 30, "disable": False,
             "permissions": [{"kind": "project", "namespace": "secure", "access": [
                 {"resource": "repository", "action": "pull"},
                 {"resource": "repository", "action": "push"}]}]},
            {"id": 2, "name": "robot$god", "level": "system", "duration": -1,
             "expires_at": -1, "disable": False,
             "permissions": [{"kind": "project", "namespace": "*", "access": [
                 {"resource": "repository", "action": "delete"}]}]}])
