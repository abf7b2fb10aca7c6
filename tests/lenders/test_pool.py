"""The incubation pool 培育库: banks browse consenting verified firms and pool them; pooled firms'
news reaches the bank; a firm sees its pools and leaves one."""

import pytest
from django.utils import timezone

from enterprises.models import ProfileConsent
from lenders.models import PoolEntry
from lenders.selectors import pools_for_enterprise
from lenders.services import pool_notify
from portal.models import Notification
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_browsing_lists_only_verified_consenting_firms_with_filters(cast, client_for):
    shown = f.EnterpriseFactory(name="晋阳光电科技有限公司", city=f.region("140700"), stage="startup")
    f.QualificationFactory(enterprise=shown, kind="hitech")
    f.EnterpriseFactory(name="未认证企业", verification_status="pending")
    f.EnterpriseFactory(name="不公开企业", shares_profile=False)
    refused = f.EnterpriseFactory(name="拒绝甲行企业")
    ProfileConsent.objects.create(
        enterprise=refused, institution=cast.bank_a, status="revoked", expires_on=timezone.localdate()
    )
    c = client_for(cast.officer_a)
    html = c.get("/bank/pool/browse/").content.decode()
    assert (
        "晋阳光电" in html
        and "未认证企业" not in html
        and "不公开企业" not in html
        and "拒绝甲行企业" not in html
    )
    assert (
        "晋阳光电"
        in c.get("/bank/pool/browse/?city=140700&stage=startup&qualification=hitech").content.decode()
    )
    assert "晋阳光电" not in c.get("/bank/pool/browse/?qualification=tech_sme").content.decode()


def test_a_bank_pools_a_firm_with_a_note_once(cast, client_for):
    firm = f.EnterpriseFactory()
    c = client_for(cast.officer_a)
    assert c.post(f"/bank/pool/add/{firm.pk}/", {"note": "高成长，重点培育"}).status_code == 302
    entry = PoolEntry.objects.get()
    assert (
        entry.institution == cast.bank_a
        and entry.note == "高成长，重点培育"
        and entry.added_by == cast.officer_a
    )
    c.post(f"/bank/pool/add/{firm.pk}/", {"note": "again"})
    assert PoolEntry.objects.count() == 1
    assert firm.name in c.get("/bank/pool/").content.decode()
    assert firm.name not in client_for(cast.officer_b).get("/bank/pool/").content.decode()


def test_a_firm_that_does_not_consent_cannot_be_pooled(cast, client_for):
    firm = f.EnterpriseFactory(shares_profile=False)
    assert client_for(cast.officer_a).post(f"/bank/pool/add/{firm.pk}/").status_code == 404


def test_pooled_firms_news_reaches_the_pooling_banks_officers_only(cast):
    firm = f.EnterpriseFactory(name="晋科新材料")
    PoolEntry.objects.create(institution=cast.bank_a, enterprise=firm)
    sent = pool_notify(enterprise=firm, event="need_posted")
    assert sent == 3  # officer_a, officer_a2, manager_a
    assert Notification.objects.filter(user=cast.officer_a, title__contains="晋科新材料").exists()
    assert not Notification.objects.filter(user=cast.officer_b).exists()
    pool_notify(enterprise=firm, event="qualification_added")
    assert Notification.objects.filter(user=cast.officer_a, title__contains="资质").exists()


def test_a_firm_sees_its_pools_and_leaves_one(cast, api_for):
    firm = cast.firm_a.enterprise
    a = PoolEntry.objects.create(institution=cast.bank_a, enterprise=firm, note="重点")
    PoolEntry.objects.create(institution=cast.bank_b, enterprise=firm)
    body = api_for(cast.firm_a).get("/api/v1/pools/").json()
    assert {r["institution"] for r in body["results"]} == {cast.bank_a.pk, cast.bank_b.pk}
    assert api_for(cast.firm_b).post(f"/api/v1/pools/{a.pk}/leave/").status_code == 404
    assert api_for(cast.officer_a).post(f"/api/v1/pools/{a.pk}/leave/").status_code == 403
    assert api_for(cast.firm_a).post(f"/api/v1/pools/{a.pk}/leave/").status_code == 204
    assert [e.institution for e in pools_for_enterprise(enterprise=firm)] == [cast.bank_b]
    assert Notification.objects.filter(user=cast.officer_a, title__contains="退出").exists()


def test_a_bank_lists_only_its_own_pool_through_the_api(cast, api_for):
    PoolEntry.objects.create(institution=cast.bank_a, enterprise=f.EnterpriseFactory())
    PoolEntry.objects.create(institution=cast.bank_b, enterprise=f.EnterpriseFactory())
    assert api_for(cast.officer_a).get("/api/v1/pools/").json()["count"] == 1
    assert api_for(None).get("/api/v1/pools/").status_code in (401, 403)
