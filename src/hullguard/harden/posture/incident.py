"""``respond --posture``: the registry account audit as a section of the incident folder, for
breaches that are about accounts. Each ``--posture`` target (``dockerhub:ORG``,
``harbor:URL``, ``registry:CONFIG``) is audited like ``hullguard posture`` does it (same
credentials from the environment or the docker config, same checks and levels) and written to
``posture/`` (``POSTURE.md`` for all targets, plus JSON and HTML per target). A target that
cannot be audited (a wrong token, an unreachable API) is said in POSTURE.md, loudly, and the
other targets are still written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hullguard.errors import HullguardError, InputError
from hullguard.model.lint import LintReport

FOLDER = "posture"
ENTRY = "POSTURE.md"
PLATFORMS = ("dockerhub", "harbor", "registry")


@dataclass(frozen=True)
class PostureTarget:
    platform: str  # dockerhub | harbor | registry
    value: str  # the organization, the Harbor URL, the config file

    @classmethod
    def parse(cls, text: str, where: str = "--posture") -> PostureTarget:
        platform, _, value = text.partition(":")
        if platform not in PLATFORMS or not value:
            raise InputError(f"{text!r} is not a posture target", where=where,
                             hint="dockerhub:ORG, harbor:https://harbor.example or "
                                  "registry:/etc/docker/registry/config.yml")
        if platform == "dockerhub":
            from hullguard.harden.posture.dockerhub import check_org

            check_org(value)
        elif platform == "harbor" and not value.startswith(("https://", "http://")):
            raise InputError(f"{value!r} is not a Harbor URL", where=where,
                             hint="harbor:https://harbor.example")
        return cls(platform, value)

    @property
    def needs_network(self) -> bool:
        return self.platform != "registry"

    def __str__(self) -> str:
        return f"{self.platform}:{self.value}"


@dataclass(frozen=True)
class PostureOptions:
    """The same knobs as ``hullguard posture`` (level, Docker Hub API URL, Harbor's CA)."""

    targets: tuple[PostureTarget, ...] = ()
    level: str = "L1"
    api_url: str = ""  # Docker Hub API base ("" = https://hub.docker.com)
    ca_file: Path | None = None


@dataclass
class PostureSection:
    """What ``posture/`` holds: file name -> text, and per target its report or failure."""

    files: dict[str, str] = field(default_factory=dict)
    reports: list[tuple[PostureTarget, LintReport]] = field(default_factory=list)
    failures: list[tuple[PostureTarget, str]] = field(default_factory=list)

    def summary(self) -> str:
        """``3 fail, 5 not checked (manual), 9 pass; 1 target not audited``."""
        from hullguard.harden.posture.report import not_checked

        fail = sum(f.status == "fail" for _, r in self.reports for f in r.findings)
        passed = sum(f.status == "pass" for _, r in self.reports for f in r.findings)
        manual = sum(len(not_checked(r)) for _, r in self.reports)
        text = f"{fail} fail, {manual} not checked (manual), {passed} pass"
        return text + (f"; {len(self.failures)} target(s) NOT audited" if self.failures else "")


def assess(target: PostureTarget, options: PostureOptions) -> LintReport:
    from hullguard.harden.posture import assess_dockerhub, assess_harbor, assess_registry_config

    if target.platform == "dockerhub":
        return assess_dockerhub(target.value, level=options.level,
                                api_url=options.api_url or None)
    if target.platform == "harbor":
        return assess_harbor(target.value, level=options.level, ca_file=options.ca_file)
    return assess_registry_config(Path(target.value), level=options.level)


def _stem(index: int, target: PostureTarget) -> str:
    return f"{index:02d}-{target.platform}-" + re.sub(r"[^A-Za-z0-9._-]+", "_",
                                                       target.value)[:60].strip("._-")


def posture_section(options: PostureOptions) -> PostureSection:
    """Audit every target; one that fails is recorded, never a reason to drop the others."""
    from hullguard.harden.posture.report import render

    section = PostureSection()
    for index, target in enumerate(options.targets):
        try:
            report = assess(target, options)
        except HullguardError as error:
            section.failures.append((target, " ".join(error.diagnostics().split())))
            continue
        section.reports.append((target, report))
        stem = _stem(index, target)
        section.files[f"{stem}.json"] = render(report, "json")
        section.files[f"{stem}.html"] = render(report, "html")
    section.files[ENTRY] = _markdown(section, options)
    return section


def _markdown(section: PostureSection, options: PostureOptions) -> str:
    from hullguard.harden.posture.report import to_markdown
    from hullguard.textsafe import printable

    lines = [f"# Registry account posture (level {options.level})", "",
             f"Summary: {section.summary()}.", ""]
    lines += [f"## NOT AUDITED: {printable(str(t))}\n\n> **{printable(why)}**\n"
              for t, why in section.failures]
    for _target, report in section.reports:  # its headings one level down
        lines.append(re.sub(r"^(#+) ", r"#\1 ", to_markdown(report), flags=re.MULTILINE))
    return "\n".join(lines) + "\n"


def write_posture(out: Path, options: PostureOptions) -> PostureSection:
    """Audit the targets and write ``out`` (the incident's ``posture/`` folder)."""
    from hullguard.fsutil import write_text_atomic

    section = posture_section(options)
    for name, text in sorted(section.files.items()):
        write_text_atomic(out / name, text)
    return section
