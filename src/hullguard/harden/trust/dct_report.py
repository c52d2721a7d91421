"""``trust dct-audit`` writers: text, JSON, SARIF and the migration plan (Markdown); pure
functions returning strings."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hullguard.harden.trust.dct import DETECTORS, TIMELINE, DctAudit, DctFinding

FORMATS = ("text", "json", "sarif")


def render(result: DctAudit, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "sarif": to_sarif}[fmt](result)


def to_text(result: DctAudit) -> str:
    lines = [f"{f.path}:{f.line}: {f.detector.severity}: {f.detector.title}\n    {f.excerpt}"
             for f in result.findings]
    lines += [f"not read: {item}" for item in result.skipped]
    count = len(result.findings)
    lines.append(f"{count} place(s) depend on Docker Content Trust in {result.files} file(s)"
                 if count else f"no dependency on Docker Content Trust in {result.files} "
                 "file(s)")
    return "\n".join(lines) + "\n"


def _finding_json(finding: DctFinding) -> dict[str, Any]:
    return {"id": finding.detector.id, "title": finding.detector.title,
            "severity": finding.detector.severity, "path": finding.path, "line": finding.line,
            "excerpt": finding.excerpt, "replace_with": finding.detector.replace_with}


def to_json(result: DctAudit) -> str:
    doc = {"schema": "hullguard.dct-audit/v1", "roots": list(result.roots),
           "files": result.files, "skipped": list(result.skipped),
           "findings": [_finding_json(f) for f in result.findings],
           "timeline": [{"date": d, "event": e, "source": s} for d, e, s in TIMELINE]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def to_sarif(result: DctAudit) -> str:
    from hullguard.sarif import sarif_log

    levels = {"high": "error", "medium": "warning", "low": "note"}
    rules = [{"id": d.id, "name": d.id, "shortDescription": {"text": d.title},
              "help": {"text": f"Replace with: {d.replace_with}"},
              "defaultConfiguration": {"level": levels[d.severity]}} for d in DETECTORS]
    index = {d.id: i for i, d in enumerate(DETECTORS)}
    results = [{"ruleId": f.detector.id, "ruleIndex": index[f.detector.id],
                "level": levels[f.detector.severity],
                "message": {"text": f"{f.detector.title}: {f.excerpt}"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path},
                    "region": {"startLine": f.line}}}]} for f in result.findings]
    return sarif_log(rules, results, {"files": result.files})


def plan(result: DctAudit) -> str:
    """The migration plan: why, what was found where, and the steps that replace it."""
    counts = Counter(f.detector.id for f in result.findings)
    out = ["# Migration plan: Docker Content Trust to cosign-compatible signatures", "",
           "## Why now", ""]
    out += [f"- **{d}**: {e} (source: {s})" for d, e, s in TIMELINE]
    out += ["", "After the shutdown, `DOCKER_CONTENT_TRUST=1` makes pulls of signed tags "
            "fail and `docker trust` has no server to talk to: every place below breaks or "
            "silently stops protecting anything.", "",
            f"## What depends on DCT ({len(result.findings)} places in {result.files} files)",
            ""]
    if result.findings:
        out += ["| file:line | what | severity | replace with |", "|---|---|---|---|"]
        out += [f"| `{f.path}:{f.line}` | {f.detector.title} | {f.detector.severity} | "
                f"{f.detector.replace_with} |" for f in result.findings]
    else:
        out.append("Nothing found in the audited files.")
    if result.skipped:
        out += ["", "Not read (check these by hand):", ""]
        out += [f"- {item}" for item in result.skipped]
    out += ["", "## Steps", "",
            "1. **Keys.** `hullguard keygen --out-prefix cosign` (ECDSA P-256, cosign's "
            "format; the password from `COSIGN_PASSWORD`). Keep `cosign.key` in the CI's "
            "secret store, publish `cosign.pub`.",
            "2. **Re-sign by digest** every image the DCT keys signed: "
            "`hullguard sign REGISTRY/REPO@sha256:... --key cosign.key` (a digest, not a tag: "
            "DCT signed tags, cosign signs the immutable digest). Add "
            "`hullguard attest ... --type cyclonedx` for an SBOM attestation.",
            "3. **Verify where DCT verified.** In CI: `hullguard verify IMAGE --key cosign.pub` "
            "or a `hullguard gate` policy with `signatures: {required: true, keys: "
            "[cosign.pub]}`; at admission: `hullguard gate export --policy policy.yaml -f "
            "kyverno` (or `-f policy-controller`).",
            "4. **Remove DCT** from the places listed above (environment variables, "
            "`docker trust` steps, Notary servers and configs, Harbor's Notary content "
            "trust), after steps 2 and 3 run green.",
            "5. **Retire the old keys**: revoke the DCT delegation keys and delete their "
            "passphrases from the CI secrets."]
    if counts.get("harbor-content-trust"):
        out += ["6. **Harbor**: replace `enable_content_trust` with "
                "`enable_content_trust_cosign` on the projects listed (Harbor 2.9+ has no "
                "Notary)."]
    return "\n".join(out) + "\n"
