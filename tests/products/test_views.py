"""The product supermarket pages: filters, search, sort, pagination, product page, query counts."""

from decimal import Decimal

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shelf(db):
    bank = f.InstitutionFactory(name="甲银行山西省分行", short_name="甲银行")
    other = f.InstitutionFactory(name="乙银行山西省分行", short_name="乙银行")
    return {
        "cheap": f.ProductFactory(
            institution=bank,
            name="低息信用贷",
            rate_min=Decimal("2.800"),
            amount_max=Decimal("5000000"),
            fully_online=True,
        ),
        "ip": f.ProductFactory(
            institution=bank,
            name="知识产权贷",
            product_type="ip_pledge",
            guarantee_types=["ip_pledge"],
            rate_min=Decimal("3.500"),
            amount_min=Decimal("1000000"),
            amount_max=Decimal("50000000"),
            term_max_months=60,
        ),
        "other": f.ProductFactory(
            institution=other,
            name="乙行订单贷",
            product_type="order_financing",
            guarantee_types=["order"],
            rate_min=Decimal("4.000"),
        ),
        "draft": f.ProductFactory(institution=bank, name="草稿产品", status="draft"),
        "bank": bank,
        "other_bank": other,
    }


def names(response):
    return [p.name for p in response.context["page"]]


def test_the_supermarket_is_public_and_lists_only_published_products(client, shelf):
    r = client.get("/products/")
    assert r.status_code == 200
    assert sorted(names(r)) == sorted(["低息信用贷", "知识产权贷", "乙行订单贷"])


def test_filters_institution_type_guarantee_online(client, shelf):
    assert set(names(client.get(f"/products/?institution={shelf['other_bank'].pk}"))) == {"乙行订单贷"}
    assert names(client.get("/products/?type=ip_pledge")) == ["知识产权贷"]
    assert names(client.get("/products/?guarantee=order")) == ["乙行订单贷"]
    assert names(client.get("/products/?online=true")) == ["低息信用贷"]


def test_amount_filter_takes_wan_and_term_filter_months(client, shelf):
    assert set(names(client.get("/products/?amount_wan=800"))) == {"知识产权贷", "乙行订单贷"}
    assert set(names(client.get("/products/?term=48"))) == {"知识产权贷"}


def test_search_q_matches_name_and_institution(client, shelf):
    assert names(client.get("/products/?q=知识产权")) == ["知识产权贷"]
    assert names(client.get("/products/?q=乙银行")) == ["乙行订单贷"]


def test_sorting_by_rate_amount_term_and_publication(client, shelf):
    assert names(client.get("/products/?sort=rate")) == ["低息信用贷", "知识产权贷", "乙行订单贷"]
    assert names(client.get("/products/?sort=-amount"))[0] == "知识产权贷"
    assert names(client.get("/products/?sort=-term"))[0] == "知识产权贷"
    assert client.get("/products/?sort=-published").status_code == 200


def test_pagination_keeps_the_filters(client, shelf):
    for i in range(14):
        f.ProductFactory(institution=shelf["bank"], name=f"批量产品{i:02d}")
    r = client.get(f"/products/?institution={shelf['bank'].pk}")
    assert r.context["page"].paginator.num_pages == 2
    assert f"institution={shelf['bank'].pk}&page=2" in r.content.decode()
    assert len(names(client.get(f"/products/?institution={shelf['bank'].pk}&page=2"))) == 4


def test_an_empty_result_says_what_to_do_next(client, shelf):
    assert "请放宽筛选条件" in client.get("/products/?q=不存在的产品").content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_the_list_keeps_a_constant_number_of_queries(client, django_assert_max_num_queries, rows):
    bank = f.InstitutionFactory()
    for _ in range(rows):
        f.ProductFactory(institution=bank)
    with django_assert_max_num_queries(6):
        assert client.get("/products/?guarantee=credit&sort=rate").status_code == 200


def test_the_product_page_states_terms_and_criteria_in_plain_chinese(client, shelf):
    product = f.ProductFactory(institution=shelf["bank"], name="高新贷", criteria=None)
    f.CriteriaFactory(
        product=product,
        cities=["140100"],
        required_qualifications=["hitech"],
        min_years=2,
        min_revenue=Decimal("10000000"),
        export_required=True,
        min_invention_patents=1,
        max_amount_revenue_ratio=Decimal("0.5"),
    )
    page = client.get(f"/products/{product.pk}/").content.decode()
    for text in [
        "太原市",
        "高新技术企业",
        "成立满 2 年",
        "1,000.00万元",
        "须有出口业务",
        "发明专利不少于 1 件",
        "50%",
        "信用",
    ]:
        assert text in page, text
    assert "登录后检查是否符合条件" in page
    assert 'id="eligibility"' not in page


def test_a_draft_product_page_is_404_for_the_public(client, shelf):
    assert client.get(f"/products/{shelf['draft'].pk}/").status_code == 404


def test_a_firm_sees_the_eligibility_check_the_apply_button_and_the_subsidy_slot(cast, client_for, shelf):
    f.NeedFactory(enterprise=cast.firm_a.enterprise)
    page = client_for(cast.firm_a).get(f"/products/{shelf['cheap'].pk}/").content.decode()
    assert 'id="eligibility"' in page and 'id="apply-link"' in page
    assert 'id="subsidy-quote"' in page


def test_a_bank_officer_sees_the_product_without_an_eligibility_check(cast, client_for, shelf):
    page = client_for(cast.officer_a).get(f"/products/{shelf['cheap'].pk}/").content.decode()
    assert 'id="eligibility"' not in page and 'id="apply-link"' not in page
