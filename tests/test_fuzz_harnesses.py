"""Smoke test of the fuzz harnesses (fuzz/): each one's seeds still reach its parser, and a
small fixed number of derandomized hostile examples run under the oracle (a result or a
HullguardError, nothing else, within the per-example deadline).

A crash the harnesses already found and that is not fixed yet is tolerated here only by its
signature in ``KNOWN_FINDINGS`` (tests/test_fuzz_regressions.py), where the same crash is a
strict xfail regression test: when the fix is merged that test fails until its xfail and its
``KNOWN_FINDINGS`` entry are removed together (checked below). Any other crash fails this test
with Hypothesis's shrunk example. Long runs: ``python3 fuzz/run.py`` (docs/development.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fuzz import seeds
from fuzz.core import Harness, Outcome, check, signature
from fuzz.harnesses import BY_NAME, HARNESSES, _archive_seed, _layout_seed
from hypothesis import HealthCheck, Phase, given, settings

from tests import test_fuzz_regressions as regressions

EXAMPLES = 25  # per harness: the whole file stays well under a minute on two busy cores
DEADLINE = 30.0  # CPU seconds per example; generous for slow CI machines (run.py: 5 s)


def _j(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _seed_inputs() -> dict[str, Any]:
    """One unmutated seed per harness: each must parse cleanly, or the mutations built on it
    only exercise the parser's first rejection."""
    _layer, config, manifest = _archive_seed()
    index, oci_manifest, _ = _layout_seed()
    return {
        "layer-tar": seeds.layer_tars()[0], "docker-archive": (manifest, config),
        "oci-layout": (_j(index), _j(oci_manifest)), "oci-manifest": _j(seeds.OCI_INDEX),
        "oci-config": _j(seeds.IMAGE_CONFIG), "apk-installed": seeds.APK_DB.encode(),
        "dpkg-status": seeds.DPKG_STATUS.encode(), "rpm-sqlite": seeds.rpm_sqlite(),
        "rpm-bdb": seeds.rpm_bdb(), "rpm-header": seeds.rpm_headers()[0],
        "python-metadata": seeds.PY_METADATA.encode(), "npm-package-json": _j(seeds.NPM_PACKAGE),
        "go-buildinfo": seeds.go_binaries()[0], "java-archive": seeds.jars()[1],
        "dotnet-deps-json": _j(seeds.DOTNET_DEPS), "ruby-gemspec": seeds.GEMSPEC.encode(),
        "php-composer": _j(seeds.COMPOSER_INSTALLED), "os-release": seeds.OS_RELEASE.encode(),
        "yaml-loader": seeds.K8S_YAML, "kubernetes-yaml": seeds.K8S_YAML.encode(),
        "compose": seeds.COMPOSE_YAML.encode(), "dockerfile": seeds.DOCKERFILE,
        "osv": (_j(seeds.OSV_RECORD), "osv.json"), "alpine-secdb": _j(seeds.ALPINE_SECDB),
        "nvd": _j(seeds.NVD_FEED), "debian-tracker": _j(seeds.DEBIAN_TRACKER),
        "kev-epss": (_j(seeds.KEV_FEED), "kev.json"), "sbom-cyclonedx": _j(seeds.CYCLONEDX),
        "sbom-spdx": _j(seeds.SPDX), "vex": _j(seeds.OPENVEX),
        "ignore-file": seeds.IGNORE_YAML.encode(), "registry-challenge": seeds.CHALLENGES,
    }


def test_every_harness_has_a_seed_check() -> None:
    assert sorted(_seed_inputs()) == sorted(BY_NAME)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_seed_parses(name: str, tmp_path: Path) -> None:
    """The unmutated seed gives a result with content (packages, records, an image...)."""
    result = BY_NAME[name].run(_seed_inputs()[name], tmp_path)
    if name == "layer-tar":
        assert result == []  # no member skipped: every seed member was walked
    else:
        assert result, name


def _smoke(harness: Harness, scratch: Path) -> Outcome:
    outcome = Outcome()
    known = regressions.KNOWN_FINDINGS.get(harness.name, {})

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(harness.strategy)
    def run(value: Any) -> None:
        try:
            check(harness, value, scratch, outcome, DEADLINE)
        except Exception as error:
            if signature(error) not in known:
                raise

    run()
    return outcome


@pytest.mark.parametrize("harness", HARNESSES, ids=[h.name for h in HARNESSES])
def test_harness_smoke(harness: Harness, tmp_path: Path) -> None:
    outcome = _smoke(harness, tmp_path)
    assert outcome.examples >= EXAMPLES


def test_known_findings_are_strict_xfail_regressions() -> None:
    """Every tolerated signature points at a strict xfail regression test; removing the xfail
    once the fix is merged means removing the tolerance too."""
    for harness, known in regressions.KNOWN_FINDINGS.items():
        assert harness in BY_NAME, harness
        for found, test_name in known.items():
            test = getattr(regressions, test_name, None)
            assert test is not None, (harness, found, test_name)
            marks = [m for m in getattr(test, "pytestmark", []) if m.name == "xfail"]
            assert marks and marks[0].kwargs.get("strict") is True, (
                f"{test_name} is no longer a strict xfail: drop {found!r} from KNOWN_FINDINGS")


def test_oracle_reports_foreign_exceptions_and_hangs(tmp_path: Path) -> None:
    """The oracle itself: a HullguardError passes, a TypeError and a hang are findings."""
    import time

    from fuzz.core import Hang
    from hypothesis import strategies as st

    from hullguard.errors import InputError

    def raises(error: Exception) -> Harness:
        def run(_value: object, _scratch: Path) -> object:
            raise error
        return Harness("t", "t", st.none(), run)

    outcome = Outcome()
    check(raises(InputError("bad")), None, tmp_path, outcome)
    with pytest.raises(TypeError):
        check(raises(TypeError("x")), None, tmp_path, outcome)
    def spin(_value: object, _scratch: Path) -> object:
        end = time.process_time() + 5
        while time.process_time() < end:
            pass
        return None

    with pytest.raises(Hang):
        check(Harness("t", "t", st.none(), spin), None, tmp_path, outcome, deadline=0.2)
    assert outcome.examples == 3
    assert sorted(f.error.split(":")[0] for f in outcome.failures.values()) == ["Hang",
                                                                                 "TypeError"]
