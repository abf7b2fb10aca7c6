"""Qualifications valid by the rules (domain.md §5): without an expiry a qualification gets its
statutory one, a later expiry is refused (page and API, under ``expires_on``), and the official-list
import uses the same rule."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from enterprises.models import Qualification, statutory_expiry
from enterprises.official_lists import parse_official_list
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/api/v1/enterprises/me/qualifications/"
IN_2026 = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("kind", "level", "issued", "expected"),
    [
        # 高企 and every 专精特新 tier: the day before the third anniversary of issue
        ("hitech", "", "2024-12-01", "2027-11-30"),
        ("srdi", "innovative", "2024-12-01", "2027-11-30"),
        ("srdi", "srdi_sme", "2025-03-15", "2028-03-14"),
        ("srdi", "giant", "2023-07-01", "2026-06-30"),
        # 科技型中小企业: 31 December of the year it was registered (入库)
        ("tech_sme", "", "2026-04-10", "2026-12-31"),
    ],
)
def test_a_qualification_without_an_expiry_gets_its_statutory_one(
    cast, api_for, kind, level, issued, expected
):
    with time_machine.travel(IN_2026, tick=False):
        r = api_for(cast.firm_a).post(URL, {"kind": kind, "level": level, "issued_on": issued}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["expires_on"] == expected
    assert Qualification.objects.get(pk=r.json()["id"]).expires_on == date.fromisoformat(expected)


def test_a_null_expiry_in_the_api_also_means_the_statutory_one(cast, api_for):
    with time_machine.travel(IN_2026, tick=False):
        r = api_for(cast.firm_a).post(
            URL, {"kind": "hitech", "issued_on": "2025-01-01", "expires_on": None}, format="json"
        )
    assert r.status_code == 201 and r.json()["expires_on"] == "2027-12-31"


def test_every_qualification_in_the_api_has_a_date_as_expiry(cast, api_for):
    f.QualificationFactory(
        enterprise=cast.firm_a.enterprise,
        kind="tech_sme",
        issued_on=date(2026, 3, 1),
        expires_on=date(2026, 12, 31),
    )
    with time_machine.travel(IN_2026, tick=False):
        api_for(cast.firm_a).post(URL, {"kind": "hitech", "issued_on": "2025-05-20"}, format="json")
        rows = api_for(cast.firm_a).get(URL).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert len(rows) == 2
    assert all(date.fromisoformat(row["expires_on"]) for row in rows)


def test_a_29_february_issue_is_valid_through_27_february_three_years_on():
    # the third anniversary of 2024-02-29 falls on 2027-02-28 (the month end), valid the day before
    assert statutory_expiry("hitech", date(2024, 2, 29)) == date(2027, 2, 27)


def test_an_expiry_later_than_the_statutory_one_is_refused_in_the_api(cast, api_for):
    with time_machine.travel(IN_2026, tick=False):
        r = api_for(cast.firm_a).post(
            URL, {"kind": "hitech", "issued_on": "2024-12-01", "expires_on": "2027-12-01"}, format="json"
        )
        sme = api_for(cast.firm_a).post(
            URL, {"kind": "tech_sme", "issued_on": "2026-04-10", "expires_on": "2027-04-09"}, format="json"
        )
    assert r.status_code == 400
    assert "2027-11-30" in r.json()["expires_on"][0] and "三年" in r.json()["expires_on"][0]
    assert sme.status_code == 400 and "2026-12-31" in sme.json()["expires_on"][0]
    assert not Qualification.objects.filter(enterprise=cast.firm_a.enterprise).exists()


def test_the_statutory_expiry_itself_and_an_earlier_one_are_accepted(cast, api_for):
    with time_machine.travel(IN_2026, tick=False):
        api = api_for(cast.firm_a)
        same = api.post(
            URL, {"kind": "hitech", "issued_on": "2024-12-01", "expires_on": "2027-11-30"}, format="json"
        )
        earlier = api.post(
            URL,
            {"kind": "srdi", "level": "giant", "issued_on": "2024-12-01", "expires_on": "2026-12-31"},
            format="json",
        )
    assert (same.status_code, same.json()["expires_on"]) == (201, "2027-11-30")
    assert (earlier.status_code, earlier.json()["expires_on"]) == (201, "2026-12-31")


def test_the_page_refuses_a_later_expiry_with_a_field_error_and_keeps_the_input(cast, client_for):
    c = client_for(cast.firm_a)
    with time_machine.travel(IN_2026, tick=False):
        r = c.post(
            "/firm/qualifications/new/",
            {"kind": "tech_sme", "issued_on": "2026-04-10", "expires_on": "2027-04-10", "number": "KX1"},
        )
        page = r.content.decode()
        assert r.status_code == 200
        assert "有效期不能晚于 2026-12-31" in page and "KX1" in page
        assert not Qualification.objects.filter(enterprise=cast.firm_a.enterprise).exists()
        r = c.post(
            "/firm/qualifications/new/", {"kind": "tech_sme", "issued_on": "2026-04-10", "number": "KX1"}
        )
    assert r.status_code == 302
    assert Qualification.objects.get(enterprise=cast.firm_a.enterprise).expires_on == date(2026, 12, 31)


def test_a_2015_hitech_certificate_entered_without_expiry_does_not_count_in_2026(cast, api_for):
    with time_machine.travel(IN_2026, tick=False):
        r = api_for(cast.firm_a).post(URL, {"kind": "hitech", "issued_on": "2015-10-01"}, format="json")
        assert r.status_code == 201
        # 2015-10-01 → valid through 2018-09-30, long expired on 2026-06-01
        assert r.json()["expires_on"] == "2018-09-30"
        assert r.json()["valid_today"] is False
        qual = Qualification.objects.get(pk=r.json()["id"])
        assert not qual.counts_on(date(2026, 6, 1))
        assert qual.counts_on(date(2018, 9, 30)) and not qual.counts_on(date(2018, 10, 1))


def test_the_official_list_import_gives_the_statutory_expiry_and_refuses_a_later_one():
    data = (
        "统一社会信用代码,企业名称,证书编号,发证日期,有效期至\n"
        "914403001922038216,甲公司,GR1,2024-12-01,\n"
        "911000001000013428,乙公司,GR2,2024-12-01,2028-12-01\n"
    ).encode()
    parsed = parse_official_list(name="list.csv", data=data, kind="hitech", year=2024)
    assert [(row["uscc"], row["expires_on"]) for row in parsed.rows] == [("914403001922038216", "2027-11-30")]
    assert parsed.errors[0]["row"] == 3 and "不能晚于 2027-11-30" in parsed.errors[0]["message"]
    sme = parse_official_list(
        name="list.csv",
        data="统一社会信用代码,企业名称,入库编号,入库日期\n914403001922038216,甲公司,KX1,2026-04-10\n".encode(),
        kind="tech_sme",
        year=2026,
    )
    assert sme.rows[0]["expires_on"] == "2026-12-31"
