"""Forensics over a registry access log: hullguard (DuckDB) vs jq/grep pipelines, same run.

Generates a day of docker-registry JSON log lines (hullguard.demo.registry_logs: real field
names, a planted push burst), then measures, each as its own process (wall time, CPU time and
peak RSS of the process tree, from getrusage of the waited children; CPU time is the fairer
number on a shared machine):

* hullguard: ``forensics ingest`` (lines/s), then ``query pulls-of team/api:v1`` and
  ``query push-anomalies`` (CLI latency, start-up included);
* jq/grep: the same two questions answered straight from the log (grep narrows, jq answers).

Both answers are checked against each other (pull count, first/last pull, the burst actor).

    python3 bench/forensics_bench.py [--lines 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hullguard.demo.registry_logs import ATTACKER, write_registry_day  # noqa: E402

HG = [sys.executable, "-m", "hullguard", "forensics"]
PULLS_JQ = ("grep -F '/v2/team/api/manifests/v1\"' {log} | jq -c -s "
            "'map(select(.\"http.request.method\" == \"GET\" and .\"http.response.status\" == "
            "200)) | {{count: length, first: (map(.time) | min), last: (map(.time) | max), "
            "by_client: (group_by(.\"http.request.remoteaddr\" | split(\":\")[0]) | "
            "map({{key: (.[0].\"http.request.remoteaddr\" | split(\":\")[0]), value: length}}) "
            "| from_entries)}}'")
BURST_JQ = ("grep -F '\"http.request.method\":\"PUT\"' {log} | grep -F '/manifests/' | "
            "jq -c -s 'map(select(.\"http.response.status\" == 201 and .\"auth.user.name\")) "
            "| group_by(.\"auth.user.name\") | map({{actor: .[0].\"auth.user.name\", t: "
            "(map(.time | sub(\"\\\\.[0-9]+\"; \"\") | fromdate) | sort)}}) | map(. as $a | "
            "{{actor: $a.actor, max: ([$a.t[] as $s | [$a.t[] | select(. >= $s and . < $s + "
            "3600)] | length] | max)}}) | map(select(.max > 10))'")


def measure(command: list[str] | str, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run ``command`` in a child measurer so peak RSS is this command's tree only."""
    probe = ("import json,resource,subprocess,sys,time;c=json.loads(sys.argv[1]);"
             "t=time.perf_counter();p=subprocess.run(c,shell=isinstance(c,str),"
             "capture_output=True);e=time.perf_counter()-t;"
             "u=resource.getrusage(resource.RUSAGE_CHILDREN);r=u.ru_maxrss;"
             "print(json.dumps({'rc':p.returncode,'s':e,'rss_mb':r/1024,"
             "'cpu':u.ru_utime+u.ru_stime,"
             "'out':p.stdout.decode(errors='replace'),'err':p.stderr.decode()[-2000:]}))")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(command)],
                          capture_output=True, text=True, env=env, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    if result["rc"] not in ok:
        raise SystemExit(f"{command} failed ({result['rc']}): {result['err']}")
    return result


def run(lines: int, work: Path) -> dict[str, Any]:
    log = work / "registry.log"
    load = os.getloadavg()[0]  # the machine may be shared: CPU s is the fairer comparison
    started = time.perf_counter()
    write_registry_day(log, lines)
    count = sum(1 for _ in log.open("rb"))
    generated = time.perf_counter() - started
    case = work / "case"
    shutil.rmtree(case, ignore_errors=True)
    ingest = measure([*HG, "ingest", "--quiet", "--case", str(case), f"distribution-log:{log}"])
    pulls = measure([*HG, "query", "--case", str(case), "pulls-of", "team/api:v1", "-f", "json"])
    burst = measure([*HG, "query", "--case", str(case), "push-anomalies", "-f", "json"],
                    ok=(1,))
    jq_pulls = measure(PULLS_JQ.format(log=log))
    jq_burst = measure(BURST_JQ.format(log=log))
    check(json.loads(pulls["out"]), json.loads(jq_pulls["out"]), json.loads(burst["out"]),
          json.loads(jq_burst["out"]))
    return {"lines": count, "bytes": log.stat().st_size, "generate_s": generated, "load": load,
            "ingest": ingest, "pulls": pulls, "burst": burst, "jq_pulls": jq_pulls,
            "jq_burst": jq_burst}


def check(pulls: list[dict[str, Any]], jq_pulls: dict[str, Any], anomalies: list[dict[str, Any]],
          jq_burst: list[dict[str, Any]]) -> None:
    """Both tools must give the same answer, or the timings mean nothing."""
    (group,) = pulls
    assert group["count"] == jq_pulls["count"], (group["count"], jq_pulls["count"])
    assert group["first"][:19] == jq_pulls["first"][:19], (group["first"], jq_pulls["first"])
    assert group["last"][:19] == jq_pulls["last"][:19], (group["last"], jq_pulls["last"])
    clients = {item["value"]: item["count"] for item in group["by_client"]}
    assert clients == jq_pulls["by_client"], (clients, jq_pulls["by_client"])
    ours = {a["subject"] for a in anomalies if a["kind"] == "burst" and
            a["subject"].startswith("actor=")}
    assert ours == {f"actor={b['actor']}" for b in jq_burst} == {f"actor={ATTACKER[0]}"}


def table(result: dict[str, Any]) -> str:
    lines = result["lines"]
    rows = [("hullguard forensics ingest", result["ingest"],
             f"{lines / result['ingest']['s']:,.0f} lines/s "
             f"({lines / result['ingest']['cpu']:,.0f} per CPU s)"),
            ("hullguard query pulls-of", result["pulls"], ""),
            ("hullguard query push-anomalies", result["burst"], ""),
            ("grep | jq: pulls of team/api:v1", result["jq_pulls"], ""),
            ("grep | jq: push bursts (sliding 1h)", result["jq_burst"], "")]
    out = [f"{lines:,} lines, {result['bytes'] / 1e6:,.0f} MB "
           f"(generated in {result['generate_s']:.1f} s); load average before the run "
           f"{result['load']:.1f} on {os.cpu_count()} CPUs", "",
           "| step | wall s | CPU s | peak RSS MB | rate |", "|---|---:|---:|---:|---|"]
    out += [f"| {name} | {m['s']:.2f} | {m['cpu']:.2f} | {m['rss_mb']:.0f} | {rate} |"
            for name, m, rate in rows]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000,  # the size: 10M for the issue
                        help="log lines to generate (10000000 for the full run)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: temporary)")
    args = parser.parse_args()
    if not shutil.which("jq"):
        raise SystemExit("jq not installed (apt-get install jq)")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        print(table(run(args.lines, args.keep)), end="")
        return
    with tempfile.TemporaryDirectory(prefix="forensics-bench-") as tmp:
        print(table(run(args.lines, Path(tmp))), end="")


if __name__ == "__main__":
    main()
