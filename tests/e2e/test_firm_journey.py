"""The firm's whole journey in the browser: register → fill the profile → post a need → find a
product in the supermarket → see the eligibility reasons → apply → see it on the tracking page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from enterprises.models import Enterprise, FinancingNeed, financial_years
from matching.models import Application
from tests import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

USCC = "91350100M000100Y43"


def test_a_firm_registers_fills_its_profile_posts_a_need_and_applies(page, live_server):
    bank = f.InstitutionFactory(name="晋科银行山西省分行", short_name="晋科银行")
    f.OfficerFactory(branch=f.BranchFactory(institution=bank))
    product = f.ProductFactory(institution=bank, name="晋科高新贷", criteria=None)
    f.CriteriaFactory(product=product, required_qualifications=["hitech"])
    f.ProductFactory(
        institution=bank, name="晋科订单贷", product_type="order_financing", guarantee_types=["order"]
    )

    # register
    page.goto("/firm/register/")
    page.fill("#id_username", "journey_firm")
    page.fill("#id_password", "Kejin-journey-2026!")
    page.fill("#id_password2", "Kejin-journey-2026!")
    page.fill("#id_mobile", "13912345678")
    page.fill("#id_name", "山西旅程科技有限公司")
    page.fill("#id_uscc", USCC.lower())
    page.fill("#id_legal_representative", "赵六")
    page.select_option("#id_city", "140100")
    page.check("#id_shares_profile")
    page.click("button[data-submit-once]")
    page.wait_for_url("**/firm/profile/")
    firm = Enterprise.objects.get(uscc=USCC)
    assert firm.verification_status == "pending" and firm.shares_profile

    # fill the profile (money in 万元)
    page.fill("#id_founded_on", "2019-03-01")
    page.select_option("#id_industry", "next_gen_it")
    page.click("#profile-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success")).to_be_visible()

    # last financial year's figures in the 年度经营数据 section (money in 万元)
    year = financial_years()[0]
    page.fill(f"#id_y{year}-employees", "80")
    page.fill(f"#id_y{year}-st_staff", "20")
    page.fill(f"#id_y{year}-revenue", "3000")
    page.fill(f"#id_y{year}-rd_spend", "240")
    page.click("#figures-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success")).to_be_visible()
    firm.refresh_from_db()
    assert firm.latest_figures.year == year and firm.latest_figures.revenue == Decimal("30000000.00")
    assert list(firm.annual_figures.values_list("year", flat=True)) == [year]  # blank years: no row

    # post a need
    page.goto("/firm/needs/new/")
    page.fill("#id_amount", "300")
    page.fill("#id_term_months", "12")
    page.select_option("#id_purpose", "working_capital")
    page.check("input[name=guarantee_types][value=credit]")
    page.fill("#id_max_annual_rate", "5.00")
    page.fill("#id_needed_by", (timezone.localdate() + timedelta(days=30)).isoformat())
    page.click("button[data-submit-once]")
    page.wait_for_url("**/firm/needs/")
    need = FinancingNeed.objects.get(enterprise=firm)
    assert need.amount == Decimal("3000000.00")

    # find the product in the supermarket
    page.goto("/products/")
    page.fill("input[name=q]", "高新贷")
    page.click("#product-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.click("text=晋科高新贷")
    page.wait_for_url(f"**/products/{product.pk}/")

    # eligibility reasons: the 高企 requirement is not met, with its reason
    criterion = page.locator("[data-criterion=qualification]")
    assert criterion.get_attribute("data-met") == "0"
    assert "高新技术企业" in criterion.inner_text()
    assert page.locator("#eligibility-verdict").get_attribute("data-eligible") == "0"

    # apply: the unmet criterion is shown before submitting; a double click submits once
    page.click("#apply-link")
    page.wait_for_url(f"**/firm/apply/{product.pk}/**")
    expect(page.locator("[data-unmet=qualification]")).to_be_visible()
    page.fill("#id_note", "用于研发投入")
    expect(page.locator("[data-share-group=financials]")).to_be_visible()  # what the bank will see
    page.check("#id_share_profile")
    page.dblclick("#apply-submit")
    page.wait_for_url("**/firm/applications/*/")
    assert Application.objects.filter(enterprise=firm).count() == 1
    assert page.locator("#application-status").get_attribute("data-status") == "submitted"
    expect(page.locator("#timeline [data-to=submitted]")).to_be_visible()
    # tracking page lists it
    page.goto("/firm/applications/")
    row = page.locator(f"[data-application='{Application.objects.get().pk}']")
    assert "晋科高新贷" in row.inner_text() and "已提交" in row.inner_text()


def test_the_supermarket_and_a_product_page_fit_a_phone_screen(phone_page, cast, live_server):
    product = f.ProductFactory(institution=cast.bank_a, name="手机端产品")
    phone_page.goto("/products/")
    expect(phone_page.locator(f"[data-product='{product.pk}']")).to_be_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone_page.goto(f"/products/{product.pk}/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
