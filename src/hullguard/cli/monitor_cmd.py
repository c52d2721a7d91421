"""``hullguard monitor run|status``: continuous monitoring of the store (see
:mod:`hullguard.monitor`). Alert secrets come from the environment only
(``HULLGUARD_WEBHOOK_SECRET``, ``HULLGUARD_SMTP_PASSWORD``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    DB_OPTION,
    check_format,
    check_input_file,
    check_store,
    eprint,
    handle_errors,
    parse_severity,
    write_output,
)
from hullguard.cli.store_cmd import StoreOption
from hullguard.errors import HullguardError, InputError

if TYPE_CHECKING:
    from hullguard.monitor.run import CycleReport, MonitorConfig

monitor_app = typer.Typer(help="Continuous monitoring: re-match the store when advisories "
                          "change, watch registry tags, send alerts.", no_args_is_help=True)

FORMATS = ("text", "json")


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")


@monitor_app.command("run")
@handle_errors
def run_command(
    store: StoreOption = None,
    db: Path | None = DB_OPTION,
    interval: Annotated[str, typer.Option(
        "--interval", help="Time between cycles: 90s, 15m, 1h.")] = "15m",
    full_every: Annotated[str, typer.Option(
        "--full-every", help="Re-match every stored SBOM this often (the safety net).")] = "24h",
    watch_dir: Annotated[Path | None, typer.Option(
        "--watch-dir", help="Import advisory files dropped in this folder each cycle "
        "(moved to imported/ or rejected/).")] = None,
    watch_repo: Annotated[list[str] | None, typer.Option(
        "--watch-repo", help="Poll this tag (host/repo:tag) or every tag of a repository "
        "(host/repo) for new digests and scan them (repeatable).")] = None,
    alert: Annotated[list[str] | None, typer.Option(
        "--alert", help="slack:URL, webhook:URL (signed; $HULLGUARD_WEBHOOK_SECRET) or "
        "smtp://USER@HOST:PORT?from=A&to=B&starttls=1 ($HULLGUARD_SMTP_PASSWORD); "
        "repeatable.")] = None,
    threshold: Annotated[str, typer.Option(
        "--threshold", help="Alert when a running workload gains a finding this severe or "
        "worse.")] = "high",
    digest_mode: Annotated[bool, typer.Option(
        "--digest-mode", help="One message per channel per cycle instead of one per "
        "alert.")] = False,
    dashboard_url: Annotated[str, typer.Option(
        "--dashboard-url", help="Base URL of `hullguard serve`: alerts link to its image "
        "pages.")] = "",
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit.")] = False,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Watched registries: allow plain HTTP / unverified TLS.")] = False,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: text or json.")] = "text",
) -> None:
    """Watch the store: each cycle imports dropped advisory files, finds the advisories that
    changed, re-matches only the stored SBOM components they name (a full re-match every
    --full-every), polls watched tags, and sends deduplicated alerts."""
    from hullguard.monitor.run import parse_duration
    from hullguard.store import open_store
    from hullguard.vuln.db import default_db_path

    check_format(fmt, FORMATS)
    check_store(store)
    db_path = db if db is not None else default_db_path()
    check_input_file(db_path, "--db")
    _check_dir(watch_dir)
    every = parse_duration(interval, "--interval")
    config = _config(db_path, every, parse_duration(full_every, "--full-every"), watch_dir,
                     watch_repo or [], alert or [], parse_severity(threshold, "--threshold"),
                     digest_mode, _dashboard(dashboard_url), store, insecure)
    with open_store(store) as factory:
        if once:
            _show(_cycle(factory, config), fmt)
            return
        from hullguard.monitor.run import run_forever

        run_forever(factory, config, lambda outcome: _report(outcome, fmt))


def _cycle(factory: Any, config: MonitorConfig) -> CycleReport:
    from hullguard.monitor.run import run_cycle

    return run_cycle(factory, config)


def _report(outcome: CycleReport | HullguardError, fmt: str) -> None:
    if isinstance(outcome, HullguardError):
        eprint(f"monitor cycle failed: {outcome.where}: {outcome.message}")
        return
    _show(outcome, fmt)


def _check_dir(path: Path | None) -> None:
    if path is None:
        return
    if not path.is_dir():
        raise InputError("no such directory" if not path.exists() else "not a directory",
                         where=f"--watch-dir {path}")


def _dashboard(url: str) -> str:
    if url and not url.startswith(("http://", "https://")):
        raise InputError("not an http(s) URL", where="--dashboard-url")
    return url


def _config(db: Path, interval: Any, full_every: Any, watch_dir: Path | None,
            repos: list[str], alerts: list[str], threshold: Any, digest: bool,
            dashboard: str, store: str | None, insecure: bool) -> MonitorConfig:
    from hullguard.monitor.alerts import parse_channel
    from hullguard.monitor.run import MonitorConfig
    from hullguard.monitor.watch import parse_watch

    watch = [parse_watch(text) for text in repos]
    return MonitorConfig(db, interval, full_every, watch_dir, watch,
                         [parse_channel(spec) for spec in alerts], threshold, dashboard, digest,
                         _submitter(db, store, insecure) if watch else None)


def _submitter(db: Path, store: str | None, insecure: bool) -> Any:
    """Scans of moved tags run in this process (a queue-backed submitter takes the same
    jobs when workers run them)."""
    from hullguard.images.api import SourceOptions
    from hullguard.pipeline.inline import InlineSubmitter
    from hullguard.pipeline.jobs import ImageJob, JobOptions
    from hullguard.store.base import default_store_url

    submitter = InlineSubmitter()
    options = JobOptions(str(db), True, store or default_store_url(),
                         source=SourceOptions(insecure=insecure))

    def submit(reference: str, digest: str) -> str:
        pinned = f"{reference}@{digest}"
        return submitter.submit(ImageJob(reference, pinned, digest=digest, options=options))

    return submit


def _show(report: CycleReport, fmt: str) -> None:
    """One cycle's report, flushed at once: a long-running monitor's output is read by a
    log collector while it runs."""
    if fmt == "json":
        write_output(json.dumps(report.plain(), sort_keys=True) + "\n", None)
        sys.stdout.flush()
        return
    changes = ", ".join(f"{v} {k}" for k, v in report.changes.items() if v) or "none"
    events = ", ".join(f"{v} {k}" for k, v in sorted(report.events.items())) or "none"
    sent = sum(report.delivery.sent.values())
    lines = [f"{report.started:%Y-%m-%d %H:%M:%S} {report.kind} cycle in "
             f"{report.seconds:.2f}s: advisories {changes}; {report.images_rematched} images "
             f"re-matched, {report.images_changed} changed; events {events}; "
             f"{len(report.watch.submitted)} scans submitted; {sent} alerts sent, "
             f"{report.delivery.skipped} already sent"]
    lines += [f"  imported {name}" for name in report.imported]
    lines += [f"  rejected {text}" for text in report.rejected]
    lines += [f"  watch: {text}" for text in report.watch.errors]
    lines += [f"  alert: {text}" for text in report.delivery.errors]
    write_output("\n".join(lines) + "\n", None)
    sys.stdout.flush()


@monitor_app.command("status")
@handle_errors
def status_command(
    store: StoreOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: text or json.")] = "text",
) -> None:
    """Show the monitor's state (reads only): last cycles, advisory state, watched tags,
    event counts, alerts sent."""
    from hullguard.store import open_store
    from hullguard.store.monitor import status_of

    check_format(fmt, FORMATS)
    with open_store(store, create=False) as factory, factory() as session:
        state = status_of(session)
    if fmt == "json":
        write_output(json.dumps(state, sort_keys=True, default=str, indent=2) + "\n", None)
        return
    lines = [f"last cycle:  {state['last_run'] or 'never'}",
             f"last full:   {state['last_full'] or 'never'}",
             *(f"{name + ':':<12} {value}" for name, value in sorted(state["counts"].items())),
             f"events:      {json.dumps(state['events'], sort_keys=True)}"]
    lines += [f"workload {key}: {json.dumps(kinds, sort_keys=True)}"
              for key, kinds in state["workloads"].items()]
    lines += [f"watch {w['reference']}: {w['digest'] or '-'}"
              + (f" (failing x{w['failures']}: {w['error']})" if w["failures"] else "")
              for w in state["watched"]]
    write_output("\n".join(lines) + "\n", None)
