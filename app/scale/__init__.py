"""Scale tooling: a deterministic data generator and an in-process benchmark (issue 5).

- ``generate``: ``flask seed-scale --persons N --seed S`` builds a realistic province (organisation tree,
  internal departments, admins, N persons, pending registrations and changes) with COPY on PostgreSQL
  and executemany on SQLite. Later tables add their own step with ``generate.register_step``.
- ``bench``: ``flask bench`` measures the pages and the batch decision against a plain Flask-AppBuilder
  view of the same model in the same run, counting SQL statements per request.
- ``cli``: registers both commands.
"""
