"""``hullguard sbom REGISTRY-REF`` end to end against the real registries (subprocess: the
exact user experience, exit codes and stderr included)."""

from __future__ import annotations

import json
import subprocess
import sys

from hullguard.images.registry import Credentials, RegistryClient, push_layout
from tests.images.registry.conftest import Layouts
from tests.support.registry import RegistryServer


def hullguard(*args: str, stdin: str = "", env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def test_sbom_from_anonymous_registry(pushed: RegistryServer) -> None:
    done = hullguard("sbom", pushed.ref("own/multi", "v1"), "--platform", "linux/arm64",
                     "-f", "json", "--quiet")
    assert done.returncode == 0, done.stderr
    doc = json.dumps(json.loads(done.stdout))
    assert "arm64" in doc and f"{pushed.host}/own/multi" in doc


def test_sbom_missing_platform_exit_2(pushed: RegistryServer) -> None:
    done = hullguard("sbom", pushed.ref("own/multi", "v1"), "--platform", "linux/riscv64",
                     "--quiet")
    assert done.returncode == 2
    assert "linux/riscv64" in done.stderr and "linux/amd64" in done.stderr
    assert "Traceback" not in done.stderr


def test_sbom_with_password_stdin_and_wrong_password(tls_registry: RegistryServer,
                                                     layouts: Layouts) -> None:
    with RegistryClient(tls_registry.host, ca_file=str(tls_registry.ca_file),
                        credentials=Credentials(tls_registry.username,
                                                tls_registry.password)) as client:
        push_layout(client, layouts.single, "cli/single", "v1")
    import os

    env = {**os.environ, "HULLGUARD_CA_FILE": str(tls_registry.ca_file)}
    ref = tls_registry.ref("cli/single", "v1")
    good = hullguard("sbom", ref, "-u", tls_registry.username, "--password-stdin", "-f", "json",
                     "--quiet", stdin=tls_registry.password + "\n", env=env)
    assert good.returncode == 0, good.stderr
    assert tls_registry.password not in good.stdout + good.stderr
    wrong = "Wrong-Cli-Password-31337"
    bad = hullguard("sbom", ref, "-u", tls_registry.username, "--password-stdin", "--quiet",
                    stdin=wrong + "\n", env=env)
    assert bad.returncode == 2 and "access denied" in bad.stderr
    assert wrong not in bad.stdout + bad.stderr and "Traceback" not in bad.stderr
