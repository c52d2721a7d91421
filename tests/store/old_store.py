"""A store as the previous release left it: its DDL (previous_release/<dialect>.sql, emitted by
that release's create_all at commit 5c2c932), no ``alembic_version`` table, and rows in the
core, inventory and lineage tables, written the way that release wrote them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, func, insert, select

from tests.store.test_concurrency import _report

DDL = Path(__file__).parent / "previous_release"
CORE_TABLES = ("images", "sboms", "scans", "findings")  # all that release's `scan` created
NAME = "registry.example/app:1"
SEEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def _engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def statements(dialect: str, only: tuple[str, ...] = ()) -> list[str]:
    """The previous release's DDL statements (those of the ``only`` tables, if given)."""
    text = (DDL / f"{dialect}.sql").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    found = [s.strip() for s in body.split(";") if s.strip()]
    if only:
        found = [s for s in found if any(f"TABLE {t} (" in s or f" ON {t} (" in s
                                         for t in only)]
    return found


def build(url: str, only: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Create the previous release's schema at ``url`` with one scanned, inventoried and
    indexed image; every table's rows (sorted), to compare after an upgrade."""
    from hullguard.store.scans import encode_sbom

    engine = create_engine(_engine_url(url))
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")  # as that release set it
            for statement in statements(engine.dialect.name, only):
                conn.exec_driver_sql(statement)
        tables = MetaData()
        tables.reflect(engine)
        report = _report(NAME)
        digest, data = encode_sbom(report.sbom)
        with engine.begin() as conn:
            for table, rows in _rows(report, digest, data).items():
                if table in tables.tables:
                    conn.execute(insert(tables.tables[table]), rows)
        return rows_of(engine)
    finally:
        engine.dispose()


def _rows(report: Any, digest: str, data: bytes) -> dict[str, list[dict[str, Any]]]:
    """Ids are left to the database (as that release did): the first row of each is id 1."""
    image = report.sbom.image
    image_digest = str(image.digest)
    return {
        "images": [{"key": image_digest, "digest": image_digest, "reference": NAME,
                    "chain": json.dumps(list(image.chain)), "sbom_digest": digest,
                    "first_seen": SEEN, "last_seen": SEEN}],
        "sboms": [{"digest": digest, "image_id": 1, "created_at": SEEN, "packages": 1,
                   "data": data}],
        "scans": [{"image_id": 1, "sbom_digest": digest, "kind": "scan",
                   "created_at": SEEN, "database": "old-db", "counts": '{"high": 1}'}],
        "findings": [{"scan_id": 1, "vuln_id": "CVE-2026-0001", "aliases": "[]",
                      "package_key": "apk:musl", "purl": "pkg:apk/alpine/musl@1.2.4-r2",
                      "package_name": "musl", "version": "1.2.4-r2", "severity": 3,
                      "fixed_versions": '["1.2.4-r3"]', "suppressed_by": ""}],
        "inventory_occurrences": [{
            "registry": "registry.example", "repository": "app", "tag": "1",
            "ref_digest": "", "ref_name": NAME, "raw": NAME, "kind": "kubernetes",
            "path": "deploy.yaml", "line": 3, "namespace": "prod", "workload_kind": "Deployment",
            "workload": "web", "container": "web", "helm_source": "",
            "workload_key": "prod/Deployment/web", "running_digest": "", "role": "container"}],
        "inventory_workloads": [{
            "key": "prod/Deployment/web", "namespace": "prod", "kind": "Deployment",
            "name": "web", "source": "deploy.yaml", "data": "{}", "internet_facing": True,
            "exposure_via": '["Ingress web"]', "environment": "production",
            "criticality": "high", "criticality_source": "namespace"}],
        "inventory_sources": [{"source": "deploy.yaml"}],
        "graph_images": [{"id": image_digest, "chain_hash": "c" * 32, "chain_len": 2,
                          "parent": None, "names": NAME, "digests": image_digest}],
        "graph_names": [{"name": NAME, "image_id": image_digest},
                        {"name": image_digest, "image_id": image_digest}],
        "graph_prefixes": [{"prefix": "b" * 32, "image_id": image_digest}],
        "graph_links": [{"occurrence_id": 1, "image_id": image_digest,
                         "via": "reference"}],
        "graph_packages": [{"image_id": image_digest, "key": "musl", "name": "musl",
                            "version": "1.2.4-r2", "type": "apk",
                            "purl": "pkg:apk/alpine/musl@1.2.4-r2"}],
        "graph_synced": [{"sbom_digest": digest}],
    }


def rows_of(engine: Any, skip: tuple[str, ...] = ("alembic_version", "image_names",
                                                   "api_tokens", "submissions")
            ) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but ``skip``), sorted, times made naive UTC."""
    tables = MetaData()
    tables.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(tables.tables.items()):
            if name not in skip:
                out[name] = sorted((tuple(_plain(v) for v in row)
                                    for row in conn.execute(select(table))), key=repr)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def count(engine: Any, table: str) -> int:
    tables = MetaData()
    tables.reflect(engine, only=[table])
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(tables.tables[table])) or 0)
