"""The Content Security Policy holds in a real browser: the main pages of every role load with no
CSP violation reported on the console (no inline script, no inline <style>, no foreign source)."""

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

PAGES = [
    (None, ["/", "/products/", "/accounts/login/", "/accounts/password_reset/"]),
    ("firm_a", ["/firm/"]),
    ("officer_a", ["/bank/", "/bank/leads/"]),
    ("staff", ["/staff/", "/dashboard/"]),
]


def test_the_main_pages_load_without_a_csp_violation(page, cast, live_server):
    violations = []
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: violations.append(f"{page.url}: {exc}"))
    visited = []
    for who, paths in PAGES:
        page.context.clear_cookies()
        if who:
            login(page, who, PASSWORD)
        for path in paths:
            response = page.goto(path)
            page.wait_for_load_state("networkidle")
            assert response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            visited.append(path)
    assert len(visited) == 9
    assert violations == []
