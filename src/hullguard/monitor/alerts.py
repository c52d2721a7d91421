"""Alerts: what deserves one, the channels that carry it, dedup and digest mode.

An alert is raised when a workload of the inventory runs an image that gains a finding at or
above the threshold, when a KEV entry hits any stored image (a new finding that is in KEV,
or a new KEV entry for a finding the fleet already has), and when a scan finds a secret.
Each alert has a key; a key delivered on a channel is stored and never sent there again (a
failed delivery is not stored, so the next cycle tries again). Digest mode sends one
message per channel per cycle instead of one per alert.

Channels (``--alert``): ``slack:URL`` (a Slack-compatible incoming webhook), ``webhook:URL``
(a JSON POST signed per the Standard Webhooks scheme with the ``standardwebhooks`` library;
the secret from ``$HULLGUARD_WEBHOOK_SECRET``), ``smtp://[user@]host[:port]?from=..&to=..``
(``starttls=1`` for STARTTLS; the password from ``$HULLGUARD_SMTP_PASSWORD``). Secrets are
never taken from the command line and never shown.

Every connection goes through the one address policy
(:mod:`hullguard.images.registry.netpolicy`): link-local and metadata addresses are always
refused, private ones unless allowed (``HULLGUARD_ALLOW_PRIVATE``), checked when the channel
is configured and again at connect time (DNS rebinding); plain http only to loopback.
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlsplit

from hullguard.errors import HullguardError, InputError
from hullguard.images.registry.netpolicy import (
    AddressPolicy,
    checked_addresses,
    connect,
    is_loopback_host,
)
from hullguard.model import Severity

WEBHOOK_SECRET_ENV = "HULLGUARD_WEBHOOK_SECRET"
SMTP_PASSWORD_ENV = "HULLGUARD_SMTP_PASSWORD"
TIMEOUT = 20.0  # one delivery's bound (connect, send, answer)
MAX_ALERTS_PER_MESSAGE = 50  # a digest lists at most this many, then says how many more
SLACK_TEXT_LIMIT = 3500


class AlertError(HullguardError):
    """An alert channel is misconfigured or a delivery failed."""


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # finding | kev | secret
    title: str
    image_key: str
    reference: str
    link: str
    severity: str = ""
    vuln_id: str = ""
    package: str = ""
    workloads: tuple[str, ...] = ()

    def text(self) -> str:
        used = f" (workloads: {', '.join(self.workloads[:5])})" if self.workloads else ""
        return f"{self.title}{used}\n{self.link}" if self.link else f"{self.title}{used}"

    def plain(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "title": self.title,
                "image": self.image_key, "reference": self.reference, "link": self.link,
                "severity": self.severity, "vulnerability": self.vuln_id,
                "package": self.package, "workloads": list(self.workloads)}


def image_link(dashboard_url: str, image_key: str) -> str:
    """The dashboard page of one image (``hullguard serve`` mounts it under ``/ui``)."""
    if not dashboard_url:
        return ""
    return f"{dashboard_url.rstrip('/')}/ui/images/{quote(image_key, safe=':')}"


def alerts_from(events: Iterable[Mapping[str, Any]], threshold: Severity,
                dashboard_url: str) -> list[Alert]:
    """The alerts a cycle's events call for (one per key)."""
    found: dict[str, Alert] = {}
    for event in events:
        for alert in _alerts_of(event, threshold, dashboard_url):
            found.setdefault(alert.key, alert)
    return list(found.values())


def alert_key(kind: str, *parts: str) -> str:
    """``kind:part:part``; a long one (an image keyed by a long reference) as a hash, so it
    fits the dedup table's key."""
    key = ":".join((kind, *parts))
    return key if len(key) <= 300 else f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _alerts_of(event: Mapping[str, Any], threshold: Severity, url: str) -> list[Alert]:
    kind, image, vuln = event["kind"], event["image_key"], event["vuln_id"]
    workloads = tuple(json.loads(event.get("workloads") or "[]"))
    severity = Severity(int(event.get("severity", 0)))
    base = {"image_key": image, "reference": event["reference"], "link": image_link(url, image),
            "severity": str(severity), "vuln_id": vuln, "package": event.get("package", ""),
            "workloads": workloads}
    subject = f"{vuln} in {event.get('package', '')} {event.get('version', '')}".strip()
    out = []
    if kind == "new" and workloads and severity >= threshold:
        out.append(Alert(alert_key("finding", image, vuln, event.get("package", "")), "finding",
                         f"[{severity}] {subject} now affects running image "
                         f"{event['reference']}", **base))
    if (kind == "new" and event.get("kev")) or kind == "kev":
        out.append(Alert(alert_key("kev", vuln, image), "kev", f"[KEV] {subject} (known exploited) "
                         f"in {event['reference']}", **base))
    if kind == "secret":
        out.append(Alert(alert_key("secret", image, vuln, event.get("package", "")), "secret",
                         f"[secret] {vuln} found in {event['reference']} "
                         f"({event.get('package', '')})", **base))
    return out


# ---------------------------------------------------------------- channels


class Channel(Protocol):
    name: str  # stored with the dedup keys: "slack:HOST#HASH", "webhook:HOST#HASH", "smtp:HOST"

    def send(self, alerts: Sequence[Alert]) -> None: ...


def _message(alerts: Sequence[Alert]) -> str:
    if len(alerts) == 1:
        return alerts[0].text()
    shown = [f"- {a.text()}" for a in alerts[:MAX_ALERTS_PER_MESSAGE]]
    more = len(alerts) - len(shown)
    return "\n".join([f"hullguard: {len(alerts)} alerts", *shown,
                      *([f"... and {more} more"] if more else [])])


@dataclass
class HttpTarget:
    """One http(s) URL, checked against the address policy, posted to with the guarded
    client (the policy again at connect time, and a deadline)."""

    url: str
    where: str
    policy: AddressPolicy = field(default_factory=AddressPolicy.from_env)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise AlertError("the alert URL is not an http(s) URL", where=self.where)
        if parts.username is not None or parts.password is not None:
            raise AlertError("the alert URL carries credentials", where=self.where,
                             hint="webhook secrets come from the environment, not the URL")
        if parts.scheme == "http" and not is_loopback_host(host):
            raise AlertError("plain http to a host that is not loopback", where=self.where,
                             hint="use https")
        checked_addresses(host, what="alert target", where=self.where, policy=self.policy)
        # The channel's name in the dedup table and in messages: the host and a short hash of
        # the URL (two Slack hooks share a host; the path is the hook's secret, never shown).
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:8]
        self.label = f"{host}#{digest}"

    def post(self, body: bytes, headers: dict[str, str]) -> None:
        from hullguard.images.api import MIN_TRANSFER_RATE
        from hullguard.images.registry.transport import guarded_client

        client, budgets = guarded_client(policy=self.policy, timeout=TIMEOUT,
                                         follow_redirects=False, trust_env=False)
        try:
            with budgets.active(self.where, deadline=time.monotonic() + TIMEOUT,
                                min_rate=MIN_TRANSFER_RATE, window=TIMEOUT):
                response = client.post(self.url, content=body, headers={
                    "Content-Type": "application/json", "User-Agent": "hullguard", **headers})
        except HullguardError:
            raise
        except Exception as error:  # httpx transport errors: one line, never the URL's query
            raise AlertError(f"delivery failed: {type(error).__name__}",
                             where=self.where) from None
        finally:
            client.close()
        if not 200 <= response.status_code < 300:
            raise AlertError(f"the receiver answered HTTP {response.status_code}",
                             where=self.where)


class SlackChannel:
    def __init__(self, url: str, policy: AddressPolicy | None = None) -> None:
        self.target = HttpTarget(url, "--alert slack:", policy or AddressPolicy.from_env())
        self.name = f"slack:{self.target.label}"

    def send(self, alerts: Sequence[Alert]) -> None:
        # &, < and > are Slack's control characters (<!channel>, links): names from images
        # and feeds must not ping everyone or forge links
        text = _message(alerts)[:SLACK_TEXT_LIMIT].replace("&", "&amp;").replace(
            "<", "&lt;").replace(">", "&gt;")
        self.target.post(json.dumps({"text": text}).encode(), {})


class WebhookChannel:
    """A JSON POST signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``): receivers verify it with any Standard Webhooks library."""

    def __init__(self, url: str, secret: str, policy: AddressPolicy | None = None) -> None:
        from standardwebhooks import Webhook

        self.target = HttpTarget(url, "--alert webhook:", policy or AddressPolicy.from_env())
        self.name = f"webhook:{self.target.label}"
        try:
            self.signer = Webhook(secret)
        except Exception:  # the library's own errors: never echo the secret
            raise AlertError(f"${WEBHOOK_SECRET_ENV} is not a usable signing secret",
                             where=WEBHOOK_SECRET_ENV,
                             hint="a base64 secret, optionally prefixed whsec_") from None

    def send(self, alerts: Sequence[Alert]) -> None:
        message_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        body = json.dumps({"type": "hullguard.alerts", "timestamp": now.isoformat(),
                           "data": {"alerts": [a.plain() for a in alerts]}}).encode()
        signature = self.signer.sign(message_id, now, body)
        self.target.post(body, {"webhook-id": message_id,
                                "webhook-timestamp": str(int(now.timestamp())),
                                "webhook-signature": signature})


class _GuardedSMTP(smtplib.SMTP):
    """smtplib whose connection goes through the address policy (checked addresses only)."""

    def __init__(self, host: str, port: int, policy: AddressPolicy, timeout: float) -> None:
        self.policy = policy  # before connecting: smtplib connects in __init__
        super().__init__(host, port, timeout=timeout)  # (and keeps host for STARTTLS's SNI)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return connect(host, port, timeout=timeout, what="SMTP server", where="--alert smtp",
                       policy=self.policy)


@dataclass
class SmtpChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    policy: AddressPolicy = field(default_factory=AddressPolicy.from_env)
    name: str = ""

    def __post_init__(self) -> None:
        checked_addresses(self.host, what="SMTP server", where="--alert smtp",
                          policy=self.policy)
        self.name = f"smtp:{self.host}"

    def send(self, alerts: Sequence[Alert]) -> None:
        message = EmailMessage()
        message["From"], message["To"] = self.sender, ", ".join(self.recipients)
        subject = alerts[0].title if len(alerts) == 1 else f"hullguard: {len(alerts)} alerts"
        message["Subject"] = " ".join(subject.split())[:200]  # one line: no header injection
        message.set_content(_message(alerts))
        try:
            self._deliver(message)
        except (smtplib.SMTPException, OSError, ValueError) as error:
            raise AlertError(f"SMTP delivery failed: {type(error).__name__}: "
                             f"{str(error)[:200]}", where=self.name) from None

    def _deliver(self, message: EmailMessage) -> None:
        client = _GuardedSMTP(self.host, self.port, self.policy, TIMEOUT)
        try:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password)
            client.send_message(message)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def parse_channel(spec: str, environ: Mapping[str, str] | None = None,
                  policy: AddressPolicy | None = None) -> Channel:
    """``slack:URL``, ``webhook:URL`` or ``smtp://...`` (see the module docstring)."""
    env = os.environ if environ is None else environ
    policy = policy or AddressPolicy.from_env(env)
    kind, _, rest = spec.partition(":")
    if kind == "slack" and rest:
        return SlackChannel(rest, policy)
    if kind == "webhook" and rest:
        secret = env.get(WEBHOOK_SECRET_ENV, "")
        if not secret:
            raise AlertError(f"webhook alerts are signed: set ${WEBHOOK_SECRET_ENV}",
                             where="--alert webhook:")
        return WebhookChannel(rest, secret, policy)
    if kind in ("smtp", "smtps"):
        return _smtp_channel(spec, env, policy)
    raise InputError(f"unknown alert channel {spec.split(':', 1)[0][:30]!r}", where="--alert",
                     hint="slack:URL, webhook:URL or smtp://[user@]host[:port]?from=A&to=B")


def _smtp_channel(spec: str, env: Mapping[str, str], policy: AddressPolicy) -> SmtpChannel:
    where = "--alert smtp"
    try:
        parts = urlsplit(spec)
        port = parts.port
    except ValueError:
        raise AlertError("not an smtp:// URL", where=where) from None
    if parts.scheme != "smtp" or not parts.hostname:
        raise AlertError("use smtp://[user@]host[:port]?from=A&to=B[&starttls=1]", where=where)
    if parts.password is not None:
        raise AlertError("a password on the command line would be visible to every user",
                         where=where, hint=f"set ${SMTP_PASSWORD_ENV} instead")
    query = parse_qs(parts.query)
    sender, recipients = query.get("from", [""])[0], tuple(query.get("to", []))
    if not sender or not recipients:
        raise AlertError("an SMTP alert needs from= and to= addresses", where=where)
    username = parts.username or ""
    password = env.get(SMTP_PASSWORD_ENV, "")
    if username and not password:
        raise AlertError(f"a user is given: set ${SMTP_PASSWORD_ENV}", where=where)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    return SmtpChannel(parts.hostname, port or (587 if starttls else 25), sender, recipients,
                       username, password, starttls, policy)


# ---------------------------------------------------------------- delivery


@dataclass
class Delivery:
    sent: dict[str, int] = field(default_factory=dict)  # channel -> alerts delivered
    skipped: int = 0  # already delivered before (dedup)
    errors: list[str] = field(default_factory=list)


def deliver(channels: Sequence[Channel], alerts: Sequence[Alert], *, digest: bool,
            already_sent: Callable[[str, list[str]], set[str]],
            mark_sent: Callable[[str, list[str]], None]) -> Delivery:
    """Send each alert not yet delivered on each channel; record what was delivered."""
    report = Delivery()
    for channel in channels:
        done = already_sent(channel.name, [a.key for a in alerts])
        todo = [a for a in alerts if a.key not in done]
        report.skipped += len(alerts) - len(todo)
        batches = [todo] if digest and todo else [[a] for a in todo]
        for batch in batches:
            try:
                channel.send(batch)
            except HullguardError as error:
                report.errors.append(f"{channel.name}: {error.message}")
                continue
            mark_sent(channel.name, [a.key for a in batch])
            report.sent[channel.name] = report.sent.get(channel.name, 0) + len(batch)
    return report
