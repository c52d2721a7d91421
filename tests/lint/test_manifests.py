"""Kubernetes workload and compose service checks on real manifest text."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.lint import lint_path
from hullguard.model.lint import LintReport

RISKY_K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      hostNetwork: true
      hostPID: true
      volumes:
      - name: root
        hostPath: {path: /}
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: true
          capabilities: {add: [SYS_ADMIN]}
        env:
        - name: DB_PASSWORD
          value: EXAMPLE-db-p4ss-9Kq2zX7
        - name: FROM_SECRET
          valueFrom: {secretKeyRef: {name: db, key: password}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            image: registry.example.com/report:1.2
"""

HARDENED_K8S = """\
apiVersion: v1
kind: Pod
metadata: {name: safe}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 10001}
  containers:
  - name: app
    image: registry.example.com/app:1.2@sha256:%s
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    resources: {limits: {cpu: 500m, memory: 256Mi}}
""" % ("b" * 64)

RISKY_COMPOSE = """\
services:
  web:
    image: nginx:latest
    privileged: true
    network_mode: host
    cap_add: [NET_ADMIN]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
    environment:
      API_TOKEN: npm_EXAMPLE0123456789example0123456789
      DEBUG: "false"
  db:
    image: postgres:16.3@sha256:%s
    user: "999:999"
    read_only: true
""" % ("c" * 64)


def _lint(tmp_path: Path, name: str, text: str, level: str = "L3") -> LintReport:
    path = tmp_path / name
    path.write_text(text)
    return lint_path(path, level=level)


def _ids(report: LintReport, location: str = "") -> set[str]:
    return {f.check.id for f in report.findings if location in f.location}


def test_risky_kubernetes(tmp_path: Path) -> None:
    report = _lint(tmp_path, "deploy.yaml", RISKY_K8S)
    assert _ids(report, "Deployment/web") >= {
        "HG-K001", "HG-K002", "HG-K003", "HG-K004", "HG-K005", "HG-K006", "HG-K007",
        "HG-K008", "HG-K009", "HG-K010", "HG-K011", "HG-K012", "HG-K013"}
    assert "HG-K011" not in _ids(report, "CronJob/report")  # a specific tag
    assert "HG-K012" in _ids(report, "CronJob/report")
    secret = next(f for f in report.findings if f.check.id == "HG-K013")
    assert secret.line == 20 and "EXAMPLE-db" not in secret.message
    assert len([f for f in report.findings if f.check.id == "HG-K013"]) == 1
    privileged = next(f for f in report.findings if f.check.id == "HG-K001")
    assert privileged.target.endswith("deploy.yaml") and privileged.line > 0


def test_hardened_kubernetes_is_clean(tmp_path: Path) -> None:
    assert _lint(tmp_path, "pod.yaml", HARDENED_K8S).findings == ()


def test_compose(tmp_path: Path) -> None:
    report = _lint(tmp_path, "compose.yaml", RISKY_COMPOSE)
    assert _ids(report, "service web") == {
        "HG-C001", "HG-C002", "HG-C003", "HG-C004", "HG-C005", "HG-C006", "HG-C007",
        "HG-C008", "HG-C009"}
    assert _ids(report, "service db") == set()


def test_directory_of_mixed_files(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deploy.yaml").write_text(RISKY_K8S)
    (tmp_path / "compose.yml").write_text(RISKY_COMPOSE)
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    (tmp_path / "values.yaml").write_text("replicas: 3\n")  # neither: ignored in a walk
    (tmp_path / "broken.yaml").write_text("a: [\n")
    report = lint_path(tmp_path, level="L1")
    kinds = {f.check.id[:4] for f in report.findings}
    assert kinds == {"HG-K", "HG-C", "HG-D"}
    assert any("broken.yaml" in w for w in report.warnings)


def test_fifo_in_a_directory_is_skipped_not_read(tmp_path: Path) -> None:
    """Opening a FIFO would block until a writer comes: it must be refused unread."""
    import os
    import threading

    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    reports: list[LintReport] = []
    worker = threading.Thread(target=lambda: reports.append(lint_path(tmp_path, level="L1")),
                              daemon=True)  # a blocked open() must fail the test, not hang it
    worker.start()
    worker.join(30)
    assert reports, "lint blocked opening the FIFO"
    report = reports[0]
    assert {f.check.id[:4] for f in report.findings} == {"HG-D"}
    assert any("pipe.yaml: not a regular file" in w for w in report.warnings)


@pytest.mark.parametrize("text", [
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "[" * 3000 + "]" * 3000,
    "kind: Pod\napiVersion: v1\nspec: {containers: [{name: \"\\e[31mx\", image: 3}]}\n",
])
def test_hostile_yaml(tmp_path: Path, text: str) -> None:
    from hullguard.errors import HullguardError
    from hullguard.lint.report import render

    path = tmp_path / "evil.yaml"
    path.write_text(text)
    try:
        report = lint_path(path, level="L3")
    except HullguardError as error:
        assert "\x1b" not in str(error) and len(str(error)) < 500  # one clear error is fine
        return
    assert "\x1b" not in render(report, "table")


@pytest.mark.parametrize(("name", "text"), [
    ("pod.yaml", "kind: Pod\napiVersion: v1\nspec:\n  volumes: true\n"
                 "  containers: [{name: a, image: nginx, env: true}]\n"),
    ("compose.yaml", "services:\n  web:\n    image: nginx\n    volumes: true\n"),
])
def test_fields_of_the_wrong_shape_are_ignored_not_a_crash(tmp_path: Path, name: str,
                                                            text: str) -> None:
    """A list field holding a scalar (``volumes: true``) once raised TypeError."""
    report = _lint(tmp_path, name, text)
    assert report.findings  # the rest of the file is still checked (unpinned nginx, ...)
    assert not any("hostPath" in f.message or "docker.sock" in f.message
                   for f in report.findings)
