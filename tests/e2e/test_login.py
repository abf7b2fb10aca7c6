"""Each role logs in through the browser and lands on its own workspace; a firm is refused the bank's."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("who", "path", "heading"),
    [
        ("firm_a", "/firm/", "[data-workspace=firm]"),
        ("officer_a", "/bank/", "[data-workspace=bank]"),
        ("manager_a", "/bank/", "[data-workspace=bank]"),
        ("staff", "/staff/", "[data-workspace=staff]"),
    ],
)
def test_each_role_logs_in_and_lands_on_its_workspace(page, cast, live_server, who, path, heading):
    login(page, who, PASSWORD)
    assert page.url == live_server.url + path
    expect(page.locator(heading)).to_be_visible()
    assert (
        page.locator("nav [data-nav=workspace]").is_visible() or page.locator(".navbar-toggler").is_visible()
    )


def test_a_firm_user_opening_the_bank_workspace_gets_403(page, cast, live_server):
    login(page, "firm_a", PASSWORD)
    response = page.goto("/bank/")
    assert response.status == 403


def test_login_works_on_a_phone_screen(phone_page, cast, live_server):
    login(phone_page, "firm_a", PASSWORD)
    assert phone_page.url.endswith("/firm/")
    phone_page.click(".navbar-toggler")
    expect(phone_page.locator("[data-nav=workspace]")).to_be_visible()
