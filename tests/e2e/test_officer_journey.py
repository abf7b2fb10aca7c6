"""The officer's journey in the browser: log in → open the top lead → claim → log contact → invite;
the firm applies; the officer accepts → approves, the firm signs (签约确认), the officer disburses;
the firm sees each step on its application timeline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.models import Application, Loan
from matching.services.applications import application_submit
from tests.e2e.conftest import login
from tests.factories import PASSWORD, MatchFactory, NeedFactory, ProductFactory, sign_offer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_an_officer_works_a_lead_to_a_disbursed_loan_and_the_firm_follows_it(
    page, browser, cast, live_server
):
    product = ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    now = timezone.now()
    top = MatchFactory(
        need=NeedFactory(enterprise=cast.firm_a.enterprise, amount=Decimal("3000000")),
        product=product,
        score=92,
        branch=cast.officer_a.branch,
        routed_at=now,
        response_deadline=now + timedelta(hours=6),
    )
    MatchFactory(
        need=NeedFactory(enterprise=cast.firm_b.enterprise),
        product=product,
        score=70,
        branch=cast.officer_a.branch,
        routed_at=now,
        response_deadline=now + timedelta(days=2),
    )

    login(page, "officer_a", PASSWORD)
    page.click("nav [data-nav=leads]")
    page.locator("#lead-table tbody tr").first.locator("a.lead-link").click()
    page.wait_for_url(f"**/bank/leads/{top.pk}/")
    expect(page.locator("[data-profile=full]")).to_be_visible()
    page.click("[data-action=claim]")
    expect(page.locator("[data-lead-status=claimed]")).to_be_visible()
    page.select_option("#contact_channel", "phone")
    page.fill("#contact_note", "与财务总监电话沟通了用款计划")
    page.click("[data-action=contact]")
    expect(page.locator("[data-lead-status=contacted]")).to_be_visible()
    expect(page.locator("[data-countdown]")).to_contain_text("已响应")
    page.fill("#invite_note", "欢迎申请甲行科创贷")
    page.click("[data-action=invite]")
    expect(page.locator("[data-lead-status=invited]")).to_be_visible()
    top.refresh_from_db()
    application = application_submit(
        user=cast.firm_a,
        product=product,
        amount=Decimal("3000000"),
        term_months=12,
        purpose="working_capital",
        match=top,
        share_profile=True,
    )

    page.goto("/bank/applications/")
    page.locator(f"[data-application='{application.pk}'] a").click()
    page.click("[data-action=accept]")
    expect(page.locator("[data-application-status=accepted]")).to_be_visible()
    page.fill("#approve_credit_line", "280")
    page.fill("#approve_annual_rate", "4.2")
    page.fill("#approve_term_months", "12")
    page.click("[data-action=approve]")
    expect(page.locator("[data-application-status=approved]")).to_be_visible()
    sign_offer(Application.objects.get(pk=application.pk), cast.firm_a)  # the firm signs (签约确认)
    page.reload()
    expect(page.locator("[data-application-status=signed]")).to_be_visible()
    today = timezone.localdate()  # approved today: the loan starts no earlier, and no later
    page.fill("#disburse_start_date", today.isoformat())
    page.fill("#disburse_maturity_date", (today + timedelta(days=365)).isoformat())
    page.click("[data-action=disburse]")
    expect(page.locator("[data-application-status=disbursed]")).to_be_visible()
    loan = Loan.objects.get(application=application)
    assert (
        loan.principal == Decimal("2800000.00")
        and Application.objects.get(pk=application.pk).status == "disbursed"
    )

    firm = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url
    ).new_page()
    login(firm, "firm_a", PASSWORD)
    firm.goto(f"/firm/applications/{application.pk}/")
    timeline = firm.content()
    for label in ("已提交", "已受理", "已授信", "已签约", "已放款"):
        assert label in timeline, label
    firm.context.close()


def test_the_inbox_works_on_a_phone_screen(phone_page, cast, live_server):
    product = ProductFactory(institution=cast.bank_a)
    now = timezone.now()
    MatchFactory(
        need=NeedFactory(enterprise=cast.firm_a.enterprise),
        product=product,
        branch=cast.officer_a.branch,
        routed_at=now,
        response_deadline=now - timedelta(hours=3),
    )
    login(phone_page, "officer_a", PASSWORD)
    phone_page.goto("/bank/leads/")
    expect(phone_page.locator("[data-overdue]").first).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.locator("a.lead-link").first.click()
    expect(phone_page.locator("[data-action=claim]")).to_be_visible()
