"""``hullguard mirror`` vs ``skopeo copy --all --preserve-digests`` on the same images, same run.

Two docker-registry instances on 127.0.0.1 (tests/support/registry.py): the source holds
two-platform indexes built from the Alpine minirootfs tarballs of ../shared/corpus (plus one
image with a 64 MiB incompressible layer, the chunked-upload path). Each tool copies every image
to a fresh, empty mirror through a counting TCP relay (bytes the tool sent to the mirror and
received from it), then runs again on the full mirror (the no-op rerun). Digests at the mirror
are checked equal to the source for both tools.

    python3 bench/mirror_bench.py [--runs 3] [--jobs 4]

Writes bench/.work/mirror_results.json and prints a Markdown table (docs/bench.md, "Mirror").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.support.registry import RegistryServer, start_registry  # noqa: E402

from hullguard.images.builder import (  # noqa: E402
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_oci_layout,
)
from hullguard.images.registry import RegistryClient, push_layout  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "images" / "alpine"
WORK = REPO / "bench" / ".work"


class Relay:
    """A TCP relay counting bytes each way (client -> upstream is what the tool sent)."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.sent = self.received = 0
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.sent = self.received = 0

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outgoing: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
                with self.lock:
                    if outgoing:
                        self.sent += len(data)
                    else:
                        self.received += len(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


def build_images(root: Path, source: RegistryServer) -> list[tuple[str, str]]:
    """Push the bench images; returns (reference, digest) pairs."""
    pushed = []
    for tarball in sorted(CORPUS.glob("*.tar.gz")):
        version = tarball.name.split("-")[2]
        specs = [ImageSpec([rootfs_layer(tarball), LayerSpec((FileSpec(
            "etc/arch", arch.encode()),))], architecture=arch)
            for arch in ("amd64", "arm64")]
        pushed.append(_push(root, source, f"library/alpine{version.replace('.', '')}",
                            specs))
    big = ImageSpec([LayerSpec((FileSpec("data.bin", os.urandom(64 << 20)),))])
    pushed.append(_push(root, source, "bench/big", [big]))
    return pushed


def _push(root: Path, source: RegistryServer, repository: str,
          specs: list[ImageSpec]) -> tuple[str, str]:
    layout = write_oci_layout(root / repository.replace("/", "-"), specs, "v1")
    with RegistryClient(source.host) as client:
        digest = push_layout(client, layout, repository, "v1")
    return f"{source.host}/{repository}:v1", str(digest)


def hullguard(images: list[str], target: str, jobs: int, cache: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-m", "hullguard", "mirror", *images, "--to",
                           target, "--jobs", str(jobs), "--cache-dir", str(cache), "-q"],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"hullguard mirror failed: {done.stdout}{done.stderr}")


def skopeo(images: list[str], target: str, policy: Path) -> None:
    for image in images:
        name = image.split("/", 1)[1]
        host = image.split("/", 1)[0].replace(":", "-")
        done = subprocess.run(
            ["skopeo", "--policy", str(policy), "copy", "--quiet", "--all",
             "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
             f"docker://{image}", f"docker://{target}/{host}/{name}"],
            capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"skopeo copy failed: {done.stderr}")


def check_digests(images: list[tuple[str, str]], mirror: str) -> None:
    for image, digest in images:
        host, name = image.split("/", 1)
        repository = f"{host.replace(':', '-')}/{name.rsplit(':', 1)[0]}"
        with RegistryClient(mirror) as client:
            from hullguard.images.reference import parse_reference

            _, _, found = client.get_manifest(parse_reference(f"{mirror}/{repository}@{digest}"))
        assert str(found) == digest, (image, found)


@contextmanager
def fresh_mirror(root: Path) -> Iterator[tuple[RegistryServer, Relay]]:
    with start_registry(Path(tempfile.mkdtemp(dir=root))) as server:
        relay = Relay(server.host)
        try:
            yield server, relay
        finally:
            relay.close()


def measure(tool: str, images: list[tuple[str, str]], root: Path, jobs: int,
            policy: Path) -> dict[str, float]:
    refs = [image for image, _ in images]
    with fresh_mirror(root) as (server, relay):
        cache = root / f"cache-{tool}"
        runs = {}
        for phase in ("copy", "rerun"):
            relay.reset()
            started = time.perf_counter()
            if tool.startswith("hullguard"):
                hullguard(refs, relay.host, jobs if tool.endswith("-j") else 1, cache)
            else:
                skopeo(refs, relay.host, policy)
            runs[f"{phase}_seconds"] = time.perf_counter() - started
            runs[f"{phase}_sent"] = relay.sent
            runs[f"{phase}_received"] = relay.received
        check_digests(images, server.host)
        shutil.rmtree(cache, ignore_errors=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(dir=WORK, prefix="mirror-"))
    policy = root / "policy.json"
    policy.write_text('{"default":[{"type":"insecureAcceptAnything"}]}')
    tools = ("hullguard", "hullguard-j", "skopeo")
    results: dict[str, list[dict[str, float]]] = {tool: [] for tool in tools}
    try:
        with start_registry(root / "source") as source:
            images = build_images(root / "layouts", source)
            for _ in range(args.runs):
                for tool in tools:  # interleaved: machine noise hits every tool alike
                    results[tool].append(measure(tool, images, root, args.jobs, policy))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summary = {tool: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
               for tool, runs in results.items()}
    (WORK / "mirror_results.json").write_text(json.dumps(
        {"images": len(images), "runs": args.runs, "jobs": args.jobs, "median": summary,
         "all": results}, indent=2))
    print(f"{len(images)} images (each a 2-platform index but the 64 MiB one), median of "
          f"{args.runs}\n")
    print("| tool | copy s | sent to mirror MiB | received from mirror KiB | rerun s | "
          "rerun sent KiB |")
    print("|---|---|---|---|---|---|")
    names = {"hullguard": "hullguard mirror --jobs 1",
             "hullguard-j": f"hullguard mirror --jobs {args.jobs}",
             "skopeo": "skopeo copy --all --preserve-digests (one per image)"}
    for tool, row in summary.items():
        print(f"| {names[tool]} | {row['copy_seconds']:.2f} | {row['copy_sent'] / 2**20:.2f} | "
              f"{row['copy_received'] / 1024:.1f} | {row['rerun_seconds']:.2f} | "
              f"{row['rerun_sent'] / 1024:.1f} |")


if __name__ == "__main__":
    main()
