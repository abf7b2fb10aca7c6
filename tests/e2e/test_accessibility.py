"""Accessible and phone-ready: axe-core (npm) over the main pages of each role finds no serious or
critical violation; the dashboard, lead inbox, application queue and league table fit a 390 px
phone (a table scrolls inside its own box, the page does not); a favicon; date inputs that show
their values."""

import os
import pathlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

AXE = pathlib.Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

PAGES = {
    None: ["/", "/products/"],
    "firm_a": ["/firm/", "/firm/profile/", "/notifications/"],
    "officer_a": ["/bank/leads/", "/bank/applications/"],
    "manager_a": ["/bank/team/?start=2026-01-01&end=2026-12-31", "/dashboard/"],
    "staff": ["/dashboard/", "/staff/", "/subsidies/leverage/", "/staff/audit/"],
}


@pytest.fixture
def data(cast):
    """An overdue lead (the red rows of the inbox), an application, a loan: every page has rows."""
    product = f.ProductFactory(institution=cast.bank_a, name="甲科创贷")
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise)
    past = timezone.now() - timedelta(days=5)
    lead = f.MatchFactory(
        need=need,
        product=product,
        branch=cast.officer_a.branch,
        routed_at=past,
        response_deadline=past + timedelta(days=2),
        created_at=past,
    )
    app = f.ApplicationFactory(
        enterprise=cast.firm_a.enterprise,
        product=product,
        need=need,
        match=lead,
        status="disbursed",
        credit_line=Decimal("2000000"),
        approved_at=past,
    )
    f.LoanFactory(application=app, principal=Decimal("2000000"), start_date=timezone.localdate())
    return cast


def axe_context(browser, live_server, **viewport):
    return browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=live_server.url,
        bypass_csp=True,  # axe is injected as a script; the portal's own CSP is tested elsewhere
        **viewport,
    )


def serious_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                          targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )


def test_no_main_page_of_any_role_has_a_serious_or_critical_axe_violation(data, browser, live_server):
    found = {}
    for who, urls in PAGES.items():
        context = axe_context(browser, live_server)
        page = context.new_page()
        page.set_default_timeout(15000)
        if who:
            login(page, getattr(data, who).username, PASSWORD)
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            violations = serious_violations(page)
            if violations:
                found[f"{who} {url}"] = violations
        context.close()
    assert found == {}


@pytest.mark.parametrize(
    ("who", "url", "table"),
    [
        ("staff", "/dashboard/", "#league"),
        ("officer_a", "/bank/leads/", "table"),
        ("officer_a", "/bank/applications/", "table"),
    ],
)
def test_the_main_tables_fit_a_390_px_phone(data, browser, live_server, who, url, table):
    context = axe_context(browser, live_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    login(page, getattr(data, who).username, PASSWORD)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if os.environ.get("KEJIN_SCREENSHOTS"):
        page.screenshot(
            path=f"{os.environ['KEJIN_SCREENSHOTS']}/{who}{url.replace('/', '-')}390.png", full_page=True
        )
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{url} is {width}px wide"
    # no one-character columns: every header cell of the table is at least 3 characters wide
    narrow = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel + ' th')]
              .filter(th => th.offsetParent && th.getBoundingClientRect().width < 36)
              .map(th => th.textContent.trim())""",
        table,
    )
    assert narrow == []
    context.close()


def test_a_favicon_on_every_page_and_date_inputs_show_their_values(data, page, client, live_server):
    assert client.get("/favicon.ico").status_code in (301, 302)
    assert page.request.get(live_server.url + "/favicon.ico").status == 200  # redirect followed
    login(page, data.manager_a.username, PASSWORD)
    page.goto("/bank/team/?start=2026-01-01&end=2026-03-31")
    assert page.locator("link[rel=icon]").count() == 1
    assert page.input_value("input[name=start]") == "2026-01-01"
    assert page.input_value("input[name=end]") == "2026-03-31"
