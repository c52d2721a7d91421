"""``hullguard serve`` (the API, webhooks, metrics and dashboard on uvicorn) and ``hullguard
token create|list|revoke`` (API tokens in the store). The service loads inside the commands."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    DB_OPTION,
    check_format,
    check_store,
    eprint,
    handle_errors,
    write_output,
)
from hullguard.cli.store_cmd import StoreOption
from hullguard.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

token_app = typer.Typer(help="API tokens of hullguard serve: create (shown once), list, revoke.",
                        no_args_is_help=True)

def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(token_app, name="token")


@handle_errors
def serve_command(
    store: StoreOption = None,
    db: Path | None = DB_OPTION,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help="Port to listen on.")] = 8080,
    webhook_secret: Annotated[str, typer.Option(
        "--webhook-secret", envvar="HULLGUARD_WEBHOOK_SECRET", show_default=False,
        help="Shared secret registry webhooks must send (prefer the environment variable: "
             "a command line is visible to other users). Without it webhooks are off.")] = "",
    registry: Annotated[list[str] | None, typer.Option(
        "--registry", help="A registry host (host:port) webhooks may name; repeatable. "
        "Pushes naming another registry are ignored.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Scans run at once in this process.")] = 2,
    queue_size: Annotated[int, typer.Option(
        "--queue-size", min=1, max=100_000,
        help="Scans that may wait; beyond it a submission is refused (HTTP 503). With "
             "--broker: messages waiting on the broker's push queue, as read from it.")] = 100,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Allow plain-HTTP registries and unverified TLS.")] = False,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    broker: Annotated[str, typer.Option(
        "--broker", envvar="HULLGUARD_BROKER", show_default=False,
        help="Celery broker (amqp://USER:PASS@HOST:5672// or redis://HOST:6379/0): scans go "
             "to hullguard worker processes on it instead of this process (--workers then "
             "does not apply). The workers need the same --store.")] = "",
) -> None:
    """Run the API, registry webhooks, /metrics, /healthz and the dashboard (/ui) over the
    store; scans run in this process, or with --broker on hullguard worker processes. Every
    API route needs a token (hullguard token create)."""
    import logging

    import uvicorn

    from hullguard.images.api import SourceOptions
    from hullguard.service.app import create_app
    from hullguard.service.settings import Settings

    check_store(store)
    if broker:
        from hullguard.workers.app import check_broker

        check_broker(broker)
    db_path = _checked_db(db)
    _check_port(host, port)
    from hullguard.store.base import default_store_url

    settings = Settings(store or default_store_url(), db_path, webhook_secret,
                        tuple(registry or ()), workers, queue_size,
                        source=SourceOptions(insecure=insecure), broker=broker)
    app = create_app(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    eprint(f"hullguard serve: http://{host}:{port}/ (API /api/v1, dashboard /ui, docs /docs)")
    if not webhook_secret:
        eprint("warning: no --webhook-secret: webhooks are refused")
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


def _checked_db(db: Path | None) -> str:
    """The advisory database must open now: a service without it would record scans with
    no findings, which reads as clean."""
    from hullguard.vuln.db import VulnDB

    with VulnDB.open(db) as opened:
        age = opened.oldest_age_days()
        path = str(opened.path)
    if age is None:
        eprint(f"warning: the vulnerability database {path} is empty")
    return path


def _check_port(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}",
                         where="--host/--port", hint="choose a free port") from None


def _engine(store: str | None) -> Engine:
    from hullguard.store.base import ensure_schema, make_engine

    check_store(store)
    engine = make_engine(store)
    ensure_schema(engine)
    return engine


@token_app.command("create")
@handle_errors
def create_command(
    store: StoreOption = None,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api",
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="read, scan or admin (repeatable; admin implies scan, scan implies "
        "read).")] = None,
    expires_days: Annotated[int | None, typer.Option(
        "--expires-days", min=1, max=3650, help="Days until it expires (default: never).")
    ] = None,
) -> None:
    """Create an API token and print it: it is shown this once (the store keeps its hash)."""
    from datetime import timedelta

    from hullguard.service.auth import check_scopes, create_token

    scopes = check_scopes(scope or ["read"])
    if not name.strip() or len(name) > 200:
        raise InputError("give a name of 1 to 200 characters", where="--name")
    engine = _engine(store)
    try:
        made = create_token(engine, name, scopes,
                            timedelta(days=expires_days) if expires_days else None)
    finally:
        engine.dispose()
    eprint(f"token {made.info.id} ({','.join(scopes)}): shown once, store it now")
    write_output(made.token + "\n", None)


@token_app.command("list")
@handle_errors
def list_command(
    store: StoreOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: text or json.")] = "text",
) -> None:
    """List tokens (id, name, scopes, expiry, revocation; never the tokens)."""
    from hullguard.store.service import list_tokens

    check_format(fmt, ("text", "json"))
    engine = _engine(store)
    try:
        tokens = list_tokens(engine)
    finally:
        engine.dispose()
    if fmt == "json":
        write_output(json.dumps([{"id": t.id, "name": t.name, "prefix": t.prefix,
                                  "scopes": list(t.scopes),
                                  "created_at": t.created_at.isoformat(),
                                  "expires_at": t.expires_at.isoformat() if t.expires_at
                                  else None, "revoked_at": t.revoked_at.isoformat()
                                  if t.revoked_at else None} for t in tokens], indent=2)
                     + "\n", None)
        return
    lines = [f"{t.id:>4}  {t.prefix}…  {','.join(t.scopes):<15} {t.name}"
             f"{'  revoked' if t.revoked_at else ''}"
             f"{f'  expires {t.expires_at:%Y-%m-%d}' if t.expires_at else ''}" for t in tokens]
    write_output("\n".join(lines or ["no tokens"]) + "\n", None)


@token_app.command("revoke")
@handle_errors
def revoke_command(
    token_id: Annotated[int, typer.Argument(help="The token's id (token list).")],
    store: StoreOption = None,
) -> None:
    """Revoke a token: every request with it is refused from now on."""
    from hullguard.store.service import revoke_token

    engine = _engine(store)
    try:
        found = revoke_token(engine, token_id)
    finally:
        engine.dispose()
    if not found:
        raise InputError(f"no token {token_id}", where="token revoke")
    write_output(f"token {token_id} revoked\n", None)
