"""Pages of the matching service: the staff run page and the firm's suggestions."""

import pytest

from matching.models import MatchRun
from matching.services.dispatch import start_full_run
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_run_page_is_for_staff_only(cast, client_for, client):
    assert client_for(cast.staff).get("/matching/runs/").status_code == 200
    for user in (cast.firm_a, cast.officer_a, cast.manager_a):
        assert client_for(user).get("/matching/runs/").status_code == 403
    assert client.get("/matching/runs/").status_code == 302


def test_the_run_page_lists_the_history_and_offers_a_confirmed_manual_run(cast, client_for):
    MatchRun.objects.create(
        trigger="nightly", status="succeeded", matches_count=321, total_chunks=2, chunks_done=2
    )
    page = client_for(cast.staff).get("/matching/runs/").content.decode()
    assert "立即运行全量匹配" in page and "确认运行全量匹配？" in page
    assert "夜间全量" in page and "321" in page
    assert 'href="/matching/runs/"' in page  # the staff navigation links here


def test_the_run_page_says_what_to_do_when_there_is_no_run(cast, client_for):
    assert "还没有匹配任务" in client_for(cast.staff).get("/matching/runs/").content.decode()


def test_posting_the_button_starts_a_manual_run(cast, client_for, django_capture_on_commit_callbacks):
    f.NeedFactory(enterprise=cast.firm_a.enterprise)
    f.ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.staff).post("/matching/runs/start/")
    assert response.status_code == 302 and response["Location"] == "/matching/runs/"
    run = MatchRun.objects.get()
    assert (run.trigger, run.created_by, run.status, run.pairs_evaluated) == (
        "manual",
        cast.staff,
        "succeeded",
        1,
    )
    assert client_for(cast.staff).get("/matching/runs/start/").status_code == 405
    assert client_for(cast.officer_a).post("/matching/runs/start/").status_code == 403
    assert MatchRun.objects.count() == 1


def test_the_progress_partial_polls_every_two_seconds_while_running_and_stops_when_done(cast, client_for):
    run = MatchRun.objects.create(trigger="manual", status="running", total_chunks=4, chunks_done=3)
    staff = client_for(cast.staff)
    page = staff.get("/matching/runs/").content.decode()
    assert f'hx-get="/matching/runs/{run.pk}/progress/"' in page and 'hx-trigger="every 2s"' in page
    partial = staff.get(f"/matching/runs/{run.pk}/progress/").content.decode()
    assert "75%" in partial and 'hx-trigger="every 2s"' in partial and "<html" not in partial
    MatchRun.objects.filter(pk=run.pk).update(status="succeeded", chunks_done=4)
    partial = staff.get(f"/matching/runs/{run.pk}/progress/").content.decode()
    assert "100%" in partial and "hx-trigger" not in partial
    assert client_for(cast.officer_a).get(f"/matching/runs/{run.pk}/progress/").status_code == 403


def test_a_firm_sees_its_suggestions_with_reasons_and_near_misses_with_advice(
    cast, client_for, django_capture_on_commit_callbacks
):
    f.ProductFactory(name="合适贷")
    near = f.ProductFactory(name="小巨人贷")
    near.criteria.required_qualifications = ["srdi_giant"]
    near.criteria.save()
    f.NeedFactory(enterprise=cast.firm_a.enterprise)
    other = f.ProductFactory(name="别家贷")
    f.NeedFactory(enterprise=cast.firm_b.enterprise, amount=other.amount_max)
    with django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="nightly")
    page = client_for(cast.firm_a).get("/matching/suggestions/").content.decode()
    assert "合适贷" in page and "小巨人贷" in page
    assert "✓" in page and "融资金额 500.00万元，在产品额度" in page
    assert "需取得专精特新&quot;小巨人&quot;认定" in page
    assert page.index("合适贷") < page.index("差一点匹配的产品") < page.index("小巨人贷")
    assert client_for(cast.officer_a).get("/matching/suggestions/").status_code == 403


def test_a_firm_without_matches_is_told_what_to_do_next(cast, client_for):
    page = client_for(cast.firm_a).get("/matching/suggestions/").content.decode()
    assert "暂无符合条件的产品" in page and "发布融资需求" in page


def test_the_run_page_query_count_does_not_grow_with_rows(cast, client_for, django_assert_max_num_queries):
    staff = client_for(cast.staff)

    def add(n):
        for _ in range(n):
            need = f.NeedFactory()
            MatchRun.objects.create(trigger="need", need=need, status="succeeded", created_by=cast.staff)
            MatchRun.objects.create(trigger="product", product=f.ProductFactory(), status="succeeded")

    add(3)
    with django_assert_max_num_queries(12):
        assert staff.get("/matching/runs/").status_code == 200
    add(22)
    with django_assert_max_num_queries(12):
        assert staff.get("/matching/runs/").status_code == 200


def test_the_suggestions_query_count_does_not_grow_with_rows(cast, client_for, django_assert_max_num_queries):
    firm = client_for(cast.firm_a)
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)

    def add(n):
        for _ in range(n):
            f.MatchFactory(need=need, is_lead=True, branch=cast.officer_a.branch)
            f.MatchFactory(need=need, is_lead=False, is_near_miss=True, missing=["需取得高新技术企业认定"])

    add(3)
    with django_assert_max_num_queries(12):
        assert firm.get("/matching/suggestions/").status_code == 200
    add(22)
    with django_assert_max_num_queries(12):
        assert firm.get("/matching/suggestions/").status_code == 200
