"""``hullguard contain INCIDENT_DIR|PATH...``: a reviewable containment change set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hullguard.cli.common import eprint, handle_errors, show_warnings


def register(app: typer.Typer) -> None:
    app.command("contain")(contain_command)


def _ports(values: list[str], flag: str) -> tuple[int, ...]:
    from hullguard.errors import InputError

    ports = []
    for value in values:
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise InputError(f"{value!r} is not a port number (1-65535)", where=flag)
        ports.append(int(value))
    return tuple(ports)


Inputs = Annotated[list[str], typer.Argument(
    metavar="INCIDENT_DIR|PATH...",
    help="An incident folder from `hullguard respond`, or the manifests/compose files respond "
         "takes.")]
Workloads = Annotated[list[str] | None, typer.Option(
    "--workload", metavar="NS/KIND/NAME",
    help="Contain this workload (repeatable; overrides --priority).")]
MetricsPorts = Annotated[list[str] | None, typer.Option(
    "--metrics-port", help="Extra metrics port to allow in (repeatable); container ports named "
                           "*metrics* and a prometheus.io/port annotation are always allowed.")]
LoggingPorts = Annotated[list[str] | None, typer.Option(
    "--logging-port", help="Logging port the pods may send to (repeatable; default 24224).")]
Writable = Annotated[list[str] | None, typer.Option(
    "--writable", metavar="PATH",
    help="Writable emptyDir under the read-only root (repeatable; default /tmp).")]

Out = Annotated[Path, typer.Option("--out", help="Folder for the change set.")]


@handle_errors
def contain_command(
    inputs: Inputs,
    workload: Workloads = None,
    metrics_port: MetricsPorts = None,
    logging_port: LoggingPorts = None,
    writable: Writable = None,
    out: Out = Path("containment"),
    priority: str = typer.Option("P0-P1", "--priority",
                                 help="Contain workloads with these priorities: P1, P0-P1, P0,P2."),
    base: str = typer.Option("", "--base", metavar="REF",
                             help="Contain every workload in this base image's blast radius."),
    monitoring_namespace: str = typer.Option("monitoring", "--monitoring-namespace",
                                             help="Namespace allowed to scrape metrics ports."),
    logging_namespace: str = typer.Option("logging", "--logging-namespace",
                                          help="Namespace the pods may send logs to."),
    dns_namespace: str = typer.Option("kube-system", "--dns-namespace",
                                      help="Namespace of the cluster DNS pods."),
    cluster_dns_ip: str = typer.Option("", "--cluster-dns-ip",
                                       help="The kube-dns Service IP, allowed as an ipBlock."),
    run_as_user: int = typer.Option(65532, "--run-as-user",
                                    help="UID for pods that do not set runAsUser."),
) -> None:
    """Write NetworkPolicies, quarantine and Deny variants, ServiceAccount and pod hardening,
    a kustomize overlay, apply.sh/rollback.sh and CONTAINMENT.md for the selected workloads."""
    from hullguard.contain.model import ContainOptions
    from hullguard.contain.run import contain
    from hullguard.contain.select import parse_priorities
    from hullguard.contain.volumes import check_writable

    options = ContainOptions(
        out, parse_priorities(priority), tuple(workload or ()), base,
        _namespace(monitoring_namespace, "--monitoring-namespace"),
        _ports(metrics_port or [], "--metrics-port"),
        _namespace(logging_namespace, "--logging-namespace"),
        _ports(logging_port or ["24224"], "--logging-port"),
        _namespace(dns_namespace, "--dns-namespace"),
        _dns_ip(cluster_dns_ip), run_as_user,
        check_writable(writable or ["/tmp"], "--writable"))
    changes = contain(inputs, options)
    show_warnings(changes.warnings + [f"{c.key}: {w}" for c in changes.changes
                                      for w in c.warnings])
    eprint(f"contained {len(changes.changes)} workload(s): {out / 'CONTAINMENT.md'}")


def _namespace(text: str, flag: str) -> str:
    from hullguard.contain.incident import NAME_RE
    from hullguard.errors import InputError

    if not NAME_RE.fullmatch(text) or len(text) > 63:
        raise InputError(f"{text!r} is not a namespace name", where=flag)
    return text


def _dns_ip(text: str) -> str:
    import ipaddress

    from hullguard.errors import InputError

    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InputError(f"{text!r} is not an IP address", where="--cluster-dns-ip") from None
