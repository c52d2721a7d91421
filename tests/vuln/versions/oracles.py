"""Reference implementations the version tests compare against (real tools on this machine).

dpkg: ``apt_pkg.version_compare`` of the system Python (python3-apt, same algorithm as dpkg),
falling back to ``dpkg --compare-versions``; rpm: ``rpm.vercmp`` through ``rpm --eval`` (one
process for many pairs); Maven: ``ComparableVersion``'s own ``main`` from maven-artifact.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.support.env import missing

MAVEN_JARS = ("/usr/share/java/maven3-artifact.jar", "/usr/share/java/maven-artifact-3.x.jar")


def dpkg_compare(pairs: list[tuple[str, str]]) -> list[int]:
    system_python = Path("/usr/bin/python3")
    script = ("import apt_pkg, json, sys; apt_pkg.init_system(); "
              "print(json.dumps([apt_pkg.version_compare(a, b) for a, b in json.load(sys.stdin)]))")
    if system_python.exists():
        done = subprocess.run([str(system_python), "-c", script], input=json.dumps(pairs),
                              capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return [(r > 0) - (r < 0) for r in json.loads(done.stdout)]
    dpkg = shutil.which("dpkg")
    if dpkg is None:
        missing("dpkg not installed")
    return [_dpkg_pair(str(dpkg), a, b) for a, b in pairs]


def _dpkg_pair(dpkg: str, a: str, b: str) -> int:
    for op, result in (("lt", -1), ("eq", 0)):
        if subprocess.run([dpkg, "--compare-versions", a, op, b]).returncode == 0:
            return result
    return 1


def rpm_compare(pairs: list[tuple[str, str]]) -> list[int]:
    rpm = shutil.which("rpm")
    if rpm is None:
        missing("rpm not installed (scripts/test installs it)")
    calls = " ".join(f'print(rpm.vercmp("{a}", "{b}") .. ",")' for a, b in pairs)
    done = subprocess.run([str(rpm), "--eval", f"%{{lua: {calls}}}"], capture_output=True,
                          text=True, timeout=60, check=True)
    return [int(x) for x in done.stdout.replace("\n", "").split(",") if x.strip()]


def maven_compare(pairs: list[tuple[str, str]]) -> list[int]:
    jar = next((j for j in MAVEN_JARS if Path(j).exists()), None)
    java = shutil.which("java")
    if jar is None or java is None:
        missing("java and maven-artifact (Debian libmaven3-core-java) not installed")
    args = [v for pair in pairs for v in pair]
    done = subprocess.run([str(java), "-cp", str(jar),
                           "org.apache.maven.artifact.versioning.ComparableVersion", *args],
                          capture_output=True, text=True, timeout=120, check=True)
    relations = re.findall(r"^   (\S+) (<|>|==) (\S+)$", done.stdout, re.M)
    ops = {"<": -1, "==": 0, ">": 1}
    return [ops[op] for op, _ in zip((r[1] for r in relations[::2]), pairs, strict=False)]
