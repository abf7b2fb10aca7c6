"""推荐清单 end to end: staff build a list from filters and send it; the receiving bank sees only the
lists sent to it, each firm through the bank view, and answers per firm on the page and by API;
the funnel on the detail page and on the dashboard equals the hand count, including a loan made
through the real transitions; another bank gets 404; overdue answers escalate once each.

The clock is frozen: the list is sent on Wednesday 2026-09-30 10:00 with 2 working days to answer,
so across the National Day holiday (1–7 October) its answers are due on Friday 2026-10-09."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from enterprises.models import InnovationScore
from enterprises.services import consent_grant
from matching.models import Loan
from matching.services.applications import application_submit
from matching.services.review import application_transition
from portal.models import Notification, Transition
from recommendations import services
from recommendations.models import RecommendationFeedback, RecommendationList, RecommendationRecipient
from tests import factories as f

pytestmark = pytest.mark.django_db

SENT = "2026-09-30 10:00 +08:00"
DUE = date(2026, 10, 9)


def score(firm, total):
    return InnovationScore.objects.create(
        enterprise=firm, as_of=date(2026, 9, 1), stage_group="growth", total=Decimal(total), is_latest=True
    )


@pytest.fixture
def firms(cast):
    """Firm A (cast.firm_a's) and I are the only firms every filter below selects; each other firm
    fails exactly one filter."""
    with time_machine.travel("2026-09-01 09:00 +08:00"):
        a = cast.firm_a.enterprise
        a.name = "甲科技"
        a.save(update_fields=["name"])
        score(a, "82")
        b = cast.firm_b.enterprise  # score below 70
        score(b, "65")
        c = f.EnterpriseFactory(name="丙成熟期", stage="mature")
        score(c, "90")
        d = f.EnterpriseFactory(name="丁大同", city=f.region("140200"))
        score(d, "90")
        e = f.EnterpriseFactory(name="戊有贷款", had_bank_loan=True)
        score(e, "90")
        g = f.EnterpriseFactory(name="己未认证", verification_status="pending")
        score(g, "90")
        h = f.EnterpriseFactory(name="庚未授权", shares_profile=False)
        score(h, "90")
        only_b = f.EnterpriseFactory(name="辛只授权乙行", shares_profile=False)
        consent_grant(user=None, enterprise=only_b, institution=cast.bank_b)
        score(only_b, "90")
        i = f.EnterpriseFactory(name="壬只给基本信息", shares_profile=False)
        consent_grant(user=None, enterprise=i, institution=cast.bank_a, scope=["basic"])
        score(i, "75")
        no_score = f.EnterpriseFactory(name="癸无积分")
    return {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
        "g": g,
        "h": h,
        "only_b": only_b,
        "i": i,
        "none": no_score,
    }


def filters(cast):
    return {
        "min_score": "70",
        "stages": ["growth"],
        "cities": ["140100"],
        "first_loan_only": True,
        "consenting_only": True,
        "consent_institutions": [cast.bank_a.pk],
    }


def form_data(cast, **extra):
    return {
        "title": "太原成长期首贷推荐",
        "min_score": "70",
        "stages": ["growth"],
        "cities": ["140100"],
        "first_loan_only": "on",
        "consenting_only": "on",
        "consent_institutions": [str(cast.bank_a.pk)],
        **extra,
    }


def names(rec_list):
    return sorted(rec_list.entries.values_list("enterprise__name", flat=True))


# ------------------------------------------------------------------------------------------------
# Building
# ------------------------------------------------------------------------------------------------


def test_the_filters_select_exactly_the_firms_that_pass_each_of_them(cast, firms):
    with time_machine.travel(SENT):
        assert services.list_preview(filters=filters(cast), by=cast.staff) == 2
        rec_list = services.list_build(filters=filters(cast), by=cast.staff, title="清单")
    assert names(rec_list) == ["壬只给基本信息", "甲科技"]
    entry = rec_list.entries.get(enterprise=firms["a"])
    assert entry.score == Decimal("82.00") and entry.first_loan is True
    assert rec_list.status == "draft" and rec_list.filters["min_score"] == "70.00"
    # Dropping the score filter brings back firm B (score 65) and the firm without a score, only them.
    loose = services.filters_clean({k: v for k, v in filters(cast).items() if k != "min_score"})
    assert {e.name for e in services.list_candidates(loose)} == {
        "甲科技",
        "壬只给基本信息",
        firms["b"].name,
        "癸无积分",
    }
    by_stage_group = services.filters_clean({"stage_groups": ["mature"]})
    assert [e.name for e in services.list_candidates(by_stage_group)] == ["丙成熟期"]
    without_consent = services.filters_clean({"min_score": "80"})
    assert set(e.name for e in services.list_candidates(without_consent)) == {
        "甲科技",
        "丙成熟期",
        "丁大同",
        "戊有贷款",
        "庚未授权",
        "辛只授权乙行",
    }  # never the unverified firm; the firm without a score never passes a score filter


def test_the_builder_page_previews_the_count_then_creates_the_list(cast, firms, client_for):
    staff = client_for(cast.staff)
    with time_machine.travel(SENT):
        preview = staff.post("/recommendations/staff/new/", form_data(cast, action="preview"))
        assert 'data-count="2"' in preview.content.decode()
        assert not RecommendationList.objects.exists()
        created = staff.post("/recommendations/staff/new/", form_data(cast, action="create"))
        detail = staff.get(created["Location"]).content.decode()
    rec_list = RecommendationList.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/recommendations/staff/{rec_list.pk}/"
    assert names(rec_list) == ["壬只给基本信息", "甲科技"]
    assert "甲科技" in detail and "戊有贷款" not in detail and "科创积分不低于 70.00" in detail


def test_a_list_without_firms_or_title_is_refused_in_chinese(cast, firms, client_for):
    staff = client_for(cast.staff)
    page = staff.post("/recommendations/staff/new/", form_data(cast, action="create", min_score="99"))
    assert "没有符合筛选条件的已认证企业" in page.content.decode()
    page = staff.post("/recommendations/staff/new/", form_data(cast, action="create", title=""))
    assert "请填写清单名称" in page.content.decode()
    assert not RecommendationList.objects.exists()


# ------------------------------------------------------------------------------------------------
# The journey
# ------------------------------------------------------------------------------------------------


def signed_loan(cast, product, *, principal="2000000.00"):
    """A loan of bank A to firm A made through the transitions, starting 2026-10-14."""
    with time_machine.travel("2026-10-12 10:00 +08:00"):
        app = application_submit(
            user=cast.firm_a,
            product=product,
            amount=Decimal("3000000"),
            term_months=12,
            purpose="rd",
            share_profile=True,
        )
        app = application_transition(user=cast.officer_a, application=app, action="accept")
        app = application_transition(
            user=cast.officer_a,
            application=app,
            action="approve",
            credit_line="3000000.00",
            annual_rate="4.000",
            term_months=12,
        )
    with time_machine.travel("2026-10-13 10:00 +08:00"):
        app = f.sign_offer(app, cast.firm_a)
    with time_machine.travel("2026-10-14 15:00 +08:00"):
        application_transition(
            user=cast.officer_a,
            application=app,
            action="disburse",
            principal=principal,
            annual_rate="4.000",
            start_date=date(2026, 10, 14),
            maturity_date=date(2027, 10, 14),
        )
    return Loan.objects.get(application=app)


def test_the_journey_from_filters_to_loans(cast, firms, client_for, api_for):
    with time_machine.travel(SENT):
        staff = client_for(cast.staff)  # logged in anew on each frozen day (idle timeout)
        staff.post("/recommendations/staff/new/", form_data(cast, action="create"))
        mine = RecommendationList.objects.get()
        # Refused without the confirmation: nothing sent.
        page = staff.post(
            f"/recommendations/staff/{mine.pk}/send/",
            {"institutions": [cast.bank_a.pk], "due_working_days": "2"},
        )
        assert "请勾选确认后再发送" in page.content.decode()
        assert not RecommendationRecipient.objects.exists()
        sent = staff.post(
            f"/recommendations/staff/{mine.pk}/send/",
            {"institutions": [cast.bank_a.pk], "due_working_days": "2", "confirm": "on"},
        )
        assert sent.status_code == 302
        # Bank B's list, made and sent at once through the API.
        other = api_for(cast.staff).post(
            "/api/v1/recommendations/",
            {
                "title": "乙行清单",
                "filters": {"cities": ["140200"]},
                "institutions": [cast.bank_b.pk],
                "due_working_days": 3,
            },
            format="json",
        )
        assert other.status_code == 201, other.content
        assert [e["name"] for e in other.json()["entries"]] == ["丁大同"]
    mine.refresh_from_db()
    theirs = RecommendationList.objects.get(pk=other.json()["id"])
    recipient = mine.recipients.get()
    assert (mine.status, mine.feedback_due, recipient.institution, recipient.due_on) == (
        "sent",
        DUE,
        cast.bank_a,
        DUE,
    )
    assert Notification.objects.filter(user=cast.officer_a, title__contains="太原成长期首贷推荐").exists()
    assert not Notification.objects.filter(user=cast.officer_b, title__contains="太原成长期首贷推荐").exists()

    # The bank sees only the lists sent to it, with due dates and answers counted.
    with time_machine.travel("2026-10-08 09:00 +08:00"):
        officer_a, officer_b = client_for(cast.officer_a), client_for(cast.officer_b)
        inbox = officer_a.get("/recommendations/bank/").content.decode()
        assert (
            f'data-recommendation-list="{mine.pk}"' in inbox
            and f'data-recommendation-list="{theirs.pk}"' not in inbox
        )
        assert "2026-10-09" in inbox and 'data-answered="0" data-firms="2"' in inbox
        assert [
            r["id"] for r in api_for(cast.officer_a).get("/api/v1/recommendations/").json()["results"]
        ] == [mine.pk]
        assert [
            r["id"] for r in api_for(cast.officer_b).get("/api/v1/recommendations/").json()["results"]
        ] == [theirs.pk]
        assert {r["id"] for r in api_for(cast.staff).get("/api/v1/recommendations/").json()["results"]} == {
            mine.pk,
            theirs.pk,
        }
        # Through the bank view: firm A shares its financials (score shown), firm I only basic (no score).
        page = officer_a.get(f"/recommendations/bank/{mine.pk}/").content.decode()
        assert 'data-score="82.00"' in page and 'data-score="75.00"' not in page and "data-restricted" in page
        body = api_for(cast.officer_a).get(f"/api/v1/recommendations/{mine.pk}/").json()
        rows = {e["name"]: e for e in body["entries"]}
        assert rows["甲科技"]["score"] == "82.00" and rows["甲科技"]["first_loan"] is True
        assert rows["壬只给基本信息"]["score"] is None and rows["壬只给基本信息"]["first_loan"] is None
        assert rows["壬只给基本信息"]["city_name"] and rows["壬只给基本信息"]["industry_display"]
        assert "filters" not in body and [r["institution"] for r in body["recipients"]] == [cast.bank_a.pk]

        # Another institution: 404 on the page, the API detail and the feedback, nothing written.
        assert officer_b.get(f"/recommendations/bank/{mine.pk}/").status_code == 404
        assert api_for(cast.officer_b).get(f"/api/v1/recommendations/{mine.pk}/").status_code == 404
        refused = api_for(cast.officer_b).post(
            f"/api/v1/recommendations/{mine.pk}/feedback/",
            {"enterprise": firms["a"].pk, "outcome": "contacted"},
            format="json",
        )
        assert refused.status_code == 404
        assert (
            officer_b.post(
                f"/recommendations/bank/{mine.pk}/feedback/", {"entry": mine.entries.first().pk}
            ).status_code
            == 404
        )
        assert not RecommendationFeedback.objects.exists()

        # Feedback per firm on the page: validation first, then a grant of 300万元.
        entry_a = mine.entries.get(enterprise=firms["a"])
        url = f"/recommendations/bank/{mine.pk}/feedback/"
        p = f"e{entry_a.pk}-"
        page = officer_a.post(url, {"entry": entry_a.pk, p + "outcome": "granted", p + "amount": ""})
        assert "已授信时请填写授信金额" in page.content.decode()
        page = officer_a.post(url, {"entry": entry_a.pk, p + "outcome": "declined"})
        assert "不予支持时请选择原因" in page.content.decode()
        assert not RecommendationFeedback.objects.exists()
        done = officer_a.post(url, {"entry": entry_a.pk, p + "outcome": "granted", p + "amount": "300"})
        assert done.status_code == 302
        granted = RecommendationFeedback.objects.get()
        assert (granted.outcome, granted.amount, granted.answered_by) == (
            "granted",
            Decimal("3000000.00"),
            cast.officer_a,
        )

        # By API: firm I declined, then contacted; refusals leave the rows as they were.
        api = api_for(cast.officer_a)
        post = lambda body: api.post(f"/api/v1/recommendations/{mine.pk}/feedback/", body, format="json")  # noqa: E731
        bad = post({"enterprise": firms["i"].pk, "outcome": "declined"})
        assert bad.status_code == 400 and bad.json()["reason_code"] == ["不予支持时请选择原因。"]
        bad = post({"enterprise": firms["a"].pk, "outcome": "granted", "amount": "-5"})
        assert bad.status_code == 400 and bad.json()["amount"] == ["授信金额必须大于 0。"]
        bad = post({"enterprise": firms["a"].pk, "outcome": "maybe"})
        assert bad.status_code == 400 and "已联系（contacted）" in bad.json()["outcome"][0]
        bad = post({"enterprise": firms["d"].pk, "outcome": "contacted"})
        assert bad.status_code == 404 and bad.json()["detail"] == "该企业不在此清单中。"
        bad = post({"enterprise": firms["i"].pk, "outcome": "declined", "reason_code": "bogus"})
        assert bad.status_code == 400 and "not_eligible（不符合准入）" in bad.json()["reason_code"][0]
        granted.refresh_from_db()
        assert (granted.outcome, granted.amount) == ("granted", Decimal("3000000.00"))
        assert RecommendationFeedback.objects.count() == 1
        ok = post(
            {
                "enterprise": firms["i"].pk,
                "outcome": "declined",
                "reason_code": "not_eligible",
                "note": "准入",
            }
        )
        assert ok.status_code == 200 and ok.json()["reason_label"] == "不符合准入"
        ok = post({"enterprise": firms["i"].pk, "outcome": "contacted", "note": "再次沟通"})
        assert ok.status_code == 200
        answer_i = RecommendationFeedback.objects.get(entry__enterprise=firms["i"])
        assert (answer_i.outcome, answer_i.reason_code, answer_i.amount) == ("contacted", "", None)
        history = Transition.objects.filter(
            object_id=answer_i.pk, content_type__model="recommendationfeedback"
        )
        assert list(history.order_by("pk").values_list("from_state", "to_state")) == [
            ("", "declined"),
            ("declined", "contacted"),
        ]

    # A loan of bank A to firm A after the send date counts; one of bank A to firm B (not listed) does not.
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    loan = signed_loan(cast, product)
    assert loan.application.product.institution == cast.bank_a

    # Hand count for bank A: 2 sent, 2 contacted (a grant is a contact), 1 granted 300万元, 1 loan 200万元.
    with time_machine.travel("2026-10-15 09:00 +08:00"):
        staff = client_for(cast.staff)
        detail = staff.get(f"/recommendations/staff/{mine.pk}/").content.decode()
        row = (
            f'data-funnel-institution="{cast.bank_a.pk}" data-sent="2" data-contacted="2" data-granted="1" '
            'data-granted-amount="3000000.00" data-loans="1" data-loan-amount="2000000.00"'
        )
        assert row in detail
        assert "甲行科创贷" not in detail and "300.00万元" in detail
        funnel = api_for(cast.staff).get(f"/api/v1/recommendations/{mine.pk}/").json()["funnel"]
        assert funnel == [
            {
                "institution": cast.bank_a.pk,
                "institution_name": cast.bank_a.short_name,
                "sent": 2,
                "answered": 2,
                "contacted": 2,
                "granted": 1,
                "granted_amount": "3000000.00",
                "loans": 1,
                "loan_amount": "2000000.00",
            }
        ]
        dashboard = staff.get("/dashboard/").content.decode()
        list_row = (
            f'data-funnel-list="{mine.pk}" data-sent="2" data-contacted="2" data-granted="1" '
            'data-granted-amount="3000000.00" data-loans="1" data-loan-amount="2000000.00"'
        )
        assert list_row in dashboard
        assert f'data-funnel-list="{theirs.pk}" data-sent="1" data-contacted="0"' in dashboard
        # The manager's dashboard shows his institution's rows only.
        manager = client_for(cast.manager_a).get("/dashboard/").content.decode()
        assert f'data-funnel-list="{mine.pk}"' in manager and f'data-funnel-list="{theirs.pk}"' not in manager


def test_region_desks_have_no_recommended_lists(cast, firms, client_for, api_for):
    desk = f.RegionDeskFactory(region=f.region("140100"))
    with time_machine.travel(SENT):
        rec_list = services.list_build(filters=filters(cast), by=cast.staff, title="清单")
    assert client_for(desk).get("/recommendations/staff/").status_code == 403
    assert client_for(desk).get(f"/recommendations/staff/{rec_list.pk}/").status_code == 403
    assert api_for(desk).get("/api/v1/recommendations/").status_code == 403


def test_only_staff_build_and_a_sent_list_is_not_sent_twice(cast, firms):
    with time_machine.travel(SENT):
        with pytest.raises(services.ServiceError, match="只有省级专班"):
            services.list_build(filters={}, by=cast.manager_a, title="x")
        rec_list = services.list_build(filters=filters(cast), by=cast.staff, title="清单")
        with pytest.raises(services.ServiceError, match="有 1 户企业未授权"):
            services.list_send(
                rec_list=rec_list, institutions=[cast.bank_b], due_working_days=2, by=cast.staff
            )
        assert not rec_list.recipients.exists()
        with pytest.raises(services.ServiceError, match="未找到该清单") as refused:  # a draft is staff's only
            services.feedback_record(
                entry=rec_list.entries.first(),
                institution=cast.bank_a,
                outcome="contacted",
                by=cast.officer_a,
            )
        assert refused.value.status == 404
        services.list_send(rec_list=rec_list, institutions=[cast.bank_a], due_working_days=2, by=cast.staff)
        with pytest.raises(services.ServiceError, match="清单已发送"):
            services.list_send(
                rec_list=rec_list, institutions=[cast.bank_a], due_working_days=2, by=cast.staff
            )
    assert rec_list.recipients.count() == 1


# ------------------------------------------------------------------------------------------------
# Escalation
# ------------------------------------------------------------------------------------------------


def test_overdue_answers_alert_the_managers_then_staff_once_each_in_working_days(cast, firms):
    manager_b = f.ManagerFactory(username="manager_b", branch=cast.officer_b.branch)
    with time_machine.travel(SENT):
        rec_list = services.list_build(
            filters={"cities": ["140100"], "min_score": "80"}, by=cast.staff, title="甲乙清单"
        )
        services.list_send(
            rec_list=rec_list, institutions=[cast.bank_a, cast.bank_b], due_working_days=2, by=cast.staff
        )
    assert set(rec_list.recipients.values_list("due_on", flat=True)) == {DUE}
    with time_machine.travel("2026-10-09 16:00 +08:00"):  # bank B answers every firm in time
        for entry in rec_list.entries.all():
            services.feedback_record(
                entry=entry, institution=cast.bank_b, outcome="contacted", by=cast.officer_b
            )

    def alerts(user):
        return Notification.objects.filter(user=user, title__startswith="推荐清单反馈超期").count()

    with time_machine.travel("2026-10-09 20:00 +08:00"):  # the due day itself: not overdue
        assert services.recipients_escalate_overdue() == 0
    with time_machine.travel("2026-10-10 08:30 +08:00"):  # Saturday, a 调休 working day: managers
        assert services.recipients_escalate_overdue() == 1
    assert (alerts(cast.manager_a), alerts(cast.staff), alerts(manager_b), alerts(cast.officer_a)) == (
        1,
        0,
        0,
        0,
    )
    with time_machine.travel("2026-10-11 08:30 +08:00"):  # Sunday: one working day past due only
        assert services.recipients_escalate_overdue() == 0
    with time_machine.travel("2026-10-12 08:30 +08:00"):  # Monday, two working days past due: staff
        assert services.recipients_escalate_overdue() == 1
        assert services.recipients_escalate_overdue() == 0
    assert (alerts(cast.manager_a), alerts(cast.staff), alerts(manager_b)) == (1, 1, 0)
    recipient = rec_list.recipients.get(institution=cast.bank_a)
    assert recipient.manager_alerted_at is not None and recipient.staff_alerted_at is not None
    assert rec_list.recipients.get(institution=cast.bank_b).manager_alerted_at is None


def test_the_escalation_task_runs_the_service(cast, firms):
    from recommendations.tasks import escalate_overdue

    with time_machine.travel(SENT):
        rec_list = services.list_build(filters=filters(cast), by=cast.staff, title="清单")
        services.list_send(rec_list=rec_list, institutions=[cast.bank_a], due_working_days=2, by=cast.staff)
    with time_machine.travel("2026-10-12 08:30 +08:00"):
        assert escalate_overdue.delay().get() == 2  # managers and staff, both due by now
