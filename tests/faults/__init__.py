"""Fault injection with real processes (issue 8, item 7).

- Redis down while a firm posts a need: test_redis_down.py
- PostgreSQL connection dropped between requests: test_postgres_drop.py
- A task that kills its worker every time: test_poison_task.py
- A worker killed during a full match run, finished by a new worker without duplicates: covered by
  tests/matching/test_worker.py::test_killing_the_worker_mid_run_then_starting_another_finishes_the_run_without_duplicates
  (owned by the matching service; not duplicated here).
- The loaded Celery configuration: tests/portal/test_celery_worker.py.
"""
