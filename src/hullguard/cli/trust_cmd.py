"""``hullguard keygen | sign | attest | verify | verify-attestation``: cosign-compatible keys,
signatures and in-toto attestations (docs/trust.md). Crypto libraries load inside commands."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    EXIT_FINDINGS,
    OUTPUT_OPTION,
    REGISTRY_DEADLINE_OPTION,
    check_format,
    check_output_file,
    eprint,
    handle_errors,
    printable,
    write_output,
)
from hullguard.errors import InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from hullguard.harden.trust.attach import Attachments, Target
    from hullguard.harden.trust.verify import Checked
    from hullguard.images.registry.client import RegistryClient

PASSWORD_ENV = "COSIGN_PASSWORD"
IMAGE_HELP = "Image in a registry: HOST/REPO:TAG or HOST/REPO@sha256:... (a digest is safer)."
VERIFY_IMAGE_HELP = IMAGE_HELP + " Or oci:DIR, a layout written by cosign save (offline)."
KEY_HELP = "Key file: cosign.key (encrypted, password from COSIGN_PASSWORD) or a PEM key."
PUB_HELP = "Public key file (cosign.pub, PEM)."
LAYOUT_HELP = ("Where to write: legacy (cosign's sha256-HEX.sig/.att tags), bundle (Sigstore "
               "bundle v0.3 as an OCI referrer), both.")
TYPE_HELP = ("Predicate type: cyclonedx, spdx, spdxjson, vuln, slsaprovenance, "
             "slsaprovenance1, custom, or a URI.")
SIG_REPO_HELP = "Repository (same registry) holding signatures, like COSIGN_REPOSITORY."

Insecure = Annotated[bool, typer.Option(
    "--insecure", help="Allow plain HTTP / unverified TLS to a registry.")]
Username = Annotated[str | None, typer.Option(
    "--username", "-u", help="Registry user name (with --password-stdin).")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the registry password from stdin.")]
SignatureRepo = Annotated[str | None, typer.Option("--signature-repo", help=SIG_REPO_HELP)]
VerifyKey = Annotated[Path | None, typer.Option(
    "--key", help=PUB_HELP + " Or, keyless, --trusted-root with the identity flags.",
    dir_okay=False)]
TrustedRoot = Annotated[Path | None, typer.Option(
    "--trusted-root", dir_okay=False,
    help="Keyless: a Sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys); "
         "bundles are verified offline against it, nothing is fetched.")]
CertIdentity = Annotated[str | None, typer.Option(
    "--certificate-identity", help="Keyless: the signer's identity (certificate SAN), exact.")]
CertIdentityRegexp = Annotated[str | None, typer.Option(
    "--certificate-identity-regexp",
    help="Keyless: a regular expression the signer's identity must match (unanchored, as "
         "cosign; anchor it with ^...$).")]
CertIssuer = Annotated[str | None, typer.Option(
    "--certificate-oidc-issuer", help="Keyless: the OIDC issuer of the signer's certificate, "
    "exact (required with --trusted-root).")]


def register(app: typer.Typer) -> None:
    app.command("keygen")(keygen_command)
    app.command("sign")(sign_command)
    app.command("attest")(attest_command)
    app.command("verify")(verify_command)
    app.command("verify-attestation")(verify_attestation_command)
    trust_app = typer.Typer(help="Trust migrations: what still depends on Docker Content "
                            "Trust.", no_args_is_help=True)
    trust_app.command("dct-audit")(dct_audit_command)
    app.add_typer(trust_app, name="trust")


# -- keys ------------------------------------------------------------------------------------

@handle_errors
def keygen_command(
    out_prefix: Annotated[str, typer.Option(
        "--out-prefix", help="Write PREFIX.key and PREFIX.pub.")] = "cosign",
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Generate an ECDSA P-256 key pair in cosign's format (PREFIX.key encrypted with
    COSIGN_PASSWORD or a prompted password, PREFIX.pub)."""
    from hullguard.fsutil import write_text_atomic
    from hullguard.harden.trust.keys import generate_key_pair

    private, public = Path(f"{out_prefix}.key"), Path(f"{out_prefix}.pub")
    for path in (private, public):
        if path.exists() and not force:
            raise InputError("file exists", where=str(path), hint="pass --force to overwrite")
    pair = generate_key_pair(_new_password())
    old_umask = os.umask(0o077)  # the private key is 0600 from the moment it exists
    try:
        write_text_atomic(private, pair.private_pem.decode())
        os.umask(old_umask)
        write_text_atomic(public, pair.public_pem.decode())
    except OSError as error:
        raise InputError(f"cannot write: {error.strerror or error}", where=str(private)) \
            from None
    finally:
        os.umask(old_umask)
    eprint(f"Private key written to {private}\nPublic key written to {public}")


def _new_password() -> bytes:
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV].encode()
    first = _prompt("Enter password for private key: ")
    if _prompt("Enter password for private key again: ") != first:
        raise InputError("the passwords differ", where="password prompt")
    return first


def _prompt(text: str) -> bytes:
    import getpass

    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the key password", where=PASSWORD_ENV,
                         hint=f"set {PASSWORD_ENV}")
    return getpass.getpass(text).encode()


def _private_key(path: Path) -> PrivateKeyTypes:
    from hullguard.harden.trust.keys import ENCRYPTED_PEMS, load_private_key

    data = _read_key_file(path)
    needs_password = any(kind.encode() in data for kind in ENCRYPTED_PEMS) \
        or b"ENCRYPTED PRIVATE KEY" in data
    password = None
    if needs_password:
        password = os.environ[PASSWORD_ENV].encode() if PASSWORD_ENV in os.environ else \
            _prompt("Enter password for private key: ")
    return load_private_key(data, password, str(path))


def _read_key_file(path: Path) -> bytes:
    from hullguard.harden.trust.keys import read_key_file

    return read_key_file(path)


# -- registry --------------------------------------------------------------------------------

def _open(image: str, signature_repo: str | None, insecure: bool, username: str | None,
          password_stdin: bool) -> tuple[RegistryClient, Target]:
    from hullguard.cli.sbom_cmd import _source_options
    from hullguard.harden.trust.attach import resolve
    from hullguard.images.reference import parse_source
    from hullguard.images.registry.source import client_for

    source = parse_source(image)
    if source.reference is None:
        raise InputError("signing and verifying need an image in a registry", where=image,
                         hint="push it first, e.g. with skopeo or crane")
    reference = source.reference
    repository = _signature_repository(signature_repo, reference.registry)
    client = client_for(reference, _source_options("linux/amd64", insecure, username,
                                                   password_stdin))
    try:
        return client, resolve(client, reference, repository)
    except BaseException:
        client.close()
        raise


def _signature_repository(text: str | None, registry: str) -> str:
    if not text:
        return ""
    from hullguard.images.reference import parse_reference

    reference = parse_reference(text)
    if reference.registry != registry or reference.tag not in ("", "latest") \
            or reference.digest:
        raise InputError("must be a repository on the image's registry, without tag",
                         where="--signature-repo")
    return reference.repository


def _warn_tag(target: Target) -> None:
    from hullguard.harden.trust.verify import digest_warning

    warning = digest_warning(target)
    if warning:
        eprint(f"warning: {warning}")


# -- sign / attest ---------------------------------------------------------------------------

@handle_errors
def sign_command(
    image: Annotated[str, typer.Argument(help=IMAGE_HELP)],
    key: Annotated[Path, typer.Option("--key", help=KEY_HELP, dir_okay=False)],
    layout: Annotated[str, typer.Option("--format", help=LAYOUT_HELP)] = "both",
    annotation: Annotated[list[str] | None, typer.Option(
        "--annotation", "-a", help="KEY=VALUE signed into the legacy payload (repeatable).")
    ] = None,
    signature_repo: SignatureRepo = None,
    insecure: Insecure = False, username: Username = None, password_stdin: PasswordStdin = False,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
) -> None:
    """Sign IMAGE's digest with --key: cosign's legacy .sig layout and/or a bundle referrer."""
    from hullguard.harden.trust.sign import check_layout, sign_image

    check_layout(layout)
    annotations = _annotations(annotation or [])
    private = _private_key(key)
    client, target = _open(image, signature_repo, insecure, username, password_stdin)
    with client:
        _warn_tag(target)
        written = sign_image(client, target, private, layout, annotations)
    _report_written("signed", written.target, written.places)


def _annotations(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise InputError(f"annotation {pair!r} is not KEY=VALUE", where="--annotation")
        found[name] = value
    return found


def _report_written(verb: str, target: Target, places: list[str]) -> None:
    name = f"{target.reference.registry}/{target.signature_repository}"
    for place in places:
        shown = place if place.startswith("referrer") else f"{name}:{place}"
        typer.echo(printable(f"{verb} {target.reference.name}@{target.digest} -> {shown}"))


@handle_errors
def attest_command(
    image: Annotated[str, typer.Argument(help=IMAGE_HELP)],
    key: Annotated[Path, typer.Option("--key", help=KEY_HELP, dir_okay=False)],
    predicate_name: Annotated[str, typer.Option("--type", help=TYPE_HELP)] = "custom",
    predicate: Annotated[Path | None, typer.Option(
        "--predicate", dir_okay=False, help="Predicate JSON file; for cyclonedx/spdx without "
        "it, hullguard's own SBOM of IMAGE is used.")] = None,
    layout: Annotated[str, typer.Option("--format", help=LAYOUT_HELP)] = "both",
    signature_repo: SignatureRepo = None,
    insecure: Insecure = False, username: Username = None, password_stdin: PasswordStdin = False,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
) -> None:
    """Attest IMAGE: an in-toto statement in a DSSE envelope, signed with --key."""
    from hullguard.harden.trust.formats import predicate_type
    from hullguard.harden.trust.sign import attest_image, check_layout

    check_layout(layout)
    uri = predicate_type(predicate_name)
    if predicate is None and predicate_name not in ("cyclonedx", "spdx", "spdxjson"):
        raise InputError(f"--type {predicate_name} needs --predicate FILE", where="--predicate")
    document = _read_predicate(predicate) if predicate else None
    private = _private_key(key)
    client, target = _open(image, signature_repo, insecure, username, password_stdin)
    with client:
        _warn_tag(target)
        if document is None:
            document = _own_sbom(target, predicate_name, insecure, username)
        written = attest_image(client, target, private, layout, uri, document)
    _report_written("attested", written.target, written.places)


MAX_PREDICATE = 32 << 20


def _read_predicate(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PREDICATE + 1)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", where=str(path)) from None
    if len(data) > MAX_PREDICATE:
        raise InputError(f"predicate is over {MAX_PREDICATE} bytes", where=str(path))
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError("predicate is not JSON", where=str(path)) from None


def _own_sbom(target: Target, kind: str, insecure: bool, username: str | None) -> Any:
    """hullguard's SBOM of the very digest being attested, as the predicate."""
    from hullguard.catalog import catalog_image
    from hullguard.images.api import SourceOptions
    from hullguard.sbom import render

    if username:
        raise InputError("an SBOM predicate from a private registry needs --predicate FILE",
                         where="--predicate", hint="run hullguard sbom first, then pass it")
    pinned = f"{target.reference.name}@{target.digest}"
    sbom = catalog_image(pinned, SourceOptions(insecure=insecure))
    return json.loads(render(sbom, "cyclonedx-json" if kind == "cyclonedx" else "spdx-json"))


# -- verify ----------------------------------------------------------------------------------

@handle_errors
def verify_command(
    image: Annotated[str, typer.Argument(help=VERIFY_IMAGE_HELP)],
    key: VerifyKey = None,
    trusted_root: TrustedRoot = None, certificate_identity: CertIdentity = None,
    certificate_identity_regexp: CertIdentityRegexp = None,
    certificate_oidc_issuer: CertIssuer = None,
    signature_repo: SignatureRepo = None,
    insecure: Insecure = False, username: Username = None, password_stdin: PasswordStdin = False,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
) -> None:
    """Verify IMAGE's signatures (legacy .sig and bundle referrers) with --key, or keyless
    bundles with --trusted-root and the signer's identity; exit 1 when none verifies."""
    from hullguard.harden.trust.verify import verify_signatures

    public, key_name = _trust(key, trusted_root, certificate_identity,
                              certificate_identity_regexp, certificate_oidc_issuer)
    with _attachments(image, signature_repo, insecure, username, password_stdin) as (
            store, target):
        found = verify_signatures(store, target, public)
    _report_checked(target, found, key_name, "signature")


@handle_errors
def verify_attestation_command(
    image: Annotated[str, typer.Argument(help=VERIFY_IMAGE_HELP)],
    key: VerifyKey = None,
    trusted_root: TrustedRoot = None, certificate_identity: CertIdentity = None,
    certificate_identity_regexp: CertIdentityRegexp = None,
    certificate_oidc_issuer: CertIssuer = None,
    predicate_name: Annotated[str, typer.Option("--type", help=TYPE_HELP)] = "custom",
    signature_repo: SignatureRepo = None,
    insecure: Insecure = False, username: Username = None, password_stdin: PasswordStdin = False,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
) -> None:
    """Verify IMAGE's attestations of --type with --key (or keyless: --trusted-root and the
    signer's identity); exit 1 when none verifies."""
    from hullguard.harden.trust.formats import predicate_type
    from hullguard.harden.trust.verify import verify_attestations

    uri = predicate_type(predicate_name)
    public, key_name = _trust(key, trusted_root, certificate_identity,
                              certificate_identity_regexp, certificate_oidc_issuer)
    with _attachments(image, signature_repo, insecure, username, password_stdin) as (
            store, target):
        found = verify_attestations(store, target, public, uri)
    _report_checked(target, found, key_name, "attestation")


@contextlib.contextmanager
def _attachments(image: str, signature_repo: str | None, insecure: bool,
                 username: str | None, password_stdin: bool
                 ) -> Iterator[tuple[Attachments, Target]]:
    """Where IMAGE's signatures are: a ``cosign save`` layout (``oci:DIR``, offline) or the
    registry (the client is closed when the block ends)."""
    from hullguard.harden.trust.attach import RegistryAttachments
    from hullguard.harden.trust.layout import open_layout

    if image.startswith(("oci:", "oci-dir:", "oci-layout:")):
        yield open_layout(image.split(":", 1)[1])
        return
    client, target = _open(image, signature_repo, insecure, username, password_stdin)
    with client:
        _warn_tag(target)
        yield RegistryAttachments(client, target), target


def _trust(key: Path | None, trusted_root: Path | None, subject: str | None,
           subject_regexp: str | None, issuer: str | None) -> tuple[Any, str]:
    """A public key (--key) or a keyless trusted root with one identity: exactly one."""
    from hullguard.harden.trust import keyless

    identity_given = subject or subject_regexp or issuer
    if key is not None and trusted_root is not None:
        raise InputError("give --key or --trusted-root, not both", where="--trusted-root")
    if key is not None:
        if identity_given:
            raise InputError("certificate identity flags need --trusted-root (keyless), not "
                             "--key", where="--certificate-identity")
        return _public_key(key)
    if trusted_root is None:
        raise InputError("nothing to verify with", where="--key",
                         hint="give --key FILE, or --trusted-root FILE with "
                              "--certificate-identity[-regexp] and --certificate-oidc-issuer")
    wanted = keyless.identity(issuer, subject, subject_regexp, "--certificate-identity")
    found = keyless.load(trusted_root, (wanted,))
    return found, found.describe()


def _public_key(path: Path) -> tuple[Any, str]:
    from hullguard.harden.trust.keys import key_id, load_public_key

    key = load_public_key(_read_key_file(path), str(path))
    return key, f"{path} ({key_id(key)[:19]})"


def _report_checked(target: Target, found: list[Checked], key_name: str, what: str) -> None:
    typer.echo(printable(f"{target.name}@{target.digest}"))
    for item in found:
        mark = "OK  " if item.verified else "FAIL"
        extra = f" [{item.predicate_type}]" if item.predicate_type else ""
        typer.echo(printable(f"  {mark} {item.layout:6} {item.location}{extra}: {item.reason}"))
    good = sum(item.verified for item in found)
    using = key_name if key_name.startswith("trusted root") else f"key {key_name}"
    typer.echo(printable(f"{good} of {len(found)} {what}(s) verified with {using}"))
    if not good:
        eprint(f"error: no valid {what} for {target.name}@{target.digest}")
        raise typer.Exit(EXIT_FINDINGS)


# -- Docker Content Trust migration ----------------------------------------------------------
@handle_errors
def dct_audit_command(
    paths: Annotated[list[Path], typer.Argument(
        help="Repositories, CI folders or files to search (symbolic links are not followed).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or sarif.")] = "text",
    plan_file: Annotated[Path | None, typer.Option(
        "--plan", dir_okay=False, help="Write the migration plan (Markdown) to FILE.")] = None,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Find what still depends on Docker Content Trust / Notary v1 (retired: notary.docker.io
    shuts down on 2026-12-08) and write the migration plan. Exit 1 when anything was found."""
    from hullguard.harden.trust.dct import audit
    from hullguard.harden.trust.dct_report import FORMATS, plan, render

    check_format(fmt, FORMATS)
    check_output_file(plan_file, "--plan")
    check_output_file(output, "--output")
    result = audit(paths)
    if plan_file is not None:
        write_output(plan(result), plan_file)
    write_output(render(result, fmt), output)
    if result.findings:
        raise typer.Exit(EXIT_FINDINGS)
