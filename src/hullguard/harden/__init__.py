"""Hardening stages: trust (signing, attestations, verification), policy, mirror, posture.

Each stage is a subpackage with a small public surface; only :mod:`hullguard.cli` prints."""
