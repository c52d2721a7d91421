"""respond's containment and remediation steps: written inside the incident folder's swap,
and a failing step never costs the incident folder."""

from __future__ import annotations

import json
from pathlib import Path

from hullguard.demo import prepare_demo
from hullguard.pipeline.respond import RespondOptions, respond

# A canary Deployment whose pod labels include all of web's: a NetworkPolicy on web's labels
# would also catch it, so `contain` refuses (a real failure, not a stand-in).
CANARY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-canary, namespace: shop-prod}
spec:
  selector:
    matchLabels: {app: web, track: canary}
  template:
    metadata:
      labels: {app: web, track: canary}
    spec:
      containers:
      - {name: web, image: registry.shop.internal/shop/web:1.4.2}
"""


def _options(tmp_path: Path, extra: list[Path]) -> RespondOptions:
    demo = prepare_demo(tmp_path / "demo")
    return RespondOptions([*map(str, demo.paths), *map(str, extra)], tmp_path / "out",
                          str(demo.db_path), image_sources=demo.image_sources, offline=True,
                          workers=1, contain=True, remediate=True)


def test_failing_containment_leaves_the_incident_folder_complete(tmp_path: Path) -> None:
    canary = tmp_path / "canary.yaml"
    canary.write_text(CANARY)
    incident = respond(_options(tmp_path, [canary]))
    out = tmp_path / "out"
    for name in ("declaration.md", "report.html", "findings.json", "findings.sarif"):
        assert (out / name).stat().st_size > 0
    assert len(list((out / "sboms").iterdir())) == 4
    assert not (out / "containment").exists()  # nothing half-written
    assert (out / "remediation" / "REMEDIATION.md").is_file()  # the other step still ran
    warning = next(w for w in incident.warnings if w.startswith("containment was not written"))
    assert "web-canary" in warning and "the incident folder is complete" in warning
    doc = json.loads((out / "findings.json").read_text())
    steps = {s["folder"]: s for s in doc["follow_ups"]}
    assert steps["containment"]["entry"] == "" and "web-canary" in steps["containment"]["error"]
    assert steps["remediation"]["entry"] == "remediation/REMEDIATION.md"
    html = (out / "report.html").read_text()
    assert 'href="containment/' not in html and "NOT written" in html
    assert "**Containment:** NOT written" in (out / "declaration.md").read_text()


def test_without_the_flags_no_step_runs(tmp_path: Path) -> None:
    from dataclasses import replace

    incident = respond(replace(_options(tmp_path, []), contain=False, remediate=False))
    assert incident.follow_ups == ()
    assert not (tmp_path / "out" / "containment").exists()
    assert not (tmp_path / "out" / "remediation").exists()
    assert "Follow-up steps" not in (tmp_path / "out" / "report.html").read_text()
