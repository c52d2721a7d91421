"""hullguard contain: the change set rendered by the real kustomize, checked by the published
Kubernetes schemas, and the refusals (overlapping selectors, foreign incident folders)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hullguard.contain.model import NODELOCAL_DNS, QUARANTINE_LABEL, ContainOptions
from hullguard.contain.run import SelectorOverlapError, contain
from hullguard.errors import InputError
from tests.contain.kube import find, render, validate
from tests.support.env import REPO, tool

ALL = ("P0", "P1", "P2", "P3")


@pytest.fixture(scope="module")
def demo_changes(demo_incident: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("contain") / "out"
    contain([demo_incident], ContainOptions(out, priorities=ALL, cluster_dns_ip="10.96.0.10"))
    return out


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def test_overlay_renders_hardened_quarantined_workloads(demo_changes: Path) -> None:
    objects = render(demo_changes / "kustomize/overlay")
    web = find(objects, "Deployment", "web")
    assert web["spec"]["template"]["metadata"]["labels"] == {"app": "web",
                                                             QUARANTINE_LABEL: "true"}
    spec = _pod_spec(web)
    assert spec["serviceAccountName"] == "web-contained"
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532,
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    for container in spec["containers"] + spec["initContainers"]:  # migrate too
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "hullguard-tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "hullguard-tmp", "emptyDir": {}} in spec["volumes"]
    assert container["image"] == "registry.shop.internal/shop/web:1.4.2"  # untouched
    assert find(objects, "ServiceAccount", "web-contained")["automountServiceAccountToken"] \
        is False
    cron = find(objects, "CronJob", "nightly-report")
    labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels == {QUARANTINE_LABEL: "true"}


def test_network_policy_selects_exactly_the_workload(demo_changes: Path) -> None:
    objects = render(demo_changes / "kustomize/overlay")
    policy = find(objects, "NetworkPolicy", "hullguard-contain-web")
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app": "web"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == []  # no metrics port declared: nothing comes in
    dns, logging = spec["egress"]
    peers = dns["to"]
    pod_labels = [p["podSelector"]["matchLabels"] for p in peers if "podSelector" in p]
    assert {"k8s-app": "kube-dns"} in pod_labels
    assert {"app.kubernetes.io/name": "coredns"} in pod_labels
    blocks = [p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p]
    assert blocks == [NODELOCAL_DNS, "10.96.0.10/32"]
    assert {"protocol": "UDP", "port": 53} in dns["ports"]
    assert {"protocol": "TCP", "port": 53} in dns["ports"]
    assert logging["to"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "logging"}}}]
    assert logging["ports"] == [{"protocol": "TCP", "port": 24224}]


def test_variants_add_the_deny_policies(demo_changes: Path) -> None:
    deny = render(demo_changes / "kustomize/variants/quarantine-deny")
    policies = [o for o in deny if o["metadata"]["name"] == "hullguard-quarantine-deny"]
    assert {p["metadata"]["namespace"] for p in policies} == {"dev", "shop-prod", "shop-staging"}
    assert all(p["spec"]["podSelector"] == {"matchLabels": {QUARANTINE_LABEL: "true"}}
               and "ingress" not in p["spec"] for p in policies)
    admin = find(render(demo_changes / "kustomize/variants/admin-deny"), "AdminNetworkPolicy",
                 "hullguard-quarantine")
    assert [rule["action"] for rule in admin["spec"]["egress"]] == ["Allow", "Allow", "Deny"]
    assert admin["spec"]["ingress"][0]["action"] == "Deny"


def test_every_emitted_object_is_valid(demo_changes: Path) -> None:
    seen = set()
    for variant in ("overlay", "variants/quarantine-deny", "variants/admin-deny"):
        for obj in render(demo_changes / "kustomize" / variant):
            validate(obj)
            seen.add(obj["kind"])
    assert {"NetworkPolicy", "ServiceAccount", "Deployment", "CronJob", "Pod",
            "AdminNetworkPolicy"} <= seen


def test_invalid_object_is_caught_by_the_validation() -> None:
    """The validation itself can fail: a policy with a misspelt field is refused."""
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "x"}, "spec": {"podSelectr": {}}}
    with pytest.raises(Exception, match="podSelectr"):
        validate(policy)
    admin = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
             "metadata": {"name": "x"}, "spec": {"priority": 10, "subject": {"namespaces": {}},
                                                 "egress": [{"name": "x", "action": "Drop",
                                                             "to": [{"namespaces": {}}]}]}}
    with pytest.raises(Exception, match="Drop"):
        validate(admin)


def test_apply_script_makes_the_same_change_as_the_overlay(demo_changes: Path) -> None:
    """kubectl applies the patch file apply.sh names to the original (offline, --local) and
    gets what kustomize rendered."""
    kubectl = tool("kubectl")
    script = (demo_changes / "apply.sh").read_text()
    line = next(x for x in script.splitlines() if "patch" in x and "deployment/web" in x)
    patch_file = line.split("--patch-file ")[1]
    done = subprocess.run([kubectl, "patch", "--local", "-o", "json", "--type", "strategic",
                           "-f", str(demo_changes / "rollback/originals/"
                                     "shop-prod-deployment-web.yaml"),
                           "--patch-file", str(demo_changes / patch_file)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    patched = json.loads(done.stdout)
    rendered = find(render(demo_changes / "kustomize/overlay"), "Deployment", "web")
    assert patched["spec"]["template"] == rendered["spec"]["template"]


def test_scripts_dry_run_by_default(demo_changes: Path, tmp_path: Path) -> None:
    """No cluster here: a recording `kubectl` stand-in on PATH shows which commands run."""
    fake = tmp_path / "bin" / "kubectl"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$*" >> "$KUBECTL_LOG"\n')
    fake.chmod(0o755)

    def calls(script: str, *args: str) -> list[str]:
        log = tmp_path / f"{script}{''.join(args)}.log"
        env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}",
               "KUBECTL_LOG": str(log)}
        subprocess.run(["sh", str(demo_changes / script), *args], env=env, check=True,
                       capture_output=True, timeout=60)
        return log.read_text().splitlines()

    dry, rollback = calls("apply.sh"), calls("rollback.sh")
    applied = calls("apply.sh", "--apply")
    assert dry and all("--dry-run=server" in c for c in dry + rollback)
    assert len(applied) == len(dry) and not any("--dry-run" in c for c in applied)
    assert any(c.startswith("patch") and "deployment/web" in c for c in applied)
    assert any(c.startswith("label") and "pod debug" in c for c in applied)
    assert any(c.startswith("replace") and "originals" in c for c in rollback)
    variant = calls("apply.sh", "--variant=admin-deny")
    assert len(variant) == len(dry) + 1 and "admin-deny.yaml" in variant[-1]


def test_workload_without_labels_warns_and_the_rest_is_written(demo_changes: Path) -> None:
    text = (demo_changes / "CONTAINMENT.md").read_text()
    section = text.split("## shop-prod/CronJob/nightly-report")[1].split("\n## ")[0]
    assert "no labels" in section
    assert not (demo_changes / "kustomize/overlay/networkpolicies/"
                               "shop-prod-cronjob-nightly-report.yaml").exists()
    assert (demo_changes / "kustomize/overlay/patches/"
                           "shop-prod-cronjob-nightly-report.yaml").exists()
    assert "silently ignores" in text and "Existing connections may survive" in text


def test_compose_service_gets_an_override(demo_changes: Path) -> None:
    from hullguard.inventory.yamlsafe import loads_all

    override = next((demo_changes / "compose").glob("*.override.yml"))
    doc = loads_all(override.read_text(), str(override)).documents[0]
    web = doc["services"]["web"]
    assert web["read_only"] is True and web["cap_drop"] == ["ALL"]
    assert web["security_opt"] == ["no-new-privileges:true"]
    assert web["networks"] == ["hullguard-quarantine"] and web["ports"] == []
    assert doc["networks"]["hullguard-quarantine"]["internal"] is True
    assert "!override" in override.read_text()  # replaces the service's networks, no merge


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {labels}}}
  template:
    metadata: {{labels: {labels}}}
    spec:
      {extra}
      containers:
        - name: {name}
          image: registry.shop.internal/shop/{name}:1
          ports: [{{name: http-metrics, containerPort: 9102}}, {{containerPort: 8080}}]
"""


def _deployment(name: str, labels: str, extra: str = "serviceAccountName: default") -> str:
    return DEPLOYMENT.format(name=name, labels=labels, extra=extra)


def test_selector_overlap_is_refused_with_the_overlap_named(tmp_path: Path) -> None:
    (tmp_path / "apps.yaml").write_text(
        _deployment("api", "{app: shop}") + "---\n"
        + _deployment("admin", "{app: shop, tier: admin}"))
    out = tmp_path / "out"
    with pytest.raises(SelectorOverlapError, match=r"shop/Deployment/api .* also selects "
                                                   r"shop/Deployment/admin"):
        contain([tmp_path / "apps.yaml"], ContainOptions(out, workloads=("shop/Deployment/api",)))
    assert not out.exists()  # nothing half-written
    contain([tmp_path / "apps.yaml"], ContainOptions(out, workloads=("shop/Deployment/admin",)))
    assert (out / "kustomize/overlay/networkpolicies/shop-deployment-admin.yaml").exists()


def test_metrics_ports_existing_policies_and_api_users(tmp_path: Path) -> None:
    rbac = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: operator, namespace: shop}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec: {podSelector: {}, ingress: [{}]}
"""
    (tmp_path / "apps.yaml").write_text(
        _deployment("api", "{app: api}") + "---\n"
        + _deployment("ctl", "{app: ctl}", "serviceAccountName: operator") + "---\n" + rbac)
    out = tmp_path / "out"
    changes = contain([tmp_path], ContainOptions(
        out, workloads=("shop/Deployment/api", "shop/Deployment/ctl"), metrics_ports=(9000,)))
    policy = yaml.safe_load((out / "kustomize/overlay/networkpolicies/"
                                   "shop-deployment-api.yaml").read_text())
    assert policy["spec"]["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": 9000}, {"protocol": "TCP", "port": 9102}]}]
    ctl = next(c for c in changes.changes if c.key == "shop/Deployment/ctl")
    assert any("RoleBinding operator-edit" in w for w in ctl.warnings)
    assert not (out / "kustomize/overlay/serviceaccounts/shop-deployment-ctl.yaml").exists()
    patch = yaml.safe_load((out / "kustomize/overlay/patches/shop-deployment-ctl.yaml")
                           .read_text())
    assert "serviceAccountName" not in patch["spec"]["template"]["spec"]
    assert any("shop/allow-all" in w for c in changes.changes for w in c.warnings)
    objects = render(out / "kustomize/overlay")
    assert _pod_spec(find(objects, "Deployment", "ctl"))["serviceAccountName"] == "operator"
    admin = find(render(out / "kustomize/variants/admin-deny"), "AdminNetworkPolicy",
                 "hullguard-quarantine")
    allow, deny = admin["spec"]["ingress"]
    assert allow["action"] == "Allow" and deny["action"] == "Deny"
    assert allow["ports"] == [{"portNumber": {"protocol": "TCP", "port": p}}
                              for p in (9000, 9102)]
    for obj in [*objects, admin]:
        validate(obj)


def _rewrite(incident: Path, dest: Path, change: Any) -> Path:
    dest.mkdir()
    doc = json.loads((incident / "findings.json").read_text())
    change(doc)
    (dest / "findings.json").write_text(json.dumps(doc))
    return dest


def test_incident_from_another_version_is_one_clear_error(demo_incident: Path,
                                                          tmp_path: Path) -> None:
    folder = _rewrite(demo_incident, tmp_path / "v2", lambda d: d.update(schema_version=2))
    with pytest.raises(InputError, match="another hullguard version"):
        contain([folder], ContainOptions(tmp_path / "out"))
    hostile = _rewrite(demo_incident, tmp_path / "hostile", lambda d: d["priority_queue"][0]
                       .update(workload="shop-prod/Deployment/web;rm -rf ~"))
    with pytest.raises(InputError, match="is not a workload namespace/Kind/name"):
        contain([hostile], ContainOptions(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_cli_base_selection_and_refusals(demo_incident: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hullguard", "contain", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    done = run(str(demo_incident), "--base", "alpine:3.10", "--out", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "b/CONTAINMENT.md").read_text()
    for key in ("dev/Pod/debug", "shop-prod/Deployment/web", "shop-staging/Deployment/frontend",
                "shop-prod/Deployment/worker", "compose/compose-service/web"):
        assert f"## {key}" in text
    fleet = REPO / "src/hullguard/demo/data/fleet"
    done = run(str(fleet), "--out", str(tmp_path / "c"))
    assert done.returncode == 2 and done.stderr.count("error:") == 1
    assert "no priorities to select by" in done.stderr
    done = run(str(demo_incident), "--priority", "P9", "--out", str(tmp_path / "d"))
    assert done.returncode == 2 and "--priority" in done.stderr


def test_image_volumes_get_an_emptydir(tmp_path: Path) -> None:
    """The image's Dockerfile (folder named like the repository) declares VOLUME /data: the
    read-only root gets a writable emptyDir there, for that container only."""
    (tmp_path / "apps.yaml").write_text(_deployment("api", "{app: api}"))
    (tmp_path / "api").mkdir()
    (tmp_path / "api/Dockerfile").write_text(
        'FROM alpine:3.19\nVOLUME ["/data", "/var/cache/api"]\nCMD ["api"]\n')
    out = tmp_path / "out"
    contain([tmp_path], ContainOptions(out, workloads=("shop/Deployment/api",)))
    spec = _pod_spec(find(render(out / "kustomize/overlay"), "Deployment", "api"))
    mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts == {"/tmp", "/data", "/var/cache/api"}
    assert {v["name"] for v in spec["volumes"]} == {"hullguard-tmp", "hullguard-data",
                                                    "hullguard-var-cache-api"}
    assert "VOLUME in" in (out / "CONTAINMENT.md").read_text()
