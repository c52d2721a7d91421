"""Keyless verification: ``hullguard verify --trusted-root`` vs ``cosign verify --trusted-root``
on the same image, same run, plus ``hullguard verify --key`` as the floor (Python start-up and
the registry round trips without sigstore-python).

A docker-registry on 127.0.0.1 (tests/support/registry.py) holds one small image with one
keyless bundle referrer made by the test suite's private Sigstore instance
(tests/harden/trust/private_sigstore.py) and one key-signed legacy signature. Each command
runs ``--runs`` times as a fresh process; the median wall time is printed.

    python3 bench/keyless_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.harden.trust.conftest import hullguard, push_image  # noqa: E402
from tests.harden.trust.private_sigstore import Instance, signed_bundle  # noqa: E402
from tests.harden.trust.test_keyless import (  # noqa: E402
    ISSUER,
    REGISTRY_FLAGS,
    WHO,
    attach,
    cosign,
    statement,
)
from tests.support.cli import keygen  # noqa: E402
from tests.support.registry import start_registry  # noqa: E402

Run = Callable[[], "subprocess.CompletedProcess[str]"]


def median_seconds(run: Run, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = run()
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"failed: {done.stdout}{done.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    tmp = Path(tempfile.mkdtemp(prefix="keyless-bench-"))
    with start_registry(tmp / "registry") as server:
        instance = Instance("bench")
        root = tmp / "trusted_root.json"
        root.write_text(instance.trusted_root_json())
        image = push_image(server, tmp, "bench/keyless", "v1", "bench")
        attach(image, signed_bundle(instance, statement(image), WHO, ISSUER))
        private, public = keygen(tmp / "k", "bench")
        hullguard("sign", image.by_digest, "--key", str(private), "--format", "legacy",
                  password="bench")
        identity = ["--certificate-identity", WHO, "--certificate-oidc-issuer", ISSUER]
        rows = {
            "hullguard verify --trusted-root": lambda: hullguard(
                "verify", image.by_digest, "--trusted-root", str(root), *identity),
            "cosign verify --trusted-root --new-bundle-format": lambda: cosign(
                "verify", "--trusted-root", str(root), "--new-bundle-format", *identity,
                *REGISTRY_FLAGS, image.by_digest, home=tmp),
            "hullguard verify --key (floor)": lambda: hullguard(
                "verify", image.by_digest, "--key", str(public)),
        }
        print(f"| command | median of {runs} (s) |\n|---|---|")
        for name, run in rows.items():
            print(f"| {name} | {median_seconds(run, runs):.2f} |")


if __name__ == "__main__":
    main()
