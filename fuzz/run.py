"""Run the fuzz harnesses for a time budget each and save what they find.

    python3 fuzz/run.py                       # every harness, 30 s each
    python3 fuzz/run.py --budget 5 --only vex --only sbom-spdx
    python3 fuzz/run.py --list
    python3 fuzz/run.py --replay fuzz/findings/vex/TypeError-....repr --only vex

Each harness runs in a child process with an address-space cap (RLIMIT_AS, --memory-mb over
the child's start-up size) and a wall-clock watchdog (a hang in C code cannot be interrupted by
the per-example SIGALRM), in Hypothesis batches with fresh seeds until its budget is spent.
A distinct crash (exception type + innermost hullguard function) is saved once, with the
smallest input Hypothesis shrank it to, under fuzz/findings/<harness>/ (gitignored):
``<signature>.txt`` (traceback and input repr), ``<signature>.repr`` (``ast.literal_eval``-able,
for --replay) and, for byte inputs, ``<signature>.bin``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``fuzz`` and ``hullguard`` importable
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))

FINDINGS = ROOT / "fuzz" / "findings"
DEFAULT_BUDGET = 30.0  # seconds per harness
DEFAULT_MEMORY_MB = 1024  # address space a child may add over its start-up size
BATCH = 40  # examples per Hypothesis run; each batch gets a fresh seed


def _cap_memory(extra_mb: int) -> None:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    size = pages * os.sysconf("SC_PAGE_SIZE")
    limit = size + (extra_mb << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_harness(name: str, budget: float, deadline: float, seed: int) -> dict[str, Any]:
    """Run one harness in this process; return its summary (saved findings included)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    from fuzz.core import Outcome, check
    from fuzz.harnesses import BY_NAME

    harness = BY_NAME[name]
    outcome = Outcome()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"hullguard-fuzz-{name}-") as scratch:
        batch = 0
        while time.monotonic() - started < budget:
            @fixed_seed(seed * 1_000_003 + batch)
            @settings(max_examples=BATCH, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=True,
                      phases=[Phase.generate, Phase.shrink], print_blob=False)
            @given(harness.strategy)
            def batch_test(value: Any) -> None:
                check(harness, value, Path(scratch), outcome, deadline)

            try:
                batch_test()
            except BaseException as error:
                if isinstance(error, KeyboardInterrupt):
                    raise
            batch += 1
    elapsed = time.monotonic() - started
    saved = [_save(name, harness.target, failure) for failure in outcome.failures.values()]
    return {"name": name, "target": harness.target, "seconds": round(elapsed, 1),
            "examples": outcome.examples, "findings": saved}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text.replace(".py:", "-")).strip("-")[:120]


def _file(stem: Path, suffix: str) -> Path:
    return stem.with_name(stem.name + suffix)


def _save(name: str, target: str, failure: Any) -> dict[str, Any]:
    folder = FINDINGS / name
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / _slug(failure.signature)
    shown = repr(failure.value)
    _file(stem, ".repr").write_text(shown + "\n")
    if isinstance(failure.value, bytes):
        _file(stem, ".bin").write_bytes(failure.value)
    preview = shown if len(shown) < 2000 else shown[:2000] + f"... ({len(shown)} chars)"
    _file(stem, ".txt").write_text(
        f"harness: {name}\nentry point: {target}\nsignature: {failure.signature}\n"
        f"hits: {failure.count}\nerror: {failure.error}\n\nminimal input (repr):\n{preview}\n\n"
        f"replay: python3 fuzz/run.py --only {name} --replay {_file(stem, '.repr')}\n\n"
        f"{failure.trace}")
    return {"signature": failure.signature, "error": failure.error, "hits": failure.count,
            "file": str(_file(stem, ".txt").relative_to(ROOT)), "input": preview[:300]}


def replay(name: str, path: Path, deadline: float) -> int:
    from fuzz.core import Outcome, check
    from fuzz.harnesses import BY_NAME

    value = ast.literal_eval(path.read_text())
    with tempfile.TemporaryDirectory() as scratch:
        try:
            check(BY_NAME[name], value, Path(scratch), Outcome(), deadline)
        except Exception:
            traceback.print_exc()
            return 1
    print(f"{name}: no failure (returned or raised a HullguardError)")
    return 0


def _child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one harness in a child process under the memory cap and a watchdog."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name,
               "--budget", str(args.budget), "--deadline", str(args.deadline),
               "--seed", str(args.seed), "--memory-mb", str(args.memory_mb)]
    limit = args.budget * 3 + 120  # shrinking a late finding may run over the budget
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"name": name, "seconds": limit, "examples": -1, "findings": [
            {"signature": "watchdog", "error": f"child killed after {limit:.0f} s (a hang in C "
                                               "code?)", "hits": 1, "file": "", "input": ""}]}
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        result: dict[str, Any] = json.loads(last[0])
        return result
    except ValueError:
        tail = (done.stderr or done.stdout)[-2000:]
        return {"name": name, "seconds": 0, "examples": -1, "findings": [
            {"signature": f"child died (exit {done.returncode})", "error": tail, "hits": 1,
             "file": "", "input": ""}]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help=f"seconds per harness (default {DEFAULT_BUDGET:g})")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this harness (repeatable)")
    parser.add_argument("--deadline", type=float, default=None,
                        help="CPU seconds per example before it counts as a hang (default 5)")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB,
                        help=f"address space per harness over start-up (default "
                             f"{DEFAULT_MEMORY_MB})")
    parser.add_argument("--seed", type=int, default=int(time.time()),
                        help="base seed (default: the clock; printed for reruns)")
    parser.add_argument("--list", action="store_true", help="list the harnesses and exit")
    parser.add_argument("--replay", type=Path, help="run one saved .repr input (with --only)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from fuzz.core import DEFAULT_DEADLINE
    from fuzz.harnesses import BY_NAME, HARNESSES

    args.deadline = args.deadline or DEFAULT_DEADLINE
    if args.child:
        _cap_memory(args.memory_mb)
        print(json.dumps(run_harness(args.child, args.budget, args.deadline, args.seed)))
        return 0
    if args.list:
        for harness in HARNESSES:
            print(f"{harness.name:20} {harness.target}")
        return 0
    unknown = [name for name in args.only if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown harness {', '.join(unknown)}; see --list")
    if args.replay:
        if len(args.only) != 1:
            parser.error("--replay needs exactly one --only NAME")
        return replay(args.only[0], args.replay, args.deadline)
    return _run_all(args.only or list(BY_NAME), args)


def _run_all(names: list[str], args: argparse.Namespace) -> int:
    print(f"seed {args.seed}, budget {args.budget:g} s per harness, deadline {args.deadline:g} s "
          f"per example, memory +{args.memory_mb} MiB; findings in {FINDINGS.relative_to(ROOT)}/")
    print(f"{'harness':20} {'seconds':>8} {'examples':>9} {'findings':>8}")
    total = 0
    for name in names:
        result = _child(name, args)
        findings = result["findings"]
        total += len(findings)
        print(f"{name:20} {result['seconds']:>8} {result['examples']:>9} {len(findings):>8}",
              flush=True)
        for finding in findings:
            print(f"    {finding['signature']}: {finding['error'][:160]!r}")
            if finding["file"]:
                print(f"      {finding['file']}")
    print(f"{total} finding(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
