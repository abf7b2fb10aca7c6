"""Input that cannot hurt (issue 18, item 7): control characters stripped from every text field and
dropped by every export writer, length caps on free text, sane date ranges, bounded number
filters, and JSON nested deeper than 32 levels refused."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from enterprises.models import Enterprise, FinancingNeed
from tests import factories as f
from tests.lenders.conftest import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def product_a(cast):
    from tests import factories

    return factories.ProductFactory(institution=cast.bank_a, name="甲行科创贷")


DIRTY = "山西\x0b科技\x00有限\x1f公司\x7f"
STORED_DIRTY = "山西\x0b科技有限\x1f公司\x7f"  # PostgreSQL cannot store NUL itself


def api_for(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


# ---------------------------------------------------------------- control characters


def test_a_control_character_in_a_firms_name_is_stripped_on_save(cast):
    r = api_for(cast.firm_a).patch(
        "/api/v1/enterprises/me/", {"description": "简介\x0b第二行\n第三行"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert Enterprise.objects.get(pk=cast.firm_a.enterprise.pk).description == "简介第二行\n第三行"
    enterprise = cast.firm_b.enterprise
    enterprise.name = DIRTY
    enterprise.save()
    enterprise.refresh_from_db()
    assert enterprise.name == "山西科技有限公司"


def test_form_posts_and_query_strings_lose_their_control_characters(cast, client_for):
    r = client_for(cast.firm_a).get("/products/?q=%0B%E8%B4%B7")
    assert r.status_code == 200


@pytest.mark.parametrize("export", ["/bank/leads/export/", "/bank/applications/export/"])
def test_an_export_with_a_control_character_in_stored_data_still_downloads(
    cast, client_for, product_a, export
):
    from tests.lenders.conftest import make_application

    make_lead(cast, product_a)
    make_application(cast, product_a)
    # Stored before the rule (or by a bulk path): the writer drops the character itself.
    Enterprise.objects.filter(pk=cast.firm_a.enterprise.pk).update(name=STORED_DIRTY)
    r = client_for(cast.officer_a).get(export)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content) if r.streaming else r.content)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "山西科技有限公司" in cells


def test_every_xlsx_helper_drops_control_characters():
    from dashboard.views import xlsx_safe
    from lenders.exports import safe as lenders_safe
    from subsidies.exports import safe as subsidies_safe

    for helper in (lenders_safe, subsidies_safe, xlsx_safe):
        assert helper(DIRTY) == "山西科技有限公司"
        assert helper("=1+1").startswith("'")


# ---------------------------------------------------------------- length caps


def test_a_five_megabyte_description_is_refused_with_a_field_error(cast):
    r = api_for(cast.firm_a).patch("/api/v1/enterprises/me/", {"description": "x" * 5_000_000}, format="json")
    assert r.status_code == 400 and "description" in r.json()
    assert Enterprise.objects.get(pk=cast.firm_a.enterprise.pk).description == ""


def test_every_free_text_field_has_a_cap():
    from django.apps import apps
    from django.db import models

    uncapped = [
        f"{m._meta.label}.{fld.name}"
        for m in apps.get_models()
        if m._meta.app_label in {"portal", "enterprises", "lenders", "products", "matching", "subsidies"}
        for fld in m._meta.concrete_fields
        if isinstance(fld, models.TextField) and not fld.max_length
    ]
    assert uncapped == []


def test_the_model_refuses_text_over_its_cap_whatever_path_it_came_by(cast):
    from django.core.exceptions import ValidationError

    enterprise = cast.firm_a.enterprise
    enterprise.description = "长" * 5001
    with pytest.raises(ValidationError):
        enterprise.save()


# ---------------------------------------------------------------- dates


@time_machine.travel("2026-06-01 10:00 +0800")
@pytest.mark.parametrize(
    ("value", "ok"),
    [("0001-01-01", False), ("1899-12-31", False), ("1900-01-01", True), ("2026-06-02", False)],
)
def test_founding_dates_are_between_1900_and_today(cast, value, ok):
    r = api_for(cast.firm_a).patch("/api/v1/enterprises/me/", {"founded_on": value}, format="json")
    assert (r.status_code == 200) is ok, r.content
    if not ok:
        assert "founded_on" in r.json()


@time_machine.travel("2026-06-01 10:00 +0800")
def test_a_needed_by_date_beyond_ten_years_is_refused(cast):
    body = {
        "amount": "5000000.00",
        "term_months": 12,
        "purpose": "working_capital",
        "guarantee_types": ["credit"],
        "needed_by": "9999-12-31",
    }
    api = api_for(cast.firm_a)
    r = api.post("/api/v1/needs/", body, format="json")
    assert r.status_code == 400 and "needed_by" in r.json()
    assert not FinancingNeed.objects.filter(enterprise=cast.firm_a.enterprise).exists()
    ok = api.post("/api/v1/needs/", {**body, "needed_by": "2030-01-01"}, format="json")
    assert ok.status_code == 201


@time_machine.travel("2026-06-01 10:00 +0800")
def test_qualification_dates_are_between_1990_and_ten_years_ahead():
    from django.core.exceptions import ValidationError

    from portal.validators import validate_qualification_date

    for bad in ("0001-01-01", "1989-12-31", "2036-06-02", "9999-12-31"):
        with pytest.raises(ValidationError):
            validate_qualification_date(timezone.datetime.fromisoformat(bad).date())
    validate_qualification_date(timezone.localdate() + timedelta(days=3650))


# ---------------------------------------------------------------- number filters and JSON depth


def test_a_huge_amount_filter_is_a_400_on_the_api_and_a_clean_page(db, client):
    api = APIClient().get("/api/v1/products/?amount_wan=1e50")
    assert api.status_code == 400 and "amount_wan" in api.json()
    assert APIClient().get("/api/v1/products/?amount=1e50&term=1e50").status_code == 400
    page = client.get("/products/?amount_wan=1e50")
    assert page.status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/register/", "/api/v1/auth/token/"])
def test_json_nested_deeper_than_32_levels_is_a_400(db, url):
    deep = "[" * 100_000 + "]" * 100_000
    r = APIClient().post(url, deep, content_type="application/json")
    assert r.status_code == 400 and "32" in r.json()["detail"]
    ok_depth = '{"username": ' + "[" * 31 + "]" * 31 + "}"
    assert (
        APIClient().post(url, ok_depth, content_type="application/json").status_code == 400
    )  # invalid, not deep


def test_strings_inside_json_bodies_lose_control_characters(cast):
    api = api_for(cast.firm_a)
    r = api.patch("/api/v1/enterprises/me/", {"description": "\x1b[31m红字"}, format="json")
    assert r.status_code == 200 and r.json()["description"] == "[31m红字"


def test_dirty_data_bulk_written_is_still_exported_by_the_dashboard(cast, client_for):
    f.NeedFactory(enterprise=cast.firm_a.enterprise)
    Enterprise.objects.filter(pk=cast.firm_a.enterprise.pk).update(name=STORED_DIRTY)
    r = client_for(cast.staff).get("/dashboard/charts/city/export/")
    assert r.status_code in (200, 404)
