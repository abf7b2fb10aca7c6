"""Staff open the 信息直通车 in the browser: charts render, the table view has the numbers, and a
filter change updates the figures in place (no full page load)."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def at(*args):
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def data(cast):
    product = f.ProductFactory(institution=cast.bank_a)
    for city, n in (("140100", 3), ("140200", 1)):
        for _ in range(n):
            firm = f.EnterpriseFactory(city=f.region(city), created_at=at(2026, 3, 2, 10))
            app = f.ApplicationFactory(
                enterprise=firm,
                product=product,
                status="disbursed",
                approved_at=at(2026, 3, 3, 10),
                credit_line=Decimal("2000000"),
                created_at=at(2026, 3, 2, 11),
            )
            f.LoanFactory(
                application=app, principal=Decimal("2000000"), start_date=datetime(2026, 3, 5).date()
            )
    return cast


def test_staff_see_the_charts_and_a_filter_updates_the_figures_in_place(page, data, live_server):
    login(page, "staff", PASSWORD)
    page.goto("/dashboard/?period=custom&date_from=2026-01-01&date_to=2026-06-30")
    assert page.locator("[data-figure=loans_disbursed_count]").get_attribute("data-value") == "4"
    page.wait_for_selector("[data-chart=city] svg")
    assert page.locator(".dashboard-chart svg").count() == 5
    city_table = page.locator("[data-chart-table=city]")
    assert (
        city_table.locator("tr", has_text="太原").locator("td").nth(1).get_attribute("data-value")
        == "6000000.00"
    )
    assert (
        city_table.locator("tr", has_text="大同").locator("td").nth(1).get_attribute("data-value")
        == "2000000.00"
    )

    page.evaluate("window.__noReload = 'still here'")
    renders = page.evaluate("window.kejinDashboard.renders")
    with page.expect_response(lambda r: "/dashboard/?" in r.url and "city=140200" in r.url):
        page.select_option("#id_city", "140200")
    page.wait_for_selector("[data-figure=loans_disbursed_count][data-value='1']")
    assert page.evaluate("window.__noReload") == "still here"
    assert page.evaluate("window.kejinDashboard.renders") > renders
    page.wait_for_selector("[data-chart=city] svg")
    assert "city=140200" in page.url  # the filtered view is bookmarkable


def test_the_dashboard_works_on_a_phone(phone_page, data, live_server):
    login(phone_page, "staff", PASSWORD)
    phone_page.goto("/dashboard/?period=custom&date_from=2026-01-01&date_to=2026-06-30")
    phone_page.wait_for_selector("[data-chart=month] svg")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
