"""A task that kills its worker process every time is given up after a bounded number of attempts
(a counter persisted in matching.TaskAttempt), its run is marked failed and shows so on the staff
page — no endless redelivery loop.

The crash is injected into a real ``matching.run_chunk`` through the worker's environment
(``KEJIN_FAULT_CRASH_CHUNK=1``, see matching/tasks.py): the pool child calls ``os._exit(1)``, the
worker parent requeues the message (``task_reject_on_worker_lost``) and starts it again."""

import time

import pytest
from django.conf import settings

from matching.models import MatchRun, TaskAttempt
from matching.services.dispatch import start_full_run
from portal.celery import app as celery_app
from tests import factories as f
from tests.conftest import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker"), pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 120, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError("timed out waiting for the worker")


def queue_length(queue: str) -> int:
    with celery_app.connection_for_write() as conn:
        return conn.default_channel.client.llen(queue)


def test_a_chunk_that_crashes_its_worker_every_time_is_given_up_after_the_bound_and_its_run_fails(
    worker_queue, client_for
):
    limit = settings.TASK_MAX_ATTEMPTS
    f.ProductFactory()
    # Two needs in different advisory-lock buckets (64 ids each) → a run of two chunks, each a
    # matching.run_chunk message on the worker.
    for pk in (640_000, 640_064):
        f.NeedFactory(pk=pk)
    worker = WorkerProcess(
        worker_queue, extra_env={"KEJIN_FAULT_CRASH_CHUNK": "1", "CELERY_VISIBILITY_TIMEOUT": "5"}
    ).start()
    try:
        run = start_full_run(trigger="nightly", chunk_size=1)
        wait_for(
            lambda: TaskAttempt.objects.filter(task_name="matching.run_chunk", gave_up=True).count() == 2
        )
        run.refresh_from_db()
        assert run.total_chunks == 2
        assert run.status == MatchRun.Status.FAILED
        assert "导致工作进程退出" in run.error and "已停止重试" in run.error
        assert run.chunks_done == 0

        # Every chunk message started exactly limit + 1 times: `limit` crashes, then acked unrun.
        attempts = TaskAttempt.objects.filter(task_name="matching.run_chunk")
        assert sorted(attempts.values_list("attempts", flat=True)) == [limit + 1, limit + 1]
        assert not TaskAttempt.objects.filter(task_name="matching.run_start").exists()  # it finished

        # Nothing is left to redeliver: the worker is alive and idle, the queue is empty, and the
        # counters do not move any more.
        time.sleep(3)
        assert worker.proc.poll() is None
        assert queue_length(worker_queue) == 0
        assert sorted(attempts.values_list("attempts", flat=True)) == [limit + 1, limit + 1]
        log = worker.log.read_text()
        assert log.count("gave up after") == 2
        assert log.count("exited with 'exitcode 1'") == 2 * limit  # the crashes, and no more
    finally:
        worker.stop()

    page = client_for(f.StaffFactory()).get("/matching/runs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"#{run.pk}" in html and "失败" in html and "已停止重试" in html


def test_a_task_that_finishes_leaves_no_attempt_counter(celery_worker_process):
    f.ProductFactory()
    need = f.NeedFactory()
    from matching.services.dispatch import enqueue_need_match

    enqueue_need_match(need)
    wait_for(lambda: MatchRun.objects.filter(need=need, status__in=["succeeded", "failed"]).exists())
    assert MatchRun.objects.get(need=need).status == MatchRun.Status.SUCCEEDED
    assert not TaskAttempt.objects.exists()
