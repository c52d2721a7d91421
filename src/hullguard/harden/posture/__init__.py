"""Registry account posture: Docker Hub organizations, Harbor instances and self-hosted
distribution registries checked against hardening levels (L1 baseline, L2 hardened, L3
maximum) and NIST SP 800-53 controls.

Each check is pass, fail or manual (what the API cannot tell, or an endpoint the token may
not read, with the steps to verify by hand: never a silent pass). Public surface:
:func:`assess_dockerhub`, :func:`assess_harbor`, :func:`assess_registry_config`; they return
a :class:`~hullguard.model.lint.LintReport` (``kind`` "Posture", findings with a status) and
never print.
"""

from __future__ import annotations

from pathlib import Path

from hullguard.harden.posture.registry import all_checks, definitions, run
from hullguard.model.lint import LintReport

__all__ = ["all_checks", "assess_dockerhub", "assess_harbor", "assess_registry_config",
           "definitions"]


def assess_dockerhub(org: str, *, level: str = "L1", api_url: str | None = None,
                     environ: dict[str, str] | None = None) -> LintReport:
    """Log in with the token from the environment or the docker config, read the
    organization, run the checks ``level`` enforces."""
    from hullguard.harden.posture import dockerhub
    from hullguard.harden.posture.http import ApiClient

    org = dockerhub.check_org(org)
    creds = dockerhub.credentials(org, environ)
    with ApiClient(api_url or dockerhub.HUB_API) as api:
        dockerhub.login(api, creds)
        hub = dockerhub.DockerHub(api, org, creds.username)
        return run("dockerhub", hub, f"dockerhub:{org}", level)


def assess_harbor(url: str, *, level: str = "L1", environ: dict[str, str] | None = None,
                  ca_file: Path | None = None) -> LintReport:
    """Read a Harbor instance through its v2.0 API and run the checks ``level`` enforces."""
    from hullguard.harden.posture import harbor
    from hullguard.harden.posture.http import ApiClient

    with ApiClient(url, verify=str(ca_file) if ca_file else True) as api:
        harbor.login(api, environ)
        return run("harbor", harbor.Harbor(api), f"harbor:{api.base_url}", level)


def assess_registry_config(path: Path, *, level: str = "L1") -> LintReport:
    """Judge a distribution registry's config file."""
    from hullguard.harden.posture import distribution

    config = distribution.load(path)
    return run("registry", config, str(path), level, [distribution.ENV_NOTE])
