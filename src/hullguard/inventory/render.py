"""The inventory as JSON (every field) or a readable table (one row per distinct image)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hullguard.model.inventory import ImageOccurrence, Inventory, InventoryImage, Workload

FORMATS = ("table", "json")


def summary(inventory: Inventory) -> dict[str, int]:
    """Counts a declaration needs: images by origin, workloads, exposure, production."""
    origins = Counter(image.origin.value for image in inventory.images)
    workloads = inventory.workloads
    return {
        "images": len(inventory.images), "dockerhub": origins.get("dockerhub", 0),
        "public": origins.get("public", 0), "internal": origins.get("internal", 0),
        "workloads": len(workloads),
        "internet_facing": sum(w.exposure.internet_facing for w in workloads),
        "production": sum(w.environment.value == "production" for w in workloads),
        "errors": sum(i.severity == "error" for i in inventory.issues),
        "warnings": sum(i.severity == "warning" for i in inventory.issues),
    }


def _occurrence(occ: ImageOccurrence) -> dict[str, Any]:
    loc = occ.location
    data: dict[str, Any] = {"kind": loc.kind.value, "path": loc.path, "line": loc.line or None,
                            "reference": occ.raw, "role": occ.role}
    optional = {"namespace": loc.namespace, "workload_kind": loc.workload_kind,
                "workload": loc.workload, "container": loc.container,
                "workload_key": loc.workload_key, "helm_source": loc.helm_source,
                "running_digest": occ.running_digest}
    data.update({k: v for k, v in optional.items() if v})
    return data


def _image(image: InventoryImage) -> dict[str, Any]:
    ref = image.ref
    return {"reference": ref.key, "registry": ref.registry, "repository": ref.repository,
            "tag": ref.tag or None, "digest": ref.digest_text or None, "origin": image.origin.value,
            "running_digests": list(image.running_digests),
            "occurrences": [_occurrence(o) for o in image.occurrences]}


def _workload(w: Workload) -> dict[str, Any]:
    return {"key": w.key, "namespace": w.namespace, "kind": w.kind, "name": w.name,
            "source": w.source, "containers": list(w.containers),
            "exposure": {"internet_facing": w.exposure.internet_facing,
                         "via": list(w.exposure.via)},
            "environment": w.environment.value, "criticality": w.criticality.value,
            "criticality_source": w.criticality_source or None,
            "labels": dict(w.labels)}


def to_json(inventory: Inventory) -> str:
    data = {
        "summary": summary(inventory),
        "images": [_image(i) for i in inventory.images],
        "workloads": [_workload(w) for w in inventory.workloads],
        "declared_bases": [{"dockerfile": d.dockerfile, "line": d.line, "stage": d.stage,
                            "base": d.base.key, "target": d.target.key if d.target else None,
                            "consumer": d.consumer or None} for d in inventory.declared_bases],
        "issues": [{"path": i.path, "line": i.line or None, "severity": i.severity,
                    "message": i.message} for i in inventory.issues],
        "sources": list(inventory.sources),
    }
    return json.dumps(data, indent=2) + "\n"


def _exposure_cell(image: InventoryImage, workloads: dict[str, Workload]) -> str:
    used = [workloads[k] for k in image.workload_keys if k in workloads]
    facing = [w for w in used if w.exposure.internet_facing]
    return f"internet ({len(facing)})" if facing else ("internal" if used else "-")


def _env_cell(image: InventoryImage, workloads: dict[str, Workload]) -> str:
    envs = {workloads[k].environment.value for k in image.workload_keys if k in workloads}
    envs.discard("unknown")
    return ",".join(sorted(envs)) or "-"


def _short_name(image: InventoryImage) -> str:
    """The reference with its digest shortened to 12 hex digits (the JSON keeps it whole)."""
    ref = image.ref
    if not ref.digest:
        return ref.key
    return ref.key[: -len(ref.digest_text)] + ref.digest_text[:19]


def to_table(inventory: Inventory) -> str:
    """Fixed-width text: IMAGE, ORIGIN, USES, WORKLOADS, EXPOSURE, ENV, then a summary line."""
    workloads = {w.key: w for w in inventory.workloads}
    header = ("IMAGE", "ORIGIN", "USES", "WORKLOADS", "EXPOSURE", "ENV")
    rows = [(_short_name(i), i.origin.value, str(len(i.occurrences)), str(len(i.workload_keys)),
             _exposure_cell(i, workloads), _env_cell(i, workloads)) for i in inventory.images]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip()
             for row in [header, *rows]]
    s = summary(inventory)
    lines.append("")
    lines.append(f"{s['images']} images ({s['dockerhub']} Docker Hub, {s['public']} other "
                 f"public, {s['internal']} internal) in {s['workloads']} workloads "
                 f"({s['internet_facing']} internet-facing, {s['production']} production); "
                 f"{s['errors']} file errors, {s['warnings']} warnings")
    return "\n".join(lines) + "\n"


def render(inventory: Inventory, fmt: str) -> str:
    return to_json(inventory) if fmt == "json" else to_table(inventory)
