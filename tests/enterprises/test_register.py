"""Registration of a firm (page and API) and staff verification."""

import pytest
from django.db import IntegrityError

from enterprises.models import Enterprise
from matching.models import MatchRun
from portal.models import Notification, Role, Transition, User
from tests import factories as f

pytestmark = pytest.mark.django_db

GOOD_USCC = "91350100M000100Y43"
ICBC_BAD = "91100000100003962A"


def payload(**over):
    enterprise = {
        "name": "山西测试新材料有限公司",
        "uscc": GOOD_USCC,
        "legal_representative": "李四",
        "city": "140100",
    }
    enterprise.update(over.pop("enterprise", {}))
    body = {
        "username": "newfirm",
        "password": "Kejin-reg-2026!",
        "mobile": "13912345678",
        "enterprise": enterprise,
    }
    body.update(over)
    return body


def test_api_registration_with_a_good_uscc_creates_a_pending_firm_and_its_user(api_for):
    r = api_for().post("/api/v1/register/", payload(email="a@example.com"), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["uscc"] == GOOD_USCC
    assert body["verification_status"] == "pending"
    user = User.objects.get(username="newfirm")
    assert user.role == Role.FIRM and user.enterprise.uscc == GOOD_USCC
    assert user.check_password("Kejin-reg-2026!")
    assert Transition.objects.filter(object_id=user.enterprise_id, to_state="pending").exists()


def test_api_registration_stores_the_normalised_uscc(api_for):
    raw = " ９１３５０１００ｍ０００１００ｙ４３ "
    r = api_for().post("/api/v1/register/", payload(enterprise={"uscc": raw}), format="json")
    assert r.status_code == 201, r.json()
    assert Enterprise.objects.get().uscc == GOOD_USCC


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (ICBC_BAD, "校验码"),
        ("91350100M000100Y4Z", "第"),
        ("9135010", "18"),
    ],
)
def test_api_registration_with_a_bad_uscc_answers_400_under_enterprise_uscc(api_for, code, words):
    r = api_for().post("/api/v1/register/", payload(enterprise={"uscc": code}), format="json")
    assert r.status_code == 400
    message = r.json()["enterprise"]["uscc"][0]
    assert "统一社会信用代码" in message and words in message
    assert not Enterprise.objects.exists() and not User.objects.filter(username="newfirm").exists()


def test_a_second_registration_with_the_same_uscc_is_refused_as_already_registered(api_for):
    assert api_for().post("/api/v1/register/", payload(), format="json").status_code == 201
    r = api_for().post("/api/v1/register/", payload(username="other"), format="json")
    assert r.status_code == 400
    assert "已注册" in r.json()["enterprise"]["uscc"][0]
    assert Enterprise.objects.count() == 1 and not User.objects.filter(username="other").exists()


def test_a_uscc_race_caught_by_the_database_gives_the_same_message(monkeypatch):
    from enterprises import services

    original = Enterprise.objects.create

    def racing_create(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Enterprise.objects, "create", racing_create)
    with pytest.raises(services.ServiceError) as exc:
        services.firm_register(
            username="racer",
            password="Kejin-reg-2026!",
            mobile="13912345678",
            enterprise={"name": "甲", "uscc": GOOD_USCC, "legal_representative": "乙", "city": "140100"},
        )
    assert "已注册" in exc.value.message and exc.value.field == "uscc"
    monkeypatch.setattr(Enterprise.objects, "create", original)


@pytest.mark.parametrize("mobile", ["1391234567", "23912345678", "12912345678", "1391234567a"])
def test_registration_refuses_a_mobile_that_is_not_11_mainland_digits(api_for, mobile):
    r = api_for().post("/api/v1/register/", payload(mobile=mobile), format="json")
    assert r.status_code == 400 and "手机号" in r.json()["mobile"][0]


def test_registration_applies_djangos_password_validators(api_for):
    r = api_for().post("/api/v1/register/", payload(password="12345678"), format="json")
    assert r.status_code == 400 and r.json()["password"]
    assert not Enterprise.objects.exists()


def test_registration_page_creates_the_firm_logs_in_and_records_consent(client):
    r = client.post(
        "/firm/register/",
        {
            "username": "pagefirm",
            "password": "Kejin-reg-2026!",
            "password2": "Kejin-reg-2026!",
            "mobile": "13912345678",
            "name": "山西页面科技有限公司",
            "uscc": GOOD_USCC.lower(),
            "legal_representative": "王五",
            "city": "140100",
            "shares_profile": "on",
        },
    )
    assert r.status_code == 302 and r["Location"] == "/firm/profile/"
    firm = Enterprise.objects.get()
    assert firm.uscc == GOOD_USCC and firm.shares_profile and firm.verification_status == "pending"
    assert client.get("/firm/").status_code == 200


def test_registration_page_shows_a_chinese_field_error_for_a_bad_uscc_and_saves_nothing(client):
    r = client.post(
        "/firm/register/",
        {
            "username": "pagefirm",
            "password": "Kejin-reg-2026!",
            "password2": "Kejin-reg-2026!",
            "mobile": "13912345678",
            "name": "山西页面科技有限公司",
            "uscc": ICBC_BAD,
            "legal_representative": "王五",
            "city": "140100",
        },
    )
    assert r.status_code == 200
    assert "校验码错误" in r.content.decode()
    assert not Enterprise.objects.exists()


def test_registration_page_says_the_firm_is_already_registered(client):
    f.EnterpriseFactory(uscc=GOOD_USCC)
    r = client.post(
        "/firm/register/",
        {
            "username": "pagefirm",
            "password": "Kejin-reg-2026!",
            "password2": "Kejin-reg-2026!",
            "mobile": "13912345678",
            "name": "重复企业",
            "uscc": GOOD_USCC,
            "legal_representative": "王五",
            "city": "140100",
        },
    )
    assert r.status_code == 200 and "该企业已注册" in r.content.decode()


def test_staff_verify_a_pending_firm_records_a_transition_notifies_it_and_matches_its_needs(cast, client_for):
    firm = f.EnterpriseFactory(verification_status="pending")
    user = f.FirmUserFactory(enterprise=firm)
    need = f.NeedFactory(enterprise=firm)
    page = client_for(cast.staff).get("/firm/verify/")
    assert firm.name in page.content.decode()
    r = client_for(cast.staff).post(f"/firm/verify/{firm.pk}/", {"action": "verify"})
    assert r.status_code == 302
    firm.refresh_from_db()
    assert firm.is_verified and firm.verified_by == cast.staff
    assert Transition.objects.filter(object_id=firm.pk, from_state="pending", to_state="verified").exists()
    assert Notification.objects.filter(user=user, title__contains="认证已通过").exists()
    assert MatchRun.objects.filter(need=need).exists()


def test_rejecting_a_firm_needs_a_reason(cast, client_for):
    firm = f.EnterpriseFactory(verification_status="pending")
    client_for(cast.staff).post(f"/firm/verify/{firm.pk}/", {"action": "reject"})
    firm.refresh_from_db()
    assert firm.verification_status == "pending"
    client_for(cast.staff).post(f"/firm/verify/{firm.pk}/", {"action": "reject", "note": "营业执照不清晰"})
    firm.refresh_from_db()
    assert firm.verification_status == "rejected"


def test_only_staff_open_the_verification_page(cast, client_for):
    assert client_for(cast.firm_a).get("/firm/verify/").status_code == 403
    assert client_for(cast.officer_a).get("/firm/verify/").status_code == 403
    assert (
        client_for(cast.firm_a)
        .post(f"/firm/verify/{cast.firm_a.enterprise_id}/", {"action": "verify"})
        .status_code
        == 403
    )
