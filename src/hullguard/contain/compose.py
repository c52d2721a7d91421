"""The compose equivalent of pod hardening and quarantine: one override file per compose
file, used as ``docker compose -f FILE -f OVERRIDE up -d``."""

from __future__ import annotations

import json

from hullguard.contain.model import ContainOptions

NETWORK = "hullguard-quarantine"


def compose_override(services: list[str], options: ContainOptions,
                     image_paths: dict[str, list[str]] | None = None) -> str:
    """``!override``/``!reset`` (Compose 2.24.4+) replace the service's networks and ports
    instead of merging with them: a merged list would keep the service reachable.
    ``image_paths``: per service, more paths its image writes (they get a tmpfs too)."""
    lines = ["# hullguard containment override: quarantine and harden the services below.",
             "# Use: docker compose -f <your compose file> -f this-file up -d", "services:"]
    for name in services:
        paths = dict.fromkeys((*options.writable_paths, *(image_paths or {}).get(name, ())))
        tmpfs = ", ".join(json.dumps(p) for p in paths)
        lines += [f"  {json.dumps(name)}:",
                  "    read_only: true",
                  f"    user: \"{options.run_as_user}:{options.run_as_user}\"",
                  "    cap_drop: [ALL]",
                  "    security_opt: [\"no-new-privileges:true\"]",
                  f"    tmpfs: [{tmpfs}]",
                  "    ports: !reset []",
                  f"    networks: !override [{NETWORK}]",
                  "    labels:",
                  "      hullguard.io/quarantine: \"true\""]
    lines += ["networks:", f"  {NETWORK}:", "    internal: true  # no route out of the host"]
    return "\n".join(lines) + "\n"
