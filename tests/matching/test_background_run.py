"""Without a broker (the embedded demo) a manual full run runs in a background thread of the web
process, chunk by chunk, so that the staff page can watch it; other runs stay inline."""

import threading

import pytest

from matching.models import MatchRun
from matching.services import dispatch, evaluation
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three_buckets_of_needs():
    """Needs in three advisory-lock buckets (ids 64 apart): a run cuts them into three chunks."""
    f.ProductFactory()
    return [f.NeedFactory(pk=pk) for pk in (1, 65, 129)]


def test_a_manual_full_run_without_a_broker_runs_its_chunks_in_a_background_thread(
    cast, settings, monkeypatch, three_buckets_of_needs
):
    settings.MATCH_EAGER_BACKGROUND = True
    settings.MATCH_EAGER_CHUNK_SIZE = 1
    threads = []
    real_start = dispatch._run_in_background
    monkeypatch.setattr(
        dispatch, "_run_in_background", lambda *a: threads.append(real_start(*a)) or threads[-1]
    )
    chunk_threads = []
    real_chunk = evaluation.run_chunk_process

    def chunk(**kwargs):
        chunk_threads.append(threading.current_thread().name)
        return real_chunk(**kwargs)

    monkeypatch.setattr(evaluation, "run_chunk_process", chunk)

    run = dispatch.start_full_run(trigger=MatchRun.Trigger.MANUAL, user=cast.staff)

    assert len(threads) == 1 and threads[0].daemon
    threads[0].join(timeout=60)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    assert run.total_chunks == 3 and run.chunks_done == 3
    assert chunk_threads == [f"matching-run-{run.pk}"] * 3  # one by one, off the request's thread


def test_with_the_background_off_or_for_a_seed_run_the_run_finishes_inline(
    cast, settings, three_buckets_of_needs
):
    settings.MATCH_EAGER_BACKGROUND = False
    run = dispatch.start_full_run(trigger=MatchRun.Trigger.MANUAL, user=cast.staff)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
    settings.MATCH_EAGER_BACKGROUND = True
    run = dispatch.start_full_run(trigger=MatchRun.Trigger.SEED)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED
