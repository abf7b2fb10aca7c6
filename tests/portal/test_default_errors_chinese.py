"""The errors a user can trigger with Django's and DRF's own messages come out in Chinese — also for
a browser that prefers English (the portal has no English translation: a half-English page is
worse than a Chinese one)."""

import re

import pytest
from django.test import Client

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[\s,.:;'’-]+[A-Za-z]{2,})+")
PREFERS_ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _messages(data) -> list[str]:
    if isinstance(data, dict):
        return [m for k, v in data.items() if k != "code" for m in _messages(v)]
    if isinstance(data, list):
        return [m for v in data for m in _messages(v)]
    return [str(data)]


def _chinese(response) -> list[str]:
    messages = _messages(response.json())
    assert messages, response.content
    for message in messages:
        assert CJK.search(message) and not ENGLISH.search(message), message
    return messages


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, PREFERS_ENGLISH], ids=["default", "prefers-english"])
def test_drf_default_errors_are_chinese(cast, api_for, settings, headers):
    anonymous, firm = api_for(), api_for(cast.firm_a)
    # not logged in
    assert _chinese(anonymous.get("/api/v1/needs/", **headers))
    # a page past the end
    assert _chinese(firm.get("/api/v1/products/?page=999", **headers))
    # a filter value of the wrong type, an unknown choice
    bad_filter = firm.get("/api/v1/needs/?status=nonsense", **headers)
    assert bad_filter.status_code == 400 and _chinese(bad_filter)
    # a missing object, a wrong method, a body that is not JSON
    assert _chinese(firm.get("/api/v1/needs/999999/", **headers))
    assert _chinese(firm.delete("/api/v1/products/", **headers))
    malformed = firm.post("/api/v1/needs/", data="{not json", content_type="application/json", **headers)
    assert malformed.status_code == 400 and _chinese(malformed)
    # a required field left out
    missing = firm.post("/api/v1/needs/", {}, format="json", **headers)
    assert missing.status_code == 400 and _chinese(missing)


@pytest.mark.django_db
def test_throttled_requests_are_told_in_chinese(cast, api_for, settings):
    settings.API_THROTTLE_DISABLED = False
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min"},
    }
    anonymous = api_for()
    answers = [anonymous.get("/api/v1/products/", **PREFERS_ENGLISH) for _ in range(3)]
    assert answers[-1].status_code == 429
    assert "请求过于频繁" in _chinese(answers[-1])[0]


@pytest.mark.django_db
def test_a_page_form_error_is_chinese_for_a_browser_that_prefers_english(cast, client_for):
    firm = client_for(cast.firm_a)
    page = firm.post("/firm/needs/new/", {"amount_wan": "abc"}, **PREFERS_ENGLISH)
    html = page.content.decode()
    assert page.status_code == 200 and "该字段是必填项。" in html
    assert "This field is required" not in html and "Enter a number" not in html
    assert '<html lang="zh' in html


def test_the_portal_speaks_chinese_only():
    from django.conf import settings

    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans"]
    assert Client().get("/accounts/login/", **PREFERS_ENGLISH).headers["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_a_bad_policy_parameter_is_named_by_its_chinese_label(cast):
    from datetime import date
    from decimal import Decimal

    from portal.services import ServiceError
    from subsidies import services
    from subsidies.models import Policy

    with pytest.raises(ServiceError) as refused:
        services.policy_create(
            user=cast.staff,
            series="reward-x",
            kind="reward",
            name="奖励",
            parameters={"unit": "0", "reward_per_unit": "200000"},
            effective_from=date(2026, 1, 1),
            budget=Decimal("1000000"),
        )
    assert str(refused.value).startswith("奖励计算单位（授信额度）：不能小于")
    assert refused.value.field == "unit" and not Policy.objects.filter(series="reward-x").exists()
