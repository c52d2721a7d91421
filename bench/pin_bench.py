#!/usr/bin/env python3
"""``hullguard pin`` speed on generated manifests, next to its parts in the same run: the
bounded PyYAML load (the floor: libyaml plus the Python composer with the bomb checks) and
ruamel.yaml's composer (where the node positions come from).

    PYTHONPATH=src python3 bench/pin_bench.py --deployments 1000

Prints CPU seconds (process time) per step and per MiB of YAML."""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

from hullguard.harden.mirror.mapping import MappingEntry, mirror_name, parse_target
from hullguard.harden.mirror.pin import MapResolver, PinOptions, plan, unified_diff
from hullguard.images.reference import parse_reference
from hullguard.inventory.yamlsafe import loads_all

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}   # comment {i}
spec:
  template:
    spec:
      containers:
        - name: a
          image: alpine:3.19
          env: [{{name: X, value: "y"}}]
        - name: b
          image: "redis:7.2"
"""


def timed(label: str, size: int, step: Callable[[], object]) -> None:
    start = time.process_time()
    step()
    spent = time.process_time() - start
    print(f"{label:<28} {spent:7.2f} s CPU  {spent / (size / 2**20):7.2f} s/MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=1000)
    count = parser.parse_args().deployments
    text = "---\n".join(DEPLOYMENT.format(i=i) for i in range(count))
    target = parse_target("mirror.example.com/hub")
    entries = []
    for source in ("alpine:3.19", "redis:7.2"):
        digest = "sha256:" + hashlib.sha256(source.encode()).hexdigest()
        entries.append(MappingEntry(source, digest,
                                    f"{mirror_name(parse_reference(source), target)}@{digest}",
                                    digest))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(text)
        size = len(text.encode())
        print(f"{count} Deployments, {size / 2**20:.2f} MiB, {2 * count} images")
        timed("yamlsafe.loads_all (floor)", size, lambda: loads_all(text, "big.yaml"))
        timed("ruamel compose (safe)", size,
              lambda: list(YAML(typ="safe", pure=True).compose_all(text)))
        timed("ruamel compose (rt)", size, lambda: list(YAML(typ="rt").compose_all(text)))
        timed("pin: plan + diff", size, lambda: unified_diff(
            plan([path], MapResolver(entries), PinOptions(environ={})).plans))


if __name__ == "__main__":
    main()
