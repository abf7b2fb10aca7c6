"""Worked examples for subsidies.calc, with the arithmetic written out by hand.

Pure Python: no Django, no database. Run with
``.venv/bin/python -m pytest tests/subsidies/test_calc.py -q -p no:django -p no:cacheprovider``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from subsidies.calc import (
    accrued_interest,
    add_months,
    exclusive_product_reward,
    fmt_wan,
    fmt_yi,
    fmt_yuan,
    interest_subsidy_for_period,
    lpr_on,
    quote,
    rate_from_lpr,
    recovery_payback,
    risk_compensation,
)

D = Decimal
WAN = D("10000")
YI = D("100000000")

# The demo 贴息 policy of domain.md §4: ratio 50%, principal cap 3%, 20万元 per firm per year, basis 360,
# applied to the worked example's loan: 500万元 at 3.10% from 2026-01-01 for 6 months.
QUOTE_KW: dict[str, Any] = {
    "principal": D("5000000"),
    "annual_rate": D("3.10"),
    "start": date(2026, 1, 1),
    "months": 6,
    "ratio": D("0.5"),
    "principal_cap_rate": D("0.03"),
    "firm_year_cap": D("200000"),
    "basis": 360,
}

# One claim period of domain.md §4's accrual example: 500万元 at 3.10%, 2025 Q4 inside the loan's
# life (2025-10-01 to 2026-03-31): 92 days.
Q4_2025 = (date(2025, 10, 1), date(2026, 1, 1), D("5000000"))
PERIOD_KW: dict[str, Any] = {
    "segments": [Q4_2025],
    "annual_rate": D("3.10"),
    "basis": 360,
    "ratio": D("0.5"),
    "principal_cap_rate": D("0.03"),
    "firm_year_cap": D("200000"),
    "already_subsidised_this_year": D("0"),
}

# domain.md §3: (effective_from, 1-year, 5-year+).
LPR_TABLE: list[tuple[date, Decimal, Decimal]] = [
    (date(2022, 8, 22), D("3.65"), D("4.30")),
    (date(2023, 6, 20), D("3.55"), D("4.20")),
    (date(2023, 8, 21), D("3.45"), D("4.20")),
    (date(2024, 2, 20), D("3.45"), D("3.95")),
    (date(2024, 7, 22), D("3.35"), D("3.85")),
    (date(2024, 10, 21), D("3.10"), D("3.60")),
    (date(2025, 5, 20), D("3.00"), D("3.50")),
]


def quote_with(**changes: Any) -> Any:
    return quote(**{**QUOTE_KW, **changes})


# --------------------------------------------------------------------------------------------
# add_months (民法典 第二百零二条)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 1, 1), 6, date(2026, 7, 1)),  # the worked example's maturity
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # no 31 Feb, 2026 is not a leap year → 28 Feb
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year → 29 Feb
        (date(2025, 12, 31), 2, date(2026, 2, 28)),  # across the year end into a short month
        (date(2025, 10, 31), 1, date(2025, 11, 30)),  # no 31 Nov → 30 Nov
        # 30 Nov has a corresponding day in December, so the same-day rule gives 30 Dec, not 31 Dec:
        # a month-end start does not "stick" to month ends under 第二百零二条.
        (date(2025, 11, 30), 1, date(2025, 12, 30)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # 30 Nov → Feb has no 30th → 28 Feb
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # counting back works the same way
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
    ],
)
def test_add_months_keeps_the_day_or_falls_back_to_the_month_end(start: date, n: int, expected: date) -> None:
    assert add_months(start, n) == expected


def test_add_months_days_between_are_actual_calendar_days() -> None:
    # Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 30 = 181 days from 2026-01-01 to 2026-07-01.
    assert (add_months(date(2026, 1, 1), 6) - date(2026, 1, 1)).days == 181
    # 2024 is a leap year: 2024-01-31 → 2024-02-29 is 29 days.
    assert (add_months(date(2024, 1, 31), 1) - date(2024, 1, 31)).days == 29


def test_add_months_refuses_a_datetime() -> None:
    with pytest.raises(TypeError, match=r"^d: "):
        add_months(datetime(2026, 1, 1, 9, 0), 1)


# --------------------------------------------------------------------------------------------
# quote — 贷款贴息 before applying
# --------------------------------------------------------------------------------------------


def test_quote_reproduces_the_worked_example_of_domain_md() -> None:
    q = quote(**QUOTE_KW)
    # days: 2026-01-01 → 2026-07-01 = 31 + 28 + 31 + 30 + 31 + 30 = 181
    assert q.days == 181
    assert q.end == date(2026, 7, 1)
    assert q.basis == 360
    # interest = 5,000,000 × 0.031 × 181 / 360 = 155,000 × 181 / 360 = 28,055,000 / 360
    #          = 77,930.5555… → 77,930.56
    assert q.interest == D("77930.56")
    # subsidy = min(77,930.5555… × 50% = 38,965.2777…, 5,000,000 × 3% = 150,000, 200,000 − 0)
    #         = 38,965.2777… → 38,965.28 (taken from the UNROUNDED interest)
    assert q.subsidy == D("38965.28")
    assert q.which_cap == "ratio"
    # after = 77,930.56 − 38,965.28 = 38,965.28
    assert q.interest_after_subsidy == D("38965.28")
    # effective = 38,965.28 / 5,000,000 × 360 / 181 × 100 = 1.550000088… → 1.5500 (%), i.e. half of 3.10%
    assert q.effective_annual_rate == D("1.5500")
    assert str(q.effective_annual_rate) == "1.5500"
    # the explanation shows the figures
    assert "实际 181 天" in q.explanation
    assert "500.00万元 × 年利率 3.10% × 181 天 ÷ 360 = 77,930.56元" in q.explanation
    assert "38,965.28元" in q.explanation
    assert "1.5500%" in q.explanation


def test_quote_on_a_365_day_basis() -> None:
    q = quote_with(basis=365)
    assert q.days == 181
    # interest = 5,000,000 × 0.031 × 181 / 365 = 28,055,000 / 365 = 76,863.0136… → 76,863.01
    assert q.interest == D("76863.01")
    # subsidy = 76,863.0136… × 50% = 38,431.5068… → 38,431.51
    assert q.subsidy == D("38431.51")
    # after = 76,863.01 − 38,431.51 = 38,431.50: the difference of the two figures shown, so the
    # screen adds up (rounding 38,431.5068… on its own would have said 38,431.51).
    assert q.interest_after_subsidy == D("38431.50")
    assert q.interest_after_subsidy == q.interest - q.subsidy
    # effective = 38,431.50 / 5,000,000 × 365 / 181 × 100 = 1.54999972… → 1.5500
    assert q.effective_annual_rate == D("1.5500")
    assert "÷ 365" in q.explanation


def test_quote_principal_cap_bites_at_a_huge_rate() -> None:
    q = quote_with(principal=D("1000000"), annual_rate=D("20"), months=12)
    # 2026-01-01 → 2027-01-01 = 365 days, all in 2026
    assert q.days == 365
    # interest = 1,000,000 × 0.20 × 365 / 360 = 73,000,000 / 360 = 202,777.777… → 202,777.78
    assert q.interest == D("202777.78")
    # the 3% cap is an annual rate pro rata to the days: 1,000,000 × 3% × 365 / 360 = 30,416.666… → 30,416.67
    # min(202,777.777… × 50% = 101,388.89, 30,416.67, 200,000) = 30,416.67
    assert q.subsidy == D("30416.67")
    assert q.which_cap == "principal_cap"
    # after = 202,777.78 − 30,416.67 = 172,361.11
    assert q.interest_after_subsidy == D("172361.11")
    # effective = 172,361.11 / 1,000,000 × 360 / 365 × 100 = 16.99999… → 17.0000
    assert q.effective_annual_rate == D("17.0000")
    assert "本金 100.00万元 × 3% × 365 天 ÷ 360 = 30,416.67元" in q.explanation
    assert "受本金年化上限限制" in q.explanation


def test_quote_over_several_years_is_the_sum_of_its_years_each_with_its_own_firm_cap() -> None:
    # domain.md §4 worked example 2: 1,000万元 at 4.00% from 2026-07-01 for 24 months → 2028-07-01
    q = quote_with(principal=D("10000000"), annual_rate=D("4.00"), start=date(2026, 7, 1), months=24)
    assert q.days == 731  # 184 + 365 + 182
    assert [(y.year, y.days) for y in q.years] == [(2026, 184), (2027, 365), (2028, 182)]
    # 2026: 10,000,000 × 0.04 × 184 / 360 = 204,444.444… → 204,444.44; × 50% = 102,222.22
    #       (3% cap: 10,000,000 × 0.03 × 184 / 360 = 153,333.33; firm cap 200,000)
    # 2027: 10,000,000 × 0.04 × 365 / 360 = 405,555.555… → 405,555.56; × 50% = 202,777.78 > 200,000 → 200,000
    # 2028: 10,000,000 × 0.04 × 182 / 360 = 202,222.222… → 202,222.22; × 50% = 101,111.11
    assert [y.interest for y in q.years] == [D("204444.44"), D("405555.56"), D("202222.22")]
    assert [y.subsidy for y in q.years] == [D("102222.22"), D("200000.00"), D("101111.11")]
    assert [y.which_cap for y in q.years] == ["ratio", "firm_year_cap", "ratio"]
    # totals: interest 10,000,000 × 0.04 × 731 / 360 = 812,222.22; subsidy 403,333.33
    assert q.interest == D("812222.22")
    assert q.subsidy == D("403333.33")
    assert q.interest_after_subsidy == D("408888.89")
    # 408,888.89 / 10,000,000 × 360 / 731 × 100 = 2.01368… → 2.0137
    assert q.effective_annual_rate == D("2.0137")
    assert q.which_cap == "firm_year_cap"
    assert "2027 年贴息取三者中的最小值：200,000.00元" in q.explanation


def test_quote_over_several_years_deducts_what_the_firm_already_received_in_each_year() -> None:
    q = quote_with(
        principal=D("10000000"),
        annual_rate=D("4.00"),
        start=date(2026, 7, 1),
        months=24,
        already_subsidised_by_year={2026: D("150000"), 2027: D("0")},
    )
    # 2026: min(102,222.22, 153,333.33, 200,000 − 150,000 = 50,000) = 50,000
    assert [y.subsidy for y in q.years] == [D("50000.00"), D("200000.00"), D("101111.11")]
    assert q.subsidy == D("351111.11")


def test_quote_firm_year_cap_bites_for_a_huge_loan_already_partly_subsidised() -> None:
    q = quote_with(principal=D("100000000"), months=12, already_subsidised_this_year=D("50000"))
    assert q.days == 365
    # interest = 100,000,000 × 0.031 × 365 / 360 = 1,131,500,000 / 360 = 3,143,055.555… → 3,143,055.56
    assert q.interest == D("3143055.56")
    # min(1,571,527.78, 100,000,000 × 3% = 3,000,000, 200,000 − 50,000 = 150,000) = 150,000
    assert q.subsidy == D("150000.00")
    assert q.which_cap == "firm_year_cap"
    # after = 3,143,055.56 − 150,000 = 2,993,055.56
    assert q.interest_after_subsidy == D("2993055.56")
    # effective = 2,993,055.56 / 100,000,000 × 360 / 365 × 100 = 2.95205… → 2.9521
    assert q.effective_annual_rate == D("2.9521")
    assert "20.00万元 − 本年已贴息 5.00万元 = 剩余 15.00万元" in q.explanation


@pytest.mark.parametrize("already", [D("200000"), D("250000")])
def test_quote_gives_nothing_once_the_firm_year_cap_is_used_up(already: Decimal) -> None:
    # 200,000 − 200,000 = 0; 200,000 − 250,000 is below 0 and counts as 0.
    q = quote_with(already_subsidised_this_year=already)
    assert q.subsidy == D("0.00")
    assert q.which_cap == "firm_year_cap"
    assert q.interest_after_subsidy == q.interest == D("77930.56")
    assert "已达企业年度上限" in q.explanation


def test_quote_for_a_loan_that_is_not_a_credit_loan_gives_zero_with_the_reason() -> None:
    q = quote_with(eligible=False, ineligible_reason="该产品不是信用贷款，不享受贴息")
    assert q.subsidy == D("0.00")
    assert q.which_cap == "ineligible"
    assert q.interest == q.interest_after_subsidy == D("77930.56")
    # 77,930.56 / 5,000,000 × 360 / 181 × 100 = 3.1000000… → the nominal 3.10%
    assert q.effective_annual_rate == D("3.1000")
    assert any("该产品不是信用贷款，不享受贴息" in reason for reason in q.reasons)


def test_quote_not_eligible_without_a_stated_reason_still_explains() -> None:
    q = quote_with(eligible=False)
    assert q.subsidy == D("0.00")
    assert "不符合贴息条件" in q.explanation


def test_quote_explains_a_month_end_maturity() -> None:
    q = quote_with(start=date(2026, 1, 31), months=1)
    # 2026-01-31 → 2026-02-28 = 28 days; interest = 5,000,000 × 0.031 × 28 / 360 = 12,055.555… → 12,055.56
    assert q.days == 28
    assert q.interest == D("12055.56")
    assert "取该月最后一日" in q.explanation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("principal", D("0")),
        ("principal", D("-1")),
        ("annual_rate", D("0")),
        ("months", 0),
        ("basis", 364),
        ("ratio", D("1.5")),
        ("principal_cap_rate", D("-0.03")),
        ("firm_year_cap", D("-1")),
        ("already_subsidised_this_year", D("-0.01")),
    ],
)
def test_quote_rejects_bad_values_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        quote_with(**{field: value})


def test_quote_is_frozen() -> None:
    q = quote(**QUOTE_KW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.subsidy = D("1")  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# accrued_interest and interest_subsidy_for_period — a 贴息 claim
# --------------------------------------------------------------------------------------------


def test_accrued_interest_sums_segments_exactly_and_rounds_once() -> None:
    interest = accrued_interest(
        principal_outstanding_segments=[
            (date(2026, 1, 1), date(2026, 4, 1), D("5000000")),  # 90 days
            (date(2026, 4, 1), date(2026, 7, 1), D("3000000")),  # 91 days, after 200万 repaid
        ],
        annual_rate=D("3.10"),
        basis=360,
    )
    # 5,000,000 × 0.031 × 90 / 360 = 38,750
    # 3,000,000 × 0.031 × 91 / 360 = 8,463,000 / 360 = 23,508.333…
    # total = 62,258.333… → 62,258.33
    assert interest == D("62258.33")


def test_accrued_interest_over_the_whole_term_matches_the_quote() -> None:
    interest = accrued_interest(
        principal_outstanding_segments=[(date(2026, 1, 1), date(2026, 7, 1), D("5000000"))],
        annual_rate=D("3.10"),
        basis=360,
    )
    assert interest == quote(**QUOTE_KW).interest == D("77930.56")


def test_accrued_interest_refuses_overlapping_segments() -> None:
    with pytest.raises(ValueError, match=r"^principal_outstanding_segments\[1\]: "):
        accrued_interest(
            principal_outstanding_segments=[
                (date(2026, 1, 1), date(2026, 4, 1), D("5000000")),
                (date(2026, 3, 1), date(2026, 7, 1), D("3000000")),
            ],
            annual_rate=D("3.10"),
            basis=360,
        )


def test_period_subsidy_is_on_the_interest_accrued_in_the_period() -> None:
    # domain.md §4: 500万元 at 3.10%, 2025 Q4 = 92 days inside the loan's life
    # accrued = 5,000,000 × 0.031 × 92 / 360 = 39,611.111… → 39,611.11
    # subsidy = min(39,611.111… × 50% = 19,805.555…, 5,000,000 × 3% × 92 / 360 = 38,333.33, 200,000) → 19,805.56
    result = interest_subsidy_for_period(**PERIOD_KW)
    assert (result.days, result.accrued_interest, result.amount) == (92, D("39611.11"), D("19805.56"))
    assert result.capped_by == "ratio"
    # 2026 Q1: 2026-01-01 to the maturity 2026-03-31 (not counted) = 89 days
    # accrued = 5,000,000 × 0.031 × 89 / 360 = 38,319.444… → 38,319.44; subsidy 19,159.722… → 19,159.72
    q1 = interest_subsidy_for_period(**{**PERIOD_KW, "segments": [(date(2026, 1, 1), date(2026, 3, 31), D("5000000"))]})
    assert (q1.days, q1.accrued_interest, q1.amount) == (89, D("38319.44"), D("19159.72"))
    assert "本期计息 89 天" in q1.explanation


def test_period_subsidy_follows_the_principal_outstanding_over_the_period() -> None:
    # 2026 Q2 with 200万 of 500万 repaid on 2026-05-01: 30 days on 500万, 61 days on 300万
    # accrued = 5,000,000 × 0.031 × 30 / 360 + 3,000,000 × 0.031 × 61 / 360 = 12,916.666… + 15,758.333… = 28,675.00
    result = interest_subsidy_for_period(
        **{
            **PERIOD_KW,
            "segments": [
                (date(2026, 4, 1), date(2026, 5, 1), D("5000000")),
                (date(2026, 5, 1), date(2026, 7, 1), D("3000000")),
            ],
        }
    )
    assert (result.days, result.accrued_interest, result.amount) == (91, D("28675.00"), D("14337.50"))


def test_period_subsidy_principal_cap_is_an_annual_rate_pro_rata_to_the_days() -> None:
    # 1,000,000 at 20% over 2026 Q1 (90 days): accrued = 1,000,000 × 0.20 × 90 / 360 = 50,000.00
    # min(50,000 × 50% = 25,000, 1,000,000 × 3% × 90 / 360 = 7,500.00, 200,000) = 7,500.00 — not 30,000
    result = interest_subsidy_for_period(
        **{
            **PERIOD_KW,
            "segments": [(date(2026, 1, 1), date(2026, 4, 1), D("1000000"))],
            "annual_rate": D("20"),
        }
    )
    assert (result.amount, result.capped_by) == (D("7500.00"), "principal_cap")
    assert "未偿本金 100.00万元 × 3% × 90 天 ÷ 360 = 0.75万元" in result.explanation


def test_period_subsidy_gets_at_most_what_is_left_of_the_firm_cap() -> None:
    # 200,000 − 190,000 = 10,000 < 19,805.56
    result = interest_subsidy_for_period(**{**PERIOD_KW, "already_subsidised_this_year": D("190000")})
    assert (result.amount, result.capped_by) == (D("10000.00"), "firm_year_cap")
    none_left = interest_subsidy_for_period(**{**PERIOD_KW, "already_subsidised_this_year": D("200000")})
    assert none_left.amount == D("0.00") and "已达企业年度上限" in none_left.explanation


def test_period_subsidies_of_one_year_round_once_on_the_running_total() -> None:
    # 1,000万元 at 4% in 2028 (worked example 2): Q1 91 days and Q2 91 days each 50,555.555…;
    # the year's 101,111.111… rounds to 101,111.11, so Q1 gets 50,555.56 and Q2 the rest, 50,555.55.
    kw = {**PERIOD_KW, "annual_rate": D("4.00")}
    q1_seg = (date(2028, 1, 1), date(2028, 4, 1), D("10000000"))
    q2_seg = (date(2028, 4, 1), date(2028, 7, 1), D("10000000"))
    q1 = interest_subsidy_for_period(**{**kw, "segments": [q1_seg]})
    q2 = interest_subsidy_for_period(**{**kw, "segments": [q2_seg], "earlier_segments_this_year": [q1_seg]})
    assert (q1.amount, q2.amount) == (D("50555.56"), D("50555.55"))
    assert q1.amount + q2.amount == D("101111.11")
    assert "按累计数舍入到分" in q2.explanation


def test_a_loan_repaid_late_is_excluded() -> None:
    result = interest_subsidy_for_period(**PERIOD_KW, repaid_on_time=False)
    assert result.amount == D("0.00")
    assert result.capped_by == "ineligible"
    assert "未按期还本付息" in result.explanation


def test_a_late_loan_still_counts_when_the_policy_does_not_require_on_time_repayment() -> None:
    result = interest_subsidy_for_period(**PERIOD_KW, repaid_on_time=False, require_on_time=False)
    assert result.amount == D("19805.56")
    assert result.capped_by == "ratio"


# --------------------------------------------------------------------------------------------
# exclusive_product_reward — 专属产品奖励
# --------------------------------------------------------------------------------------------


def test_reward_sequence_of_the_seed_rule() -> None:
    years = exclusive_product_reward(
        [
            (2022, D("0.6") * YI),
            (2023, D("1.3") * YI),
            (2024, D("3.45") * YI),
            (2025, D("3.2") * YI),
            (2026, D("4.1") * YI),
        ]
    )
    # year  total   N  highest before  reward
    # 2022  0.6亿   0  0               20万 × max(0, 0 − 0) = 0
    # 2023  1.3亿   1  0               20万 × (1 − 0) = 20万   (first reaches 1亿)
    # 2024  3.45亿  3  1               20万 × (3 − 1) = 40万
    # 2025  3.2亿   3  3               20万 × max(0, 3 − 3) = 0
    # 2026  4.1亿   4  3               20万 × (4 − 3) = 20万
    assert [y.year for y in years] == [2022, 2023, 2024, 2025, 2026]
    assert [y.units for y in years] == [0, 1, 3, 3, 4]
    assert [y.previous_high for y in years] == [0, 0, 1, 3, 3]
    assert [y.reward for y in years] == [D("0"), D("200000"), D("400000"), D("0"), D("200000")]
    assert sum(y.reward for y in years) == 80 * WAN
    assert "首次达到 1.00亿元" in years[1].explanation
    assert "奖励 2 × 20.00万元 = 40.00万元" in years[2].explanation
    assert "本年不奖励" in years[3].explanation


def test_reward_for_a_first_year_of_exactly_one_yi() -> None:
    # floor(100,000,000 / 100,000,000) = 1 → 20万 × (1 − 0) = 20万
    (year,) = exclusive_product_reward([(2026, D("100000000.00"))])
    assert (year.units, year.reward) == (1, D("200000.00"))


def test_reward_just_below_one_yi_is_nothing() -> None:
    # floor(99,999,999.99 / 100,000,000) = 0
    (year,) = exclusive_product_reward([(2026, D("99999999.99"))])
    assert (year.units, year.reward) == (0, D("0.00"))


def test_reward_continues_from_units_rewarded_before() -> None:
    # highest already rewarded = 3; 3.5亿 → N = 3 → 0; 5亿 → N = 5 → 20万 × 2 = 40万
    years = exclusive_product_reward(
        [(2026, D("350000000")), (2027, D("500000000"))], already_rewarded_units=3
    )
    assert [y.reward for y in years] == [D("0"), D("400000")]


def test_reward_needs_years_in_order() -> None:
    with pytest.raises(ValueError, match=r"^yearly_totals\[1\]: "):
        exclusive_product_reward([(2026, YI), (2025, YI)])


# --------------------------------------------------------------------------------------------
# risk_compensation and recovery_payback — 风险补偿
# --------------------------------------------------------------------------------------------


def test_risk_compensation_is_the_ratio_when_no_cap_bites() -> None:
    # 5,000,000 × 30% = 1,500,000; pool 1,000万 left
    result = risk_compensation(outstanding_principal=D("5000000"), ratio=D("0.3"), pool_remaining=1000 * WAN)
    assert (result.amount, result.capped_by) == (D("1500000.00"), "ratio")
    assert "500.00万元 × 30% = 150.00万元" in result.explanation


def test_risk_compensation_per_loan_cap_bites() -> None:
    # min(1,500,000, per-loan cap 1,000,000, pool 10,000,000) = 1,000,000
    result = risk_compensation(
        outstanding_principal=D("5000000"),
        ratio=D("0.3"),
        per_loan_cap=D("1000000"),
        pool_remaining=1000 * WAN,
    )
    assert (result.amount, result.capped_by) == (D("1000000.00"), "per_loan_cap")


def test_risk_compensation_pool_cap_bites() -> None:
    # the bank's 1,000万 yearly cap with 920万 already compensated leaves 80万:
    # min(1,500,000, 1,000,000, 800,000) = 800,000
    result = risk_compensation(
        outstanding_principal=D("5000000"),
        ratio=D("0.3"),
        per_loan_cap=D("1000000"),
        pool_remaining=1000 * WAN - 920 * WAN,
    )
    assert (result.amount, result.capped_by) == (D("800000.00"), "pool")
    assert "受本年剩余额度限制" in result.explanation


def test_risk_compensation_from_an_empty_pool_is_nothing() -> None:
    result = risk_compensation(outstanding_principal=D("5000000"), ratio=D("0.3"), pool_remaining=D("0"))
    assert (result.amount, result.capped_by) == (D("0.00"), "pool")


def test_a_later_recovery_is_paid_back_pro_rata() -> None:
    # 80万 compensated on 500万 outstanding; the bank later recovers 125万:
    # 800,000 × 1,250,000 / 5,000,000 = 200,000
    assert recovery_payback(
        compensated=D("800000"), outstanding_at_default=D("5000000"), recovered=D("1250000")
    ) == D("200000.00")
    # recovering more than was outstanding pays back at most what was compensated
    assert recovery_payback(
        compensated=D("800000"), outstanding_at_default=D("5000000"), recovered=D("6000000")
    ) == D("800000.00")
    # 1,000,000 × 1,000,000 / 3,000,000 = 333,333.333… → 333,333.33
    assert recovery_payback(
        compensated=D("1000000"), outstanding_at_default=D("3000000"), recovered=D("1000000")
    ) == D("333333.33")


# --------------------------------------------------------------------------------------------
# LPR
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "tenor", "expected"),
    [
        (date(2022, 8, 22), "1y", D("3.65")),  # the first entry, on its first day
        (date(2023, 6, 19), "1y", D("3.65")),
        (date(2023, 6, 20), "1y", D("3.55")),
        (date(2024, 2, 19), "5y", D("4.20")),
        (date(2024, 2, 20), "5y", D("3.95")),  # only the 5-year moved that day
        (date(2024, 2, 20), "1y", D("3.45")),
        (date(2024, 10, 20), "1y", D("3.35")),  # the day before the cut
        (date(2024, 10, 21), "1y", D("3.10")),  # the cut takes effect
        (date(2024, 10, 21), "5y", D("3.60")),
        (date(2025, 5, 20), "1y", D("3.00")),
        (date(2026, 2, 24), "5y", D("3.50")),  # unchanged through the newest reading
    ],
)
def test_lpr_in_force_on_a_day(day: date, tenor: str, expected: Decimal) -> None:
    assert lpr_on(LPR_TABLE, day, tenor) == expected


def test_lpr_table_order_does_not_matter() -> None:
    assert lpr_on(list(reversed(LPR_TABLE)), date(2024, 10, 21)) == D("3.10")


def test_lpr_before_the_first_entry_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^d: "):
        lpr_on(LPR_TABLE, date(2022, 8, 21))


def test_lpr_rejects_an_unknown_tenor() -> None:
    with pytest.raises(ValueError, match=r"^tenor: "):
        lpr_on(LPR_TABLE, date(2025, 1, 1), "3y")


def test_rate_from_lpr_adds_basis_points() -> None:
    # 3.10% + 50bp = 3.60%; 3.10% − 20bp = 2.90%
    assert rate_from_lpr(D("3.10"), 50) == D("3.60")
    assert rate_from_lpr(D("3.10"), -20) == D("2.90")
    assert rate_from_lpr(lpr_on(LPR_TABLE, date(2026, 1, 1)), 0) == D("3.00")


# --------------------------------------------------------------------------------------------
# Display helpers
# --------------------------------------------------------------------------------------------


def test_money_display_helpers() -> None:
    assert fmt_wan(D("38965.28")) == "3.90万元"
    assert fmt_wan(D("5000000")) == "500.00万元"
    assert fmt_wan(D("37680000")) == "3,768.00万元"
    assert fmt_yi(D("101000000")) == "1.01亿元"
    assert fmt_yi(D("10100000000")) == "101.00亿元"
    assert fmt_yuan(D("77930.5555")) == "77,930.56元"
    assert fmt_yuan(D("0.005")) == "0.01元"  # half up


# --------------------------------------------------------------------------------------------
# Floats are refused everywhere
# --------------------------------------------------------------------------------------------

SEGMENT = (date(2026, 1, 1), date(2026, 7, 1), D("5000000"))
RISK_KW: dict[str, Any] = {
    "outstanding_principal": D("5000000"),
    "ratio": D("0.3"),
    "per_loan_cap": D("1000000"),
    "pool_remaining": D("800000"),
}
PAYBACK_KW: dict[str, Any] = {
    "compensated": D("800000"),
    "outstanding_at_default": D("5000000"),
    "recovered": D("1250000"),
}
ACCRUED_KW: dict[str, Any] = {
    "principal_outstanding_segments": [SEGMENT],
    "annual_rate": D("3.10"),
    "basis": 360,
}

FLOAT_CALLS: dict[str, Callable[[], object]] = {
    "add_months.n": lambda: add_months(date(2026, 1, 1), 1.0),  # type: ignore[arg-type]
    **{
        f"quote.{name}": (lambda name=name: quote(**{**QUOTE_KW, name: float(QUOTE_KW[name])}))
        for name in QUOTE_KW
        if name != "start"
    },
    "quote.already_subsidised_this_year": lambda: quote_with(already_subsidised_this_year=0.0),
    "accrued_interest.annual_rate": lambda: accrued_interest(**{**ACCRUED_KW, "annual_rate": 3.1}),
    "accrued_interest.basis": lambda: accrued_interest(**{**ACCRUED_KW, "basis": 360.0}),
    "accrued_interest.segment": lambda: accrued_interest(
        **{**ACCRUED_KW, "principal_outstanding_segments": [(SEGMENT[0], SEGMENT[1], 5e6)]}
    ),
    **{
        f"interest_subsidy_for_period.{name}": (
            lambda name=name: interest_subsidy_for_period(**{**PERIOD_KW, name: float(PERIOD_KW[name])})
        )
        for name in PERIOD_KW
        if name != "segments"
    },
    "interest_subsidy_for_period.segment": lambda: interest_subsidy_for_period(
        **{**PERIOD_KW, "segments": [(Q4_2025[0], Q4_2025[1], 5e6)]}
    ),
    "exclusive_product_reward.total": lambda: exclusive_product_reward([(2026, 1.3e8)]),  # type: ignore[list-item]
    "exclusive_product_reward.unit": lambda: exclusive_product_reward([(2026, YI)], unit=1e8),  # type: ignore[arg-type]
    "exclusive_product_reward.reward_per_unit": lambda: exclusive_product_reward(
        [(2026, YI)],
        reward_per_unit=2e5,  # type: ignore[arg-type]
    ),
    "exclusive_product_reward.already_rewarded_units": lambda: exclusive_product_reward(
        [(2026, YI)],
        already_rewarded_units=1.0,  # type: ignore[arg-type]
    ),
    **{
        f"risk_compensation.{name}": (
            lambda name=name: risk_compensation(**{**RISK_KW, name: float(RISK_KW[name])})
        )
        for name in RISK_KW
    },
    **{
        f"recovery_payback.{name}": (
            lambda name=name: recovery_payback(**{**PAYBACK_KW, name: float(PAYBACK_KW[name])})
        )
        for name in PAYBACK_KW
    },
    "lpr_on.table": lambda: lpr_on([(date(2024, 10, 21), 3.10, 3.60)], date(2025, 1, 1)),  # type: ignore[list-item]
    "rate_from_lpr.lpr": lambda: rate_from_lpr(3.10, 50),  # type: ignore[arg-type]
    "rate_from_lpr.spread_bp": lambda: rate_from_lpr(D("3.10"), 50.0),  # type: ignore[arg-type]
    "fmt_wan": lambda: fmt_wan(38965.28),  # type: ignore[arg-type]
    "fmt_yi": lambda: fmt_yi(1.01e8),  # type: ignore[arg-type]
    "fmt_yuan": lambda: fmt_yuan(77930.56),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("call", FLOAT_CALLS.values(), ids=FLOAT_CALLS.keys())
def test_a_float_anywhere_is_refused(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="float"):
        call()


def test_the_float_message_names_the_field_and_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"^principal: 不接受 float.*Decimal\('5000000\.0'\)"):
        quote_with(principal=5_000_000.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("principal", 5_000_000), ("annual_rate", "3.10"), ("months", True), ("basis", D("360"))],
)
def test_other_wrong_types_are_refused_too(field: str, value: Any) -> None:
    # amounts must be Decimal (not int or str); counts must be int (not bool or Decimal)
    with pytest.raises(TypeError, match=rf"^{field}: "):
        quote_with(**{field: value})
