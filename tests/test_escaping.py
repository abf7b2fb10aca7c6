"""HTML typed into free-text fields is shown as text everywhere it appears, never run as markup."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.services import transition_record
from tests import factories as f

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('kejin')</script>"
ESCAPED = "&lt;script&gt;alert(&#x27;kejin&#x27;)&lt;/script&gt;"


def test_a_script_tag_in_every_free_text_field_is_escaped_on_every_page_that_shows_it(cast, client_for):
    firm = cast.firm_a.enterprise
    firm.name = f"晋科{SCRIPT}有限公司"
    firm.description = SCRIPT
    firm.address = SCRIPT
    firm.save()
    product = f.ProductFactory(institution=cast.bank_a, name=f"科创贷{SCRIPT}", description=SCRIPT)
    need = f.NeedFactory(enterprise=firm, description=SCRIPT)
    now = timezone.now()
    lead = f.MatchFactory(
        need=need,
        product=product,
        branch=cast.officer_a.branch,
        routed_at=now,
        response_deadline=now + timedelta(days=2),
        reasons=[{"code": "city", "label": SCRIPT, "met": True, "reason": SCRIPT}],
        decline_note=SCRIPT,
    )
    application = f.ApplicationFactory(enterprise=firm, product=product, note=SCRIPT)
    transition_record(
        subject=application, from_state="", to_state="submitted", actor=cast.firm_a, note=SCRIPT
    )
    transition_record(
        subject=lead, from_state="suggested", to_state="claimed", actor=cast.officer_a, note=SCRIPT
    )

    pages = {
        cast.firm_a: [
            "/firm/",
            "/firm/profile/",
            "/firm/needs/",
            f"/firm/applications/{application.pk}/",
            f"/products/{product.pk}/",
            "/products/",
            "/matching/suggestions/",
        ],
        cast.officer_a: [
            "/bank/",
            "/bank/leads/",
            f"/bank/leads/{lead.pk}/",
            f"/bank/applications/{application.pk}/",
        ],
        cast.staff: ["/staff/", "/firm/verify/", "/dashboard/lists/leads/", f"/dashboard/leads/{lead.pk}/"],
    }
    shown = 0
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert SCRIPT not in html, f"unescaped script tag on {url}"
            shown += ESCAPED in html
    assert shown >= 10  # the text is really on those pages, escaped


def test_json_responses_carry_the_text_as_data_not_markup(cast, api_for):
    need = f.NeedFactory(enterprise=cast.firm_a.enterprise, description=SCRIPT)
    body = api_for(cast.firm_a).get(f"/api/v1/needs/{need.pk}/")
    assert body.status_code == 200
    assert body["Content-Type"].startswith("application/json")
    assert body.json()["description"] == SCRIPT
