"""``hullguard gate`` end to end on real images: the demo fleet's docker-archives matched
against the demo advisory DB, an incident folder written by ``respond --demo``, and images in
a real docker-registry (and a registry with the OCI 1.1 referrers API) signed and attested by
``hullguard sign``/``attest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hullguard.demo import Demo
from tests.harden.gate.conftest import WEB, WORKER, hullguard, push_demo
from tests.support.registry import RegistryServer
from tests.vuln.test_report import _sarif_schema

SCAN_POLICY = """\
vulnerabilities: {severities: [critical, high], fixable_only: true}
non_root: true
secrets: none
licenses: {deny: [AGPL-3.0-only]}
"""


def rules_of(report: dict[str, Any], image_index: int = 0) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in report["images"][image_index]["rules"]}


def test_scan_stage_on_the_demo_images(demo: Demo, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(SCAN_POLICY)
    web, worker = demo.image_sources[WEB], demo.image_sources[WORKER]
    done = hullguard("gate", "--policy", str(policy), "--stage", "scan", "--db",
                     str(demo.db_path), web, worker, "--json", str(tmp_path / "g.json"),
                     "--sarif", str(tmp_path / "g.sarif"), "-q")
    assert done.returncode == 1, done.stderr
    report = json.loads((tmp_path / "g.json").read_text())
    assert report["stage"] == "scan" and report["passed"] is False
    web_rules, worker_rules = rules_of(report, 0), rules_of(report, 1)
    # web: old requests/urllib3 with fixes, the deleted .env credential, no USER
    assert web_rules["vulnerabilities"]["status"] == "fail"
    assert any("CVE-2018-18074" in r for r in web_rules["vulnerabilities"]["reasons"])
    assert web_rules["secrets"]["status"] == "fail"
    assert "AKIAQ4DEMOKEY7EXAMPL" not in (tmp_path / "g.json").read_text()  # redacted
    assert web_rules["non-root"]["status"] == "fail"
    assert worker_rules["non-root"]["status"] == "pass"  # User 1000
    assert worker_rules["secrets"]["status"] == "pass"
    assert web_rules["licenses"]["status"] == "pass"
    # the text report names each image and rule; the SARIF one is valid SARIF 2.1.0
    assert "FAIL  docker-archive:" in done.stdout and "FAIL non-root" in done.stdout
    sarif = json.loads((tmp_path / "g.sarif").read_text())
    jsonschema.validate(sarif, _sarif_schema())
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"vulnerabilities", "secrets", "non-root"}
    assert len({json.dumps(r["partialFingerprints"]) for r in results}) == len(results)


def test_exceptions_turn_the_worker_green(demo: Demo, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    first = hullguard("gate", "--policy", str(_write(policy, SCAN_POLICY)), "--stage", "scan",
                      "--db", str(demo.db_path), demo.image_sources[WORKER], "-f", "json", "-q")
    blocking = [r for r in rules_of(json.loads(first.stdout))["vulnerabilities"]["reasons"]]
    assert first.returncode == 1 and blocking, first.stderr
    ids = sorted({reason.split(" ", 1)[0] for reason in blocking})
    waivers = "".join(f"  - {{id: {i}, reason: 'tracked in OPS-1', expires: 2099-01-01}}\n"
                      for i in ids)
    _write(policy, SCAN_POLICY + "exceptions:\n" + waivers)
    second = hullguard("gate", "--policy", str(policy), "--stage", "scan", "--db",
                       str(demo.db_path), demo.image_sources[WORKER], "-f", "json", "-q")
    assert second.returncode == 0, second.stdout
    vulns = rules_of(json.loads(second.stdout))["vulnerabilities"]
    assert vulns["status"] == "pass" and len(vulns["waived"]) == len(blocking)


def test_an_incident_folder_gates_like_its_images(demo: Demo, tmp_path: Path) -> None:
    out = tmp_path / "incident"
    done = hullguard("respond", "--demo", "--out", str(out), "-q", "--no-contain",
                     "--no-remediate")
    assert done.returncode in (0, 1), done.stderr
    policy = _write(tmp_path / "policy.yaml", SCAN_POLICY)
    gated = hullguard("gate", "--policy", str(policy), "--stage", "scan", str(out), "-f",
                      "json")
    assert gated.returncode == 1, gated.stderr
    report = json.loads(gated.stdout)
    by_name = {image["image"]: {r["rule"]: r["status"] for r in image["rules"]}
               for image in report["images"]}
    assert by_name[WEB]["secrets"] == "fail" and by_name[WEB]["vulnerabilities"] == "fail"
    assert by_name[WORKER]["secrets"] == "pass"
    # the incident's SBOMs record the configured user: the same verdicts as the images
    assert by_name[WEB]["non-root"] == "fail" and by_name[WORKER]["non-root"] == "pass"
    worker = next(i for i in report["images"] if i["image"] == WORKER)
    assert not worker["notes"]


def test_an_sbom_without_the_user_is_not_checked(demo: Demo, tmp_path: Path) -> None:
    """Another tool's SBOM (or an older one) does not say who the image runs as: non-root is
    then "not checked", never a pass and never a root failure."""
    out = tmp_path / "incident"
    done = hullguard("respond", "--demo", "--out", str(out), "-q", "--no-contain",
                     "--no-remediate")
    assert done.returncode in (0, 1), done.stderr
    stripped = 0
    for sbom in out.rglob("*.cdx.json"):
        text = sbom.read_text()
        document = json.loads(text)
        for component in [document.get("metadata", {}).get("component") or {}]:
            before = len(component.get("properties", []))
            component["properties"] = [p for p in component.get("properties", [])
                                       if p["name"] != "hullguard:image:user"]
            stripped += before - len(component["properties"])
        sbom.write_text(json.dumps(document))
    assert stripped, "the incident's SBOMs carry hullguard:image:user"
    policy = _write(tmp_path / "policy.yaml", SCAN_POLICY)
    gated = hullguard("gate", "--policy", str(policy), "--stage", "scan", str(out), "-f",
                      "json")
    report = json.loads(gated.stdout)
    statuses = {r["status"] for image in report["images"] for r in image["rules"]
                if r["rule"] == "non-root" and image.get("digest")}
    assert statuses == {"not-checked"}, gated.stdout
    assert any("configured user" in note for i in report["images"] for note in i["notes"])


@pytest.mark.parametrize(("registry", "layout"), [
    ("registry_server", "both"),  # docker-registry: .sig/.att tags and the referrers tag index
    ("referrers_registry", "bundle"),  # the OCI 1.1 referrers API, bundles only
])
def test_sign_stage_against_a_real_registry(registry: str, layout: str,
                                            keys: tuple[Path, Path], tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    private, public = keys
    registry_server: RegistryServer = request.getfixturevalue(registry)
    signed = push_demo(registry_server, tmp_path, WORKER, "gate/signed")
    unsigned = push_demo(registry_server, tmp_path, WEB, "gate/unsigned")
    for command in (("sign", signed, "--key", str(private)),
                    ("attest", signed, "--key", str(private), "--type", "cyclonedx")):
        done = hullguard(*command, "--format", layout)
        assert done.returncode == 0, done.stderr
    policy = _write(tmp_path / "policy.yaml", f"""\
allowed_registries: ["{registry_server.host}/gate/*"]
digest_pinned: true
signatures: {{required: true, keys: ["{public}"]}}
attestations: [cyclonedx]
""")
    done = hullguard("gate", "--policy", str(policy), "--stage", "sign", signed, unsigned,
                     "-f", "json", "-q")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    good, bad = rules_of(report, 0), rules_of(report, 1)
    assert {name: r["status"] for name, r in good.items()} == {
        "allowed-registries": "pass", "signatures": "pass", "attestations": "pass"}
    assert bad["signatures"]["status"] == "fail"
    assert "no signature found" in bad["signatures"]["reasons"][0]
    assert bad["attestations"]["status"] == "fail"
    # deploy adds digest pinning: the same image by tag fails it
    by_tag = signed.split("@")[0].rsplit("/", 1)[0] + "/signed:v1"
    deploy = hullguard("gate", "--policy", str(policy), by_tag, "-f", "json", "-q")
    pinned = rules_of(json.loads(deploy.stdout))
    assert pinned["digest-pinned"]["status"] == "fail" and pinned["signatures"]["status"] == \
        "pass"


def test_another_key_does_not_pass(registry_server: RegistryServer, keys: tuple[Path, Path],
                                   tmp_path: Path) -> None:
    done = hullguard("keygen", "--out-prefix", str(tmp_path / "other"))
    assert done.returncode == 0, done.stderr
    image = push_demo(registry_server, tmp_path, WORKER, "gate/other-key")
    assert hullguard("sign", image, "--key", str(tmp_path / "other.key")).returncode == 0
    policy = _write(tmp_path / "policy.yaml",
                    f"signatures: {{required: true, keys: ['{keys[1]}']}}\n")
    gated = hullguard("gate", "--policy", str(policy), image, "-f", "json", "-q")
    assert gated.returncode == 1
    reasons = rules_of(json.loads(gated.stdout))["signatures"]["reasons"]
    assert "no signature verifies" in reasons[0]


@pytest.mark.parametrize(("args", "message"), [
    (["gate", "img"], "--policy FILE is required"),
    (["gate", "--policy", "{missing}", "img"], "missing.yaml"),
    (["gate", "--policy", "{policy}", "--db", "{nodb}", "rootfs:/nonexistent"],
     "vulnerability database not found"),
    (["gate", "--policy", "{policy}", "--stage", "prod", "img"], "unknown stage 'prod'"),
    (["gate", "--policy", "{policy}", "-f", "xml", "img"], "xml"),
])
def test_mistakes_are_one_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    policy = _write(tmp_path / "policy.yaml", "vulnerabilities: {}\n")
    values = {"missing": str(tmp_path / "missing.yaml"), "policy": str(policy),
              "nodb": str(tmp_path / "none.db")}
    done = hullguard(*(arg.format(**values) for arg in args))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr


def test_schema_command_prints_the_published_schema() -> None:
    done = hullguard("gate", "schema")
    assert done.returncode == 0
    assert json.loads(done.stdout)["title"] == "hullguard gate policy"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
