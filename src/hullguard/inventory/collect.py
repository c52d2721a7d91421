"""``collect(paths)``: walk files and directories (and optionally a live cluster) into one
:class:`~hullguard.model.inventory.Inventory`.

File kinds are told apart by content: a Dockerfile starts with FROM (after ARGs and comments), a
YAML/JSON document with ``apiVersion``/``kind`` is Kubernetes, one with ``services:`` is compose,
and a text file whose lines are all image references is an image list. Every per-file problem
becomes an :class:`InventoryIssue`; the rest of the inventory is still processed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from hullguard.errors import HullguardError, InputError
from hullguard.inventory import compose as compose_mod
from hullguard.inventory.assemble import Assembler
from hullguard.inventory.context import CriticalityRules
from hullguard.inventory.dockerfile import Dockerfile, looks_like_dockerfile, parse_dockerfile
from hullguard.inventory.kubernetes import objects_from
from hullguard.inventory.references import normalize
from hullguard.inventory.yamlsafe import (
    DEFAULT_LIMITS,
    Limits,
    YamlResult,
    loads_all,
    loads_json,
    read_text,
)
from hullguard.model.inventory import (
    DeclaredBase,
    ImageOccurrence,
    Inventory,
    SourceKind,
    SourceLocation,
)
from hullguard.model.reference import ImageReference

_YAML_SUFFIXES = (".yaml", ".yml", ".json")
_LIST_SUFFIXES = (".txt", ".list", ".images")
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".terraform"})
MAX_FILES = 100_000


def collect(paths: Iterable[str | Path], *, kubeconfig: str | Path | None = None,
            context: str | None = None, cluster: bool = False,
            criticality_rules: CriticalityRules | None = None,
            environ: Mapping[str, str] | None = None, limits: Limits = DEFAULT_LIMITS) -> Inventory:
    """The inventory of every file under ``paths`` and, with ``cluster`` (or a kubeconfig or
    context given), of the live cluster. Per-file failures are issues, never exceptions;
    a cluster that cannot be reached raises (the user asked for it explicitly)."""
    # Compose variables: only what the user passed (--env, --env-file), never the whole
    # process environment (see inventory/compose.py).
    collector = Collector(criticality_rules or CriticalityRules(),
                          compose_mod.user_variables() if environ is None else environ, limits)
    for path in paths:
        collector.add_path(Path(path))
    if cluster or kubeconfig or context:
        from hullguard.inventory.cluster import fetch_objects

        source, objects, warnings = fetch_objects(kubeconfig, context)
        collector.assembler.add_kube_objects(objects)
        collector.assembler.issues_from(source, warnings, "warning")
        collector.assembler.sources.append(source)
    return collector.assembler.inventory()


class Collector:
    def __init__(self, rules: CriticalityRules, environ: Mapping[str, str],
                 limits: Limits) -> None:
        self.assembler = Assembler(rules)
        self.environ, self.limits = environ, limits
        self.seen: set[Path] = set()

    def add_path(self, path: Path) -> None:
        if path.is_dir():
            for index, file in enumerate(walk_files(path)):
                if index >= MAX_FILES:
                    self.assembler.issue(str(path), f"more than {MAX_FILES} files; rest skipped")
                    return
                self.add_file(file, explicit=False)
        elif path.exists():
            self.add_file(path, explicit=True)
        else:
            self.assembler.issue(str(path), "no such file or directory")

    def add_file(self, path: Path, explicit: bool) -> None:
        resolved = path.resolve()
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        try:
            self._dispatch(path, explicit)
        except HullguardError as error:
            self.assembler.error(error, str(path))

    def _dispatch(self, path: Path, explicit: bool) -> None:
        name = path.name.lower()
        if not explicit and not _candidate(name):
            return
        text = read_text(path, self.limits)
        if "\x00" in text[:8192]:
            if explicit:
                self.assembler.issue(str(path), "binary file; not an inventory source")
            return
        if looks_like_dockerfile(text):
            self.add_dockerfile(path, text)
        elif name.endswith(_YAML_SUFFIXES) or _looks_structured(text):
            self.add_documents(path, text, explicit)
        elif explicit or name.endswith(_LIST_SUFFIXES) or "images" in name:
            self.add_image_list(path, text, explicit)

    def add_documents(self, path: Path, text: str, explicit: bool) -> None:
        result = self._load(path, text)
        where = str(path)
        compose_docs = [d for d in result.documents
                        if compose_mod.looks_like_compose(d, path.name.lower())]
        compose_ids = {id(d) for d in compose_docs}
        loaded = objects_from(YamlResult([d for d in result.documents
                                          if id(d) not in compose_ids], []), where, text)
        self.assembler.issues_from(where, result.warnings, "warning")
        if not loaded.objects and not compose_docs:
            if explicit:
                self.assembler.issue(where, "no Kubernetes objects or compose services found",
                                     severity="warning")
            return
        self.assembler.sources.append(where)
        self.assembler.add_kube_objects(loaded.objects)
        for document in compose_docs:
            self.add_compose(path, document)

    def _load(self, path: Path, text: str) -> YamlResult:
        if text.lstrip()[:1] in ("{", "["):
            try:
                return YamlResult([loads_json(text, str(path), self.limits)])
            except InputError:
                pass  # flow-style YAML: the YAML loader decides
        return loads_all(text, str(path), self.limits)

    # ------------------------------------------------------------------ compose

    def add_compose(self, path: Path, document: dict[str, object]) -> None:
        env = dict(self._dotenv(path))
        env.update(self.environ)  # variables the user passed win over .env, as in compose
        project = compose_mod.project_name(document, path, env)
        for service in compose_mod.services(document, path, env):
            self.assembler.issues_from(str(path), service.errors, "error")
            key = self.assembler.add_compose_service(project, service, str(path))
            if service.build is not None:
                self._compose_build(path, project, service, key)

    def _dotenv(self, path: Path) -> dict[str, str]:
        dotenv = path.parent / ".env"
        if not dotenv.is_file():
            return {}
        try:
            values, warnings = compose_mod.read_dotenv(dotenv)
        except HullguardError as error:
            self.assembler.error(error, str(dotenv))
            return {}
        self.assembler.issues_from(str(dotenv), warnings, "warning")
        return values

    def _compose_build(self, path: Path, project: str, service: compose_mod.Service,
                       key: str) -> None:
        build = service.build
        assert build is not None
        if not build.dockerfile and not build.inline:
            self.assembler.issue(str(path), f"service {service.name}: remote build context "
                                 "not read", line=build.line, severity="warning")
            return
        where = build.dockerfile or f"{path}#{service.name}.dockerfile_inline"
        try:
            text = build.inline or read_text(Path(build.dockerfile), self.limits)
        except HullguardError as error:
            self.assembler.error(error, where)
            return
        target = self.assembler.try_normalize(service.image, str(path), service.image_line)
        self.add_dockerfile(Path(where), text, dict(build.args), target, key)
        if build.dockerfile:
            self.seen.add(Path(build.dockerfile).resolve())

    # ------------------------------------------------------------------ Dockerfiles, lists

    def add_dockerfile(self, path: Path, text: str, build_args: dict[str, str] | None = None,
                       target: ImageReference | None = None, consumer: str = "") -> None:
        where = str(path)
        parsed = parse_dockerfile(text, where, build_args)
        self.assembler.issues_from(where, list(parsed.warnings), "warning")
        self.assembler.sources.append(where)
        final = parsed.final_stage
        for use in parsed.image_uses():
            ref = self.assembler.try_normalize(use.reference, where, use.line)
            if ref is None:
                continue
            is_final = final is not None and use.via == "FROM" and use.line == final.line
            role = "copy" if use.via != "FROM" else ("final" if is_final else "build")
            location = SourceLocation(SourceKind.DOCKERFILE, where, use.line, container=use.stage)
            self.assembler.add_occurrence(ImageOccurrence(ref, use.reference, location,
                                                          role=role))
        base = _final_base(parsed)
        if base is not None:
            ref = self.assembler.try_normalize(base[0], where, base[1])
            if ref is not None:
                self.assembler.declared.append(
                    DeclaredBase(where, ref, base[1], base[2], target, consumer))

    def add_image_list(self, path: Path, text: str, explicit: bool) -> None:
        where, entries, bad = str(path), [], []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            try:
                entries.append((number, line, normalize(line)))
            except HullguardError as error:
                bad.append((number, f"not an image reference: {error.message}"))
        if not explicit and (bad or not _looks_like_images(entries)):
            return  # a text file that is not an image list: not ours to judge
        self.assembler.issues_from(where, bad, "warning")
        self.assembler.sources.append(where)
        for number, raw_text, ref in entries:
            location = SourceLocation(SourceKind.LIST, where, number)
            self.assembler.add_occurrence(ImageOccurrence(ref, raw_text, location, role="list"))


def _final_base(parsed: Dockerfile) -> tuple[str, int, str] | None:
    """(image, line, stage) the final stage ultimately builds on, following stage names."""
    stage = parsed.final_stage
    hops = 0
    while stage is not None and stage.from_stage and hops <= len(parsed.stages):
        stage, hops = parsed.stage(stage.from_stage), hops + 1
    if stage is None or not stage.is_image:
        return None
    return stage.base, stage.line, stage.name or str(stage.index)


def _looks_like_images(entries: list[tuple[int, str, ImageReference]]) -> bool:
    """Bare words are valid references too (``flask`` = docker.io/library/flask): a found
    text file counts as an image list only when most lines carry a tag, registry or digest."""
    marked = sum(any(c in raw for c in ":/@") for _, raw, _ in entries)
    return bool(entries) and marked * 2 >= len(entries)


def _candidate(name: str) -> bool:
    """Files worth opening while walking a directory."""
    return (name.endswith(_YAML_SUFFIXES + _LIST_SUFFIXES) or "dockerfile" in name
            or "containerfile" in name or "images" in name)


def _looks_structured(text: str) -> bool:
    head = text.lstrip()[:200]
    return head[:1] in ("{", "[") or head.startswith(("---", "apiVersion:", "services:",
                                                      "version:", "kind:"))


def walk_files(root: Path) -> Iterator[Path]:
    """Files under ``root`` in a stable order; symlinked directories are not followed."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for filename in sorted(filenames):
            file = Path(dirpath) / filename
            if file.is_file():
                yield file
