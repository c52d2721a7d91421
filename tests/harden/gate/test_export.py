"""``hullguard gate export``: the Kyverno ClusterPolicy and the policy-controller
ClusterImagePolicy carry the policy's keys, attestations and image globs, and validate against
the CRD schemas the projects publish (read from their Go modules; neither controller can run
here without a Kubernetes API server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.harden.gate.conftest import hullguard
from tests.support.crds import (
    KYVERNO_CLUSTERPOLICY,
    KYVERNO_MODULE,
    POLICY_CONTROLLER_CIP,
    POLICY_CONTROLLER_MODULE,
    validate_against_crd,
)


@pytest.fixture
def policy(tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(f"""\
allowed_registries: ["registry.example.com/shop/*", "127.0.0.1:5000/app"]
digest_pinned: true
signatures: {{required: true, keys: ["{keys[1]}"]}}
attestations: [cyclonedx, slsaprovenance]
non_root: true
""")
    return path


@pytest.mark.parametrize("signature_format", ["legacy", "bundle"])
def test_kyverno_cluster_policy(policy: Path, keys: tuple[Path, Path],
                                signature_format: str) -> None:
    done = hullguard("gate", "export", "--policy", str(policy), "-f", "kyverno",
                     "--signature-format", signature_format, "--name", "Shop Gate")
    assert done.returncode == 0, done.stderr
    assert "not enforceable at admission" in done.stderr and "non_root" in done.stderr
    document = yaml.safe_load(done.stdout)
    validate_against_crd(document, KYVERNO_MODULE, KYVERNO_CLUSTERPOLICY, "v1")
    assert document["metadata"]["name"] == "shop-gate"
    (rule,) = document["spec"]["rules"]
    (verify,) = rule["verifyImages"]
    assert verify["type"] == ("SigstoreBundle" if signature_format == "bundle" else "Cosign")
    assert verify["imageReferences"] == ["registry.example.com/shop/*", "127.0.0.1:5000/app",
                                         "127.0.0.1:5000/app:*", "127.0.0.1:5000/app@*"]
    assert verify["verifyDigest"] is True and verify["mutateDigest"] is True
    key = verify["attestors"][0]["entries"][0]["keys"]["publicKeys"]
    assert key.strip() == keys[1].read_text().strip()
    assert [a["type"] for a in verify["attestations"]] == [
        "https://cyclonedx.org/bom", "https://slsa.dev/provenance/v0.2"]


@pytest.mark.parametrize("signature_format", ["legacy", "bundle"])
def test_policy_controller_cluster_image_policy(policy: Path, keys: tuple[Path, Path],
                                                signature_format: str) -> None:
    done = hullguard("gate", "export", "--policy", str(policy), "-f", "policy-controller",
                     "--signature-format", signature_format)
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(done.stdout)
    validate_against_crd(document, POLICY_CONTROLLER_MODULE, POLICY_CONTROLLER_CIP, "v1beta1")
    (authority,) = document["spec"]["authorities"]
    assert authority["key"]["data"].strip() == keys[1].read_text().strip()
    assert authority["signatureFormat"] == signature_format
    assert [a["predicateType"] for a in authority["attestations"]] == ["cyclonedx",
                                                                      "slsaprovenance"]
    assert {"glob": "127.0.0.1:5000/app@*"} in document["spec"]["images"]


def test_crd_validation_catches_a_wrong_field() -> None:
    """The schema check is not vacuous: a misspelt field is refused."""
    bad = {"apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy",
           "metadata": {"name": "x"},
           "spec": {"images": [{"glob": "*"}], "authorities": [{"keys": {"data": "x"}}]}}
    with pytest.raises(AssertionError):
        validate_against_crd(bad, POLICY_CONTROLLER_MODULE, POLICY_CONTROLLER_CIP, "v1beta1")


def test_export_without_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("non_root: true\n")
    done = hullguard("gate", "export", "--policy", str(path), "-f", "kyverno")
    assert done.returncode == 2 and "names no signature keys" in done.stderr
