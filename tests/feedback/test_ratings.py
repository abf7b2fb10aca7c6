"""Ratings: a firm rates the institution of an ended case once; the bank sees its ratings, without
the firm where the firm chose anonymity; product pages and the league table show the average."""

import pytest
from django.urls import reverse

from dashboard import selectors as dashboard
from feedback.models import Rating

pytestmark = pytest.mark.django_db


def test_a_firm_rates_an_ended_application_once_and_a_second_rating_is_refused_in_chinese(
    cast, ended, api_for
):
    api = api_for(cast.firm_a)
    application = ended["withdrawn"]
    first = api.post(
        "/api/v1/ratings/", {"application": application.pk, "stars": 4, "comment": "响应及时"}, format="json"
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["stars"] == 4 and body["application"] == application.pk
    assert body["institution"] == cast.bank_a.pk
    second = api.post("/api/v1/ratings/", {"application": application.pk, "stars": 1}, format="json")
    assert second.status_code == 409
    assert "每个案件只能评价一次" in second.json()["detail"]
    assert Rating.objects.filter(application=application).count() == 1
    assert Rating.objects.get(application=application).stars == 4


def test_a_declined_lead_and_a_rejected_application_can_each_be_rated(cast, ended, api_for):
    api = api_for(cast.firm_a)
    assert (
        api.post("/api/v1/ratings/", {"match": ended["declined"].pk, "stars": 2}, format="json").status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/ratings/", {"application": ended["rejected"].pk, "stars": 3}, format="json"
        ).status_code
        == 201
    )
    again = api.post("/api/v1/ratings/", {"match": ended["declined"].pk, "stars": 5}, format="json")
    assert again.status_code == 409
    assert Rating.objects.filter(enterprise=cast.firm_a.enterprise).count() == 2


def test_an_open_case_cannot_be_rated_and_another_firms_case_is_hidden(cast, ended, api_for):
    lead_b = ended["lead_b"]  # suggested, not declined: firm B's own lead
    refused = api_for(cast.firm_b).post("/api/v1/ratings/", {"match": lead_b.pk, "stars": 5}, format="json")
    assert refused.status_code == 409
    assert "婉拒后才能评价" in refused.json()["detail"]
    hidden = api_for(cast.firm_b).post(
        "/api/v1/ratings/", {"application": ended["withdrawn"].pk, "stars": 1}, format="json"
    )
    assert hidden.status_code == 404
    both = api_for(cast.firm_a).post(
        "/api/v1/ratings/",
        {"application": ended["withdrawn"].pk, "match": ended["declined"].pk, "stars": 3},
        format="json",
    )
    assert both.status_code == 400
    assert (
        api_for(cast.officer_a)
        .post("/api/v1/ratings/", {"application": ended["withdrawn"].pk, "stars": 5}, format="json")
        .status_code
        == 403
    )
    assert not Rating.objects.exists()


def test_the_rating_page_shows_the_rate_button_and_a_form_post_records_the_rating(cast, ended, client_for):
    firm = client_for(cast.firm_a)
    page = firm.get(reverse("feedback:my_ratings")).content.decode()
    assert f'data-rateable-application="{ended["withdrawn"].pk}"' in page
    assert f'data-rateable-match="{ended["declined"].pk}"' in page
    detail = firm.get(
        reverse("enterprises:application_detail", args=[ended["withdrawn"].pk])
    ).content.decode()
    assert f'data-rate="{ended["withdrawn"].pk}"' in detail
    bad = firm.post(reverse("feedback:rate_application", args=[ended["withdrawn"].pk]), {"stars": "9"})
    assert "请选择 1 到 5 星" in bad.content.decode()
    ok = firm.post(
        reverse("feedback:rate_application", args=[ended["withdrawn"].pk]), {"stars": "5", "anonymous": "on"}
    )
    assert ok.status_code == 302
    rating = Rating.objects.get(application=ended["withdrawn"])
    assert rating.stars == 5 and rating.anonymous is True
    again = firm.post(reverse("feedback:rate_application", args=[ended["withdrawn"].pk]), {"stars": "1"})
    assert "每个案件只能评价一次" in again.content.decode()
    assert Rating.objects.get(application=ended["withdrawn"]).stars == 5


def test_the_bank_sees_its_ratings_without_the_firm_where_the_firm_chose_anonymity(
    cast, ended, api_for, client_for
):
    firm_name = cast.firm_a.enterprise.name
    api = api_for(cast.firm_a)
    api.post(
        "/api/v1/ratings/",
        {"application": ended["withdrawn"].pk, "stars": 2, "comment": "流程太慢", "anonymous": True},
        format="json",
    )
    page = client_for(cast.officer_a).get(reverse("feedback:bank_ratings")).content.decode()
    assert "流程太慢" in page and "匿名企业" in page
    assert firm_name not in page
    body = api_for(cast.officer_a).get("/api/v1/ratings/").content.decode()
    assert "流程太慢" in body
    assert firm_name not in body
    row = api_for(cast.officer_a).get("/api/v1/ratings/").json()["results"][0]
    assert row["enterprise_name"] is None and row["application"] is None
    # Bank B sees nothing of bank A's ratings; the firm sees its own with its name.
    assert api_for(cast.officer_b).get("/api/v1/ratings/").json()["count"] == 0
    assert api_for(cast.firm_a).get("/api/v1/ratings/").json()["results"][0]["enterprise_name"] == firm_name


def test_a_named_rating_shows_the_firm_to_the_bank(cast, ended, api_for, client_for):
    api_for(cast.firm_a).post("/api/v1/ratings/", {"match": ended["declined"].pk, "stars": 5}, format="json")
    page = client_for(cast.manager_a).get(reverse("feedback:bank_ratings")).content.decode()
    assert cast.firm_a.enterprise.name in page


def test_product_pages_and_the_league_table_show_the_average_and_count(cast, ended, api_for, client):
    api = api_for(cast.firm_a)
    api.post("/api/v1/ratings/", {"application": ended["withdrawn"].pk, "stars": 5}, format="json")
    api.post("/api/v1/ratings/", {"application": ended["rejected"].pk, "stars": 2}, format="json")
    api.post("/api/v1/ratings/", {"match": ended["declined"].pk, "stars": 4}, format="json")
    product = ended["withdrawn"].product
    # (5 + 2 + 4) / 3 = 3.666… → 3.7
    detail = client.get(reverse("products:detail", args=[product.pk])).content.decode()
    assert 'data-rating-average="3.7"' in detail and 'data-rating-count="3"' in detail
    listing = client.get(reverse("products:list")).content.decode()
    assert 'data-rating-average="3.7"' in listing
    rows = {r["institution_id"]: r for r in dashboard._league({}, {cast.bank_a.pk: {}}, user=cast.staff)}
    assert rows[cast.bank_a.pk]["rating_average"] == "3.7"
    assert rows[cast.bank_a.pk]["rating_count"] == 3
