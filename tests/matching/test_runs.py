"""The matching run services (matching/services/dispatch, evaluation, routing, escalation): runs, the upsert, leads, routing, deadlines,
withdrawal and escalation. Tasks run eagerly here; tests/matching/test_worker.py uses a real worker."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from matching import engine
from matching.models import Match, MatchRun, MatchRunChunk
from matching.services import dispatch, evaluation
from matching.services.dispatch import enqueue_need_match, enqueue_product_match, start_full_run
from matching.services.escalation import leads_escalate_overdue, pass_need_to_next_product
from matching.services.evaluation import run_chunk_process
from matching.services.routing import BranchRouter
from portal.models import Notification, Transition
from portal.services import NotAllowedError
from portal.workdays import add_working_days
from tests import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")

ROW_FIELDS = (
    "need_id",
    "product_id",
    "enterprise_id",
    "institution_id",
    "score",
    "reasons",
    "score_parts",
    "missing",
    "is_near_miss",
    "is_lead",
    "status",
    "branch_id",
    "routed_at",
    "response_deadline",
    "escalated_at",
)


def rows():
    return sorted(Match.objects.values_list(*ROW_FIELDS), key=lambda r: (r[0], r[1]))


@pytest.fixture
def run_full(django_capture_on_commit_callbacks):
    def run(**kwargs) -> MatchRun:
        with django_capture_on_commit_callbacks(execute=True):
            match_run = start_full_run(trigger=kwargs.pop("trigger", "nightly"), **kwargs)
        match_run.refresh_from_db()
        return match_run

    return run


def strong_firm(**kwargs):
    """A verified Taiyuan firm that scores well above the lead threshold against a plain credit product."""
    firm = f.EnterpriseFactory(**kwargs)
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    for _ in range(5):
        f.IPAssetFactory(enterprise=firm)
    return firm


def product(institution=None, **criteria):
    p = f.ProductFactory(institution=institution or f.InstitutionFactory())
    for k, v in criteria.items():
        setattr(p.criteria, k, v)
    p.criteria.save()
    return p


# --- routing ------------------------------------------------------------------------------------


def test_routing_prefers_a_scitech_branch_in_the_firms_city_then_any_branch_there():
    bank = f.InstitutionFactory()
    f.BranchFactory(institution=bank, name="省分行营业部", is_provincial=True)
    plain = f.BranchFactory(institution=bank, name="太原迎泽支行")
    scitech = f.BranchFactory(institution=bank, name="太原科技支行", is_scitech=True)
    datong = f.BranchFactory(institution=bank, name="大同分行", city=f.region("140200"))
    router = BranchRouter.load()
    assert router.route(bank.pk, "140100") == scitech.pk
    assert router.route(bank.pk, "140200") == datong.pk
    scitech.delete()
    assert BranchRouter.load().route(bank.pk, "140100") == plain.pk


def test_a_zone_firm_goes_to_the_zone_branch_else_is_routed_as_taiyuan():
    bank = f.InstitutionFactory()
    taiyuan = f.BranchFactory(institution=bank, name="太原支行")
    zone = f.BranchFactory(institution=bank, name="综改区支行", city=f.region("140171"))
    assert BranchRouter.load().route(bank.pk, "140171", "140100") == zone.pk
    zone.delete()
    assert BranchRouter.load().route(bank.pk, "140171", "140100") == taiyuan.pk


def test_without_a_branch_in_the_city_the_scitech_branch_then_the_provincial_branch_gets_the_lead():
    bank = f.InstitutionFactory()
    head = f.BranchFactory(institution=bank, name="省分行营业部", is_provincial=True)
    scitech = f.BranchFactory(institution=bank, name="晋中科技支行", city=f.region("140700"), is_scitech=True)
    f.BranchFactory(institution=bank, name="长治分行", city=f.region("140400"))
    assert BranchRouter.load().route(bank.pk, "140800") == scitech.pk
    scitech.delete()
    assert BranchRouter.load().route(bank.pk, "140800") == head.pk
    assert BranchRouter.load().route(f.InstitutionFactory().pk, "140800") is None


def test_a_full_run_routes_each_lead_to_the_branch_the_rules_pick(run_full):
    bank = f.InstitutionFactory()
    f.BranchFactory(institution=bank, name="省分行营业部", is_provincial=True)
    taiyuan = f.BranchFactory(institution=bank, name="太原科技支行", is_scitech=True)
    datong = f.BranchFactory(institution=bank, name="大同分行", city=f.region("140200"))
    p = product(bank)
    in_datong = f.NeedFactory(enterprise=strong_firm(city=f.region("140200")))
    in_zone = f.NeedFactory(enterprise=strong_firm(city=f.region("140171")))
    in_yuncheng = f.NeedFactory(enterprise=strong_firm(city=f.region("140800")))
    run_full()
    branch = {m.need_id: m.branch_id for m in Match.objects.filter(product=p, is_lead=True)}
    assert branch == {in_datong.pk: datong.pk, in_zone.pk: taiyuan.pk, in_yuncheng.pk: taiyuan.pk}


# --- deadlines ----------------------------------------------------------------------------------


def test_the_deadline_skips_the_weekend_friday_10_00_gives_tuesday_10_00():
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
    assert add_working_days(friday, 2) == datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    wednesday = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    assert add_working_days(wednesday, 2) == datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
    saturday = datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)
    assert add_working_days(saturday, 2) == datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)


def test_the_deadline_is_read_in_beijing_time():
    # Friday 23:30 UTC is Saturday 07:30 in Beijing: 1 working day later is Monday 07:30 Beijing.
    friday_utc = datetime(2026, 11, 27, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert add_working_days(friday_utc, 1) == datetime(2026, 11, 30, 7, 30, tzinfo=SHANGHAI)


def test_a_lead_routed_gets_the_deadline_the_setting_names(run_full, settings):
    settings.LEAD_RESPONSE_WORKING_DAYS = 3
    need = f.NeedFactory(enterprise=strong_firm())
    f.BranchFactory(institution=(p := product()).institution, is_scitech=True)
    run_full()
    lead = Match.objects.get(need=need, product=p)
    assert lead.response_deadline == add_working_days(lead.routed_at, 3)


def test_a_new_lead_is_routed_now_with_a_deadline_of_two_working_days(run_full):
    need = f.NeedFactory(enterprise=strong_firm())
    f.BranchFactory(institution=(p := product()).institution, is_scitech=True)
    run_full()
    lead = Match.objects.get(need=need, product=p)
    assert lead.is_lead and lead.status == "suggested"
    assert lead.response_deadline == add_working_days(lead.routed_at, 2)
    assert lead.response_deadline > lead.routed_at + timedelta(days=1)


# --- leads, near misses, suggestions --------------------------------------------------------


def test_an_unverified_firms_need_gives_suggestions_but_no_lead(run_full):
    p = product()
    pending = f.NeedFactory(enterprise=strong_firm(verification_status="pending"))
    verified = f.NeedFactory(enterprise=strong_firm())
    run_full()
    assert Match.objects.get(need=pending, product=p).is_lead is False
    assert Match.objects.get(need=pending, product=p).is_near_miss is False
    assert Match.objects.get(need=verified, product=p).is_lead is True


def test_a_score_below_the_threshold_is_a_suggestion_not_a_lead(run_full, settings):
    p = product()
    need = f.NeedFactory(enterprise=strong_firm())
    settings.MATCH_LEAD_THRESHOLD = 101
    run_full()
    m = Match.objects.get(need=need, product=p)
    assert (m.is_lead, m.is_near_miss, m.branch_id) == (False, False, None)


def test_a_near_miss_is_stored_with_what_is_missing_and_is_never_a_lead(run_full):
    p = product(required_qualifications=["srdi_giant"])
    far = product(cities=["140200"], industries=["biotech"], stages=["seed"])
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    m = Match.objects.get(need=need, product=p)
    assert m.is_near_miss and not m.is_lead and m.branch_id is None
    assert m.missing == ['需取得专精特新"小巨人"认定']
    assert any(c["code"] == "qualification" and not c["met"] for c in m.reasons)
    assert not Match.objects.filter(product=far).exists()  # 3 failed criteria: not stored at all


def test_reasons_and_score_parts_are_the_engines(run_full):
    p = product()
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    m = Match.objects.get(need=need, product=p)
    assert [c["code"] for c in m.reasons] == ["city", "amount", "term", "guarantee", "rate"]
    assert all(c["met"] for c in m.reasons)
    assert sum(part["points"] for part in m.score_parts) == m.score


# --- idempotence, progress, withdrawal ------------------------------------------------------


def test_a_rerun_gives_identical_rows(run_full):
    products = [product(), product(required_qualifications=["srdi_sme"]), product(min_invention_patents=9)]
    f.BranchFactory(institution=products[0].institution, is_scitech=True)
    for i in range(6):
        f.NeedFactory(enterprise=strong_firm(), amount=Decimal(400000 + i * 1_000_000))
    first_run = run_full(chunk_size=2)
    first = rows()
    second_run = run_full(chunk_size=4)
    assert rows() == first
    assert len(first) == 18
    assert first_run.status == second_run.status == "succeeded"
    assert (first_run.matches_count, first_run.near_misses_count) == (
        second_run.matches_count,
        second_run.near_misses_count,
    )
    assert first_run.leads_count > 0 and second_run.leads_count == 0  # leads are routed once


def test_chunks_are_cut_on_lock_bucket_boundaries_only():
    ids = [*range(60, 70), *range(128, 131), 300]
    assert dispatch._chunks(ids, 3) == [[60, 61, 62, 63], [64, 65, 66, 67, 68, 69], [128, 129, 130], [300]]
    assert dispatch._chunks(ids, 100) == [ids]
    assert dispatch._chunks([], 3) == []


def test_a_run_records_its_progress_and_chunk_timings(run_full, monkeypatch):
    monkeypatch.setattr(dispatch, "_LOCK_BUCKET", 1)  # one need a bucket: chunks of exactly 2 needs
    product()
    product()
    for _ in range(5):
        f.NeedFactory(enterprise=strong_firm())
    run = run_full(chunk_size=2)
    assert (run.status, run.total_chunks, run.chunks_done) == ("succeeded", 3, 3)
    assert run.pairs_total == run.pairs_evaluated == 10
    assert run.matches_count == 10 and run.progress_percent == 100
    assert [t["index"] for t in run.chunk_timings] == [0, 1, 2]
    assert all(t["seconds"] >= 0 for t in run.chunk_timings)
    assert run.started_at <= run.finished_at


def test_a_chunk_delivered_again_counts_its_progress_once(run_full):
    product()
    f.NeedFactory(enterprise=strong_firm())
    run = run_full()
    before = rows()
    assert run_chunk_process(run_id=run.pk, index=0) is None  # the redelivered message
    assert MatchRunChunk.objects.get(run=run, index=0).attempts == 1
    run.refresh_from_db()
    assert (run.chunks_done, run.pairs_evaluated, run.matches_count) == (1, 1, 1)
    assert rows() == before


def test_a_run_whose_chunk_message_was_lost_is_resent_once_per_stall_and_finishes(monkeypatch, settings):
    """A worker killed between taking a chunk off the queue and recording it unacknowledged loses the
    message: nothing redelivers it. The sweep sends the run's unfinished chunks again after
    MATCH_RUN_RESUME_MINUTES without progress, once per stall, and the run ends as a clean run would."""
    monkeypatch.setattr(dispatch, "_LOCK_BUCKET", 1)  # one need a bucket: one chunk per need
    settings.MATCH_RUN_RESUME_MINUTES = 5
    product()
    product()
    for _ in range(3):
        f.NeedFactory(enterprise=strong_firm())
    start = datetime(2026, 12, 2, 2, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False):
        run = MatchRun.objects.create(trigger=MatchRun.Trigger.NIGHTLY)
        dispatch._plan(run.pk, 1)
        run_chunk_process(run_id=run.pk, index=0)
        run_chunk_process(run_id=run.pk, index=1)  # chunk 2's message is lost with the worker
    sent = []

    class Recording:
        def apply_async(self, args, **options):
            sent.append(args)

    with time_machine.travel(start + timedelta(minutes=4, seconds=59), tick=False):
        assert dispatch.runs_resume_stalled() == 0  # still inside the broker's own redelivery
    with monkeypatch.context() as m, time_machine.travel(start + timedelta(minutes=5), tick=False):
        m.setattr(dispatch, "_task", lambda name: Recording())
        assert dispatch.runs_resume_stalled() == 1
        assert sent == [(run.pk, 2)]  # only the unfinished chunk
        assert dispatch.runs_resume_stalled() == 0  # resending counts as progress: not every minute
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        assert dispatch.runs_resume_stalled() == 1  # still no progress: resent once more, eagerly here
    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.total_chunks) == ("succeeded", 3, 3)
    assert run.pairs_evaluated == run.pairs_total == 6
    lost_then_resent = rows()
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert dispatch.runs_resume_stalled() == 0  # a finished run is never resent
        clean = MatchRun.objects.create(trigger=MatchRun.Trigger.NIGHTLY)
        dispatch.run_dispatch(run_id=clean.pk, chunk_size=1)
    assert MatchRun.objects.get(pk=clean.pk).status == "succeeded"
    assert rows() == lost_then_resent


def test_a_match_that_no_longer_holds_is_deleted_when_no_bank_touched_it(run_full):
    p = product()
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    assert Match.objects.filter(need=need, product=p, is_lead=True).exists()
    p.criteria.cities = ["140200"]
    p.criteria.industries = ["biotech"]
    p.criteria.stages = ["seed"]
    p.criteria.save()
    run_full()
    assert not Match.objects.filter(need=need, product=p).exists()


def test_a_match_a_bank_acted_on_is_withdrawn_with_its_history_kept(run_full, cast):
    p = product(cast.bank_a)
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    lead = Match.objects.get(need=need, product=p)
    Match.objects.filter(pk=lead.pk).update(
        status="claimed", assigned_officer=cast.officer_a, claimed_at=timezone.now()
    )
    need.amount = Decimal("90000000.00")  # above the product's ceiling: no longer eligible
    need.save()
    run_full()
    lead.refresh_from_db()
    assert lead.status == "withdrawn" and lead.is_lead and lead.is_near_miss
    assert lead.assigned_officer == cast.officer_a
    assert (
        Transition.objects.filter(object_id=lead.pk, from_state="claimed", to_state="withdrawn").count() == 1
    )
    assert Notification.objects.filter(user=cast.officer_a, title__contains="撤回").exists()
    run_full()
    assert Transition.objects.filter(object_id=lead.pk, to_state="withdrawn").count() == 1


def test_an_untouched_lead_that_becomes_a_near_miss_leaves_the_bank_inbox(run_full):
    p = product()
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    need.amount = Decimal("90000000.00")
    need.save()
    run_full()
    m = Match.objects.get(need=need, product=p)
    assert (m.is_near_miss, m.is_lead, m.branch_id, m.response_deadline, m.status) == (
        True,
        False,
        None,
        None,
        "suggested",
    )


def test_a_withdrawn_need_has_its_suggestions_removed(run_full):
    p = product()
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    need.status = "withdrawn"
    need.save()
    run_full()
    assert not Match.objects.filter(need=need, product=p).exists()


# --- the incremental paths ----------------------------------------------------------------------


def test_posting_a_need_matches_it_against_all_published_products(django_capture_on_commit_callbacks):
    a, b = product(), product()
    draft = f.ProductFactory(status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        need = f.NeedFactory(enterprise=strong_firm())
        enqueue_need_match(need)
    assert set(Match.objects.filter(need=need).values_list("product_id", flat=True)) >= {a.pk, b.pk}
    assert not Match.objects.filter(product=draft).exists()
    run = MatchRun.objects.get(trigger="need", need=need)
    assert run.status == "succeeded" and run.total_chunks == 1


def test_publishing_a_product_matches_it_against_open_needs_of_verified_firms(
    django_capture_on_commit_callbacks,
):
    verified = f.NeedFactory(enterprise=strong_firm())
    pending = f.NeedFactory(enterprise=strong_firm(verification_status="pending"))
    closed = f.NeedFactory(enterprise=strong_firm(), status="fulfilled")
    p = f.ProductFactory(status="draft")
    p.status = "published"
    p.save()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_product_match(p)
    assert list(Match.objects.filter(product=p).values_list("need_id", flat=True)) == [verified.pk]
    assert not Match.objects.filter(need__in=[pending, closed]).exists()


def test_a_manual_full_run_needs_staff(cast):
    with pytest.raises(NotAllowedError):
        start_full_run(trigger="manual", user=cast.officer_a)
    assert start_full_run(trigger="manual", user=cast.staff).created_by == cast.staff


# --- escalation and passing on ------------------------------------------------------------------


@pytest.fixture
def three_banks(run_full, cast, settings):
    """One firm whose need fits three banks' products, ranked A (best) > B > C; only A's is a lead."""
    settings.MATCH_LEAD_THRESHOLD = 0
    firm = strong_firm()
    user = f.FirmUserFactory(enterprise=firm)
    need = f.NeedFactory(enterprise=firm, max_annual_rate=Decimal("5.000"))
    banks = [f.InstitutionFactory() for _ in range(3)]
    for bank in banks:
        f.BranchFactory(institution=bank, is_scitech=True)
    best = product(banks[0])
    second = product(banks[1])
    third = product(banks[2])
    Match.objects.all().delete()
    type(best).objects.filter(pk=second.pk).update(rate_min=Decimal("3.500"))  # less rate headroom
    type(best).objects.filter(pk=third.pk).update(rate_min=Decimal("4.000"))
    run_full()
    settings.MATCH_LEAD_THRESHOLD = 60
    Match.objects.exclude(product=best).update(
        is_lead=False, branch=None, routed_at=None, response_deadline=None
    )
    ns = type("Banks", (), {})()
    ns.need, ns.user, ns.best, ns.second, ns.third = need, user, best, second, third
    ns.staff = cast.staff
    return ns


def test_an_overdue_lead_escalates_to_the_next_ranked_product_exactly_once(three_banks):
    ns = three_banks
    scores = dict(Match.objects.filter(need=ns.need).values_list("product_id", "score"))
    assert scores[ns.best.pk] > scores[ns.second.pk] > scores[ns.third.pk]
    lead = Match.objects.get(need=ns.need, product=ns.best)
    Match.objects.filter(pk=lead.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))

    assert leads_escalate_overdue() == 1
    assert leads_escalate_overdue() == 0  # the periodic check runs again: nothing more

    lead.refresh_from_db()
    assert lead.status == "expired" and lead.escalated_at is not None
    passed = Match.objects.get(need=ns.need, product=ns.second)
    assert passed.is_lead and passed.status == "suggested" and passed.response_deadline > passed.routed_at
    assert not Match.objects.get(need=ns.need, product=ns.third).is_lead  # one at a time
    assert Transition.objects.filter(object_id=lead.pk, to_state="expired").count() == 1
    assert Notification.objects.filter(user=ns.staff, title__startswith="线索超时").count() == 1
    assert Notification.objects.filter(user=ns.user, title__contains="已推荐给").count() == 1


def test_a_lead_answered_in_time_is_not_escalated(three_banks):
    lead = Match.objects.get(need=three_banks.need, product=three_banks.best)
    Match.objects.filter(pk=lead.pk).update(status="contacted", first_response_at=timezone.now())
    assert leads_escalate_overdue(now=lead.response_deadline + timedelta(days=1)) == 0


def test_a_declined_lead_passes_the_need_on_and_the_last_one_tells_the_firm_nothing_is_left(three_banks):
    ns = three_banks
    lead = Match.objects.get(need=ns.need, product=ns.best)
    nxt = pass_need_to_next_product(match=lead, reason="客户资质不符")
    assert nxt.product_id == ns.second.pk
    last = pass_need_to_next_product(match=nxt, reason="额度已满")
    assert last.product_id == ns.third.pk
    assert pass_need_to_next_product(match=last, reason="不符合") is None
    assert Notification.objects.filter(user=ns.user, title="融资需求暂无其他匹配机构").count() == 1
    assert Match.objects.filter(need=ns.need, is_lead=True).count() == 3


# --- the engine's screen ------------------------------------------------------------------------


SCREEN_DAY = date(2026, 2, 28)
SCREEN_CITIES = ["140100", "140200", "140171", "140700"]


def random_firm(rng: random.Random, on: date = SCREEN_DAY) -> engine.FirmFacts:
    city = rng.choice(SCREEN_CITIES)
    quals = tuple(
        engine.QualificationFact(
            rng.choice(list(engine.QUALIFICATIONS)),
            on - timedelta(days=rng.randint(-30, 900)),
            rng.choice([None, on, on - timedelta(days=1), on + timedelta(days=200)]),
            rng.random() < 0.5,
        )
        for _ in range(rng.randint(0, 3))
    )
    return engine.FirmFacts(
        city=city,
        city_parent="140100" if city == "140171" else None,
        industry=rng.choice(list(engine.INDUSTRIES)),
        stage=rng.choice(list(engine.STAGES)),
        founded_on=rng.choice([date(2024, 2, 29), date(2020, 3, 1), date(2025, 6, 1)]),
        employees=50,
        rd_staff=5,
        revenue=Decimal(rng.choice([0, 1_000_000, 8_000_000, 50_000_000])),
        rd_spend=Decimal(rng.choice([0, 300_000, 900_000])),
        export_business=rng.random() < 0.3,
        invention_patents=rng.randint(0, 3),
        ip_assets=rng.randint(3, 8),
        qualifications=quals,
        # not scored yet, below, at and above the bars random_product sets
        innovation_score=rng.choice(
            [None, Decimal("45.50"), Decimal("60.00"), Decimal("72.50"), Decimal("100")]
        ),
    )


def random_product(rng: random.Random) -> engine.ProductFacts:
    return engine.ProductFacts(
        product_type=rng.choice(list(engine.PRODUCT_TYPES)),
        amount_min=Decimal(rng.choice([100_000, 1_000_000])),
        amount_max=Decimal(rng.choice([5_000_000, 30_000_000])),
        term_min=rng.choice([3, 12]),
        term_max=rng.choice([12, 36]),
        rate_min=rng.choice([None, Decimal("3.00"), Decimal("4.50")]),
        rate_max=Decimal("6.00"),
        guarantee_types=frozenset(rng.sample(list(engine.GUARANTEE_TYPES), rng.randint(1, 2))),
        cities=frozenset(rng.sample(SCREEN_CITIES[:2], rng.randint(0, 1))),
        industries=frozenset(rng.sample(list(engine.INDUSTRIES), rng.choice([0, 3]))),
        stages=frozenset(rng.sample(list(engine.STAGES), rng.choice([0, 2]))),
        required_qualifications=frozenset(rng.sample(list(engine.QUALIFICATIONS), rng.choice([0, 0, 1, 2]))),
        min_revenue=rng.choice([None, Decimal(5_000_000)]),
        min_invention_patents=rng.choice([0, 0, 1, 2]),
        min_years=rng.choice([0, 0, 2]),
        export_required=rng.random() < 0.2,
        max_amount_revenue_ratio=rng.choice([None, Decimal("0.5")]),
        min_innovation_score=rng.choice([None, None, Decimal(60), Decimal(70)]),
    )


def random_need(rng: random.Random) -> engine.NeedFacts:
    return engine.NeedFacts(
        amount=Decimal(rng.choice([100_000, 3_000_000, 30_000_000, 40_000_000])),
        term_months=rng.choice([3, 12, 36, 48]),
        guarantee_types=frozenset(rng.sample(list(engine.GUARANTEE_TYPES), rng.randint(0, 2))),
        max_annual_rate=rng.choice([None, Decimal("4.00"), Decimal("6.00")]),
    )


def test_the_screen_counts_exactly_the_criteria_evaluate_fails():
    rng = random.Random(7)
    on = SCREEN_DAY
    for _ in range(3000):
        firm, product_facts, need = random_firm(rng), random_product(rng), random_need(rng)
        failed = len(engine.evaluate(firm, product_facts, need, on=on).failed)
        assert engine.failed_count(firm, product_facts, need, on=on) == failed
        assert (engine.failed_count(firm, product_facts, need, on=on, stop_after=2) > 2) == (failed > 2)


def test_the_matcher_keeps_exactly_the_pairs_evaluate_would_store():
    """The run's path (engine.Matcher) gives, pair for pair, what evaluate() gives, for the pairs
    failing at most two criteria, and nothing for the others."""
    rng = random.Random(11)
    names = {"140100": "太原市", "140200": "大同市", "140171": "综改区", "140700": "晋中市"}
    products = [random_product(rng) for _ in range(40)]
    matcher = engine.Matcher(products, on=SCREEN_DAY, city_names=names)
    kept = 0
    for _ in range(150):
        firm, need = random_firm(rng), random_need(rng)
        expected = []
        for i, p in enumerate(products):
            ev = engine.evaluate(firm, p, need, on=SCREEN_DAY, city_names=names)
            if len(ev.failed) <= engine.NEAR_MISS_MAX_FAILED:
                expected.append((i, ev))
        assert matcher.pairs(firm, need) == expected
        kept += len(expected)
    assert kept > 500  # eligible pairs and near misses both occur in this sample


def test_the_matcher_refuses_float_money_like_evaluate():
    rng = random.Random(3)
    matcher = engine.Matcher([random_product(rng)], on=SCREEN_DAY)
    need = random_need(rng)
    with pytest.raises(TypeError):
        matcher.pairs(random_firm(rng), engine.NeedFacts(1e6, need.term_months, need.guarantee_types, None))
    with pytest.raises(TypeError):
        engine.Matcher(
            [engine.ProductFacts("credit", 1e5, Decimal(1_000_000), 1, 12, None, None, frozenset())],
            on=SCREEN_DAY,
        )


def test_the_copy_text_holds_the_same_verdict_as_the_portable_path():
    """The PostgreSQL path writes JSON text built from fragments; it must hold the same values as
    the verdict() the portable path stores — eligible pairs and near misses, quotes included."""
    import json

    rng = random.Random(5)
    encoder = evaluation._VerdictJson()
    seen = {True: 0, False: 0}
    for _ in range(20000):
        if seen[True] >= 30 and seen[False] >= 200:
            break
        firm, p, need = random_firm(rng), random_product(rng), random_need(rng)
        ev = engine.evaluate(firm, p, need, on=SCREEN_DAY)
        if len(ev.failed) > engine.NEAR_MISS_MAX_FAILED:
            continue
        seen[ev.eligible] += 1
        texts = encoder.columns(ev, ev.eligible)
        assert tuple(json.loads(t) for t in texts) == evaluation.verdict(ev, ev.eligible)
    assert seen[True] >= 30 and seen[False] >= 200


def test_a_row_stored_behind_the_runs_back_makes_the_chunk_upsert_instead_of_failing(run_full):
    """New rows are copied straight into the table; if one exists after all, the chunk falls back
    to the upsert: no error, no duplicate, the verdict refreshed."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    p = product()
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    stored = Match.objects.get(need=need, product=p)
    ev = engine.Evaluation((engine.CriterionResult("city", "所在地区", True, "新的理由"),), 1, ())
    now = timezone.now()
    row = (need.pk, p.pk, need.enterprise_id, p.institution_id, ev, True, False, None)
    evaluation._write([row], existing=set(), run_id=stored.run_id, now=now, deadline=now)
    again = Match.objects.get(need=need, product=p)
    assert Match.objects.filter(need=need, product=p).count() == 1
    assert again.score == 1
    assert again.reasons == [{"code": "city", "label": "所在地区", "met": True, "reason": "新的理由"}]
    assert (again.is_lead, again.status, again.branch_id) == (stored.is_lead, stored.status, stored.branch_id)


def test_stored_reasons_name_the_cities(run_full):
    """What the firm reads on its suggestions page says 大同市, not a division code."""
    p = product(cities=["140200"])
    need = f.NeedFactory(enterprise=strong_firm())
    run_full()
    m = Match.objects.get(need=need, product=p)
    assert m.is_near_miss
    city = next(c for c in m.reasons if c["code"] == "city")
    assert "大同市" in city["reason"] and "140200" not in city["reason"]
    assert any("大同市" in line for line in m.missing)


def test_deleting_a_firm_or_a_product_still_removes_their_matches(run_full):
    """enterprise and institution on a match carry no database constraint (copies of need and
    product); deleting through the ORM cascades all the same."""
    p = product()
    firm = strong_firm()
    f.NeedFactory(enterprise=firm)
    other = f.NeedFactory(enterprise=strong_firm())
    run_full()
    assert Match.objects.filter(enterprise=firm).exists()
    firm.delete()
    assert not Match.objects.filter(enterprise_id=firm.pk).exists()
    assert Match.objects.filter(need=other).exists()
    p.delete()  # an institution's products are protected: its matches go with them
    assert not Match.objects.filter(institution_id=p.institution_id).exists()
