"""The matching service on a real Celery worker process and Redis: incremental runs, full runs,
idempotence, and a worker killed mid-run whose work a new worker finishes without duplicates."""

import time
from datetime import date
from decimal import Decimal

import pytest

from enterprises.models import AnnualFigures, Enterprise, FinancingNeed, financial_years
from matching.models import Match, MatchRun
from matching.services.dispatch import (
    enqueue_need_match,
    enqueue_product_match,
    runs_resume_stalled,
    start_full_run,
)
from tests import factories as f
from tests.conftest import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker")]

ROW_FIELDS = (
    "need_id",
    "product_id",
    "score",
    "reasons",
    "missing",
    "is_near_miss",
    "is_lead",
    "branch_id",
    "status",
)


def wait_for(predicate, timeout: float = 90, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError("timed out waiting for the worker")


def finished(run_filter) -> bool:
    return MatchRun.objects.filter(**run_filter, status__in=["succeeded", "failed"]).exists()


def rows():
    return sorted(Match.objects.values_list(*ROW_FIELDS))


def strong_firm(**kwargs):
    firm = f.EnterpriseFactory(**kwargs)
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    return firm


def test_posting_a_need_produces_its_matches(celery_worker_process):
    products = [f.ProductFactory(), f.ProductFactory()]
    need = f.NeedFactory(enterprise=strong_firm())
    enqueue_need_match(need)
    wait_for(lambda: finished({"need": need}))
    run = MatchRun.objects.get(need=need)
    assert run.status == "succeeded", run.error
    assert set(Match.objects.filter(need=need).values_list("product_id", flat=True)) == {
        p.pk for p in products
    }


def test_publishing_a_product_produces_its_matches(celery_worker_process):
    needs = [f.NeedFactory(enterprise=strong_firm()) for _ in range(3)]
    product = f.ProductFactory(status="draft")
    product.status = "published"
    product.save()
    enqueue_product_match(product)
    wait_for(lambda: finished({"product": product}))
    assert MatchRun.objects.get(product=product).status == "succeeded"
    assert set(Match.objects.filter(product=product).values_list("need_id", flat=True)) == {
        n.pk for n in needs
    }


def test_a_full_run_twice_gives_identical_rows(celery_worker_process):
    bank = f.InstitutionFactory()
    f.BranchFactory(institution=bank, is_scitech=True)
    f.ProductFactory(institution=bank)
    near = f.ProductFactory()
    near.criteria.min_invention_patents = 3
    near.criteria.save()
    for i in range(7):
        f.NeedFactory(enterprise=strong_firm(), amount=Decimal(600_000 + 900_000 * i))
    first = start_full_run(trigger="nightly", chunk_size=2)
    wait_for(lambda: finished({"pk": first.pk}))
    before = rows()
    second = start_full_run(trigger="nightly", chunk_size=3)
    wait_for(lambda: finished({"pk": second.pk}))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert first.chunks_done == first.total_chunks and second.chunks_done == second.total_chunks
    assert rows() == before and len(before) == 14
    assert first.pairs_evaluated == second.pairs_evaluated == 14


def _bulk_data(needs: int, products: int) -> None:
    bank = f.InstitutionFactory()
    f.BranchFactory(institution=bank, is_scitech=True)
    for i in range(products):
        f.ProductFactory(institution=bank, amount_min=Decimal(100_000 + i * 10_000))
    taiyuan = f.region("140100")
    firms = Enterprise.objects.bulk_create(
        [
            Enterprise(
                name=f"批量科技{i}有限公司",
                uscc=f._uscc(900_000 + i),
                legal_representative="李四",
                city=taiyuan,
                founded_on=date(2018, 1, 1),
                industry="next_gen_it",
                stage="growth",
                verification_status="verified",
            )
            for i in range(needs)
        ]
    )
    AnnualFigures.objects.bulk_create(
        [
            AnnualFigures(
                enterprise=firm,
                year=financial_years()[0],
                revenue=Decimal("50000000.00"),
                rd_spend=Decimal("5000000.00"),
            )
            for firm in firms
        ]
    )
    FinancingNeed.objects.bulk_create(
        [
            FinancingNeed(
                enterprise=firm,
                amount=Decimal(1_000_000 + (i % 20) * 500_000),
                term_months=12,
                guarantee_types=["credit"],
                max_annual_rate=Decimal("5.000"),
            )
            for i, firm in enumerate(firms)
        ]
    )


def test_killing_the_worker_mid_run_then_starting_another_finishes_the_run_without_duplicates(
    celery_worker_process, worker_queue
):
    _bulk_data(needs=1200, products=20)
    run = start_full_run(trigger="nightly", chunk_size=40)  # about 19 chunks (cut every 64 ids)

    def progressed():
        run.refresh_from_db()
        return run.chunks_done >= 2

    wait_for(progressed, every=0.02)
    celery_worker_process.kill()
    run.refresh_from_db()
    assert run.status == "running" and run.chunks_done < run.total_chunks
    assert run.total_chunks >= 15

    # A new worker on the same queue; a short visibility timeout lets it take back the message
    # the killed worker held unacknowledged (production waits the configured timeout instead).
    again = WorkerProcess(worker_queue, extra_env={"CELERY_VISIBILITY_TIMEOUT": "3"}).start()
    try:
        # The killed worker held at most one chunk (prefetch 1). Killed right after a chunk, it may
        # have taken the next message off the queue without yet recording it unacknowledged: then
        # nothing redelivers it, and the sweep's resend of a stalled run's chunks is what finishes
        # the run. Both paths are taken here, whichever the kill hit: wait for every chunk but one,
        # then resend as the sweep does after MATCH_RUN_RESUME_MINUTES without progress.
        def all_but_one():
            run.refresh_from_db()
            return run.chunks_done >= run.total_chunks - 1

        wait_for(all_but_one, timeout=240)
        runs_resume_stalled(minutes=0, queue=worker_queue)
        wait_for(lambda: finished({"pk": run.pk}), timeout=240)
        run.refresh_from_db()
        assert run.status == "succeeded", run.error
        assert run.chunks_done == run.total_chunks
        assert run.pairs_evaluated == run.pairs_total == 1200 * 20  # no chunk counted twice
        assert Match.objects.count() == len(set(Match.objects.values_list("need_id", "product_id")))
        assert Match.objects.count() == 1200 * 20
        after_kill = rows()
        check = start_full_run(trigger="nightly", chunk_size=400)
        wait_for(lambda: finished({"pk": check.pk}), timeout=240)
        assert rows() == after_kill
    finally:
        again.stop()
