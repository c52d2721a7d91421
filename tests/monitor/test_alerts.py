"""Email alerts over STARTTLS with a login, against a real local SMTP server (aiosmtpd) whose
certificate the client verifies: the password comes from the environment and works, a
wrong one is one clear delivery error that never shows it, and a receiver's failure is not
recorded as delivered (the next cycle tries again)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hullguard.monitor.alerts import SMTP_PASSWORD_ENV, Alert, deliver, parse_channel
from tests.monitor.conftest import Mailbox, Receiver
from tests.support import registry as support

PASSWORD = "smtp-test-Pa55word"


@pytest.fixture
def tls_mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult

    pair = support.make_cert(tmp_path, "smtp")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pair.cert, pair.key)
    monkeypatch.setenv("SSL_CERT_FILE", str(pair.cert))  # the client trusts this server only
    box = Mailbox("127.0.0.1", support.free_port())

    class Collect(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            box.messages.append(message)

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str,
                     data: Any) -> AuthResult:
        # handled=False: aiosmtpd answers 235 or 535 itself
        return AuthResult(success=(data.login, data.password) == (b"alerts", PASSWORD.encode()),
                          handled=False)

    controller = Controller(Collect(), hostname=box.host, port=box.port, tls_context=context,
                            require_starttls=True, authenticator=authenticate,
                            auth_required=True)
    controller.start()
    yield box
    controller.stop()


def _alert(key: str) -> Alert:
    return Alert(key, "finding", f"[critical] {key} now affects running image app:1",
                 "sha256:" + "a" * 64, "app:1", "https://dash.example/ui/images/sha256:aa")


def _spec(box: Mailbox) -> str:
    return f"smtp://alerts@{box.host}:{box.port}?from=hg@example.org&to=ops@example.org" \
           "&starttls=1"


def test_starttls_and_login_deliver_once(tls_mailbox: Mailbox) -> None:
    channel = parse_channel(_spec(tls_mailbox), {SMTP_PASSWORD_ENV: PASSWORD})
    sent: set[str] = set()
    report = deliver([channel], [_alert("one"), _alert("two")], digest=True,
                     already_sent=lambda _c, keys: sent & set(keys),
                     mark_sent=lambda _c, keys: sent.update(keys))
    assert report.sent == {channel.name: 2} and not report.errors
    assert len(tls_mailbox.messages) == 1  # digest mode: one message
    assert "2 alerts" in tls_mailbox.messages[0]["Subject"]
    assert "https://dash.example/ui/images/" in tls_mailbox.messages[0].get_payload()


def test_a_wrong_password_is_one_error_and_nothing_is_marked_sent(tls_mailbox: Mailbox) -> None:
    channel = parse_channel(_spec(tls_mailbox), {SMTP_PASSWORD_ENV: "wrong-" + PASSWORD})
    sent: set[str] = set()
    report = deliver([channel], [_alert("one")], digest=False,
                     already_sent=lambda _c, keys: sent & set(keys),
                     mark_sent=lambda _c, keys: sent.update(keys))
    assert report.sent == {} and sent == set() and len(report.errors) == 1
    assert PASSWORD not in report.errors[0] and "SMTPAuthenticationError" in report.errors[0]


def test_a_receiver_error_is_retried_later(receiver: Receiver) -> None:
    channel = parse_channel(f"slack:{receiver.url}/slack", {})
    sent: set[str] = set()
    receiver.status = 500
    failed = deliver([channel], [_alert("one")], digest=False,
                     already_sent=lambda _c, keys: sent & set(keys),
                     mark_sent=lambda _c, keys: sent.update(keys))
    receiver.status = 200
    retried = deliver([channel], [_alert("one")], digest=False,
                      already_sent=lambda _c, keys: sent & set(keys),
                      mark_sent=lambda _c, keys: sent.update(keys))
    assert failed.errors == [f"{channel.name}: the receiver answered HTTP 500"]
    assert retried.sent == {channel.name: 1} and len(receiver.posts) == 2


def test_hostile_names_neither_ping_slack_nor_inject_mail_headers(
        receiver: Receiver, smtp_server: Mailbox) -> None:
    hostile = Alert("k", "finding", "[high] CVE-1 in <!channel> pkg\r\nBcc: victim@example.org",
                    "sha256:" + "b" * 64, "evil<!here>:1", "")
    channels = [parse_channel(f"slack:{receiver.url}/slack", {}),
                parse_channel(f"smtp://{smtp_server.host}:{smtp_server.port}"
                              "?from=hg@example.org&to=ops@example.org", {})]
    report = deliver(channels, [hostile], digest=False, already_sent=lambda _c, _k: set(),
                     mark_sent=lambda _c, _k: None)
    assert not report.errors
    text = receiver.bodies("/slack")[0]["text"]
    assert "<!" not in text and "&lt;!channel&gt;" in text
    message = smtp_server.messages[0]
    assert message["Bcc"] is None and "\n" not in message["Subject"]
    assert message["X-RcptTo"] == "ops@example.org"


def test_a_long_image_key_gives_a_bounded_alert_key() -> None:
    from hullguard.monitor.alerts import alert_key

    key = alert_key("finding", "dir:" + "x" * 2000, "CVE-1", "pkg")
    assert len(key) < 100 and key.startswith("finding:sha256:")
    assert key == alert_key("finding", "dir:" + "x" * 2000, "CVE-1", "pkg")
