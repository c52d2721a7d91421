"""The incident folder: replaced as one step (a run SIGKILLed at any write leaves the old
folder or the new one), SBOM files that cannot overwrite each other, and a store failure that
never costs the folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive


def _image(path: Path, version: str) -> Path:
    release = f"ID=alpine\nVERSION_ID={version}\n".encode()
    spec = ImageSpec([LayerSpec((FileSpec("etc/os-release", release),), created_by="ADD /")])
    return write_docker_archive(path, spec, "x:1")


def _hullguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=300, check=False)


def _fleet(tmp_path: Path, refs: list[str]) -> list[str]:
    """An image list of ``refs``, each with its own distinct image: respond's arguments."""
    listing = tmp_path / "images.txt"
    listing.write_text("".join(f"{ref}\n" for ref in refs))
    args = [str(listing), "--offline", "--quiet", "--no-store"]
    for index, ref in enumerate(refs):
        archive = _image(tmp_path / f"image{index}.tar", f"3.18.{index}")
        args += ["--image", f"{ref}=docker-archive:{archive}"]
    return args


def test_sbom_files_of_alike_names_do_not_collide(tmp_path: Path, empty_db: Path) -> None:
    long = "team/" + "a" * 100 + "/" + "b" * 90
    refs = ["registry.example/team/app:1", "registry.example/team_app:1",
            f"registry.example/{long}/x:1", f"registry.example/{long}/y:1"]
    out = tmp_path / "out"
    run = _hullguard("respond", *_fleet(tmp_path, refs), "--db", str(empty_db), "--out",
                     str(out))
    assert run.returncode == 0, run.stderr
    assert len(list((out / "sboms").iterdir())) == 4
    doc = json.loads((out / "findings.json").read_text())
    index = {entry["image"]: entry["file"] for entry in doc["sboms"]}
    assert sorted(index) == sorted(refs) and len(set(index.values())) == 4
    for image in doc["images"]:
        assert image["sbom"] == index[image["name"]] and image["digest"][7:] in image["sbom"]
        cdx = json.loads((out / image["sbom"]).read_text())
        assert image["source"] in json.dumps(cdx["metadata"]["component"])


def test_a_store_failure_never_costs_the_folder(tmp_path: Path, empty_db: Path) -> None:
    # A store location that cannot be created is refused before any work (exit 2, see
    # tests/cli/test_mistakes.py); a store that fails once opened is a warning.
    not_a_db = tmp_path / "store.sqlite"
    not_a_db.write_bytes(b"not an SQLite database\n" * 64)
    args = [a for a in _fleet(tmp_path, ["registry.example/web:1"]) if a != "--no-store"]
    out = tmp_path / "out"
    run = _hullguard("respond", *args, "--db", str(empty_db), "--out", str(out), "--store",
                     f"sqlite:///{not_a_db}")
    assert run.returncode == 0, run.stderr
    assert "warning: the store was not updated" in run.stderr
    assert "Traceback" not in run.stderr
    doc = json.loads((out / "findings.json").read_text())
    assert doc["images"][0]["scanned"], doc["images"][0]["error"]


def test_a_typo_in_the_only_path_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = _hullguard("respond", str(tmp_path / "nothere"), "--no-store", "--out", str(out))
    assert run.returncode == 2
    assert run.stderr.count("\n") <= 2 and run.stderr.startswith("error: no image found")
    assert "no such file or directory" in run.stderr
    assert not out.exists()
    fleet = _hullguard("scan-fleet", str(tmp_path / "nothere"), "--no-store", "--state",
                       str(tmp_path / "state"))
    assert fleet.returncode == 2 and fleet.stderr.startswith("error: no image found")


def test_a_foreign_folder_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.odt").write_text("mine")
    run = _hullguard("respond", *_fleet(tmp_path, ["registry.example/web:1"]), "--out",
                     str(out))
    assert run.returncode == 2 and "not empty" in run.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.odt"]


# A child that runs respond and SIGKILLs itself at its N-th file write or rename anywhere under
# the test's folder: what a crash, OOM kill or power cut does mid-write.
KILLER = textwrap.dedent("""
    import builtins, io, os, shutil, signal, sys
    from datetime import datetime, UTC
    from pathlib import Path
    root, kill_at = sys.argv[1], int(sys.argv[2])
    count = 0
    def event(path):
        global count
        if str(path).startswith(root):
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
    def hook(name, module=os, kind=None):
        real = getattr(module, name)
        def wrapped(*args, **kwargs):
            mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
            if kind == "open" and not isinstance(args[0], int) and any(
                    c in str(mode) for c in "wax+"):
                event(os.fsdecode(args[0]))
            elif kind is None:
                event(os.fsdecode(args[-1] if name != "rename" else args[1]))
            return real(*args, **kwargs)
        setattr(module, name, wrapped)
    hook("replace"); hook("rename"); hook("open", builtins, "open"); hook("open", io, "open")
    real_rmtree = shutil.rmtree
    def rmtree(path, *args, **kwargs):
        event(os.fsdecode(path))
        return real_rmtree(path, *args, **kwargs)
    shutil.rmtree = rmtree
    from hullguard.pipeline.respond import RespondOptions, respond
    listing, db, out, version, *refs = sys.argv[3:]
    sources = {ref: src for ref, src in (pair.split("=", 1) for pair in refs)}
    now = datetime(2026, 1, int(version), tzinfo=UTC)
    respond(RespondOptions([listing], Path(out), db, image_sources=sources, offline=True,
                           workers=1, now=now))
    print("finished")
""")


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".hullguard-state" not in p.parts}


def _restore(saved: Path, out: Path) -> None:
    """``out`` as ``saved``, without the leftovers of a killed run beside it."""
    for leftover in [out, *out.parent.glob(f".{out.name}.incident-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(saved, out, symlinks=True)


def _kill_run(tmp_path: Path, out: Path, db: Path, version: int, kill_at: int,
              refs: list[str]) -> bool:
    listing = tmp_path / f"images{version}.txt"
    listing.write_text("".join(ref.split("=")[0] + "\n" for ref in refs))
    run = subprocess.run([sys.executable, "-c", KILLER, str(tmp_path), str(kill_at),
                          str(listing), str(db), str(out), str(version), *refs],
                         capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode in (0, -9), run.stderr
    return run.returncode == 0


def _is_new(folder: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """Every file of the new run and nothing else (``reused`` flags may differ)."""
    return set(folder) == set(new) and all(
        b"HG-20260102" in folder[name] and b"HG-20260101" not in folder[name]
        for name in ("declaration.md", "findings.json", "report.html"))


def test_a_run_killed_at_any_write_leaves_the_old_or_the_new_folder(
        tmp_path: Path, empty_db: Path) -> None:
    images = [f"registry.example/app{i}:1=docker-archive:{_image(tmp_path / f'{i}.tar', f'3.{i}')}"
              for i in range(3)]
    assert _kill_run(tmp_path, tmp_path / "reference", empty_db, 2, 0, images[1:])
    new = _snapshot(tmp_path / "reference")
    out, saved = tmp_path / "out", tmp_path / "saved"
    assert _kill_run(tmp_path, out, empty_db, 1, 0, images[:2])
    old = _snapshot(out)
    shutil.copytree(out, saved, symlinks=True)
    outcomes: list[str] = []
    for step in range(1, 60):
        _restore(saved, out)
        finished = _kill_run(tmp_path, out, empty_db, 2, step, images[1:])
        now = _snapshot(out)
        outcomes.append("old" if now == old else "new" if _is_new(now, new) else "MIXED")
        assert outcomes[-1] != "MIXED", f"killed at write {step}: {sorted(now)}"
        if finished:
            break
    assert finished and outcomes[0] == "old" and outcomes[-2] == "new", outcomes
    # Killed at the last write before completion: the next run completes, journal kept.
    _restore(saved, out)
    assert not _kill_run(tmp_path, out, empty_db, 2, len(outcomes) - 1, images[1:])
    assert _kill_run(tmp_path, out, empty_db, 2, 0, images[1:])
    assert _is_new(_snapshot(out), new)
    assert len(list((out / ".hullguard-state" / "scans").iterdir())) == 3, "journal kept"
