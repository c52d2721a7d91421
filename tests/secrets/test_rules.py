"""Every rule's positive examples match and its negative ones do not; coverage of the kinds the
issue names; rule-file validation."""

from __future__ import annotations

import pytest

from hullguard.errors import InputError
from hullguard.secrets import scan_bytes
from hullguard.secrets.engine import Matcher
from hullguard.secrets.rules import Rule, builtin_rules, is_placeholder, parse_rules
from tests.secrets.corpus import GITHUB

RULES = builtin_rules()
REQUIRED = (
    "aws-access-key-id", "aws-secret-access-key", "gcp-service-account-key",
    "azure-storage-connection-string", "azure-storage-account-key", "azure-sas-token",
    "github-personal-token", "github-oauth-token", "github-user-token", "github-server-token",
    "github-refresh-token", "github-fine-grained-pat", "gitlab-pat", "dockerhub-pat",
    "npm-token", "pypi-token", "slack-token", "slack-webhook", "stripe-secret-key",
    "stripe-restricted-key", "twilio-api-key", "sendgrid-api-key", "openai-api-key",
    "openai-project-key", "anthropic-api-key", "huggingface-token", "google-api-key",
    "private-key-rsa", "private-key-ec", "private-key-dsa", "private-key-pkcs8",
    "private-key-openssh", "private-key-pgp", "jwt", "url-password", "netrc-password",
    "npmrc-auth", "pypirc-password", "docker-config-auth", "kubeconfig-token",
    "kubeconfig-client-key", "shopify-token", "mailgun-api-key", "mailchimp-api-key",
    "datadog-api-key", "newrelic-user-key", "heroku-api-key", "digitalocean-token",
    "atlassian-api-token", "discord-bot-token", "telegram-bot-token", "square-token",
    "paypal-braintree-token", "postman-api-key", "terraform-cloud-token",
    "hashicorp-vault-token", "grafana-api-key", "sentry-token", "linear-api-key",
    "notion-token", "doppler-token", "pulumi-token", "databricks-token",
    "alibaba-access-key-id", "tencent-secret-id",
)


def _path_for(rule: Rule) -> str:
    return "/home/app/.pypirc" if rule.path is not None else "/app/config.txt"


def test_at_least_50_kinds_with_required_ones() -> None:
    ids = {rule.id for rule in RULES}
    assert len(ids) == len(RULES) >= 50
    assert not set(REQUIRED) - ids


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_examples(rule: Rule) -> None:
    assert rule.positives and rule.negatives, "every rule needs both kinds of example"
    assert rule.keywords and all(k == k.lower() for k in rule.keywords)
    matcher = Matcher([rule])
    for text in rule.positives:
        assert matcher.find(text.encode(), _path_for(rule), config=True), text
        assert any(k in text.lower().encode() for k in rule.keywords), "keyword must occur"
    for text in rule.negatives:
        assert not matcher.find(text.encode(), _path_for(rule), config=True), text


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_positive_found_by_full_rule_set(rule: Rule) -> None:
    """With all rules competing, each positive is still matched (maybe by a more specific
    rule listed earlier), so no rule is shadowed into uselessness. The examples are
    stand-ins (EXAMPLE), which the collector then suppresses: tests/secrets/test_fakes.py
    holds the real-looking fakes that must be reported."""
    assert Matcher().find(rule.positives[0].encode(), _path_for(rule), config=True)


def test_examples_are_obviously_fake() -> None:
    fake_markers = ("EXAMPLE", "example", "0123456789abcdef", "01234567-89ab-cdef", "QPZRY9X8")
    for rule in RULES:
        for text in rule.positives:
            assert any(m in text for m in fake_markers), (rule.id, text[:40])


def test_placeholders() -> None:
    for value in (b"${TOKEN}", b"$TOKEN", b"<password>", b"changeme", b"xxxxxxxx", b"{{ pw }}",
                  b"%(password)s", b"your-password", b"***"):
        assert is_placeholder(value), value
    for value in (b"EXAMPLE-p4ss-9Kq2", b"hunter2-but-longer"):
        assert not is_placeholder(value)


def test_known_documentation_keys_are_suppressed() -> None:
    report = scan_bytes(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                        b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    assert report.findings == () and report.suppressed == 2


def test_line_numbers_and_overlap_resolution() -> None:
    text = b"one\ntwo\nGITHUB_TOKEN=" + GITHUB.encode() + b"\n"
    report = scan_bytes(text, config=True)
    assert [(f.rule_id, f.locations[0].line) for f in report.findings] == [
        ("github-personal-token", 3)]  # the generic TOKEN= rule overlaps and loses


@pytest.mark.parametrize("text", [
    "rules: 3", "rules:\n- id: x\n", "rules:\n- id: x\n  title: t\n  severity: high\n"
    "  keywords: [a]\n  regex: '('\n", "{{{",
])
def test_bad_rule_files(text: str) -> None:
    with pytest.raises(InputError):
        parse_rules(text, "custom.yaml")


def test_aws_documentation_convention_is_suppressed() -> None:
    """AWS docs end sample keys in EXAMPLE; such keys are suppressed, others reported."""
    report = scan_bytes(b"key: AKIAJ4ZWJGK2SEXAMPLE\nother: AKIAJ4ZWJGK2FAKE2222\n")
    assert [f.prefix for f in report.findings] == ["AKIA"] and report.suppressed == 1
    assert report.findings[0].locations[0].line == 2
