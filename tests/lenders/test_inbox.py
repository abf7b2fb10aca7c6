"""The lead inbox and the application queue: scope, order, filters, countdown, the navigation
badge, Excel exports, and a constant number of queries."""

from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from lenders.exports import safe
from tests import factories as f
from tests.lenders.conftest import make_application, make_lead

pytestmark = pytest.mark.django_db


def rows_of(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-lead="(\d+)"', html)]


def test_the_inbox_is_sorted_by_deadline_then_score_and_scoped_to_the_branch(
    cast, product_a, product_b, client_for
):
    later = make_lead(cast, product_a, score=95, deadline_in=timedelta(days=2))
    sooner_low = make_lead(cast, product_a, score=61, deadline_in=timedelta(hours=3))
    sooner_high = make_lead(cast, product_a, score=88, deadline_in=timedelta(hours=3))
    other_bank = make_lead(cast, product_b, branch=cast.officer_b.branch)
    sooner_high.response_deadline = sooner_low.response_deadline
    sooner_high.save()
    html = client_for(cast.officer_a).get("/bank/leads/").content.decode()
    assert rows_of(html) == [sooner_high.pk, sooner_low.pk, later.pk]
    assert other_bank.pk not in rows_of(client_for(cast.manager_a).get("/bank/leads/").content.decode())
    assert "剩余" in html


def test_a_manager_sees_every_branch_of_its_institution(cast, product_a, client_for):
    other_branch = f.BranchFactory(institution=cast.bank_a, name="甲银行晋中支行")
    there = make_lead(cast, product_a, branch=other_branch)
    assert there.pk in rows_of(client_for(cast.manager_a).get("/bank/leads/").content.decode())
    assert there.pk not in rows_of(client_for(cast.officer_a).get("/bank/leads/").content.decode())


def test_filters_city_industry_product_score_status_and_overdue(cast, product_a, client_for):
    datong = f.EnterpriseFactory(city=f.region("140200"), industry="biotech")
    a = make_lead(cast, product_a, score=90, enterprise=datong)
    second = f.ProductFactory(institution=cast.bank_a)
    b = make_lead(cast, second, score=65, deadline_in=-timedelta(hours=2))
    c = client_for(cast.officer_a)

    def ids(query):
        return set(rows_of(c.get(f"/bank/leads/?{query}").content.decode()))

    assert ids("city=140200") == {a.pk}
    assert ids("industry=biotech") == {a.pk}
    assert ids(f"product={second.pk}") == {b.pk}
    assert ids("score=80") == {a.pk}
    assert ids("overdue=true") == {b.pk}
    assert ids("overdue=false") == {a.pk}
    b.status = "declined"
    b.save()
    assert ids("status=open") == {a.pk}
    assert ids("status=declined") == {b.pk}


def test_unread_new_leads_are_counted_in_the_navigation(cast, product_a, client_for):
    first = make_lead(cast, product_a)
    make_lead(cast, product_a)
    c = client_for(cast.officer_a)
    assert 'id="new-leads-count" title="未查看的新线索">2<' in c.get("/bank/").content.decode()
    c.get(f"/bank/leads/{first.pk}/")
    assert 'id="new-leads-count" title="未查看的新线索">1<' in c.get("/bank/").content.decode()


def test_the_inbox_keeps_a_constant_number_of_queries(
    cast, product_a, client_for, django_assert_max_num_queries
):
    c = client_for(cast.officer_a)
    for _ in range(5):
        make_lead(cast, product_a)
    with django_assert_max_num_queries(10):
        small = c.get("/bank/leads/")
    for _ in range(45):
        make_lead(cast, product_a)
    with django_assert_max_num_queries(10):
        large = c.get("/bank/leads/")
    assert len(rows_of(small.content.decode())) == 5
    assert len(rows_of(large.content.decode())) == 20  # one page


def test_the_application_queue_keeps_a_constant_number_of_queries(
    cast, product_a, client_for, django_assert_max_num_queries
):
    c = client_for(cast.officer_a)
    for _ in range(5):
        f.ApplicationFactory(product=product_a)
    with django_assert_max_num_queries(10):
        c.get("/bank/applications/")
    for _ in range(45):
        f.ApplicationFactory(product=product_a)
    with django_assert_max_num_queries(10):
        response = c.get("/bank/applications/")
    assert response.content.decode().count("data-application=") == 20


def open_xlsx(response):
    body = b"".join(response.streaming_content)
    return load_workbook(BytesIO(body), read_only=True).active


def test_the_inbox_export_has_the_filtered_rows_in_wan_with_chinese_headers(cast, product_a, client_for):
    hot = make_lead(cast, product_a, score=92)
    make_lead(cast, product_a, score=61)
    hot.enterprise.name = '=HYPERLINK("http://evil")科技'
    hot.enterprise.save()
    response = client_for(cast.officer_a).get("/bank/leads/export/?score=90")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(open_xlsx(response).iter_rows(values_only=True))
    assert rows[0][:3] == ("线索编号", "企业名称", "城市")
    assert "需求金额（万元）" in rows[0]
    assert len(rows) == 2 and rows[1][0] == hot.pk
    assert rows[1][1].startswith("'=")  # a formula is neutralised
    assert float(rows[1][rows[0].index("需求金额（万元）")]) == 500.0


def test_the_application_export_has_the_filtered_rows(cast, product_a, client_for):
    accepted = make_application(cast, product_a, status="accepted")
    f.ApplicationFactory(product=product_a, status="rejected")
    rows = list(
        open_xlsx(client_for(cast.manager_a).get("/bank/applications/export/?status=accepted")).iter_rows(
            values_only=True
        )
    )
    assert rows[0][0] == "申请编号" and len(rows) == 2 and rows[1][0] == accepted.pk
    assert float(rows[1][rows[0].index("申请金额（万元）")]) == 300.0


def test_bank_b_exports_none_of_bank_a(cast, product_a, client_for):
    make_lead(cast, product_a)
    rows = list(open_xlsx(client_for(cast.officer_b).get("/bank/leads/export/")).iter_rows(values_only=True))
    assert len(rows) == 1


def test_cells_that_look_like_formulas_are_neutralised():
    assert [safe(v) for v in ["=1+1", "+86", "-5", "@x", "正常", 5]] == [
        "'=1+1",
        "'+86",
        "'-5",
        "'@x",
        "正常",
        5,
    ]
