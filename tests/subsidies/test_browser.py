"""In a browser on a 390px phone: the firm confirms its bank account, staff review, the finance desk
approves and a second finance user pays, and the public calculator answers through htmx."""

from datetime import date
from decimal import Decimal

import pytest

from subsidies.models import Claim
from tests import factories as f
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_firm_confirms_and_the_desks_review_approve_and_pay_on_a_phone(phone_page):
    policy = f.PolicyFactory()
    firm = f.FirmUserFactory(username="firm_phone")
    f.StaffFactory(username="staff_phone")
    f.FinanceFactory(username="finance_phone")
    f.FinanceFactory(username="cashier_phone")
    loan = f.LoanFactory(application=f.ApplicationFactory(enterprise=firm.enterprise, status="disbursed"))
    claim = Claim.objects.create(
        policy=policy,
        kind="interest",
        loan=loan,
        enterprise=firm.enterprise,
        institution=loan.application.product.institution,
        year=2026,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        amount=Decimal("13125.00"),
        status=Claim.Status.AWAITING_CONFIRMATION,
        explanation=["支持期内实际应计利息 26,250.00元"],
    )
    page = phone_page
    login(page, "firm_phone", f.PASSWORD)
    page.goto("/subsidies/my-claims/")
    page.click("a:has-text('确认收款账户')")
    page.fill("#id_payee_bank", "中国银行太原分行")
    page.fill("#id_payee_account", "6216000011112222")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "待初审" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.context.clear_cookies()
    login(page, "staff_phone", f.PASSWORD)
    page.goto("/subsidies/claims/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click(f"a[href='/subsidies/claims/{claim.pk}/']")
    page.once("dialog", lambda d: d.accept())
    page.click("button:text-is('初审通过')")
    page.wait_for_load_state("networkidle")

    page.context.clear_cookies()
    login(page, "finance_phone", f.PASSWORD)
    page.goto(f"/subsidies/claims/{claim.pk}/")
    page.once("dialog", lambda d: d.accept())
    page.click("button:text-is('批准')")
    page.wait_for_load_state("networkidle")

    page.context.clear_cookies()
    login(page, "cashier_phone", f.PASSWORD)
    page.goto(f"/subsidies/claims/{claim.pk}/")
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('标记已拨付')")
    page.wait_for_load_state("networkidle")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    page.goto("/subsidies/ledger/?year=2026")
    assert "1.31万元" in page.content()


def test_the_public_calculator_answers_through_htmx(phone_page):
    f.PolicyFactory(effective_from=date(2020, 1, 1))
    product = f.ProductFactory(name="科创信用贷")
    page = phone_page
    page.goto("/subsidies/calculator/")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_amount_wan", "500")
    page.fill("#id_term_months", "6")
    page.fill("#id_annual_rate", "3.10")
    page.fill("#id_start", "2026-01-01")
    page.click("button:has-text('测算')")
    page.wait_for_selector("[data-quote=subsidy]")
    assert page.inner_text("[data-quote=subsidy]") == "38,965.28"
    assert page.inner_text("[data-quote=interest]") == "77,930.56"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_policy_form_shows_only_the_chosen_kinds_parameters(phone_page):
    f.StaffFactory(username="staff_policy")
    page = phone_page
    login(page, "staff_policy", f.PASSWORD)
    page.goto("/subsidies/policies/new/")
    assert page.is_visible("#id_ratio") and not page.is_visible("#id_risk_ratio")
    page.select_option("#id_kind", "risk")
    assert page.is_visible("#id_risk_ratio") and not page.is_visible("#id_ratio")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
