"""The one presentation module (portal.money): its cases, and the main pages never show a bare yuan
figure (more than 4 integer digits, no separators) where 万元 is expected."""

import re
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.template import Context, Template
from django.utils import timezone

from matching.models import Application, Loan
from portal import money
from subsidies.models import Claim
from tests.portal.test_kpi import world  # noqa: F401  (the hand-counted world of the KPI tests)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12345678.90"), "1,234.57万元"),  # separators, half up
        (Decimal("50"), "0.01万元"),  # 0.005 → 0.01: half up, not half even
        (Decimal("49.99"), "0.00万元"),
        (Decimal("0"), "0.00万元"),
        (Decimal("-0.01"), "0.00万元"),  # never −0.00
        (Decimal("-10000"), "-1.00万元"),
        (None, "—"),
    ],
)
def test_wan_is_two_decimals_with_separators_half_up_and_never_minus_zero(value, expected):
    assert money.format_wan(value) == expected


def test_yi_and_the_yi_threshold_of_a_total():
    assert money.format_yi(Decimal("101000000")) == "1.01亿元"
    assert money.format_total(Decimal("99999999.99")) == "10,000.00万元"  # below 1亿: 万元
    assert money.format_total(Decimal("100000000")) == "1.00亿元"
    assert money.format_total(Decimal("-150000000")) == "-1.50亿元"


def test_yuan_only_where_the_unit_is_yuan_with_separators():
    assert money.format_yuan(Decimal("1110000")) == "1,110,000.00元"
    assert money.format_yuan(Decimal("-0.004")) == "0.00元"
    assert money.format_yuan(Decimal("0.005")) == "0.01元"


def test_exact_figures_of_worked_explanations_round_once_half_up():
    # subsidies.calc writes its reasons with these: an exact Fraction is rounded once, never −0
    assert money.round_exact(Fraction(1, 200)) == Decimal("0.01")  # 0.005: half up
    assert str(money.round_exact(Fraction(-1, 300))) == "0.00"
    assert money.format_yuan_exact(Fraction(155861111, 2000)) == "77,930.56元"  # 77,930.5555
    assert money.format_yuan_exact(Decimal("-1234.565")) == "-1,234.57元"
    # the largest unit that loses no fen
    assert money.format_money_exact(Decimal("37680000")) == "3,768.00万元"
    assert money.format_money_exact(Decimal("101000000")) == "1.01亿元"
    assert money.format_money_exact(Decimal("101000100")) == "10,100.01万元"  # not whole 百万元
    assert money.format_money_exact(Decimal("1234.56")) == "1,234.56元"
    assert money.format_money_exact(Fraction(1, 3)) == "0.33元"
    assert money.format_money_exact(Decimal("0")) == "0.00元"
    assert money.format_rate_exact(Decimal("3.1")) == "3.10%"
    assert money.format_rate_exact(Decimal("3.125")) == "3.125%"
    assert money.format_share_exact(Fraction(1, 2)) == "50%"
    assert money.format_share_exact(Decimal("0.035")) == "3.5%"


def test_subsidy_calc_writes_its_figures_with_the_presentation_module():
    from subsidies import calc

    assert calc.fmt_yuan(Decimal("77930.5555")) == money.format_yuan_exact(Decimal("77930.5555"))
    assert calc.fmt_wan(Decimal("38965.28")) == money.format_wan(Decimal("38965.28")) == "3.90万元"
    assert calc.fmt_yi(Decimal("101000000")) == money.format_yi(Decimal("101000000"))
    assert calc._money is money.format_money_exact


def test_form_inputs_in_wan_round_trip_to_yuan():
    assert money.wan_input(Decimal("2900000")) == "290.00"
    assert money.wan_to_yuan(Decimal("290.005")) == Decimal("2900050.00")
    assert money.yuan_to_wan(Decimal("125")) == Decimal("0.01")


def test_rates_shares_ratios_hours_counts_and_dates():
    assert money.format_rate(Decimal("3.105")) == "3.11%"
    assert money.format_percent(Decimal("0.33335")) == "33.3%"
    assert money.format_percent(Decimal("0.00049")) == "0.0%"
    assert money.format_percent(Decimal("-0.0001")) == "0.0%"
    assert money.format_times(Decimal("1268.005")) == "1,268.01×"
    assert money.format_hours(Decimal("37.95")) == "38.0小时"
    assert money.format_count(12345) == "12,345"
    late = timezone.make_aware(datetime(2026, 3, 31, 23, 30))  # Beijing time
    assert money.format_date(late) == "2026-03-31" and money.format_date(date(2026, 1, 2)) == "2026-01-02"
    with pytest.raises(TypeError):
        money.format_wan(1.5)


def test_the_template_filters_are_the_module():
    out = Template(
        "{% load kejin %}{{ a|wan }}|{{ a|total }}|{{ a|yuan }}|{{ a|wan_number }}|{{ r|rate }}|{{ s|percent }}"
    ).render(Context({"a": Decimal("162222.22"), "r": Decimal("3.1"), "s": Decimal("0.5")}))
    assert out == "16.22万元|16.22万元|162,222.22元|16.22|3.10%|50.0%"


def test_error_messages_quote_amounts_in_the_unit_of_their_field(cast):
    from matching.services.review import application_transition
    from portal.services import ServiceError

    loan = Loan.objects.create(
        application=_disbursed_application(cast),
        principal=Decimal("2900000"),
        annual_rate=Decimal("3.5"),
        start_date=timezone.localdate(),
        maturity_date=timezone.localdate().replace(year=timezone.localdate().year + 1),
    )
    with pytest.raises(ServiceError) as refused:
        application_transition(
            user=cast.officer_a,
            application=loan.application,
            action="repay",
            principal="3000000",
            interest="0",
            date=timezone.localdate(),
            money_unit="wan",  # the bank's page types amounts in 万元
        )
    assert "290.00万元" in str(refused.value) and "2900000" not in str(refused.value)


def _disbursed_application(cast):
    from tests import factories as f

    product = f.ProductFactory(institution=cast.bank_a)
    return f.ApplicationFactory(
        enterprise=cast.firm_a.enterprise,
        product=product,
        status=Application.Status.DISBURSED,
        credit_line=Decimal("3000000"),
        approved_at=timezone.now(),
    )


BARE_YUAN = re.compile(r"(?<![\d,.])\d{5,}\.\d{2}(?!\d)")
#: A whole number of 5+ digits standing alone (not in a code, a date, a time or a phone number) —
#: a yuan figure without separators, unless the text right after it says 元 ("marked 元").
BARE_WHOLE = re.compile(r"(?<![A-Za-z0-9_,.:/#+-])\d{5,}(?![A-Za-z0-9_,.:/-])(?!\s*元)")
PHONE = re.compile(r"^1\d{10}$")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)  # drops attributes (data-value carries raw yuan on purpose)
    return html


def bare_figures(html: str) -> list[str]:
    text = visible_text(html)
    whole = [n for n in BARE_WHOLE.findall(text) if not PHONE.match(n)]
    return BARE_YUAN.findall(text) + whole


def test_the_scan_finds_bare_yuan_and_lets_marked_or_formatted_figures_through():
    assert bare_figures("<td>162222.22</td><td>未偿本金（2900000）</td>") == ["162222.22", "2900000"]
    assert bare_figures("<td>1,110,000.00元</td><td>290.00万元</td><td>2900000元</td>") == []
    assert bare_figures("<td>2026-01-01 09:30</td><td>91140100MA0K123456</td><td>13800138000</td>") == []
    assert bare_figures('<td data-value="2900000.00">290.00万元</td>') == []


@pytest.mark.django_db
def test_no_main_page_shows_a_bare_yuan_figure(world, client_for, client):  # noqa: F811
    cast = world
    a1 = Application.objects.get(product__name="甲信用贷", status="disbursed")
    claim = Claim.objects.filter(kind="risk").first()
    year = "?period=custom&from=2026-01-01&to=2026-12-31"
    pages = [
        # anonymous
        (client, "/"),
        (client, "/products/"),
        # provincial staff
        (client_for(cast.staff), f"/dashboard/{year}"),
        (client_for(cast.staff), f"/dashboard/lists/loans/{year}"),
        (client_for(cast.staff), "/staff/"),
        (client_for(cast.staff), "/subsidies/leverage/?year=2026"),
        (client_for(cast.staff), "/subsidies/ledger/?year=2026"),
        (client_for(cast.staff), "/subsidies/claims/"),
        (client_for(cast.staff), f"/subsidies/claims/{claim.pk}/"),
        (client_for(cast.staff), "/subsidies/policies/"),
        (client_for(cast.staff), "/subsidies/calculator/"),
        # bank manager and officer
        (client_for(cast.manager_a), f"/dashboard/{year}"),
        (client_for(cast.manager_a), "/bank/team/?start=2026-01-01&end=2026-12-31"),
        (client_for(cast.manager_a), "/bank/applications/"),
        (client_for(cast.manager_a), f"/bank/applications/{a1.pk}/"),
        (client_for(cast.manager_a), "/bank/products/"),
        (client_for(cast.manager_a), "/subsidies/bank/"),
        (client_for(cast.officer_a), "/bank/"),
        (client_for(cast.officer_a), "/bank/leads/"),
        # firm
        (client_for(cast.firm_a), "/firm/"),
        (client_for(cast.firm_a), "/firm/profile/"),
        (client_for(cast.firm_a), "/firm/needs/"),
        (client_for(cast.firm_a), "/firm/applications/"),
        (client_for(cast.firm_a), "/firm/applications/"),
        (client_for(cast.firm_a), "/subsidies/my-claims/"),
    ]
    found = {}
    for who, url in pages:
        response = who.get(url)
        assert response.status_code == 200, url
        if bare := bare_figures(response.content.decode()):
            found[url] = bare
    assert not found, found
