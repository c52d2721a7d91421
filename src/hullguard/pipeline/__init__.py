"""The use cases every face calls: the CLI today, a service (FastAPI) and queue workers
(Celery) next. Nothing else implements them; a face parses its input, calls one, renders the
value it returns and maps errors.

* :mod:`~hullguard.pipeline.scan`: ``scan_image`` (one image: catalog, match, record) and
  ``rescan`` (the store against the current database);
* :mod:`~hullguard.pipeline.respond`: ``respond`` (inventory -> fleet scan -> lineage ->
  triage -> incident folder -> store) and ``scan_inventory_fleet`` (``scan-fleet``);
* :mod:`~hullguard.pipeline.fleet`: ``scan_fleet`` over an executor, resumable by journal;
* :mod:`~hullguard.pipeline.lineage`: bases and blast radius of a fleet (graph's one
  implementation), ``index_images`` into the store;
* :mod:`~hullguard.pipeline.jobs`, :mod:`~hullguard.pipeline.worker`,
  :mod:`~hullguard.pipeline.executors`: the image job as JSON, what a worker runs
  (``run_image_job``, the DB and store opened once per process) and where it runs.

It may import every stage (model, images, catalog, sbom, vuln, secrets, graph, triage,
respond's rendering and journal, store, inventory); no stage imports it, and it never imports
``hullguard.cli``, prints or exits: that is the face's job.
"""
