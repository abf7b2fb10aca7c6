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
