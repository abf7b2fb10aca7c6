"""Property tests (hypothesis) for the domain's pure rules: USCC, subsidy arithmetic, money display."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from enterprises.uscc import ALPHABET, USCCError, is_valid, make_uscc, normalize, validate
from portal.money import wan_to_yuan, yuan_to_wan
from subsidies import calc

settings.register_profile("kejin", max_examples=200, deadline=None)
settings.load_profile("kejin")

bodies = st.text(alphabet=ALPHABET, min_size=9, max_size=9)
divisions = st.sampled_from(["140100", "140171", "140200", "140700", "141100", "110000", "350100"])


@given(body=bodies, division=divisions)
def test_every_minted_code_validates_and_survives_normalisation(body, division):
    code = make_uscc(division=division, body=body)
    assert validate(code).code == code
    assert validate(" " + code.lower() + " ").code == code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert normalize(full_width) == code


@given(body=bodies, position=st.integers(0, 17), replacement=st.sampled_from(ALPHABET))
def test_any_single_character_change_is_refused(body, position, replacement):
    code = make_uscc(body=body)
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid(changed)


@given(raw=st.text(max_size=30))
def test_arbitrary_input_is_either_valid_or_refused_with_a_named_rule(raw):
    try:
        result = validate(raw)
    except USCCError as error:
        assert error.code in {"length", "charset", "department", "division", "check"}
        assert error.message
    else:
        assert len(result.code) == 18


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000000"), places=2)
rates = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("24"), places=2)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(
    principal=money, rate=rates, start=starts, months=st.integers(1, 120), basis=st.sampled_from([360, 365])
)
def test_a_quote_never_pays_more_than_any_cap_and_always_adds_up(principal, rate, start, months, basis):
    q = calc.quote(
        principal=principal,
        annual_rate=rate,
        start=start,
        months=months,
        ratio=Decimal("0.5"),
        principal_cap_rate=Decimal("0.03"),
        firm_year_cap=Decimal("200000"),
        basis=basis,
    )
    assert q.days == (calc.add_months(start, months) - start).days > 0
    # the term split at each 1 January; every year within its own firm cap and within the 3%
    # principal cap as an annual rate pro rata to its days (each year rounded once to the fen)
    assert sum(y.days for y in q.years) == q.days
    assert [y.year for y in q.years] == list(range(start.year, start.year + len(q.years)))
    for y in q.years:
        assert Decimal("0") <= y.subsidy <= Decimal("200000")
        assert y.subsidy <= principal * Decimal("0.03") * y.days / basis + Decimal("0.005")
    assert q.subsidy == min(q.interest, sum(y.subsidy for y in q.years))
    assert q.subsidy <= Decimal("200000") * len(q.years)
    assert q.subsidy <= q.interest
    assert q.interest_after_subsidy == q.interest - q.subsidy
    for value in (q.interest, q.subsidy, q.interest_after_subsidy):
        assert isinstance(value, Decimal) and value == value.quantize(Decimal("0.01"))


@given(start=starts, months=st.integers(-240, 240))
def test_add_months_lands_in_the_right_month_on_the_same_or_last_day(start, months):
    end = calc.add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    assert end.day == start.day or (end.day < start.day and (end + timedelta(days=1)).day == 1)


@given(amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2))
def test_wan_input_round_trips_to_yuan(amount):
    assert yuan_to_wan(wan_to_yuan(amount)) == amount


@given(
    totals=st.lists(
        st.decimals(min_value=0, max_value=Decimal("2000000000"), places=2), min_size=1, max_size=8
    )
)
def test_the_reward_pays_each_whole_yi_once(totals):
    years = calc.exclusive_product_reward([(2020 + i, t) for i, t in enumerate(totals)])
    paid_units = sum(y.reward for y in years) / Decimal("200000")
    assert paid_units == max(int(t // Decimal("100000000")) for t in totals)
    assert all(y.reward >= 0 for y in years)
