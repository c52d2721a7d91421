"""Gate: evaluate images against a written policy at a named stage (build, scan, sign, deploy)
and export the same policy as admission-controller policies.

``policy`` loads and validates the YAML policy against its published JSON Schema,
``evidence`` gathers what the rules look at (one :class:`Evidence` per image, from a scan or an
incident folder), ``rules`` is the registry of rules, ``evaluate`` applies them with
exceptions, ``report`` renders text, JSON and SARIF, ``export`` writes Kyverno and
policy-controller policies. Only :mod:`hullguard.cli` prints."""
