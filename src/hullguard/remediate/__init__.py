"""Remediation: turn an incident's fixable findings into reviewable fixes per image (a
patched Dockerfile as a unified diff, or the package upgrade list and a Copacetic command),
rollout commands per workload and REMEDIATION.md. Entry point:
:func:`hullguard.remediate.run.remediate`."""
