from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hullguard.model import CvssScore, Epss, Finding, Kev, Package, PackageType, Severity
from hullguard.model.inventory import Criticality, Environment, Exposure, Workload
from hullguard.model.triage import Exploitability, Priority
from hullguard.triage import DEFAULT_SLA, Context, exploitability, prioritize_finding, triage

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PKG = Package("pyyaml", "5.3", PackageType.PYTHON, "pkg:pypi/pyyaml@5.3")
INTERNET = Exposure(True, ("Ingress shop-prod/web",))


def finding(severity: Severity = Severity.CRITICAL, vector: str = "AV:N/AC:L", *,
            fixed: tuple[str, ...] = ("5.4",), kev: bool = False, epss: float = 0.0) -> Finding:
    cvss = CvssScore("3.1", f"CVSS:3.1/{vector}", 9.8, severity)
    return Finding("CVE-2020-14343", ("GHSA-8q59-q68h-6hv4",), PKG, severity, fixed, cvss,
                   Epss(epss, 0.5) if epss else None, Kev("2024-01-01") if kev else None)


def test_seed_matrix_critical_easy_internet_is_p0() -> None:
    context = Context(Criticality.CRITICAL, INTERNET, Environment.PRODUCTION, "shop/D/web")
    priority, level, reason = prioritize_finding(finding(), context)
    assert (priority, level) == (Priority.P0, Exploitability.EASY)
    assert reason.startswith("P0: CVE-2020-14343 in pyyaml 5.3")
    assert "internet-facing via Ingress shop-prod/web" in reason
    assert "criticality critical" in reason


def test_seed_matrix_low_dev_only_is_p3_even_when_exposed() -> None:
    context = Context(Criticality.LOW, INTERNET, Environment.DEVELOPMENT)
    assert prioritize_finding(finding(), context)[0] is Priority.P3


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"kev": True, "severity": Severity.LOW, "vector": "AV:L"}, Exploitability.EASY),
    ({"epss": 0.3, "severity": Severity.LOW, "vector": "AV:L"}, Exploitability.EASY),
    ({"fixed": ()}, Exploitability.MODERATE),  # critical but no fix yet: one level lower
    ({"severity": Severity.HIGH, "vector": "AV:L"}, Exploitability.MODERATE),
    ({"severity": Severity.LOW, "vector": "AV:L"}, Exploitability.HARD),
])
def test_exploitability_inputs(kwargs: dict[str, object], expected: Exploitability) -> None:
    assert exploitability(finding(**kwargs))[0] is expected  # type: ignore[arg-type]


def test_kev_on_internet_facing_is_never_below_p1() -> None:
    low = finding(Severity.LOW, "AV:L", kev=True)
    context = Context(Criticality.LOW, INTERNET, Environment.STAGING)
    assert prioritize_finding(low, context)[0] is Priority.P1


def test_triage_per_workload_with_deadlines_sorted() -> None:
    web = Workload("shop-prod", "Deployment", "web", exposure=INTERNET,
                   environment=Environment.PRODUCTION, criticality=Criticality.CRITICAL)
    debug = Workload("dev", "Pod", "debug", environment=Environment.DEVELOPMENT,
                     criticality=Criticality.LOW)
    items = triage({"img-a": [finding()], "img-b": [finding(Severity.MEDIUM, "AV:L")]},
                   {"img-a": [web, debug]}, NOW)
    assert [(i.priority, i.image, i.workload) for i in items] == [
        (Priority.P0, "img-a", "shop-prod/Deployment/web"),
        (Priority.P3, "img-a", "dev/Pod/debug"),
        (Priority.P3, "img-b", ""),
    ]
    assert items[0].deadline == "2026-11-22T15:00Z"  # P0: 6 hours
    assert items[1].deadline == "next cycle"


def test_sla_is_configurable() -> None:
    from hullguard.triage import Sla

    sla = Sla({Priority.P0: 1, Priority.P1: 2, Priority.P2: 3, Priority.P3: 4})
    assert sla.deadline(Priority.P3, NOW) == "2026-11-22T13:00Z"
    assert DEFAULT_SLA.deadline(Priority.P2, NOW) == "2026-11-29T09:00Z"


def test_parse_sla_units_defaults_and_errors() -> None:
    from hullguard.errors import InputError
    from hullguard.triage import parse_sla

    sla = parse_sla("p0=4h, P2=2w,P3=none")
    assert sla.hours[Priority.P0] == 4 and sla.hours[Priority.P2] == 336
    assert sla.hours[Priority.P1] == 24  # unnamed: the default
    assert sla.deadline(Priority.P3, NOW) == "next cycle"
    for bad in ("P5=1h", "P0=soon", "P0=0h", "P0"):
        with pytest.raises(InputError, match="PRIORITY=DURATION"):
            parse_sla(bad)
