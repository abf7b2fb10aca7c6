"""Subsidies on their own terms (domain.md §3, §4), worked by hand, with loans made through the
real application transitions (submit → accept → approve → disburse → repay / default) and the clock
frozen at each step: interest subsidy on interest accrued per period, the annual principal cap,
the firm cap across claims, the multi-year quote equal to the claims, risk compensation on the
year-end NPL ratio, the reward on credit lines in force, and the LPR history and API."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from matching.services.applications import application_submit, application_withdraw
from matching.services.review import application_transition
from portal.services import ConflictError, ServiceError
from subsidies import services
from subsidies.models import Claim, LprRate
from tests import factories as f

pytestmark = pytest.mark.django_db

BJ = ZoneInfo("Asia/Shanghai")
D = Decimal


def on(day: date, hour: int = 10):
    """Freeze the clock at ``day`` (Beijing time)."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BJ), tick=False)


def approved(*, firm, officer, product, amount, rate, term, day):
    """A firm's application for ``amount``, accepted and approved for that credit line on ``day``."""
    with on(day):
        app = application_submit(
            user=firm,
            product=product,
            amount=D(amount),
            term_months=term,
            purpose="working_capital",
            share_profile=True,
        )
        application_transition(user=officer, application=app, action="accept")
        application_transition(
            user=officer,
            application=app,
            action="approve",
            credit_line=amount,
            annual_rate=rate,
            term_months=term,
        )
    return app


def disbursed(
    *, firm, officer, product, amount, rate, term, start, maturity, approved_on=None, principal=None
):
    """A loan made through the transitions: approved a few days before ``start`` for ``amount``,
    disbursed on it (``principal``, the whole line by default)."""
    app = approved(
        firm=firm,
        officer=officer,
        product=product,
        amount=amount,
        rate=rate,
        term=term,
        day=approved_on or date.fromordinal(start.toordinal() - 5),
    )
    with on(start, hour=9):
        f.sign_offer(app, firm)  # the firm accepts the offer (签约确认) before the disbursement
    with on(start):
        application_transition(
            user=officer,
            application=app,
            action="disburse",
            principal=principal or amount,
            annual_rate=rate,
            start_date=start,
            maturity_date=maturity,
        )
    app.refresh_from_db()
    return app


def repay(officer, app, day: date, *, principal="0", interest="0"):
    with on(day, hour=15):
        application_transition(
            user=officer, application=app, action="repay", date=day, principal=principal, interest=interest
        )


def generate(year: int, day: date) -> dict:
    with on(day):
        return services.interest_claims_generate(year=year)


def amounts(app) -> list[tuple[int, date, Decimal]]:
    return list(
        Claim.objects.filter(loan__application=app, kind="interest")
        .order_by("period_start")
        .values_list("year", "period_start", "amount")
    )


@pytest.fixture
def credit(cast):
    """Bank A's credit-loan product (50万–3,000万, 6–36 months, 3.00–6.00%)."""
    return f.ProductFactory(institution=cast.bank_a, product_type="credit")


# ------------------------------------------------------------------------------------------
# 贷款贴息: accrued, per period, annual principal cap, firm cap, quote == claims
# ------------------------------------------------------------------------------------------


def test_the_subsidy_is_on_interest_accrued_in_each_quarter_across_the_year_end(cast, credit):
    f.PolicyFactory(effective_from=date(2025, 1, 1))
    # domain.md §4: 500万 at 3.10% from 2025-10-01 to 2026-03-31, interest paid at maturity
    app = disbursed(
        firm=cast.firm_a,
        officer=cast.officer_a,
        product=credit,
        amount="5000000",
        rate="3.10",
        term=6,
        start=date(2025, 10, 1),
        maturity=date(2026, 3, 31),
    )
    # nothing is paid yet on 2026-01-05: the 2025 Q4 claim waits for the bank's record of the interest
    report = generate(2025, date(2026, 1, 5))
    assert report["created"] == 0 and not Claim.objects.exists()
    # 181 days × 5,000,000 × 3.10% / 360 = 77,930.56 paid with the principal at maturity
    repay(cast.officer_a, app, date(2026, 3, 31), principal="5000000", interest="77930.56")
    generate(2025, date(2026, 4, 2))
    generate(2026, date(2026, 4, 2))
    # 2025 Q4: 2025-10-01..12-31 = 92 days: accrued 5,000,000 × 0.031 × 92 / 360 = 39,611.11
    #          subsidy min(19,805.555…, 5,000,000 × 3% × 92 / 360 = 38,333.33, 200,000) = 19,805.56 (a 2025 claim)
    # 2026 Q1: 2026-01-01..03-30 = 89 days (the maturity day does not accrue): accrued 38,319.44
    #          subsidy 19,159.722… → 19,159.72 (a 2026 claim) — not 38,965.28 in 2026
    assert amounts(app) == [
        (2025, date(2025, 10, 1), D("19805.56")),
        (2026, date(2026, 1, 1), D("19159.72")),
    ]
    q4 = Claim.objects.get(loan__application=app, year=2025)
    assert any("本期计息 92 天" in line and "39,611.11" in line for line in q4.explanation)
    assert q4.status == Claim.Status.AWAITING_CONFIRMATION
    # the quote of the same loan: 2025 part 92 days, 2026 part 89 days → the same two figures
    with on(date(2025, 9, 1)):
        from subsidies.selectors import quote_for_product

        q = quote_for_product(
            product=credit, amount=D("5000000"), term_months=6, annual_rate=D("3.10"), start=date(2025, 10, 1)
        )
    # 2025-10-01 + 6 months = 2026-04-01: 92 + 90 days; the loan above matures a day earlier
    assert [(y.year, y.days) for y in q.years] == [(2025, 92), (2026, 90)]
    assert q.years[0].subsidy == D("19805.56")


def test_the_principal_cap_is_an_annual_rate_pro_rata_to_the_days_of_each_period(cast):
    f.PolicyFactory()
    product = f.ProductFactory(institution=cast.bank_a, rate_max=D("12.000"))
    # 100万 at 10% for 6 months from 2026-01-01: 50% × 10% = 5% a year > the 3% cap
    app = disbursed(
        firm=cast.firm_a,
        officer=cast.officer_a,
        product=product,
        amount="1000000",
        rate="10.00",
        term=6,
        start=date(2026, 1, 1),
        maturity=date(2026, 7, 1),
    )
    repay(cast.officer_a, app, date(2026, 3, 21), interest="21944.44")
    repay(cast.officer_a, app, date(2026, 6, 21), interest="25555.56")
    repay(cast.officer_a, app, date(2026, 7, 1), principal="1000000", interest="2777.78")
    generate(2026, date(2026, 7, 5))
    # Q1 90 days: accrued 1,000,000 × 0.10 × 90 / 360 = 25,000.00, × 50% = 12,500.00
    #            cap 1,000,000 × 3% × 90 / 360 = 7,500.00 → 7,500.00 (not 1,000,000 × 3% = 30,000)
    # Q2 91 days: accrued 25,277.78, × 50% = 12,638.89; cap 1,000,000 × 3% × 91 / 360 = 7,583.33 → 7,583.33
    assert [a for _y, _s, a in amounts(app)] == [D("7500.00"), D("7583.33")]
    # the quote agrees: 181 days × 1,000,000 × 3% / 360 = 15,083.33
    from subsidies.selectors import quote_for_product

    q = quote_for_product(
        product=product, amount=D("1000000"), term_months=6, annual_rate=D("10.00"), start=date(2026, 1, 1)
    )
    assert q.subsidy == D("15083.33") == D("7500.00") + D("7583.33")


def test_the_firm_cap_holds_across_two_loans_and_claims_in_one_year(cast, credit):
    params = {**f.PolicyFactory.build().parameters, "firm_year_cap": "60000"}
    f.PolicyFactory(parameters=params)
    big = disbursed(
        firm=cast.firm_a,
        officer=cast.officer_a,
        product=credit,
        amount="10000000",
        rate="4.00",
        term=6,
        start=date(2026, 1, 1),
        maturity=date(2026, 7, 1),
    )
    small = disbursed(
        firm=cast.firm_a,
        officer=cast.officer_a,
        product=f.ProductFactory(institution=cast.bank_a),
        amount="5000000",
        rate="3.10",
        term=6,
        start=date(2026, 1, 1),
        maturity=date(2026, 7, 1),
    )
    repay(cast.officer_a, big, date(2026, 7, 1), principal="10000000", interest="201111.11")
    repay(cast.officer_a, small, date(2026, 7, 1), principal="5000000", interest="77930.56")
    generate(2026, date(2026, 7, 5))
    # big Q1: 10,000,000 × 0.04 × 90 / 360 = 100,000 × 50% = 50,000.00 (60,000 − 0 left)
    # big Q2: 91 days → 50,555.56, but only 60,000 − 50,000 = 10,000.00 is left
    # small Q1/Q2: nothing left of the firm's 2026 cap
    assert [a for _y, _s, a in amounts(big)] == [D("50000.00"), D("10000.00")]
    assert amounts(small) == []
    total = sum(
        Claim.objects.filter(enterprise=cast.firm_a.enterprise, year=2026).values_list("amount", flat=True)
    )
    assert total == D("60000.00")


def test_a_multi_year_quote_equals_the_sum_of_the_claims_for_the_same_loan_repaid_on_time(
    cast, credit, api_for
):
    f.PolicyFactory()
    # domain.md §4 worked example 2: 1,000万 at 4.00% from 2026-07-01 for 24 months
    with on(date(2026, 6, 20)):
        quote = (
            api_for(None)
            .get(
                "/api/v1/subsidies/quote/",
                {
                    "product": credit.pk,
                    "amount": "10000000",
                    "term_months": 24,
                    "annual_rate": "4.00",
                    "start": "2026-07-01",
                },
            )
            .json()
        )
    assert quote["days"] == 731
    assert quote["interest"] == "812222.22"
    assert quote["subsidy"] == "403333.33"  # 102,222.22 + 200,000.00 + 101,111.11
    assert quote["interest_after_subsidy"] == "408888.89"
    assert quote["effective_annual_rate"] == "2.0137"
    assert any("延续" in reason for reason in quote["reasons"])

    app = disbursed(
        firm=cast.firm_a,
        officer=cast.officer_a,
        product=credit,
        amount="10000000",
        rate="4.00",
        term=24,
        start=date(2026, 7, 1),
        maturity=date(2028, 7, 1),
    )
    # interest paid on time on the 21st of each quarter's last month, the rest at maturity
    for day in [date(y, m, 21) for y in (2026, 2027, 2028) for m in (3, 6, 9, 12)]:
        if date(2026, 7, 1) < day < date(2028, 7, 1):
            repay(cast.officer_a, app, day, interest="100000.00")
    repay(cast.officer_a, app, date(2028, 7, 1), principal="10000000", interest="11111.11")
    for year in (2026, 2027, 2028):
        generate(year, date(2028, 7, 5))
    by_year: dict[int, Decimal] = {}
    for year, _start, amount in amounts(app):
        by_year[year] = by_year.get(year, D("0")) + amount
    # 2026: Q3 92 days 51,111.11 + Q4 92 days 51,111.11 = 102,222.22
    # 2027: 50,000.00 + 50,555.56 + 51,111.11 + (200,000 − 151,666.67 =) 48,333.33 = 200,000.00 (firm cap)
    # 2028: Q1 91 days 50,555.56 + Q2 91 days 50,555.55 (the year's 101,111.111… rounded once) = 101,111.11
    assert by_year == {2026: D("102222.22"), 2027: D("200000.00"), 2028: D("101111.11")}
    assert sum(by_year.values()) == D(quote["subsidy"])
    assert len(amounts(app)) == 8


def test_the_calculator_page_says_the_quote_assumes_the_policy_continues(cast, credit, client):
    f.PolicyFactory()
    with on(date(2026, 6, 20)):
        page = client.get(
            "/subsidies/calculator/",
            {
                "product": credit.pk,
                "amount_wan": "1000",
                "term_months": 24,
                "annual_rate": "4.000",
                "start": "2026-07-01",
            },
        ).content.decode()
    assert 'data-quote="assumption"' in page and "延续不变" in page
    assert 'data-quote-year="2027"' in page and "200000.00" in page


# ------------------------------------------------------------------------------------------
# 风险补偿: the product's year-end NPL ratio, claimable from 1 January of the next year
# ------------------------------------------------------------------------------------------


@pytest.fixture
def exclusive(cast):
    f.RiskPolicyFactory(effective_from=date(2025, 1, 1))
    return f.ProductFactory(
        institution=cast.bank_a, is_exclusive=True, amount_min=D("100000"), amount_max=D("600000000")
    )


def _default(officer, app, day, outstanding):
    with on(day):
        application_transition(
            user=officer, application=app, action="default", date=day, outstanding_principal=outstanding
        )


def test_a_5_yi_book_with_a_2_million_default_is_not_compensated(cast, exclusive):
    # the book on 2026-12-31: 4.9亿 lent in 2025, 800万 + 200万 lent in 2026; the 200万 defaults
    book = dict(officer=cast.officer_a, product=exclusive, rate="4.00", term=24)
    disbursed(firm=cast.firm_b, amount="490000000", start=date(2025, 6, 1), maturity=date(2027, 6, 1), **book)
    disbursed(firm=cast.firm_b, amount="8000000", start=date(2026, 3, 1), maturity=date(2028, 3, 1), **book)
    bad = disbursed(
        firm=cast.firm_a, amount="2000000", start=date(2026, 3, 1), maturity=date(2028, 3, 1), **book
    )
    _default(cast.officer_a, bad, date(2026, 9, 1), "2000000")
    loan = bad.loan
    # year-end NPL = 2,000,000 ÷ (490,000,000 + 8,000,000 + 2,000,000) = 0.40% ≤ 1% — however little
    # was lent that year (the old rule, 200万 ÷ 1,000万 = 20%, paid 600,000)
    assert services.npl_ratio(product_id=exclusive.pk, year=2026) == (
        D("2000000.00"),
        D("500000000.00"),
        D("0.004"),
    )
    with on(date(2027, 1, 5)), pytest.raises(ServiceError, match="未触发") as refused:
        services.risk_claim_submit(user=cast.officer_a, loan=loan)
    assert "0.40%" in refused.value.message
    assert not Claim.objects.filter(kind="risk").exists()


def test_above_one_percent_it_pays_30_percent_capped_per_bank_per_year_from_the_next_year_on(cast, exclusive):
    book = dict(officer=cast.officer_a, product=exclusive, rate="4.00", term=24)
    disbursed(firm=cast.firm_b, amount="60000000", start=date(2026, 2, 1), maturity=date(2028, 2, 1), **book)
    bad = disbursed(
        firm=cast.firm_a, amount="40000000", start=date(2026, 2, 1), maturity=date(2028, 2, 1), **book
    )
    repay(cast.officer_a, bad, date(2026, 5, 1), principal="5000000", interest="400000")
    _default(cast.officer_a, bad, date(2026, 8, 1), "35000000")
    # claim day in 2026: the year-end ratio is not known yet
    with on(date(2026, 12, 20)), pytest.raises(ServiceError, match="2027-01-01") as early:
        services.risk_claim_submit(user=cast.officer_a, loan=bad.loan)
    assert early.value.field == "loan" and not Claim.objects.exists()
    # on 2026-12-31: defaulted 35,000,000 ÷ (60,000,000 + 35,000,000) = 36.84% > 1%
    # 30% × 35,000,000 = 10,500,000 > the bank's yearly cap 10,000,000 → 10,000,000
    with on(date(2027, 1, 4)):
        claim = services.risk_claim_submit(user=cast.officer_a, loan=bad.loan)
    assert (claim.year, claim.amount, claim.status) == (2026, D("10000000.00"), Claim.Status.SUBMITTED)
    assert any("36.84%" in line for line in claim.explanation)
    # a second 2026 default of the bank finds its 2026 cap used up
    other = disbursed(
        firm=cast.firm_a, amount="1000000", start=date(2026, 3, 1), maturity=date(2028, 3, 1), **book
    )
    _default(cast.officer_a, other, date(2026, 10, 1), "1000000")
    with on(date(2027, 1, 6)), pytest.raises(ConflictError, match="额度已用完"):
        services.risk_claim_submit(user=cast.officer_a, loan=other.loan)


# ------------------------------------------------------------------------------------------
# 专属产品奖励: credit lines in force only
# ------------------------------------------------------------------------------------------


def test_a_credit_line_withdrawn_by_the_firm_earns_no_reward(cast):
    f.RewardPolicyFactory()
    product = f.ProductFactory(
        institution=cast.bank_a, is_exclusive=True, amount_max=D("300000000"), rate_min=D("3.000")
    )
    app = approved(
        firm=cast.firm_a,
        officer=cast.officer_a,
        product=product,
        amount="150000000",
        rate="3.50",
        term=12,
        day=date(2026, 3, 2),
    )
    with on(date(2026, 3, 20)):
        application_withdraw(user=cast.firm_a, application=app, note="改用其他融资")
    with on(date(2027, 1, 5)):
        assert services.reward_claims_generate(year=2026) == []
    assert not Claim.objects.filter(kind="reward").exists()


def test_the_reward_counts_lines_in_force_at_their_approved_amount_in_the_year_of_approval(cast):
    f.RewardPolicyFactory()
    product = f.ProductFactory(
        institution=cast.bank_a, is_exclusive=True, amount_max=D("300000000"), rate_min=D("3.000")
    )
    line = dict(officer=cast.officer_a, product=product, rate="3.50", term=12)
    withdrawn = approved(firm=cast.firm_a, amount="150000000", day=date(2026, 3, 2), **line)
    with on(date(2026, 3, 20)):
        application_withdraw(user=cast.firm_a, application=withdrawn)
    # in force: approved 1.2亿 (disbursed 8,000万 of it — the approved amount counts)
    disbursed(
        firm=cast.firm_b,
        amount="120000000",
        principal="80000000",
        start=date(2026, 5, 10),
        maturity=date(2027, 5, 10),
        approved_on=date(2026, 5, 4),
        **line,
    )
    with on(date(2027, 1, 5)):
        (claim,) = services.reward_claims_generate(year=2026)
    # N = floor(1.2亿 ÷ 1亿) = 1 → 20万 (with the withdrawn 1.5亿 it would have been 2.7亿 → 40万)
    assert (claim.amount, claim.reward_units) == (D("200000.00"), 1)


# ------------------------------------------------------------------------------------------
# LPR: history from 2019-08-20, the API, no LPR before it
# ------------------------------------------------------------------------------------------


def test_the_lpr_history_starts_on_2019_08_20_as_published():
    rows = list(
        LprRate.objects.order_by("effective_from").values_list("effective_from", "one_year", "five_year")
    )
    assert rows[:3] == [
        (date(2019, 8, 20), D("4.25"), D("4.85")),
        (date(2019, 9, 20), D("4.20"), D("4.85")),
        (date(2019, 11, 20), D("4.15"), D("4.80")),
    ]
    assert (date(2022, 5, 20), D("3.70"), D("4.45")) in rows
    assert rows[-1] == (date(2025, 5, 20), D("3.00"), D("3.50"))
    assert len(rows) == 15


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2019-09-01", {"one_year": "4.25", "five_year": "4.85", "effective_from": "2019-08-20"}),
        ("2019-09-20", {"one_year": "4.20", "five_year": "4.85", "effective_from": "2019-09-20"}),
        ("2021-01-01", {"one_year": "3.85", "five_year": "4.65", "effective_from": "2020-04-20"}),
        ("2026-02-24", {"one_year": "3.00", "five_year": "3.50", "effective_from": "2025-05-20"}),
    ],
)
def test_the_lpr_api_gives_the_rate_in_force_on_a_day(api_for, day, expected):
    r = api_for(None).get("/api/v1/subsidies/lpr/", {"on": day})
    assert r.status_code == 200
    assert r.json() == {"on": day, **expected}


def test_a_day_before_2019_08_20_has_no_lpr_and_the_api_says_so(api_for):
    r = api_for(None).get("/api/v1/subsidies/lpr/", {"on": "2018-01-01"})
    assert r.status_code == 200
    body = r.json()
    assert (body["on"], body["one_year"], body["five_year"], body["effective_from"]) == (
        "2018-01-01",
        None,
        None,
        None,
    )
    assert "2019-08-20" in body["detail"] and "没有 LPR" in body["detail"]
    assert api_for(None).get("/api/v1/subsidies/lpr/", {"on": "2018-13-01"}).status_code == 400


def test_the_lpr_list_and_a_row_staff_add(cast, api_for):
    services.lpr_add(
        user=cast.staff, effective_from=date(2026, 3, 20), one_year=D("2.90"), five_year=D("3.40")
    )
    rows = api_for(None).get("/api/v1/subsidies/lpr/").json()
    assert rows[0] == {"effective_from": "2019-08-20", "one_year": "4.25", "five_year": "4.85"}
    assert rows[-1] == {"effective_from": "2026-03-20", "one_year": "2.90", "five_year": "3.40"}
    assert api_for(None).get("/api/v1/subsidies/lpr/", {"on": "2026-04-01"}).json()["one_year"] == "2.90"
    with pytest.raises(ServiceError, match="2019-08-20") as refused:
        services.lpr_add(
            user=cast.staff, effective_from=date(2019, 1, 1), one_year=D("4.31"), five_year=D("4.90")
        )
    assert refused.value.field == "effective_from"
    assert not LprRate.objects.filter(effective_from=date(2019, 1, 1)).exists()


def test_a_quote_on_a_pre_lpr_date_under_an_lpr_policy_says_so_instead_of_raising(api_for, credit):
    f.PolicyFactory(
        effective_from=date(2018, 1, 1),
        parameters={
            "ratio_of_lpr": "0.5",
            "principal_cap_rate": "0.03",
            "firm_year_cap": "200000",
            "basis": 360,
            "eligible_product_types": ["credit"],
        },
    )
    r = api_for(None).get(
        "/api/v1/subsidies/quote/",
        {
            "product": credit.pk,
            "amount": "5000000",
            "term_months": 6,
            "annual_rate": "4.35",
            "start": "2018-06-01",
        },
    )
    assert r.status_code == 200
    assert r.json()["subsidy"] == "0.00"
    assert any("没有 LPR" in reason for reason in r.json()["reasons"])
