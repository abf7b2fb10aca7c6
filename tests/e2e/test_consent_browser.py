"""The consent gate in the browser: on a lead made by a real matching run, bank A's officer reads the
firm's name, city and industry and generic reasons before consent, the firm's figures once the firm
consents, and nothing once it revokes (the lead is withdrawn)."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from enterprises.models import AnnualFigures, Enterprise
from enterprises.services import consent_set
from matching.models import Match
from matching.services.dispatch import start_full_run
from tests import factories as f
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

# The firm's figures as the engine writes them into its reasons.
FIGURES = ("46,980.00", "2013-04-17", "发明专利 7 件")


def test_the_officer_sees_the_firms_figures_only_while_the_firm_consents(page, cast, live_server):
    firm = cast.firm_a.enterprise
    Enterprise.objects.filter(pk=firm.pk).update(founded_on=date(2013, 4, 17), shares_profile=False)
    AnnualFigures.objects.filter(enterprise=firm).update(
        revenue=Decimal("469800000.00"), rd_spend=Decimal("37654300.00")
    )
    for _ in range(7):
        f.IPAssetFactory(enterprise=firm)
    f.QualificationFactory(enterprise=firm, kind="hitech", source="official")
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    product.criteria.min_revenue = Decimal("10000000.00")
    product.criteria.min_years = 3
    product.criteria.min_invention_patents = 2
    product.criteria.save()
    f.NeedFactory(enterprise=firm)
    start_full_run(trigger="manual", user=cast.staff)
    lead = Match.objects.get(enterprise=firm, product=product, is_lead=True)
    assert any(figure in str(lead.reasons) for figure in FIGURES)  # the stored text has them

    login(page, "officer_a", PASSWORD)
    page.goto(f"/bank/leads/{lead.pk}/")
    expect(page.locator("h1")).to_contain_text(firm.name)
    before = page.content()
    assert [figure for figure in FIGURES if figure in before] == []
    assert "营业收入满足产品要求" in before

    firm.refresh_from_db()
    consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=True)
    page.reload()
    expect(page.locator("[data-profile=full]")).to_be_visible()
    after = page.content()
    assert "46,980.00" in after and "2013-04-17" in after

    consent_set(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, granted=False)
    response = page.goto(f"/bank/leads/{lead.pk}/")
    assert response.status == 404
    revoked = page.content()
    assert [figure for figure in FIGURES if figure in revoked] == []
