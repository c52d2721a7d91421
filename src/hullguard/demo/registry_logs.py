"""A generated day of registry traffic in docker-registry's JSON log format (the fields of
the "response completed" lines distribution 2.8 writes with ``log.formatter: json``), for the
forensics docs, tests and benchmark.

Normal traffic: pulls of a few repositories by CI runners and nodes all day, pushes by
``ci-bot`` from its usual address in work hours. Planted (``planted=True``): ``mallory`` pushes
11 times to ``team/api`` within 50 minutes across an hour boundary (13:40-14:30 UTC, never more
than 7 in one clock hour) from an address never seen before, and pushes at 02:13.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

DAY = datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
HOST = "registry.example.internal:5000"
REPOSITORIES = ("team/api", "team/web", "team/worker", "base/alpine")
PULLERS = (("", "10.1.0.11", "containerd/1.7.13"), ("", "10.1.0.12", "containerd/1.7.13"),
           ("runner", "10.2.0.5", "docker/25.0.3 go/go1.21.6"),
           ("", "10.1.0.13", "cri-o/1.29.1"))
CI = ("ci-bot", "10.2.0.9", "buildkit/v0.12")
ATTACKER = ("mallory", "203.0.113.66", "skopeo/1.9.3")
BURST_START = DAY + datetime.timedelta(hours=13, minutes=40)
BURST_PUSHES = 11
BURST_SPAN = datetime.timedelta(minutes=50)


def record(when: datetime.datetime, method: str, uri: str, status: int, who: tuple[str, str, str],
           rng: random.Random) -> str:
    actor, addr, agent = who
    doc: dict[str, object] = {
        "go.version": "go1.19.8", "http.request.host": HOST,
        "http.request.id": str(uuid.UUID(int=rng.getrandbits(128))),
        "http.request.method": method,
        "http.request.remoteaddr": f"{addr}:{rng.randint(30000, 60000)}",
        "http.request.uri": uri, "http.request.useragent": agent,
        "http.response.duration": f"{rng.uniform(0.5, 40):.3f}ms",
        "http.response.status": status, "http.response.written": rng.randint(0, 4000),
        "level": "info", "msg": "response completed",
        "time": when.isoformat().replace("+00:00", "Z")}
    if actor:
        doc["auth.user.name"] = actor
    return json.dumps(doc, separators=(",", ":"))


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _pull(when: datetime.datetime, rng: random.Random) -> list[str]:
    repo = rng.choice(REPOSITORIES)
    who = rng.choice(PULLERS)
    by_digest = rng.random() < 0.3
    ref = _digest(repo + "v1") if by_digest else "v1"
    lines = [record(when, "GET", f"/v2/{repo}/manifests/{ref}", 200, who, rng)]
    lines.append(record(when, "GET", f"/v2/{repo}/blobs/{_digest(repo + 'layer')}", 200,
                        who, rng))
    return lines


def _push(when: datetime.datetime, repo: str, tag: str, who: tuple[str, str, str],
          rng: random.Random) -> str:
    return record(when, "PUT", f"/v2/{repo}/manifests/{tag}", 201, who, rng)


def planted_pushes() -> list[tuple[datetime.datetime, str]]:
    """(time, repository) of the attacker's pushes: the burst and one at night."""
    step = BURST_SPAN / (BURST_PUSHES - 1)
    burst = [(BURST_START + i * step, "team/api") for i in range(BURST_PUSHES)]
    return [*burst, (DAY + datetime.timedelta(hours=2, minutes=13), "team/web")]


def registry_day(lines: int, seed: int = 7, planted: bool = True) -> Iterator[str]:
    """About ``lines`` log lines over one day, in time order."""
    rng = random.Random(seed)
    step = datetime.timedelta(days=1) / max(lines // 2, 1)
    extra = sorted(planted_pushes()) if planted else []
    ci_every = max(lines // 2 // 40, 1)  # about 40 CI pushes, spread over the day
    when = DAY
    for index in range(max(lines // 2, 1)):
        while extra and extra[0][0] <= when:
            at, repo = extra.pop(0)
            yield _push(at, repo, f"hotfix-{at:%H%M}", ATTACKER, rng)
        if index % ci_every == 0 and 8 <= when.hour < 18:
            yield _push(when, rng.choice(REPOSITORIES), f"build-{index}", CI, rng)
        yield from _pull(when, rng)
        when += step
    for at, repo in extra:
        yield _push(at, repo, f"hotfix-{at:%H%M}", ATTACKER, rng)


def write_registry_day(path: Path, lines: int, seed: int = 7, planted: bool = True) -> Path:
    with path.open("w") as out:
        for line in registry_day(lines, seed, planted):
            out.write(line + "\n")
    return path


FLEET_HOST = "registry.shop.internal"


def fleet_day(images: list[tuple[str, str]], seed: int = 7) -> list[str]:
    """A day of ``registry.shop.internal`` traffic for the demo fleet: ``images`` are
    (repository, manifest digest) pairs; ``ci-bot`` pushes each at 08:00, nodes and CI pull
    each by digest every hour from 09:00, and the planted attacker pushes to ``shop/web``
    (else the first repository): the 13:40-14:30 burst and one push at 21:13."""
    rng = random.Random(seed)
    lines: list[tuple[datetime.datetime, str]] = []

    def add(when: datetime.datetime, method: str, uri: str, status: int,
            who: tuple[str, str, str]) -> None:
        text = record(when, method, uri, status, who, rng).replace(HOST, FLEET_HOST)
        lines.append((when, text))

    for index, (repo, digest) in enumerate(images):
        add(DAY + datetime.timedelta(hours=8, minutes=index), "PUT",
            f"/v2/{repo}/manifests/{digest}", 201, CI)
        for hour in range(9, 24):
            when = DAY + datetime.timedelta(hours=hour, minutes=7 * index + rng.randint(0, 5))
            add(when, "GET", f"/v2/{repo}/manifests/{digest}", 200, PULLERS[hour % 4])
    repos = [repo for repo, _ in images]
    target = "shop/web" if "shop/web" in repos else (repos[0] if repos else "shop/web")
    night = DAY + datetime.timedelta(hours=21, minutes=13)
    for at, _repo in [*planted_pushes()[:BURST_PUSHES], (night, target)]:
        add(at, "PUT", f"/v2/{target}/manifests/hotfix-{at:%H%M}", 201, ATTACKER)
    return [text for _, text in sorted(lines, key=lambda item: item[0])]


def main(argv: list[str]) -> None:
    """``python3 -m hullguard.demo.registry_logs OUT [LINES]``: write a sample day."""
    if not argv or len(argv) > 2 or (len(argv) == 2 and not argv[1].isdigit()):
        raise SystemExit("usage: python3 -m hullguard.demo.registry_logs OUT [LINES]")
    write_registry_day(Path(argv[0]), int(argv[1]) if len(argv) == 2 else 20_000)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
