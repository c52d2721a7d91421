"""The policy file: validated against its published schema (unknown keys, wrong types and
bad dates are one clear error naming the place), hostile YAML refused before validation."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from hullguard.errors import HullguardError, InputError
from hullguard.harden.gate.policy import load_policy, schema


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_the_published_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_the_issue_example_policy_loads(tmp_path: Path) -> None:
    (tmp_path / "cosign.pub").write_text("unused here")
    path = write(tmp_path, """\
# every key the issue names
version: 1
allowed_registries: ["registry.example.com/*", "docker.io/library/*"]
digest_pinned: true
signatures: {required: true, keys: [cosign.pub],
             identities: [{issuer: "https://token.actions.githubusercontent.com",
                           subject: "https://github.com/org/repo/.github/workflows/b.yml@refs/heads/main"}]}
attestations: [cyclonedx, spdx, slsaprovenance, vuln]
vulnerabilities: {severities: [critical, high], fixable_only: true, max_age_days: 14,
                  kev: block, epss_above: 0.5}
base_images: {allow: ["docker.io/library/alpine"], max_age_days: 90}
non_root: true
secrets: none
licenses: {deny: [AGPL-3.0-only]}
exceptions:
  - {id: CVE-2026-0001, images: ["registry.example.com/shop/*"], reason: "not reachable",
     expires: 2027-01-31}
stages:
  build: {signatures: null, attestations: null}
""")
    policy = load_policy(path, "deploy")
    assert policy.signatures is not None and policy.signatures.keys == (tmp_path / "cosign.pub",)
    assert policy.vulnerabilities is not None and policy.vulnerabilities.kev == "block"
    assert policy.exceptions[0].expires.isoformat() == "2027-01-31"
    built = load_policy(path, "build")
    assert built.signatures is None and built.attestations is None


@pytest.mark.parametrize(("text", "where"), [
    ("non_rot: true\n", "(top level)"),
    ("stages: {deploy: {non_rot: true}}\n", "stages/deploy"),
    ("vulnerabilities: {severities: [severe]}\n", "vulnerabilities/severities/0"),
    ("exceptions: [{id: X, reason: r, expires: soon}]\n", "exceptions/0/expires"),
    ("exceptions: [{id: X, reason: r}]\n", "exceptions/0"),
    ("vulnerabilities: {epss_above: 2}\n", "vulnerabilities/epss_above"),
])
def test_a_wrong_policy_is_one_error_naming_the_place(tmp_path: Path, text: str,
                                                      where: str) -> None:
    with pytest.raises(InputError) as caught:
        load_policy(write(tmp_path, text))
    assert f"policy invalid at {where}:" in caught.value.message
    assert caught.value.where == str(tmp_path / "policy.yaml")


def test_unknown_stage_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown stage 'prod'"):
        load_policy(write(tmp_path, "non_root: true\n"), "prod")


@pytest.mark.parametrize("text", [
    # a billion laughs: aliases that expand exponentially
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    "!!python/object/apply:os.system ['true']\n",
    "- a\n- b\n",
    "a: 1\n---\nb: 2\n",
])
def test_hostile_or_wrong_shaped_yaml_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(HullguardError):
        load_policy(write(tmp_path, text))
