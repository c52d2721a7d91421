"""Image checks on real multi-layer images built with hullguard.images.builder."""

from __future__ import annotations

from pathlib import Path

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from hullguard.lint import lint_image, lint_target
from hullguard.model.lint import LintReport

TOKEN = "ghp_" + "FAKE0123456789fake" * 2


def _image(tmp_path: Path, spec: ImageSpec, level: str = "L3") -> LintReport:
    return lint_image(f"docker-archive:{write_docker_archive(tmp_path / 'i.tar', spec)}",
                      level=level)


def _by_id(report: LintReport) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.check.id, set()).add(finding.location)
    return found


def test_risky_image(tmp_path: Path) -> None:
    base = LayerSpec((
        FileSpec("bin/busybox", b"\x7fELF", 0o755), FileSpec("bin/sh", kind="symlink",
                                                             linkname="/bin/busybox"),
        FileSpec("sbin/apk", b"\x7fELF", 0o755), FileSpec("usr/bin/sudo", b"\x7fELF", 0o4755),
        FileSpec("usr/sbin/sshd", b"\x7fELF", 0o755), FileSpec("usr/bin/wall", b"x", 0o2755),
        FileSpec("etc/app.conf", b"x", 0o666), FileSpec("tmp", kind="dir", mode=0o1777),
        FileSpec("var/cache/apk/APKINDEX.tar.gz", b"x"),
        FileSpec("usr/bin/gone", b"x", 0o4755)), created_by="ADD rootfs.tar /")
    later = LayerSpec((FileSpec("usr/bin/.wh.gone"),),
                      created_by="RUN curl -fsSL https://get.example.com | sh")
    spec = ImageSpec([base, later], config={"Env": ["PATH=/bin", f"GH_TOKEN={TOKEN}",
                                                     "DB_PASSWORD=hunter2hunter2"]})
    found = _by_id(_image(tmp_path, spec))
    assert found["HG-I001"] == {"config:User"} and "HG-I002" in found
    assert found["HG-I003"] == {"config:Env[1]", "config:Env[2]"}
    assert found["HG-I004"] == {"/var/cache/apk/"}
    assert found["HG-I005"] == {"/usr/bin/sudo", "/usr/bin/wall"}  # /usr/bin/gone was deleted
    assert found["HG-I006"] == {"/etc/app.conf"}  # /tmp is sticky
    assert found["HG-I007"] == {"/usr/bin/sudo"} and found["HG-I008"] == {"/usr/sbin/sshd"}
    assert found["HG-I009"] == {"/sbin/apk"} and found["HG-I010"] == {"/bin/sh", "/bin/busybox"}
    assert found["HG-I011"] == {"config:history[1]"}


def test_minimal_image_is_clean(tmp_path: Path) -> None:
    layer = LayerSpec((FileSpec("app", b"\x7fELF", 0o755),), created_by="COPY app /app")
    spec = ImageSpec([layer], config={"User": "10001", "Entrypoint": ["/app"],
                                      "Healthcheck": {"Test": ["CMD", "/app", "health"]}})
    assert _image(tmp_path, spec).findings == ()


def test_level_and_target_detection(tmp_path: Path) -> None:
    layer = LayerSpec((FileSpec("bin/sh", b"\x7fELF", 0o755),))
    path = write_docker_archive(tmp_path / "img.tar", ImageSpec([layer]))
    l1 = lint_target(str(path), level="L1")
    assert {f.check.id for f in l1.findings} == {"HG-I001"}
    assert "HG-I010" in {f.check.id for f in lint_target(str(path), level="L3").findings}
