"""``hullguard gate`` enforcing ``signatures.identities`` with ``signatures.trusted_root``:
keyless bundles made by a private Sigstore instance (tests/harden/trust/private_sigstore.py)
on the real docker-registry, verified offline by the same verifier as ``hullguard verify``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harden.gate.test_gate_cli import _write, rules_of
from tests.harden.trust.conftest import hullguard, push_image
from tests.harden.trust.private_sigstore import Instance, signed_bundle
from tests.harden.trust.test_keyless import ISSUER, WHO, attach, statement
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.slow


def test_gate_enforces_keyless_identities(registry_server: RegistryServer,
                                          tmp_path: Path) -> None:
    instance = Instance("gate")
    (tmp_path / "trusted_root.json").write_text(instance.trusted_root_json())
    good = push_image(registry_server, tmp_path, "gate-keyless/good", "v1", "good")
    other = push_image(registry_server, tmp_path, "gate-keyless/other", "v1", "other")
    attach(good, signed_bundle(instance, statement(good), WHO, ISSUER))
    attach(other, signed_bundle(instance, statement(other), "intruder@evil.test", ISSUER))
    policy = _write(tmp_path / "policy.yaml", f"""\
signatures:
  required: true
  trusted_root: trusted_root.json
  identities: [{{issuer: "{ISSUER}", subject: "{WHO}"}}]
""")
    done = hullguard("gate", "--policy", str(policy), "--stage", "sign", good.by_digest,
                     other.by_digest, "-f", "json", "-q")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    passed, failed = rules_of(report, 0)["signatures"], rules_of(report, 1)["signatures"]
    assert passed["status"] == "pass", passed
    assert failed["status"] == "fail"
    assert "intruder@evil.test" in failed["reasons"][0]
    assert "is not the one required" in failed["reasons"][0]
    # without a trusted root the identities cannot be checked: said so, never passed
    _write(policy, f"""\
signatures: {{required: true, identities: [{{issuer: "{ISSUER}", subject: "{WHO}"}}]}}
""")
    unchecked = hullguard("gate", "--policy", str(policy), "--stage", "sign", good.by_digest,
                          "-f", "json", "-q")
    rule = rules_of(json.loads(unchecked.stdout))["signatures"]
    assert rule["status"] != "pass"
    assert "trusted_root" in json.dumps(rule)
