"""Forensics (playbook phase 4): answer "who pulled or pushed what, when, from where" and "is an
indicator of compromise inside these images or logs" from evidence the responder collected.

Public surface (what ``respond`` and the CLI call):

* :func:`hullguard.forensics.ingest.ingest` loads log files into the case's DuckDB ``events``
  table through one parser per source format (:mod:`hullguard.forensics.sources`);
* :mod:`hullguard.forensics.queries`: ``pulls_of``, ``timeline``, ``push_anomalies``,
  ``run_sql`` over that table;
* :func:`hullguard.forensics.ioc.ioc_scan` searches every layer file (deleted ones too), the
  config and the ingested logs for hashes, strings, regexes and YARA rules.

DuckDB and YARA are imported inside the functions that need them (CLI start-up stays light).
"""
