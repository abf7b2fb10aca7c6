
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.seed import row_counts
from matching.engine import evaluate
from matching.facts import firm_facts, need_facts, product_facts
from products.models import Product

pytestmark = pytest.mark.django_db


def first_verified() -> int:
    from enterprises.models import Enterprise

    return Enterprise.objects.filter(verification_status="verified").count()


def seed(firms=40):
    call_command(
        "seed_demo", "--password", "Demo-pass-2026", "--firms", str(firms), stdout=open("/dev/null", "w")
    )


def test_seed_twice_gives_the_same_row_counts():
    from enterprises.models import InnovationScore

    seed()
    first = row_counts()
    scores = InnovationScore.objects.count()
    seed()
    assert row_counts() == first
    # 科创积分: every verified firm scored, demo_firm with a history of two; a second seed adds none.
    assert InnovationScore.objects.count() == scores
    verified = first_verified()
    assert InnovationScore.objects.filter(is_latest=True).count() == verified
    from portal.models import User

    firm_id = User.objects.get(username="demo_firm").enterprise_id
    history = InnovationScore.objects.filter(enterprise_id=firm_id).order_by("as_of")
    assert len(history) == 2 and [h.is_latest for h in history] == [False, True]
    assert history[1].total > history[0].total and history[0].as_of < history[1].as_of
    assert first["enterprises.Enterprise"] == 42  # 40 synthetic + demo_firm + demo_firm2
    assert first["portal.Region"] == 12
    assert first["subsidies.Policy"] == 6  # one version a year: last year's and this year's


def test_demo_accounts_exist_with_their_roles_and_the_given_password(client, settings):
    from portal.models import User

    seed()
    expected = {
        "demo_firm": "firm",
        "demo_firm2": "firm",
        "demo_officer": "officer",
        "demo_officer2": "officer",
        "demo_officer_other": "officer",
        "demo_manager": "manager",
        "demo_staff": "staff",
        "demo_finance": "finance",
        "demo_cashier": "finance",
    }
    users = {u.username: u for u in User.objects.filter(username__in=expected)}
    assert {name: u.role for name, u in users.items()} == expected
    assert users["demo_firm"].enterprise_id != users["demo_firm2"].enterprise_id
    assert users["demo_firm"].enterprise.is_verified and users["demo_firm2"].enterprise.is_verified
    assert users["demo_officer"].branch_id == users["demo_officer2"].branch_id
    assert users["demo_officer"].branch.institution.name == "浦发银行太原分行"
    assert users["demo_officer_other"].branch.institution.name == "中国银行山西省分行"
    assert users["demo_manager"].branch.institution.name == "浦发银行太原分行"
    settings.AXES_ENABLED = False  # Client.login() authenticates without a request; django-axes needs one
    assert client.login(username="demo_staff", password="Demo-pass-2026")


def test_the_article_products_carry_the_article_figures():
    seed(firms=0)
    pxd = Product.objects.get(name="浦新贷")
    assert (pxd.amount_max, pxd.term_max_months, pxd.product_type, pxd.is_exclusive) == (
        30_000_000,
        36,
        "credit",
        True,
    )
    export = Product.objects.get(name="惠链速贷·出口E贷")
    assert export.amount_max == 5_000_000 and export.fully_online and export.criteria.export_required
    assert Product.objects.get(name="高新贷").criteria.required_qualifications == ["hitech"]
    assert Product.objects.get(name="知识产权质押贷款").criteria.min_invention_patents == 1
    fund = Product.objects.get(name="晋创天使基金")
    assert fund.institution.short_name == "山证投资" and fund.rate_min is None
    names = set(Product.objects.values_list("name", flat=True))
    assert {"科贷通宝", "晋创贷", "晋才贷", "高新贷", "订单融资"} <= names


def test_every_demo_product_is_valid_and_some_demo_firm_meets_its_criteria():
    seed(firms=120)
    from enterprises.models import FinancingNeed

    needs = list(
        FinancingNeed.objects.select_related("enterprise__city").prefetch_related(
            "enterprise__qualifications", "enterprise__ip_assets"
        )
    )
    facts = [(firm_facts(n.enterprise), need_facts(n)) for n in needs]
    for product in Product.objects.select_related("criteria"):
        product.full_clean()  # ranges in order, guarantee types known
        pf = product_facts(product)
        eligible = [1 for firm, need in facts if evaluate(firm, pf, need, on=timezone.localdate()).eligible]
        assert eligible, f"no demo need is eligible for {product.name}"


def test_the_demo_has_service_visits_with_a_follow_up_due_and_a_need_awaiting_the_firm(client):
    from enterprises.models import FinancingNeed, ServiceVisit
    from portal.models import User

    seed()
    assert ServiceVisit.objects.count() == 3
    staff = User.objects.get(username="demo_staff")
    client.force_login(staff)
    page = client.get("/staff/visits/")
    assert page.status_code == 200 and "太原芯元半导体材料有限公司" in page.content.decode()
    waiting = FinancingNeed.objects.get(enterprise__users__username="demo_firm2", on_behalf=True)
    assert waiting.amount == 8_000_000 and not waiting.confirmed_by_firm
    assert waiting.status == FinancingNeed.Status.AWAITING_FIRM


def test_the_demo_shows_a_loan_coming_up_for_renewal_and_a_guarantee_alternative():
    """demo_firm's 招商银行 loan matures within 60 days of the seed's today, its 60-day renewal notices
    sent once (a second seed sends none); a lead of its open need was declined for lack of collateral
    and 山西省融资再担保集团's 担保增信 is referred, shown on the firm's needs page with its fee."""
    from datetime import timedelta

    from matching.models import LoanNotice, Match
    from portal.models import Notification, User

    seed()
    firm_user = User.objects.get(username="demo_firm")
    today = timezone.localdate()
    loan = LoanNotice.objects.filter(loan__application__enterprise_id=firm_user.enterprise_id).get().loan
    assert today < loan.maturity_date <= today + timedelta(days=60)
    assert list(loan.notices.values_list("kind", flat=True)) == ["renewal_60"]
    renewal_notes = Notification.objects.filter(user=firm_user, title__startswith="续贷提醒").count()
    assert renewal_notes == 1
    declined = Match.objects.get(
        enterprise_id=firm_user.enterprise_id, status="declined", decline_reason="collateral"
    )
    referral = Match.objects.get(need=declined.need, product__name="担保增信")
    assert referral.is_lead and referral.product.institution.name == "山西省融资再担保集团"
    seed()
    assert LoanNotice.objects.filter(loan=loan).count() == 1
    assert Notification.objects.filter(user=firm_user, title__startswith="续贷提醒").count() == 1
    from matching.services.guarantee import guarantee_route, guarantee_route_due

    assert guarantee_route_due(declined.need)
    route = guarantee_route(declined.need)
    assert [alt["product"].name for alt in route] == ["担保增信"]
    assert route[0]["fee_text"].startswith("担保费率 1%/年：担保 800.00万元、24 个月，担保费约 16.00万元。")


def test_the_demo_has_first_loans_this_month_and_this_year_and_firms_with_an_earlier_bank_loan():
    """首贷: some demo firms with a loan declared no earlier bank loan, some did; the dashboard's
    first-loan figures of the current month and year are not zero (whatever the date)."""
    from dashboard import selectors as dashboard
    from matching.models import Loan
    from portal.models import User

    seed()
    declared = set(Loan.objects.values_list("application__enterprise__had_bank_loan", flat=True))
    assert declared == {True, False}
    staff = User.objects.get(username="demo_staff")
    for period in ("month", "year"):
        start, end = dashboard.period_bounds(period)
        figures = dashboard.summary(
            user=staff, filters=dashboard.Filters(start=start, end=end, period=period)
        )
        assert figures["first_loans"] >= 1, period
        assert Decimal(figures["first_loan_amount"]) > 0
        assert Decimal("0") < Decimal(figures["first_loan_share"]) <= Decimal("1")
