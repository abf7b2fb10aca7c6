"""A task enqueued from a test runs on a real worker process through Redis — not eagerly."""

import pytest

from portal.celery import app as celery_app
from portal.tasks import ping


@pytest.mark.worker
def test_a_task_runs_on_a_real_worker_and_its_result_is_seen(celery_worker_process):
    assert celery_app.conf.task_always_eager is False
    result = ping.delay("kejin-123")
    assert result.get(timeout=30) == {"token": "kejin-123", "regions": 12}
    assert result.successful()


def test_the_celery_configuration_is_safe_for_redelivery(settings):
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_the_loaded_celery_configuration_bounds_every_task():
    """What a worker started with `celery -A portal worker` runs with (the app configured from
    Django settings): late acks, one message at a time, time limits, bounded retries, and a
    visibility timeout longer than the longest task may run (else a running task is redelivered)."""
    from matching.tasks import BoundedTask, run_chunk, run_start

    conf = celery_app.conf
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.broker_transport_options["max_retries"] >= 1  # publishing does not hang on a dead broker
    assert conf.task_default_retry_delay > 0
    assert conf.task_annotations["*"]["max_retries"] == 3
    # The annotation reaches the tasks, and a task crashing its worker is bounded too.
    assert run_chunk.max_retries == 3 and run_start.max_retries == 3
    assert isinstance(run_chunk, BoundedTask) and isinstance(run_start, BoundedTask)
    from django.conf import settings

    assert 1 <= settings.TASK_MAX_ATTEMPTS <= 5
