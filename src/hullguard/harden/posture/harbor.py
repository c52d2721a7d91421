"""Harbor posture, read through the Harbor v2.0 REST API (its swagger: ``/api/v2.0``).

Endpoints: ``/configurations``, ``/projects`` (``page``/``page_size``, ``Link: rel="next"``),
``/projects/{name}/metadatas``, ``/robots``, ``/system/CVEAllowlist``,
``/replication/policies`` and ``/projects/{name}/webhook/policies``. The caller
authenticates with HTTP basic (a user or a robot secret); ``/configurations`` needs a
system admin, so a lesser account gets "manual" for the checks that read it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from hullguard.errors import AuthError
from hullguard.harden.posture.http import ApiClient, Memo
from hullguard.harden.posture.registry import CheckFunction, Outcome, failed, manual, passed

API = "/api/v2.0"
USER_ENV, PASSWORD_ENV = "HULLGUARD_HARBOR_USERNAME", "HULLGUARD_HARBOR_PASSWORD"
CENTRAL_AUTH = ("oidc_auth", "ldap_auth", "http_auth", "uaa_auth")
SAFE_ROBOT_ACTIONS = ("pull", "push", "read", "list")
STRICT_SEVERITIES = ("low", "medium", "high")  # prevent_vul at high or stricter
PUBLIC_REGISTRIES = ("docker.io", "docker.com", "quay.io", "ghcr.io", "gcr.io",
                     "public.ecr.aws", "registry.k8s.io", "mcr.microsoft.com")


def login(api: ApiClient, environ: dict[str, str] | None = None) -> str:
    """Basic credentials from HULLGUARD_HARBOR_USERNAME / _PASSWORD (never shown)."""
    env = os.environ if environ is None else environ
    user, secret = env.get(USER_ENV, ""), env.get(PASSWORD_ENV, "")
    if not user or not secret:
        raise AuthError("no Harbor credentials", where=USER_ENV,
                        hint=f"set {USER_ENV} and {PASSWORD_ENV} (a system admin, or a "
                             "robot with read access to the system resources)")
    api.authorize("Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode())
    return user


class Harbor:
    """The instance's data, fetched once per endpoint (denials kept, see dockerhub)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.memo = Memo()

    def config(self, name: str) -> Any:
        """One configuration item's value (Harbor wraps each as {"value", "editable"})."""
        items = self.memo.once("config", lambda: self.api.get(f"{API}/configurations")[0])
        item = items.get(name) if isinstance(items, dict) else None
        return item.get("value") if isinstance(item, dict) else item

    def projects(self) -> list[dict[str, Any]]:
        return self.memo.once("projects", lambda: _dicts(self.api.pages(
            f"{API}/projects", {"page": 1, "page_size": 100})))

    def metadata(self, project: dict[str, Any]) -> dict[str, str]:
        name = str(project.get("name", ""))
        inline = project.get("metadata")
        if isinstance(inline, dict) and inline:
            return {str(k): str(v).lower() for k, v in inline.items()}
        doc = self.memo.once(f"meta:{name}", lambda: self.api.get(
            f"{API}/projects/{quote(name, safe='')}/metadatas")[0])
        return {str(k): str(v).lower() for k, v in (doc or {}).items()}

    def robots(self) -> list[dict[str, Any]]:
        return self.memo.once("robots", lambda: _dicts(self.api.pages(
            f"{API}/robots", {"page": 1, "page_size": 100})))

    def allowlist(self) -> dict[str, Any]:
        doc = self.memo.once("allowlist", lambda: self.api.get(f"{API}/system/CVEAllowlist")[0])
        return doc if isinstance(doc, dict) else {}

    def replications(self) -> list[dict[str, Any]]:
        return self.memo.once("replication", lambda: _dicts(self.api.pages(
            f"{API}/replication/policies", {"page": 1, "page_size": 100})))

    def webhooks(self, project: str) -> list[dict[str, Any]]:
        return self.memo.once(f"hooks:{project}", lambda: _dicts(self.api.pages(
            f"{API}/projects/{quote(project, safe='')}/webhook/policies",
            {"page": 1, "page_size": 100})))


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)]


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def auth_mode(harbor: Harbor) -> Iterator[Outcome]:
    mode = str(harbor.config("auth_mode"))
    yield (passed if mode in CENTRAL_AUTH else failed)(f"auth_mode is {mode}")


def self_registration(harbor: Harbor) -> Iterator[Outcome]:
    on = _true(harbor.config("self_registration"))
    yield (failed if on else passed)(f"self_registration is {str(on).lower()}")


def project_creation(harbor: Harbor) -> Iterator[Outcome]:
    value = str(harbor.config("project_creation_restriction"))
    yield (passed if value == "adminonly" else failed)(
        f"project_creation_restriction is {value}")


def _robot_name(robot: dict[str, Any]) -> str:
    return str(robot.get("name", robot.get("id", "?")))


def robot_expiry(harbor: Harbor) -> Iterator[Outcome]:
    robots = [r for r in harbor.robots() if not r.get("disable")]
    for robot in robots:
        if robot.get("duration") == -1 or robot.get("expires_at") == -1:
            yield failed(f"robot {_robot_name(robot)} never expires", _robot_name(robot))
    yield passed(f"{len(robots)} enabled robot(s) checked")


def robot_privilege(harbor: Harbor) -> Iterator[Outcome]:
    for robot in (r for r in harbor.robots() if not r.get("disable")):
        for permission in robot.get("permissions") or []:
            broad = permission.get("namespace") == "*" and permission.get("kind") == "project"
            extra = sorted({str(a.get("action")) for a in permission.get("access") or []
                            if str(a.get("action")) not in SAFE_ROBOT_ACTIONS})
            if broad or extra:
                what = "every project" if broad else f"{permission.get('kind')} " \
                                                      f"{permission.get('namespace')}"
                yield failed(f"robot {_robot_name(robot)} on {what}"
                             + (f" may {', '.join(extra)}" if extra else ""),
                             _robot_name(robot))
    yield passed("robot permissions checked")


def robot_unused(harbor: Harbor) -> Iterator[Outcome]:
    names = ", ".join(_robot_name(r) for r in harbor.robots()[:20])
    yield manual(f"last use is not in the robot API; check the audit log for: {names or 'none'}")


def _per_project(harbor: Harbor) -> Iterator[tuple[str, dict[str, str]]]:
    for project in harbor.projects():
        yield str(project.get("name", "")), harbor.metadata(project)


def _each_project(harbor: Harbor,
                  problem: Callable[[dict[str, str]], str]) -> Iterator[Outcome]:
    """A failure per project whose metadata has a ``problem`` (said after "project NAME";
    "" for none), then how many projects were checked: every per-project metadata check."""
    for name, meta in _per_project(harbor):
        if found := problem(meta):
            yield failed(f"project {name} {found}", name)
    yield passed(f"{len(harbor.projects())} project(s) checked")


def _flag(key: str, bad: bool, problem: str) -> Callable[[dict[str, str]], str]:
    """The ``problem`` of a project whose boolean metadata ``key`` is ``bad``."""
    return lambda meta: problem if _true(meta.get(key)) == bad else ""


def public_projects(harbor: Harbor) -> Iterator[Outcome]:
    yield from _each_project(harbor, _flag("public", True, "is public"))


def scan_on_push(harbor: Harbor) -> Iterator[Outcome]:
    yield from _each_project(harbor, _flag("auto_scan", False, "does not scan on push"))


def prevent_vulnerable(harbor: Harbor) -> Iterator[Outcome]:
    yield from _each_project(harbor, _vulnerable_pulls)


def _vulnerable_pulls(meta: dict[str, str]) -> str:
    severity = meta.get("severity", "")
    if not _true(meta.get("prevent_vul")):
        return "lets vulnerable images be pulled"
    if severity not in STRICT_SEVERITIES:
        return f"blocks only at severity {severity or 'unset'}"
    return ""


def cosign(harbor: Harbor) -> Iterator[Outcome]:
    yield from _each_project(harbor, _flag("enable_content_trust_cosign", False,
                                           "does not enforce cosign signatures"))


def notary(harbor: Harbor) -> Iterator[Outcome]:
    yield from _each_project(harbor, _flag("enable_content_trust", True,
                                           "relies on Notary v1 content trust (deprecated)"))


def cve_allowlists(harbor: Harbor) -> Iterator[Outcome]:
    lists = [("system", harbor.allowlist())]
    lists += [(f"project {p.get('name')}", p.get("cve_allowlist") or {})
              for p in harbor.projects()]
    for where, allow in lists:
        items = allow.get("items") or [] if isinstance(allow, dict) else []
        if items and not allow.get("expires_at"):
            cves = ", ".join(str(i.get("cve_id")) for i in items[:10] if isinstance(i, dict))
            yield failed(f"{where} CVE allowlist never expires ({cves})", where)
    yield passed(f"{len(lists)} allowlist(s) checked")


def audit_forwarding(harbor: Harbor) -> Iterator[Outcome]:
    endpoint = harbor.config("audit_log_forward_endpoint")
    if endpoint:
        yield passed(f"audit log forwarded to {endpoint}")
    else:
        yield failed("audit_log_forward_endpoint is not set")


def replication(harbor: Harbor) -> Iterator[Outcome]:
    policies = harbor.replications()
    for policy in policies:
        source = policy.get("src_registry") or {}
        url = str(source.get("url", "")) if isinstance(source, dict) else ""
        host = (urlsplit(url).hostname or "").lower()
        public = any(host == p or host.endswith("." + p) for p in PUBLIC_REGISTRIES)
        filters = [f for f in policy.get("filters") or [] if isinstance(f, dict)
                   and f.get("type") in ("name", "tag") and f.get("value")]
        if policy.get("enabled", True) and public and not filters:
            yield failed(f"rule {policy.get('name')} pulls everything from {url}",
                         str(policy.get("name")))
    yield passed(f"{len(policies)} replication rule(s) checked")


def webhooks(harbor: Harbor) -> Iterator[Outcome]:
    for project in harbor.projects():
        name = str(project.get("name", ""))
        hooks = [h for h in harbor.webhooks(name) if h.get("enabled", True)]
        if not hooks:
            yield failed(f"project {name} has no enabled webhook", name)
        for hook in hooks:
            for target in hook.get("targets") or []:
                address = str(target.get("address", ""))
                if not address.startswith("https://") or target.get("skip_cert_verify"):
                    yield failed(f"project {name} webhook {hook.get('name')} sends to "
                                 f"{address} without verified TLS", name)
    yield passed(f"{len(harbor.projects())} project(s) checked")


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-PH001": auth_mode,
    "HG-PH002": self_registration,
    "HG-PH003": project_creation,
    "HG-PH004": robot_expiry,
    "HG-PH005": robot_privilege,
    "HG-PH006": robot_unused,
    "HG-PH007": public_projects,
    "HG-PH008": scan_on_push,
    "HG-PH009": prevent_vulnerable,
    "HG-PH010": cosign,
    "HG-PH011": notary,
    "HG-PH012": cve_allowlists,
    "HG-PH013": audit_forwarding,
    "HG-PH014": replication,
    "HG-PH015": webhooks,
}
