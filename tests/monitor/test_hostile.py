"""Hostile and mistaken input to the monitor: alert URLs aimed at addresses the policy
refuses (SSRF), secrets asked on the command line, garbage and huge advisory files dropped
in the watched folder (one clear rejection each, the rest still imported)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hullguard.errors import HullguardError
from hullguard.images.registry.netpolicy import AddressPolicy
from hullguard.monitor import run as monitor_run
from hullguard.monitor.alerts import SMTP_PASSWORD_ENV, WEBHOOK_SECRET_ENV, parse_channel
from hullguard.monitor.run import CycleReport, import_dropped
from tests.monitor.conftest import SECRET, corpus_file
from tests.support.cli import run_hullguard


@pytest.mark.parametrize("spec", [
    "webhook:http://169.254.169.254/latest/meta-data",  # cloud metadata: never
    "slack:https://10.0.0.7/hook",  # private: only when allowed
    "slack:http://example.org/hook",  # plain http off loopback
    "slack:https://user:pw@hooks.example.org/x",  # credentials in the URL
    "smtp://169.254.169.254:25?from=a@b&to=c@d",
    "smtp://mail.example.org?from=a@b&to=c@d&x=1" .replace("mail.", "u:secret@mail."),
])
def test_an_alert_target_the_policy_refuses_is_one_clear_error(spec: str) -> None:
    env = {WEBHOOK_SECRET_ENV: SECRET}
    with pytest.raises(HullguardError) as refused:
        parse_channel(spec, env, AddressPolicy())
    assert "secret" not in refused.value.message and "pw" not in refused.value.message


def test_a_private_alert_target_is_allowed_only_explicitly() -> None:
    allowed = parse_channel("slack:https://10.0.0.7/hook", {},
                            AddressPolicy.parse(["10.0.0.0/8"]))
    assert allowed.name.startswith("slack:10.0.0.7#")
    other = parse_channel("slack:https://10.0.0.7/other-hook", {},
                          AddressPolicy.parse(["10.0.0.0/8"]))
    assert other.name != allowed.name  # two hooks on one host are deduplicated apart


def test_the_cli_refuses_a_metadata_webhook_and_never_echoes_the_secret(tmp_path: Path) -> None:
    db = tmp_path / "vulndb.sqlite"
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    import_inputs(db, [ImportInput(corpus_file("requests", "PYSEC-2014-13.yaml"))])
    done = run_hullguard("monitor", "run", "--once", "--store", str(tmp_path / "s.sqlite"),
                         "--db", str(db), "--alert", "webhook:https://169.254.169.254/x",
                         env={WEBHOOK_SECRET_ENV: SECRET})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "169.254.169.254" in done.stderr and SECRET not in done.stderr + done.stdout
    unsigned = run_hullguard("monitor", "run", "--once", "--store", str(tmp_path / "s.sqlite"),
                             "--db", str(db), "--alert", "webhook:http://127.0.0.1:9/x",
                             env={WEBHOOK_SECRET_ENV: ""})
    assert unsigned.returncode == 2 and WEBHOOK_SECRET_ENV in unsigned.stderr
    no_password = run_hullguard("monitor", "run", "--once", "--store", str(tmp_path / "s.sqlite"),
                                "--db", str(db), "--alert",
                                "smtp://ops@127.0.0.1:9?from=a@b.c&to=d@e.f",
                                env={SMTP_PASSWORD_ENV: ""})
    assert no_password.returncode == 2 and SMTP_PASSWORD_ENV in no_password.stderr


def test_garbage_and_huge_dropped_files_are_rejected_one_by_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, folder = tmp_path / "vulndb.sqlite", tmp_path / "drop"
    folder.mkdir()
    (folder / "garbage.json").write_bytes(b"\x00\xff{not json" * 1000)
    with (folder / "huge.json").open("wb") as huge:  # sparse: no disk space used
        huge.truncate(monitor_run.MAX_DROPPED_BYTES + 1)
    shutil.copy(corpus_file("jinja2", "PYSEC-2019-217.yaml"), folder / "good.yaml")
    report = CycleReport(started=__import__("datetime").datetime.now())
    import_dropped(folder, db, report)
    assert report.imported == ["good.yaml"]
    assert sorted(r.split(":")[0] for r in report.rejected) == ["garbage.json", "huge.json"]
    assert all(len(r.splitlines()) == 1 for r in report.rejected)
    rejected = sorted(p.name for p in (folder / "rejected").iterdir())
    assert len(rejected) == 4 and sum(n.endswith(".reason.txt") for n in rejected) == 2
    assert not any(p.is_file() for p in folder.iterdir())  # nothing left to retry forever


@pytest.mark.parametrize(("flag", "value", "said"), [
    ("--interval", "0s", "--interval"), ("--interval", "soon", "--interval"),
    ("--full-every", "-5h", "--full-every"), ("--threshold", "dire", "--threshold"),
    ("--dashboard-url", "javascript:alert(1)", "--dashboard-url"),
    ("--alert", "ftp://files.example/x", "--alert"),
    ("--watch-repo", "Not A Reference!", "--watch-repo"),
    ("--watch-repo", "127.0.0.1:5000/app@sha256:" + "a" * 64, "--watch-repo"),
])
def test_a_bad_flag_value_is_one_error_before_any_work(
        tmp_path: Path, flag: str, value: str, said: str) -> None:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    db = tmp_path / "vulndb.sqlite"
    import_inputs(db, [ImportInput(corpus_file("requests", "PYSEC-2014-13.yaml"))])
    store = tmp_path / "store.sqlite"
    done = run_hullguard("monitor", "run", "--once", "--store", str(store), "--db", str(db),
                         flag, value)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert said in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert not store.exists()  # nothing was created


def test_the_loop_reports_a_failed_cycle_and_goes_on(tmp_path: Path) -> None:
    from datetime import timedelta

    from hullguard.monitor.run import MonitorConfig, run_forever
    from hullguard.store import open_store
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    db = tmp_path / "vulndb.sqlite"
    import_inputs(db, [ImportInput(corpus_file("requests", "PYSEC-2014-13.yaml"))])
    outcomes: list[object] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            db.write_bytes(b"not a database at all")  # replaced by a broken file
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    config = MonitorConfig(db, interval=timedelta(seconds=5))
    with open_store(f"sqlite:///{tmp_path / 'store.sqlite'}") as factory, \
            pytest.raises(KeyboardInterrupt):
        run_forever(factory, config, outcomes.append, sleep)
    assert [type(o).__name__ for o in outcomes] == ["CycleReport", "DatabaseError",
                                                    "DatabaseError"]
    assert all(1.0 <= s <= 5.0 for s in sleeps)
