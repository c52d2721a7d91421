"""Containment: turn an incident's selected workloads into one reviewable change set
(NetworkPolicies, quarantine, ServiceAccount and pod hardening, a kustomize overlay, apply and
rollback scripts, compose overrides). Entry point: :func:`hullguard.contain.run.contain`."""
