"""Which workloads to contain: by priority from the incident's queue, by explicit key, or
everything in a base image's blast radius (the lineage edges respond recorded)."""

from __future__ import annotations

from hullguard.contain.incident import PRIORITIES, IncidentFolder, check_workload_key
from hullguard.errors import InputError
from hullguard.model.inventory import Inventory


def parse_priorities(text: str) -> tuple[str, ...]:
    """``P1`` (that one), ``P0-P1`` (a range) or ``P0,P2`` (a list)."""
    chosen: list[str] = []
    for part in text.upper().replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if low not in PRIORITIES or (high and high not in PRIORITIES):
            raise InputError(f"{text!r} is not a priority, range or list",
                             where="--priority", hint="e.g. P1, P0-P1, P0,P2")
        chosen += PRIORITIES[PRIORITIES.index(low):PRIORITIES.index(high or low) + 1]
    return tuple(dict.fromkeys(chosen))


def by_priority(incident: IncidentFolder, priorities: tuple[str, ...]) -> dict[str, list[str]]:
    selected: dict[str, list[str]] = {}
    for item in incident.queue:
        if item.priority in priorities and item.workload:  # "" = an image no workload runs
            selected.setdefault(item.workload, []).append(
                f"{item.priority}: {item.finding_id} in {item.image}")
    return selected


def descendants(root: str, edges: tuple[tuple[str, str], ...]) -> set[str]:
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for child in (c for p, c in edges if p == parent and c not in found):
            found.add(child)
            frontier.append(child)
    return found


def by_base(incident: IncidentFolder, inventory: Inventory, base: str) -> dict[str, list[str]]:
    from hullguard.images.reference import parse_reference

    root = str(parse_reference(base))
    edges = incident.edges + tuple((str(i.get("base")), str(i["name"]))
                                   for i in incident.images if i.get("base"))
    images = descendants(root, edges)
    selected: dict[str, list[str]] = {}
    for image in inventory.images:
        if image.ref.key in images:
            for key in image.workload_keys:
                selected.setdefault(key, []).append(
                    f"runs {image.ref.key}, in the blast radius of {root}")
    return selected


def by_key(keys: tuple[str, ...], inventory: Inventory) -> dict[str, list[str]]:
    selected = {}
    for key in keys:
        check_workload_key(key, "--workload")
        if inventory.workload(key) is None:
            raise InputError(f"workload {key} is not in the inventory", where="--workload",
                             hint="`hullguard inventory PATH` lists the workload keys")
        selected[key] = ["selected with --workload"]
    return selected
