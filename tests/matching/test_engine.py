"""Tests for the pure matching engine (matching/engine.py): no database, no Django.

The core is one table of hand-made (firm, product, need, day) cases, each with the expected verdict
per criterion (which criteria appear, in order, and whether each is met), the expected score range,
near-miss status and fragments the reasons must contain. Focused tests follow for the properties a
table cannot express (no floats in the output, type checks, determinism, score arithmetic).
"""

from __future__ import annotations

import decimal
import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import pytest

from matching.engine import (
    CRITERIA,
    GUARANTEE_TYPES,
    INDUSTRIES,
    NEAR_MISS_MAX_FAILED,
    PRODUCT_TYPES,
    QUALIFICATIONS,
    SCORE_FACTORS,
    STAGES,
    WEIGHTS,
    Evaluation,
    FirmFacts,
    NeedFacts,
    ProductFacts,
    QualificationFact,
    advice,
    evaluate,
    fmt_wan,
)

TODAY = date(2025, 6, 30)
CITY_NAMES = {"140100": "太原市", "140200": "大同市", "140700": "晋中市", "140171": "山西转型综合改革示范区"}


def wan(n: str) -> Decimal:
    """万元 → yuan."""
    return Decimal(n) * 10000


def qual(code: str, issued: date, expires: date | None, official: bool = True) -> QualificationFact:
    return QualificationFact(code=code, issued_on=issued, expires_on=expires, official=official)


HITECH = qual("hitech", date(2023, 7, 1), date(2026, 6, 30))

FIRM = FirmFacts(
    city="140100",
    city_parent=None,
    industry="new_materials",
    stage="growth",
    founded_on=date(2015, 4, 1),
    employees=120,
    rd_staff=30,
    revenue=wan("2000"),
    rd_spend=wan("150"),
    export_business=False,
    invention_patents=3,
    ip_assets=12,
    qualifications=(HITECH,),
)

# A plain credit product: no restrictions beyond its ranges (浦新贷's demo values).
PRODUCT = ProductFacts(
    product_type="credit",
    amount_min=wan("50"),
    amount_max=wan("3000"),
    term_min=6,
    term_max=36,
    rate_min=Decimal("3.00"),
    rate_max=Decimal("6.00"),
    guarantee_types=frozenset({"credit", "ip_pledge"}),
)

NEED = NeedFacts(
    amount=wan("800"),
    term_months=24,
    guarantee_types=frozenset({"credit"}),
    max_annual_rate=Decimal("4.50"),
)

NEED_CODES = ("city", "amount", "term", "guarantee", "rate")


@dataclass(frozen=True)
class Case:
    id: str
    verdicts: dict[str, bool]  # the exact criteria expected, in order, with met/not met
    score: tuple[int, int] = (0, 100)  # inclusive range
    near_miss: bool = False
    firm: FirmFacts = FIRM
    product: ProductFacts = PRODUCT
    need: NeedFacts | None = NEED
    on: date = TODAY
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)  # code → fragments
    advice: tuple[str, ...] = ()  # fragments expected in advice()


def met(*codes: str, **overrides: bool) -> dict[str, bool]:
    """Verdicts: every code met unless overridden (``code=False``), in the given order."""
    return {code: overrides.get(code, True) for code in codes}


CASES = [
    Case(
        "baseline all met",
        met(*NEED_CODES),
        score=(70, 95),
        reasons={
            "city": ("产品面向全省企业",),
            "amount": ("800.00万元", "50.00万元", "3,000.00万元"),
            "term": ("24 个月", "6–36 个月"),
            "guarantee": ("信用",),
            "rate": ("3.00%", "4.50%"),
        },
    ),
    Case(
        "zone firm against a product for its parent city",
        met(*NEED_CODES),
        firm=replace(FIRM, city="140171", city_parent="140100"),
        product=replace(PRODUCT, cities=frozenset({"140100"})),
        reasons={"city": ("山西转型综合改革示范区", "太原市")},
    ),
    Case(
        "firm outside the product's cities",
        met(*NEED_CODES, city=False),
        near_miss=True,
        firm=replace(FIRM, city="140200"),
        product=replace(PRODUCT, cities=frozenset({"140100", "140700"})),
        reasons={"city": ("大同市", "太原市、晋中市")},
        advice=("太原市、晋中市",),
    ),
    Case(
        "industry and stage restricted, both met",
        met("city", "industry", "stage", "amount", "term", "guarantee", "rate"),
        product=replace(
            PRODUCT,
            industries=frozenset({"new_materials", "biotech"}),
            stages=frozenset({"growth", "mature"}),
        ),
        reasons={"industry": ("新材料产业",), "stage": ("成长期",)},
    ),
    Case(
        "industry and stage restricted, both missed",
        met("city", "industry", "stage", "amount", "term", "guarantee", "rate", industry=False, stage=False),
        near_miss=True,
        firm=replace(FIRM, industry="other", stage="seed"),
        product=replace(
            PRODUCT,
            industries=frozenset({"biotech", "next_gen_it"}),
            stages=frozenset({"mature", "growth"}),
        ),
        # display order, not set order
        reasons={"industry": ("其他", "新一代信息技术产业、生物产业"), "stage": ("种子期", "成长期、成熟期")},
    ),
    Case(
        "hitech certificate expiring today still counts",
        met("city", "qualification", "amount", "term", "guarantee", "rate"),
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"})),
        on=date(2026, 6, 30),
        reasons={"qualification": ("高新技术企业", "2026-06-30")},
    ),
    Case(
        "hitech certificate expired yesterday does not count",
        met("city", "qualification", "amount", "term", "guarantee", "rate", qualification=False),
        near_miss=True,
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"})),
        on=date(2026, 7, 1),
        reasons={"qualification": ("高新技术企业证书已于 2026-06-30 到期",)},
        advice=("需重新取得高新技术企业认定", "2026-06-30"),
    ),
    Case(
        "hitech required but never held",
        met("city", "qualification", "amount", "term", "guarantee", "rate", qualification=False),
        near_miss=True,
        firm=replace(FIRM, qualifications=()),
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"})),
        reasons={"qualification": ("需取得高新技术企业认定",)},
        advice=("需取得高新技术企业认定",),
    ),
    Case(
        "qualification not yet issued on the day",
        met("city", "qualification", "amount", "term", "guarantee", "rate", qualification=False),
        near_miss=True,
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"})),
        on=date(2023, 6, 30),
        reasons={"qualification": ("2023-07-01", "尚未生效")},
    ),
    Case(
        "小巨人 satisfies a 专精特新中小企业 requirement",
        met("city", "qualification", "amount", "term", "guarantee", "rate"),
        firm=replace(FIRM, qualifications=(qual("srdi_giant", date(2024, 1, 1), date(2027, 1, 1)),)),
        product=replace(PRODUCT, required_qualifications=frozenset({"srdi_sme"})),
        reasons={"qualification": ('专精特新"小巨人"', "专精特新中小企业")},
    ),
    Case(
        "创新型中小企业 does not satisfy a 专精特新中小企业 requirement",
        met("city", "qualification", "amount", "term", "guarantee", "rate", qualification=False),
        near_miss=True,
        firm=replace(FIRM, qualifications=(qual("srdi_innovative", date(2024, 1, 1), None),)),
        product=replace(PRODUCT, required_qualifications=frozenset({"srdi_sme"})),
        reasons={"qualification": ("需取得专精特新中小企业认定",)},
    ),
    Case(
        "all required qualifications must be held; the reason names the missing one",
        met("city", "qualification", "amount", "term", "guarantee", "rate", qualification=False),
        near_miss=True,
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech", "tech_sme"})),
        reasons={"qualification": ("需取得科技型中小企业认定",)},
    ),
    Case(
        "founded 29 Feb 2020, checked 27 Feb 2023: 2 full years",
        met("city", "years", "amount", "term", "guarantee", "rate", years=False),
        near_miss=True,
        firm=replace(FIRM, founded_on=date(2020, 2, 29)),
        product=replace(PRODUCT, min_years=3),
        on=date(2023, 2, 27),
        reasons={"years": ("满 2 年", "2020-02-29", "需成立满 3 年")},
        advice=("2023-02-28",),
    ),
    Case(
        "founded 29 Feb 2020, checked 28 Feb 2023: 3 full years (民法典 第二百零二条)",
        met("city", "years", "amount", "term", "guarantee", "rate"),
        firm=replace(FIRM, founded_on=date(2020, 2, 29)),
        product=replace(PRODUCT, min_years=3),
        on=date(2023, 2, 28),
        reasons={"years": ("满 3 年",)},
    ),
    Case(
        "min_revenue met, reason with both figures",
        met("city", "revenue", "amount", "term", "guarantee", "rate"),
        product=replace(PRODUCT, min_revenue=wan("500")),
        reasons={"revenue": ("2,000.00万元", "500.00万元")},
    ),
    Case(
        "min_revenue missed",
        met("city", "revenue", "amount", "term", "guarantee", "rate", revenue=False),
        near_miss=True,
        firm=replace(FIRM, revenue=wan("300")),
        product=replace(PRODUCT, min_revenue=wan("500")),
        reasons={"revenue": ("300.00万元", "需不低于 500.00万元")},
        advice=("200.00万元",),
    ),
    Case(
        "export required, firm exports",
        met("city", "export", "amount", "term", "guarantee", "rate"),
        firm=replace(FIRM, export_business=True),
        product=replace(PRODUCT, product_type="export", export_required=True),
    ),
    Case(
        "invention patents short by one",
        met("city", "invention_patents", "amount", "term", "guarantee", "rate", invention_patents=False),
        near_miss=True,
        firm=replace(FIRM, invention_patents=1),
        product=replace(PRODUCT, min_invention_patents=2),
        reasons={"invention_patents": ("发明专利 1 件，需不少于 2 件",)},
        advice=("发明专利还需 1 件",),
    ),
    Case(
        "invention patents enough",
        met("city", "invention_patents", "amount", "term", "guarantee", "rate"),
        product=replace(PRODUCT, min_invention_patents=2),
        reasons={"invention_patents": ("发明专利 3 件，满足不少于 2 件的要求",)},
    ),
    Case(
        "amount exactly at the product minimum",
        met(*NEED_CODES),
        need=replace(NEED, amount=wan("50")),
    ),
    Case(
        "amount exactly at the product maximum",
        met(*NEED_CODES),
        need=replace(NEED, amount=wan("3000")),
        reasons={"amount": ("3,000.00万元",)},
    ),
    Case(
        "amount one fen below the minimum",
        met(*NEED_CODES, amount=False),
        near_miss=True,
        need=replace(NEED, amount=wan("50") - Decimal("0.01")),
        reasons={"amount": ("低于产品最低额度 50.00万元",)},
    ),
    Case(
        "amount one fen above the maximum",
        met(*NEED_CODES, amount=False),
        near_miss=True,
        need=replace(NEED, amount=wan("3000") + Decimal("0.01")),
        reasons={"amount": ("超过产品最高额度 3,000.00万元",)},
    ),
    Case("term exactly at the product minimum", met(*NEED_CODES), need=replace(NEED, term_months=6)),
    Case("term exactly at the product maximum", met(*NEED_CODES), need=replace(NEED, term_months=36)),
    Case(
        "term beyond the product maximum",
        met(*NEED_CODES, term=False),
        near_miss=True,
        need=replace(NEED, term_months=48),
        reasons={"term": ("48 个月", "36 个月")},
    ),
    Case(
        "revenue share exactly at the cap",
        met("city", "amount", "term", "revenue_share", "guarantee", "rate"),
        product=replace(PRODUCT, max_amount_revenue_ratio=Decimal("0.50")),
        need=replace(NEED, amount=wan("1000")),
        reasons={"revenue_share": ("1,000.00万元", "50%", "2,000.00万元")},
    ),
    Case(
        "revenue share over the cap",
        met("city", "amount", "term", "revenue_share", "guarantee", "rate", revenue_share=False),
        near_miss=True,
        product=replace(PRODUCT, max_amount_revenue_ratio=Decimal("0.30")),
        reasons={"revenue_share": ("800.00万元", "30%", "600.00万元")},
        advice=("600.00万元",),
    ),
    Case(
        "no common guarantee type: the reason names what the product accepts",
        met(*NEED_CODES, guarantee=False),
        near_miss=True,
        need=replace(NEED, guarantee_types=frozenset({"collateral"})),
        reasons={"guarantee": ("信用、知识产权质押", "抵押")},
    ),
    Case(
        "rate ceiling below the product's floor",
        met(*NEED_CODES, rate=False),
        near_miss=True,
        need=replace(NEED, max_annual_rate=Decimal("2.80")),
        reasons={"rate": ("3.00%", "2.80%")},
    ),
    Case(
        "no rate criterion when the need states no ceiling",
        met("city", "amount", "term", "guarantee"),
        need=replace(NEED, max_annual_rate=None),
    ),
    Case(
        "no rate criterion for an equity product without rates",
        met("city", "stage", "amount", "term", "guarantee"),
        firm=replace(FIRM, stage="seed"),
        product=replace(
            PRODUCT,
            product_type="equity_linked",
            rate_min=None,
            rate_max=None,
            stages=frozenset({"seed", "startup"}),
        ),
    ),
    Case(
        "need=None evaluates only firm-level criteria",
        met("city", "qualification", "invention_patents"),
        need=None,
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"}), min_invention_patents=1),
    ),
    Case(
        "near miss with exactly two failures",
        met(
            "city",
            "qualification",
            "invention_patents",
            "amount",
            "term",
            "guarantee",
            "rate",
            qualification=False,
            invention_patents=False,
        ),
        near_miss=True,
        firm=replace(FIRM, qualifications=(), invention_patents=0),
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"}), min_invention_patents=2),
        advice=("需取得高新技术企业认定", "发明专利还需 2 件"),
    ),
    Case(
        "three failures is not a near miss",
        met(
            "city",
            "qualification",
            "invention_patents",
            "amount",
            "term",
            "guarantee",
            "rate",
            qualification=False,
            invention_patents=False,
            amount=False,
        ),
        near_miss=False,
        firm=replace(FIRM, qualifications=(), invention_patents=0),
        product=replace(PRODUCT, required_qualifications=frozenset({"hitech"}), min_invention_patents=2),
        need=replace(NEED, amount=wan("10")),
    ),
    Case(
        "zero revenue and no IP still scores within range",
        met(*NEED_CODES),
        score=(0, 60),
        firm=replace(
            FIRM, revenue=Decimal(0), rd_spend=wan("10"), invention_patents=0, ip_assets=0, qualifications=()
        ),
    ),
    Case(
        "huge patents and R&D cap at full points",
        met(*NEED_CODES),
        score=(80, 100),
        firm=replace(FIRM, invention_patents=10**9, ip_assets=10**9, rd_spend=wan("100000")),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_table_case_gets_its_verdicts_score_and_reasons(case: Case) -> None:
    ev = evaluate(case.firm, case.product, case.need, on=case.on, city_names=CITY_NAMES)

    assert {c.code: c.met for c in ev.criteria} == case.verdicts
    assert [c.code for c in ev.criteria] == list(case.verdicts)  # order too
    assert ev.eligible == all(case.verdicts.values())
    assert ev.near_miss == case.near_miss
    lo, hi = case.score
    assert lo <= ev.score <= hi
    by_code = {c.code: c for c in ev.criteria}
    for code, fragments in case.reasons.items():
        for fragment in fragments:
            assert fragment in by_code[code].reason, (code, fragment, by_code[code].reason)
    tips = "\n".join(advice(ev))
    for fragment in case.advice:
        assert fragment in tips, (fragment, tips)
    for c in ev.criteria:
        assert c.label == CRITERIA[c.code]
        assert c.reason


def test_criteria_follow_the_documented_order_when_all_are_present() -> None:
    product = replace(
        PRODUCT,
        cities=frozenset({"140100"}),
        industries=frozenset({"new_materials"}),
        stages=frozenset({"growth"}),
        required_qualifications=frozenset({"hitech"}),
        min_revenue=wan("100"),
        min_invention_patents=1,
        min_years=1,
        export_required=True,
        max_amount_revenue_ratio=Decimal("0.5"),
        min_innovation_score=Decimal(60),
    )
    ev = evaluate(replace(FIRM, innovation_score=Decimal("72.5")), product, NEED, on=TODAY)
    assert [c.code for c in ev.criteria] == list(CRITERIA)


def test_years_count_29_february_anniversaries_in_leap_and_common_years() -> None:
    firm = replace(FIRM, founded_on=date(2020, 2, 29))
    product = replace(PRODUCT, min_years=4)

    def years_met(on: date) -> bool:
        return evaluate(firm, product, on=on).criteria[1].met

    assert not years_met(date(2024, 2, 28))  # leap year: the anniversary is 29 February
    assert years_met(date(2024, 2, 29))
    product = replace(PRODUCT, min_years=1)
    assert not years_met(date(2021, 2, 27))
    assert years_met(date(2021, 2, 28))


def test_a_firm_founded_after_the_day_has_zero_years() -> None:
    firm = replace(FIRM, founded_on=date(2026, 1, 1))
    ev = evaluate(firm, replace(PRODUCT, min_years=1), on=TODAY)
    assert not ev.criteria[1].met
    assert "满 0 年" in ev.criteria[1].reason


def test_need_none_scores_need_factors_at_half_points() -> None:
    ev = evaluate(FIRM, PRODUCT, None, on=TODAY)
    assert not {"amount", "term", "revenue_share", "guarantee", "rate"} & {c.code for c in ev.criteria}
    parts = {p.code: p for p in ev.score_parts}
    assert parts["amount_fit"].points == WEIGHTS["amount_fit"] // 2
    # 7.5 of 15: the apportionment gives 7 or 8 depending on the other remainders
    assert parts["rate_headroom"].points in (7, 8)
    assert "中性" in parts["amount_fit"].reason and "中性" in parts["rate_headroom"].reason


def _walk(value: object) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str
            _walk(v)
    elif isinstance(value, list):
        for v in value:
            _walk(v)
    else:
        assert type(value) in (str, int, bool), (type(value), value)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_as_dict_holds_no_float_decimal_or_date(case: Case) -> None:
    data = evaluate(case.firm, case.product, case.need, on=case.on).as_dict()
    assert set(data) == {"eligible", "near_miss", "score", "criteria", "score_parts"}
    _walk(data)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    for c in data["criteria"]:
        assert set(c) == {"code", "label", "met", "reason"}
    for p in data["score_parts"]:
        assert set(p) == {"code", "label", "points", "max_points", "reason"}


@pytest.mark.parametrize(
    ("firm", "product", "need"),
    [
        (FIRM, PRODUCT, replace(NEED, amount=8000000.0)),
        (FIRM, PRODUCT, replace(NEED, amount=8000000)),
        (FIRM, PRODUCT, replace(NEED, max_annual_rate=4.5)),
        (replace(FIRM, revenue=2.0e7), PRODUCT, NEED),
        (replace(FIRM, rd_spend=1.5e6), PRODUCT, None),
        (FIRM, replace(PRODUCT, amount_min=500000.0), NEED),
        (FIRM, replace(PRODUCT, rate_min=3.0), NEED),
        (FIRM, replace(PRODUCT, min_revenue=1e6), None),
        (FIRM, replace(PRODUCT, max_amount_revenue_ratio=0.5), NEED),
        (replace(FIRM, innovation_score=72.5), PRODUCT, NEED),
        (FIRM, replace(PRODUCT, min_innovation_score=60), None),
    ],
    ids=[
        "float amount",
        "int amount",
        "float rate",
        "float revenue",
        "float rd_spend",
        "float amount_min",
        "float rate_min",
        "float min_revenue",
        "float ratio",
        "float innovation score",
        "int min innovation score",
    ],
)
def test_non_decimal_money_or_rate_raises_type_error(firm: FirmFacts, product: ProductFacts, need) -> None:
    with pytest.raises(TypeError):
        evaluate(firm, product, need, on=TODAY)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_score_parts_add_up_and_stay_within_their_maximum(case: Case) -> None:
    ev = evaluate(case.firm, case.product, case.need, on=case.on)
    assert 0 <= ev.score <= 100
    assert sum(p.points for p in ev.score_parts) == ev.score
    assert [p.code for p in ev.score_parts] == list(SCORE_FACTORS)
    for p in ev.score_parts:
        assert 0 <= p.points <= p.max_points == WEIGHTS[p.code]
        assert p.label == SCORE_FACTORS[p.code]
        assert p.reason


def test_weights_sum_to_100() -> None:
    assert sum(WEIGHTS.values()) == 100
    assert list(WEIGHTS) == list(SCORE_FACTORS)


def test_the_best_possible_firm_scores_100_and_the_weakest_scores_low() -> None:
    best_firm = replace(
        FIRM,
        rd_spend=wan("400"),
        invention_patents=5,
        qualifications=(HITECH, qual("srdi_giant", date(2024, 1, 1), None)),
    )
    need = replace(NEED, amount=wan("1500"), max_annual_rate=Decimal("5.00"))
    assert evaluate(best_firm, PRODUCT, need, on=TODAY).score == 100

    weakest = replace(
        FIRM,
        stage="seed",
        revenue=Decimal(0),
        rd_spend=Decimal(0),
        invention_patents=0,
        ip_assets=0,
        qualifications=(),
    )
    ev = evaluate(weakest, PRODUCT, replace(NEED, amount=wan("1"), max_annual_rate=Decimal("1")), on=TODAY)
    assert ev.score == 3  # only stage fit: a seed firm gets a quarter of 10 points for a loan


def test_extreme_inputs_keep_the_score_in_range() -> None:
    huge = replace(
        FIRM,
        revenue=Decimal("1E+20"),
        rd_spend=Decimal("1E+30"),
        invention_patents=10**12,
        ip_assets=0,  # inconsistent on purpose: fewer IP assets than invention patents
        qualifications=tuple(qual(code, date(2000, 1, 1), None) for code in QUALIFICATIONS),
    )
    need = replace(NEED, amount=wan("1500"), max_annual_rate=Decimal("99"))
    ev = evaluate(huge, PRODUCT, need, on=TODAY)
    assert ev.score == 100
    negative = replace(FIRM, revenue=Decimal(-5), rd_spend=Decimal(-5), invention_patents=-1, ip_assets=-1)
    ev = evaluate(negative, PRODUCT, None, on=TODAY)
    assert 0 <= ev.score <= 100


def test_official_qualifications_score_above_self_declared() -> None:
    official = replace(FIRM, qualifications=(HITECH,))
    declared = replace(FIRM, qualifications=(replace(HITECH, official=False),))

    def qual_points(firm: FirmFacts) -> int:
        ev = evaluate(firm, PRODUCT, NEED, on=TODAY)
        return next(p.points for p in ev.score_parts if p.code == "qualification_strength")

    assert qual_points(official) > qual_points(declared) > 0
    giant = replace(FIRM, qualifications=(qual("srdi_giant", date(2024, 1, 1), None),))
    innovative = replace(FIRM, qualifications=(qual("srdi_innovative", date(2024, 1, 1), None),))
    assert qual_points(giant) > qual_points(innovative)


def test_amount_in_the_middle_of_the_range_fits_better_than_at_an_edge() -> None:
    def amount_points(amount: Decimal) -> int:
        ev = evaluate(FIRM, PRODUCT, replace(NEED, amount=amount), on=TODAY)
        return next(p.points for p in ev.score_parts if p.code == "amount_fit")

    middle, floor, ceiling = amount_points(wan("1500")), amount_points(wan("50")), amount_points(wan("3000"))
    assert middle == WEIGHTS["amount_fit"]
    assert floor == ceiling == WEIGHTS["amount_fit"] // 2
    assert amount_points(wan("5000")) == 0


def test_stage_fit_prefers_mature_firms_for_loans_and_seed_firms_for_equity() -> None:
    equity = replace(PRODUCT, product_type="equity_linked", rate_min=None, rate_max=None)

    def stage_points(stage: str, product: ProductFacts) -> int:
        ev = evaluate(replace(FIRM, stage=stage), product, None, on=TODAY)
        return next(p.points for p in ev.score_parts if p.code == "stage_fit")

    assert stage_points("mature", PRODUCT) > stage_points("seed", PRODUCT)
    assert stage_points("seed", equity) > stage_points("mature", equity)


def test_evaluation_is_deterministic_and_ignores_the_callers_decimal_context() -> None:
    product = replace(PRODUCT, max_amount_revenue_ratio=Decimal("0.333"))
    need = replace(NEED, amount=wan("666.66"))
    first = evaluate(FIRM, product, need, on=TODAY).as_dict()
    assert evaluate(FIRM, product, need, on=TODAY).as_dict() == first
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = decimal.ROUND_DOWN
        assert evaluate(FIRM, product, need, on=TODAY).as_dict() == first


def test_advice_is_empty_unless_a_near_miss() -> None:
    assert advice(evaluate(FIRM, PRODUCT, NEED, on=TODAY)) == []
    three = evaluate(
        replace(FIRM, city="140200", export_business=False, invention_patents=0),
        replace(PRODUCT, cities=frozenset({"140100"}), export_required=True, min_invention_patents=1),
        NEED,
        on=TODAY,
    )
    assert len(three.failed) == NEAR_MISS_MAX_FAILED + 1
    assert not three.near_miss
    assert advice(three) == []


def test_failed_lists_the_unmet_criteria_in_order() -> None:
    ev: Evaluation = evaluate(
        replace(FIRM, invention_patents=0),
        replace(PRODUCT, min_invention_patents=1),
        replace(NEED, term_months=1),
        on=TODAY,
    )
    assert [c.code for c in ev.failed] == ["invention_patents", "term"]
    assert ev.near_miss and not ev.eligible


def test_city_codes_are_shown_without_city_names() -> None:
    ev = evaluate(
        replace(FIRM, city="140200"), replace(PRODUCT, cities=frozenset({"140100"})), None, on=TODAY
    )
    assert "140200" in ev.criteria[0].reason and "140100" in ev.criteria[0].reason


@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        ("5000000", "500.00万元"),
        ("30000000", "3,000.00万元"),
        ("50", "0.01万元"),  # 0.005万元 rounds half up
        ("49.99", "0.00万元"),
        ("0", "0.00万元"),
        ("-0.01", "0.00万元"),
        ("123456789.12", "12,345.68万元"),
        ("1E+8", "10,000.00万元"),
    ],
)
def test_fmt_wan_shows_wan_yuan_with_two_decimals(yuan: str, text: str) -> None:
    assert fmt_wan(Decimal(yuan)) == text


def test_choice_dicts_are_in_display_order() -> None:
    assert list(INDUSTRIES) == [
        "next_gen_it",
        "high_end_equipment",
        "new_materials",
        "biotech",
        "nev",
        "new_energy",
        "energy_saving",
        "digital_creative",
        "related_services",
        "other",
    ]
    assert list(STAGES) == ["seed", "startup", "growth", "mature"]
    assert list(GUARANTEE_TYPES) == ["credit", "ip_pledge", "order", "receivable", "collateral", "guarantee"]
    assert list(QUALIFICATIONS) == ["hitech", "tech_sme", "srdi_innovative", "srdi_sme", "srdi_giant"]
    assert list(PRODUCT_TYPES) == [
        "credit",
        "ip_pledge",
        "order_financing",
        "talent",
        "export",
        "equity_linked",
        "insurance",
    ]
    assert INDUSTRIES["new_materials"] == "新材料产业" and PRODUCT_TYPES["equity_linked"] == "投贷联动/股权"


def test_the_engine_imports_nothing_from_django() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, matching.engine; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
