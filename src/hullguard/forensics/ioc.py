"""Indicators of compromise: file hashes, strings, regexes and YARA rules searched in every
file of every layer of an image (files a later layer deleted or overwrote included: the blobs
still ship them), in the image config and history, and in the ingested logs.

Layers are walked with the image sources' ``walk_layer`` API, never extracted. Each file is
hashed over its whole content (streamed); strings, regexes and YARA see at most
``max_file_size`` bytes of it (default 32 MiB) and a longer file is reported as partly scanned.
Regexes use Python's ``re`` on image content and DuckDB's RE2 on the logs.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullguard.errors import InputError
from hullguard.forensics.joins import FleetImage, IndicatorHit, join, read_fleet
from hullguard.images.api import FileKind, ImageSource, LayerEntry, SourceOptions
from hullguard.images.tree import FileTree
from hullguard.model.image import ImageInfo, Layer

if TYPE_CHECKING:
    import duckdb

MAX_FILE_SIZE = 32 << 20
_HASH_LENGTHS = {64: "sha256", 40: "sha1", 32: "md5"}


@dataclass(frozen=True)
class Indicator:
    kind: str  # sha256, sha1, md5, string, regex, yara
    value: str  # the hash, text, pattern or rule name as written
    pattern: re.Pattern[bytes] | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass
class Indicators:
    hashes: dict[str, dict[str, Indicator]] = field(default_factory=dict)  # algo -> hex -> ind
    strings: list[Indicator] = field(default_factory=list)
    regexes: list[Indicator] = field(default_factory=list)
    names: dict[str, Indicator] = field(default_factory=dict)  # file name (last component)
    yara: Any = None  # compiled yara.Rules
    notes: list[str] = field(default_factory=list)  # what an input could not express here

    def __bool__(self) -> bool:
        return bool(self.hashes or self.strings or self.regexes or self.names or
                    self.yara is not None)


def load_iocs(path: Path, into: Indicators | None = None) -> Indicators:
    """One indicator per line: a sha256/sha1/md5 hex hash (optionally ``sha256:``-prefixed),
    ``string:TEXT``, ``regex:PATTERN``, ``name:FILENAME``; ``#`` starts a comment line. A
    file that is a JSON object is read as a STIX 2.1 bundle (stix.py)."""
    from hullguard.forensics.stix import MAX_BUNDLE_BYTES, load_stix, looks_like_stix
    from hullguard.fsutil import read_bounded

    found = into if into is not None else Indicators()
    data = read_bounded(path, MAX_BUNDLE_BYTES)  # one read, bounded: /dev/zero, a FIFO
    if looks_like_stix(data[:4096]):
        return load_stix(data, path, found)
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(f"cannot read the indicator file: {error}", where=str(path)) from None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text and not text.startswith("#"):
            add_indicator(found, text, f"{path}:{number}")
    return found


def add_indicator(found: Indicators, text: str, where: str) -> None:
    """One indicator in the line format (``KIND:VALUE`` or a bare hash)."""
    kind, sep, value = text.partition(":")
    if sep and kind == "name" and value and "/" not in value:
        found.names[value] = Indicator("name", value)
    elif sep and kind == "string" and value:
        found.strings.append(Indicator("string", value, re.compile(re.escape(value.encode()))))
    elif sep and kind == "regex" and value:
        try:
            pattern = re.compile(value.encode())
        except re.error as error:
            raise InputError(f"bad regex: {error}", where=where) from None
        found.regexes.append(Indicator("regex", value, pattern))
    else:
        digest = value if sep and kind in ("sha256", "sha1", "md5") else text
        algo = _HASH_LENGTHS.get(len(digest))
        if algo is None or (sep and kind != algo) or not re.fullmatch(r"[0-9a-fA-F]+", digest):
            raise InputError(f"not an indicator: {text[:80]!r}", where=where,
                             hint="a sha256/sha1/md5 hash, string:TEXT, regex:PATTERN or "
                                  "name:FILENAME")
        found.hashes.setdefault(algo, {})[digest.lower()] = Indicator(algo, digest.lower())


def load_yara(path: Path, into: Indicators | None = None) -> Indicators:
    """Compile a rule file, or every ``*.yar``/``*.yara`` of a folder (one namespace each),
    with the real YARA engine; ``include`` is refused (rules cannot pull in other files)."""
    import yara

    found = into if into is not None else Indicators()
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yar", ".yara")) \
        if path.is_dir() else [path]
    if not files or not all(p.is_file() for p in files):
        raise InputError("no YARA rule files", where=str(path))
    try:
        found.yara = yara.compile(filepaths={p.stem + f"_{i}": str(p)
                                             for i, p in enumerate(files)}, includes=False)
    except yara.Error as error:
        raise InputError(f"YARA rules do not compile: {error}", where=str(path)) from None
    return found


@dataclass(frozen=True)
class IocMatch:
    target: str  # the image, or the case folder for log matches
    where: str  # layer digest, "config", or "log"
    layer: int  # layer index; -1 for config and logs
    path: str  # file path, config field, or log file:line
    state: str  # visible, deleted, overwritten, config, log
    indicator: str
    detail: str = ""
    time: datetime.datetime | None = None  # the log record's time (log matches)


@dataclass
class IocReport:
    targets: list[str] = field(default_factory=list)
    matches: list[IocMatch] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # target -> manifest digest
    indicators: list[IndicatorHit] = field(default_factory=list)  # matches joined (joins.py)


def ioc_scan(images: Iterable[str], indicators: Indicators, *,
             options: SourceOptions | None = None, case: Path | None = None,
             max_file_size: int = MAX_FILE_SIZE) -> IocReport:
    """Search each image (and the case's logs when ``case`` has a database)."""
    from hullguard.images import open_image

    if not indicators:
        raise InputError("no usable indicators given" + (
            f" ({len(indicators.notes)} not usable, first: {indicators.notes[0]})"
            if indicators.notes else ""), hint="pass --iocs FILE and/or --yara RULES")
    report = IocReport(warnings=list(indicators.notes))
    for image in images:
        report.targets.append(image)
        with open_image(_image_ref(image), options) as source:
            scan_image(source, image, indicators, report, max_file_size)
            # respond's digest for an image too: the manifest's, else the config's (archives)
            report.digests[image] = str(source.info.digest or source.info.config_digest or "")
    if case is not None:
        report.targets.append(str(case))
        report.matches += scan_logs(case, indicators)
    join_report(report, case, read_fleet(case, report.warnings) if case else {})
    return report


def join_report(report: IocReport, case: Path | None,
                fleet: Mapping[str, FleetImage]) -> None:
    """Fill ``report.indicators``: each hit's images, workloads and first sighting (from the
    case's events when it has a database)."""
    from hullguard.forensics import db

    if case is None or not db.database_path(case).is_file():
        report.indicators = join(report.matches, report.digests, fleet, None)
        return
    con = db.open_read(case)
    try:
        report.indicators = join(report.matches, report.digests, fleet, con)
    finally:
        con.close()


def _image_ref(image: str) -> str:
    """A path to an image tar or OCI layout is opened as such (as ``secrets`` does)."""
    path = Path(image)
    if path.exists():
        from hullguard.images.sniff import image_reference

        return image_reference(path) or image
    return image


def scan_image(source: ImageSource, name: str, indicators: Indicators, report: IocReport,
               max_file_size: int = MAX_FILE_SIZE) -> None:
    tree = FileTree()
    pending: list[tuple[int, IocMatch]] = []
    for layer in source.info.layers:
        tree.start_layer(layer.index)
        walk = source.walk_layer(layer)
        try:
            for entry in walk:
                tree.apply(entry.info, layer.index)
                if entry.info.kind is FileKind.FILE:
                    pending += _scan_entry(entry, layer, name, indicators, report,
                                           max_file_size)
        finally:
            walk.close()
        report.warnings += walk.warnings
    report.matches += [_restate(match, tree) for _, match in pending]
    report.matches += scan_config(source.info, name, indicators)


def _scan_entry(entry: LayerEntry, layer: Layer, name: str, indicators: Indicators,
                report: IocReport, cap: int) -> list[tuple[int, IocMatch]]:
    info = entry.info
    where = str(layer.digest or layer.diff_id or f"layer {layer.index}")
    hashers = {algo: hashlib.new(algo) for algo in indicators.hashes}
    head = bytearray()
    for chunk in entry.chunks():
        for hasher in hashers.values():
            hasher.update(chunk)
        if len(head) < cap:
            head += chunk[:cap - len(head)]
    if info.size > cap:
        report.warnings.append(f"{name} {where} {info.path}: {info.size} bytes, strings, "
                               f"regexes and YARA saw the first {cap}")
    found = [IocMatch(name, where, layer.index, info.path, "", str(indicators.hashes[a][h]))
             for a, hasher in hashers.items()
             if (h := hasher.hexdigest()) in indicators.hashes[a]]
    found += [IocMatch(name, where, layer.index, info.path, "", str(ind), detail)
              for ind, detail in content_hits(bytes(head), indicators, report.warnings)]
    named = indicators.names.get(info.path.rpartition("/")[2])
    if named is not None:
        found.append(IocMatch(name, where, layer.index, info.path, "", str(named), "file name"))
    return [(layer.index, match) for match in found]


def content_hits(data: bytes, indicators: Indicators,
                 warnings: list[str] | None = None) -> Iterator[tuple[Indicator, str]]:
    """(indicator, where in ``data``) for each string, regex and YARA rule that matches; a
    YARA scan that fails (timeout) is a warning, not a match."""
    for indicator in (*indicators.strings, *indicators.regexes):
        assert indicator.pattern is not None
        hit = indicator.pattern.search(data)
        if hit:
            yield indicator, f"offset {hit.start()}"
    if indicators.yara is not None and data:
        yield from _yara_hits(data, indicators.yara, warnings)


def _yara_hits(data: bytes, rules: Any, warnings: list[str] | None) -> Iterator[
        tuple[Indicator, str]]:
    import yara

    try:
        matches = rules.match(data=data, timeout=60)
    except yara.Error as error:
        if warnings is not None:
            warnings.append(f"YARA scan failed: {error}")
        return
    for match in matches:
        yield Indicator("yara", match.rule), f"rule {match.namespace}.{match.rule}"


def _restate(match: IocMatch, tree: FileTree) -> IocMatch:
    from hullguard.secrets.image import file_state

    state = str(file_state(tree, match.path, match.layer))
    state = "visible" if state == "present" else state
    return IocMatch(match.target, match.where, match.layer, match.path, state,
                    match.indicator, match.detail)


def scan_config(info: ImageInfo, name: str, indicators: Indicators) -> list[IocMatch]:
    """Env, labels, entrypoint, cmd, and each history ``created_by``; the config digest
    against sha256 indicators."""
    config = info.config
    fields: list[tuple[str, str]] = [(f"Env[{i}]", v) for i, v in enumerate(config.env)]
    fields += [(f"Labels[{k}]", f"{k}={v}") for k, v in config.labels]
    fields += [(key, " ".join(argv)) for key, argv in (
        ("Entrypoint", config.entrypoint), ("Cmd", config.cmd)) if argv]
    fields += [(f"history[{i}]", h.created_by) for i, h in enumerate(config.history)]
    found = [IocMatch(name, "config", -1, f"config:{key}", "config", str(ind), detail)
             for key, text in fields for ind, detail in content_hits(text.encode(), indicators)]
    digest = str(info.config_digest or "").removeprefix("sha256:")
    if digest in indicators.hashes.get("sha256", {}):
        found.append(IocMatch(name, "config", -1, "config", "config",
                              str(indicators.hashes["sha256"][digest]), "image config digest"))
    return found


def scan_logs(case: Path, indicators: Indicators) -> list[IocMatch]:
    """Strings and regexes in every ingested record (raw text); sha256 indicators against the
    digests the logs name (an IoC image digest that was pulled or pushed)."""
    from hullguard.forensics import db

    con = db.open_read(case)
    try:
        return list(_log_hits(con, indicators, str(case)))
    finally:
        con.close()


def _log_hits(con: duckdb.DuckDBPyConnection, indicators: Indicators,
              case: str) -> Iterator[IocMatch]:
    import duckdb

    checks: list[tuple[Indicator, str, str]] = [
        (ind, "contains(raw, ?)", ind.value) for ind in indicators.strings]
    checks += [(ind, "regexp_matches(raw, ?)", ind.value) for ind in indicators.regexes]
    checks += [(ind, "digest = ?", "sha256:" + ind.value)
               for ind in indicators.hashes.get("sha256", {}).values()]
    for indicator, condition, value in checks:
        try:
            found = con.execute(f"SELECT file, line, source, action, time FROM events WHERE "
                                f"{condition} ORDER BY time LIMIT 1000", [value]).fetchall()
        except duckdb.Error as error:  # RE2 rejects some Python-only syntax
            raise InputError(f"indicator {indicator} cannot run on the logs: {error}") from None
        for file, line, source, action, time in found:
            yield IocMatch(case, "log", -1, f"{file}:{line}", "log", str(indicator),
                           f"{source} {action} at {time}", time)


def to_json(report: IocReport) -> str:
    doc = {"targets": report.targets, "warnings": report.warnings,
           "indicators": [{**hit.__dict__, "first_seen": _iso(hit.first_seen)}
                          for hit in report.indicators],
           "matches": [match.__dict__ for match in report.matches]}
    return json.dumps(doc, indent=2, default=str) + "\n"


def _iso(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if value else None
