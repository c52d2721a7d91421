"""``pin``: rewrite every image reference in manifests, compose files and Dockerfiles to the
mirror, by digest (``mirror/repo@sha256:...``), keeping the original as a ``# was:`` comment.

The flow: find the files (:func:`files_under`), locate the references in each
(:mod:`.pin_yaml`, :mod:`.pin_dockerfile`), resolve each to its mirror reference (a mapping
file written by ``mirror``, or the mirror registry itself: :class:`MapResolver`,
:class:`MirrorResolver`), and compute every file's new text (:func:`plan`). Nothing is written
until every file has been read, parsed and checked; :func:`write_plans` then replaces each
changed file atomically. What cannot be pinned is listed with file:line and a reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hullguard.errors import HullguardError, InputError, NotFoundError, UnsafePathError
from hullguard.fsutil import read_bounded, write_bytes_atomic
from hullguard.harden.mirror.mapping import MappingEntry, MirrorTarget, mirror_name
from hullguard.harden.mirror.pin_model import (
    Edit,
    Found,
    Site,
    apply_edits,
    unified_diff_lines,
)
from hullguard.images.reference import parse_reference
from hullguard.inventory import compose as compose_mod
from hullguard.inventory.collect import walk_files
from hullguard.inventory.dockerfile import looks_like_dockerfile
from hullguard.inventory.yamlsafe import Limits, loads_all
from hullguard.model.reference import ImageReference

_YAML_SUFFIXES = (".yaml", ".yml", ".json")
# pin reads about 100 KB/s of image-bearing YAML per core (ruamel's composer is pure Python,
# bench/pin_bench.py): 8 MiB bounds one hostile file to a minute or two; manifests in a
# repository are far smaller.
MAX_PIN_BYTES = 8 << 20
PIN_LIMITS = Limits(max_bytes=MAX_PIN_BYTES)
KUSTOMIZE_HEADER = "# kustomize images: written by `hullguard pin`"


class Unresolved(Exception):
    """A reference the resolver cannot pin; the message is the reason."""


class Resolver(Protocol):
    def at_mirror(self, ref: ImageReference) -> bool:
        """True when ``ref`` already names the mirror by digest (nothing to do)."""

    def resolve(self, text: str, ref: ImageReference) -> str:
        """The mirror reference ``name@digest`` for ``ref``; Unresolved with the reason."""


class MapResolver:
    """Resolves from a mapping file written by ``hullguard mirror``."""

    def __init__(self, entries: Iterable[MappingEntry]) -> None:
        self.by_text: dict[str, MappingEntry] = {}
        self.by_ref: dict[str, MappingEntry] = {}
        self.mirrors: set[str] = set()
        for entry in entries:
            self.by_text[entry.source] = entry
            ref = parse_reference(entry.source)
            self.by_ref[str(ref)] = entry
            # a reference already pinned to the digest the source resolved to is the same image
            self.by_ref.setdefault(f"{ref.name}@{entry.digest}", entry)
            self.mirrors.add(entry.mirror_reference.pinned)

    def at_mirror(self, ref: ImageReference) -> bool:
        return ref.digest is not None and ref.pinned in self.mirrors

    def resolve(self, text: str, ref: ImageReference) -> str:
        entry = self.by_text.get(text) or self.by_ref.get(str(ref)) or \
            (self.by_ref.get(ref.pinned) if ref.digest else None)
        if entry is None:
            raise Unresolved("not in the mapping")
        return entry.mirror_reference.pinned


ClientFactory = Any  # (ImageReference) -> RegistryClient; Any keeps httpx out of start-up


class MirrorResolver:
    """Resolves each reference's digest at the mirror registry (the image must be there)."""

    def __init__(self, target: MirrorTarget, name_map: Mapping[str, str] | None = None,
                 client_for: ClientFactory = None) -> None:
        self.target, self.name_map = target, dict(name_map or {})
        self.client_for = client_for or _default_client
        self.clients: dict[str, Any] = {}
        self.cache: dict[str, str] = {}
        self.hosts = {target.registry} | {v.split("/", 1)[0] for v in self.name_map.values()}

    def at_mirror(self, ref: ImageReference) -> bool:
        return ref.digest is not None and ref.registry in self.hosts

    def resolve(self, text: str, ref: ImageReference) -> str:
        name = ref.name if ref.registry in self.hosts else \
            mirror_name(ref, self.target, self.name_map)
        wanted = parse_reference(name + (f":{ref.tag}" if ref.tag and not ref.digest else "")
                                 + (f"@{ref.digest}" if ref.digest else ""))
        key = str(wanted)
        if key not in self.cache:
            self.cache[key] = f"{wanted.name}@{self._digest(wanted)}"
        return self.cache[key]

    def _digest(self, wanted: ImageReference) -> str:
        client = self.clients.get(wanted.registry)
        if client is None:
            client = self.clients[wanted.registry] = self.client_for(wanted)
        try:
            _, _, digest = client.get_manifest(wanted)
        except NotFoundError:
            hint = "`hullguard mirror --tags` writes tags there; or pin with --map and the " \
                "mapping file" if wanted.digest is None else "copy it with `hullguard mirror`"
            raise Unresolved(f"{wanted} is not at the mirror ({hint})") from None
        return str(digest)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _default_client(ref: ImageReference) -> Any:
    from hullguard.images.api import SourceOptions
    from hullguard.images.registry.source import client_for

    return client_for(ref, SourceOptions())


# ---------------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileInput:
    path: Path      # as the user will see it
    root: Path      # the tree it was found in: a symlink may not leave it
    explicit: bool  # named on the command line (else found while walking a directory)


def files_under(paths: Iterable[str | Path]) -> list[FileInput]:
    """The files to look at: named files, and manifests / compose files / Dockerfiles under
    named directories (symlinked directories are not followed)."""
    found: list[FileInput] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += [FileInput(f, path, False) for f in walk_files(path) if _candidate(f.name)]
        elif os.path.lexists(path):
            found.append(FileInput(path, path.parent, True))
        else:
            raise InputError("no such file or directory", where=str(path))
    return found


def _candidate(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(_YAML_SUFFIXES) or "dockerfile" in lower or "containerfile" in lower


def _checked_target(item: FileInput) -> Path:
    """The real file to read and replace; a symlink that leaves its tree is refused."""
    resolved = item.path.resolve()
    root = item.root.resolve()
    if item.path.is_symlink() and not resolved.is_relative_to(root):
        raise UnsafePathError(f"a symlink to {resolved}, outside {item.root}",
                              where=str(item.path),
                              hint="pin the file where it lives, or remove the link")
    return resolved


# ---------------------------------------------------------------------------- planning


@dataclass
class FilePlan:
    path: Path
    target: Path
    original: str
    updated: str
    pinned: list[tuple[Found, str]] = field(default_factory=list)
    unpinned: list[tuple[Found, str]] = field(default_factory=list)
    already: int = 0
    edits: list[Edit] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.updated != self.original


@dataclass(frozen=True)
class KustomizeImage:
    name: str       # as written in the manifests (kustomize matches the name, not the tag)
    new_name: str
    digest: str


@dataclass
class PinResult:
    plans: list[FilePlan] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    kustomize: list[KustomizeImage] = field(default_factory=list)

    @property
    def unpinned(self) -> list[tuple[Found, str]]:
        return [u for p in self.plans for u in p.unpinned]

    @property
    def pinned(self) -> list[tuple[Found, str]]:
        return [x for p in self.plans for x in p.pinned]


@dataclass(frozen=True)
class PinOptions:
    kustomize: bool = False  # Kubernetes references become kustomize images: entries
    environ: Mapping[str, str] | None = None  # compose variables (default: --env/--env-file)
    limits: Limits = PIN_LIMITS


def plan(paths: Iterable[str | Path], resolver: Resolver,
         options: PinOptions = PinOptions()) -> PinResult:
    """Every file's new text; raises (nothing written) on a file that cannot be read."""
    result, seen = PinResult(), set[Path]()
    kustomize = _Kustomize()
    for item in files_under(paths):
        target = _checked_target(item)
        if target in seen:
            continue
        seen.add(target)
        file_plan = _plan_file(item, target, resolver, options, kustomize, result)
        if file_plan is not None:
            result.plans.append(file_plan)
    result.kustomize = kustomize.images()
    return result


def _plan_file(item: FileInput, target: Path, resolver: Resolver, options: PinOptions,
               kustomize: _Kustomize, result: PinResult) -> FilePlan | None:
    text = _read_text(target, item.path, options.limits)
    where = str(item.path)
    sites: list[Site] | None = None
    if looks_like_dockerfile(text):
        from hullguard.harden.mirror import pin_dockerfile

        sites = pin_dockerfile.find_sites(text, where)
    elif item.explicit or item.path.name.lower().endswith(_YAML_SUFFIXES):
        sites = _yaml_sites(item, text, options, result)
    if sites is None:
        return None  # unreadable YAML found while walking (listed), or a Dockerfile.md
    if not sites and item.explicit:
        result.skipped.append((where, "no image references (not a Kubernetes manifest, "
                                      "compose file or Dockerfile?)"))
    file_plan = FilePlan(item.path, target, text, text)
    edits: list[Edit] = []
    for site in sites:
        edits += _pin_site(site, resolver, options, kustomize, file_plan)
    file_plan.edits = edits
    file_plan.updated = apply_edits(text, edits)
    if file_plan.changed and not looks_like_dockerfile(text):
        _verify_yaml(file_plan, options.limits)
    return file_plan


def _read_text(target: Path, shown: Path, limits: Limits) -> str:
    where = str(shown)
    try:
        raw = read_bounded(target, limits.max_bytes)
    except HullguardError as error:
        error.where = where
        raise
    if b"\x00" in raw[:8192]:
        raise InputError("a binary file, not a manifest, compose file or Dockerfile",
                         where=where)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start})", where=where) from None


def _yaml_sites(item: FileInput, text: str, options: PinOptions,
                result: PinResult) -> list[Site] | None:
    from hullguard.errors import LimitExceeded
    from hullguard.harden.mirror import pin_yaml

    try:
        return pin_yaml.find_sites(text, item.path, _compose_env(item.path, options),
                                   options.limits)
    except LimitExceeded:
        raise  # hostile input: one clear error, nothing written
    except InputError as error:
        if item.explicit:
            raise
        result.skipped.append((str(item.path), f"not read: {error.diagnostics()}"))
        return None


def _compose_env(path: Path, options: PinOptions) -> dict[str, str]:
    """Compose variables as the inventory reads them: .env beside the file, then what the
    user passed (--env NAME, --env-file), never the whole environment."""
    env: dict[str, str] = {}
    dotenv = path.parent / ".env"
    if dotenv.is_file():
        env.update(compose_mod.read_dotenv(dotenv)[0])
    env.update(compose_mod.user_variables() if options.environ is None else options.environ)
    return env


def _pin_site(site: Site, resolver: Resolver, options: PinOptions, kustomize: _Kustomize,
              file_plan: FilePlan) -> list[Edit]:
    found = site.found
    if found.reason:
        file_plan.unpinned.append((found, found.reason))
        return []
    try:
        ref = parse_reference(found.reference)
        if resolver.at_mirror(ref):
            file_plan.already += 1
            return []
        mirror = resolver.resolve(found.reference, ref)
        if options.kustomize and found.kind == "kubernetes":
            kustomize.add(found, mirror)
            file_plan.pinned.append((found, mirror))
            return []
    except (Unresolved, InputError) as error:
        reason = error.message if isinstance(error, InputError) else str(error)
        file_plan.unpinned.append((found, reason))
        return []
    file_plan.pinned.append((found, mirror))
    return site.edits(mirror)


class _Kustomize:
    """kustomize ``images:`` entries; kustomize matches a name whatever its tag, so one
    name written with two tags cannot be expressed (the second is reported)."""

    def __init__(self) -> None:
        self.entries: dict[str, KustomizeImage] = {}

    def add(self, found: Found, mirror: str) -> None:
        if found.text != found.reference:
            raise Unresolved("kustomize cannot match an image written with a variable")
        name = _written_name(found.text)
        new_name, _, digest = mirror.partition("@")
        image = KustomizeImage(name, new_name, digest)
        if self.entries.setdefault(name, image) != image:
            raise Unresolved(f"kustomize matches {name} by name, and it is already pinned "
                             f"to {self.entries[name].new_name}@{self.entries[name].digest}")

    def images(self) -> list[KustomizeImage]:
        return sorted(self.entries.values(), key=lambda i: i.name)


def _written_name(text: str) -> str:
    """The name kustomize matches: the reference as written without tag and digest."""
    name = text.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _verify_yaml(file_plan: FilePlan, limits: Limits) -> None:
    """The edited text must parse to the same documents with only the pinned values changed:
    a last check that no edit landed somewhere else (inside a multi-line string, say)."""
    where = str(file_plan.path)
    before = loads_all(file_plan.original, where, limits).documents
    try:
        after = loads_all(file_plan.updated, where, limits).documents
    except HullguardError:
        after = None
    allowed = {(found.text, mirror) for found, mirror in file_plan.pinned}
    if after is None or not _same(before, after, allowed):
        raise InputError("pinning would change more than the image values (an unusual "
                         "layout?); nothing was changed", where=where,
                         hint="pin this file by hand or report it as a hullguard bug")


def _same(before: Any, after: Any, allowed: set[tuple[Any, str]]) -> bool:
    if isinstance(before, dict) and isinstance(after, dict):
        return list(before) == list(after) and all(
            _same(before[k], after[k], allowed) for k in before)
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(
            _same(b, a, allowed) for b, a in zip(before, after, strict=True))
    return bool(before == after or (before, after) in allowed)


# ---------------------------------------------------------------------------- output


def unified_diff(plans: Iterable[FilePlan]) -> str:
    """One unified diff of every changed file (``a/PATH`` / ``b/PATH``)."""
    out: list[str] = []
    for file_plan in plans:
        if file_plan.changed:
            out += _diff_lines(file_plan)
    return "".join(out)


def _diff_lines(file_plan: FilePlan) -> Iterator[str]:
    shown = file_plan.path.as_posix()
    for line in unified_diff_lines(file_plan.original, file_plan.edits, f"a/{shown}",
                                   f"b/{shown}"):
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def write_plans(plans: Iterable[FilePlan]) -> list[FilePlan]:
    """Replace every changed file atomically, keeping its mode; returns those written."""
    written = []
    for file_plan in plans:
        if not file_plan.changed:
            continue
        mode = file_plan.target.stat().st_mode & 0o7777
        try:
            write_bytes_atomic(file_plan.target, file_plan.updated.encode("utf-8"))
            os.chmod(file_plan.target, mode)
        except OSError as error:
            raise InputError(f"cannot write: {error.strerror or error}",
                             where=str(file_plan.path)) from None
        written.append(file_plan)
    return written


def kustomize_text(images: Iterable[KustomizeImage]) -> str:
    """A kustomization ``images:`` list (paste it into kustomization.yaml, or add it as is)."""
    import json

    lines = [KUSTOMIZE_HEADER, "images:"]
    for image in images:  # JSON strings are valid YAML scalars: names need no other quoting
        lines += [f"- name: {json.dumps(image.name)}", f"  newName: {json.dumps(image.new_name)}",
                  f"  digest: {json.dumps(image.digest)}"]
    if len(lines) == 2:
        lines[1] = "images: []"
    return "\n".join(lines) + "\n"


def check_kustomize_file(path: Path) -> None:
    """``--kustomize FILE`` replaces only a file it wrote before (never a kustomization)."""
    if not os.path.lexists(path):
        return
    head = read_bounded(path, 1 << 20)[: len(KUSTOMIZE_HEADER)] if path.is_file() else b""
    if head != KUSTOMIZE_HEADER.encode():
        raise InputError("exists and was not written by `hullguard pin --kustomize`; it is "
                         "not replaced", where=f"--kustomize {path}",
                         hint="name a new file and add its images: list to your "
                              "kustomization.yaml")
