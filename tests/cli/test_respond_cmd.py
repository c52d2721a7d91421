"""``hullguard respond`` / ``scan-fleet`` flag handling (the full demo run: tests/respond)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=300)


def test_scan_fleet_rejects_an_unknown_format(tmp_path: Path) -> None:
    result = _run("scan-fleet", str(tmp_path), "--offline", "--no-store", "-f", "xml",
                  "--state", str(tmp_path / "state"))
    assert result.returncode == 2 and "unknown format 'xml'" in result.stderr, result.stderr
    assert not (tmp_path / "state").exists()  # refused before any work


def test_demo_honours_no_secrets(tmp_path: Path) -> None:
    result = _run("respond", "--demo", "--no-secrets", "--quiet", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    images = json.loads((tmp_path / "findings.json").read_text())["images"]
    assert any(image["findings"] for image in images)  # the demo did run
    assert all(not image["secrets"] for image in images)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_ctrl_c_is_one_line_exit_130_and_leaves_no_worker(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while one worker
    waits on a registry that never answers (a socket on 127.0.0.1) and the rest are done."""
    import signal
    import socket
    import time

    from hullguard.demo import prepare_demo

    demo = prepare_demo(tmp_path / "demo")
    server = socket.create_server(("127.0.0.1", 0))
    server.listen(16)  # accepted by the kernel, never answered
    hanging = f"127.0.0.1:{server.getsockname()[1]}/shop/hangs:1"
    listing = tmp_path / "images.txt"
    listing.write_text("".join(f"{ref}\n" for ref in [hanging, *demo.image_sources]))
    images = [arg for ref, source in demo.image_sources.items()
              for arg in ("--image", f"{ref}={source}")]
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "hullguard", "respond", str(listing), *images, "--no-store",
         "--quiet", "--workers", "2", "--db", str(demo.db_path), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        scans = out / ".hullguard-state" / "scans"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(scans.glob("*"))) < 4:
            time.sleep(0.2)
        assert len(list(scans.glob("*"))) == 4, "the local images were not scanned"
        assert child.poll() is None, child.communicate()
        os.killpg(child.pid, signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        server.close()
    assert child.returncode == 130, stderr
    assert stderr == "interrupted\n", stderr
    time.sleep(0.5)
    assert _group_members(child.pid) == [], "a worker outlived the run"
    assert not (out / "findings.json").exists()  # no half-written folder
    assert len(list(scans.glob("*"))) == 4  # finished images stay journaled
