"""科创积分 (enterprises/score.py): a worked example by hand, the tables, the advice and properties."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from enterprises.score import (
    FIGURES,
    INDICATORS,
    MORE_IS_BETTER,
    POINTS,
    Cohort,
    FirmFigures,
    advise,
    firm_parts,
    score_cohort,
    total_of,
)

WAN = Decimal("10000")


def firm(firm_id, stage="growth", **figures):
    """A firm with one financial year (2025); money in 万元 for readability."""
    year = {}
    for code, value in figures.items():
        year[code] = Decimal(value) * WAN if FIGURES[code][1] == "money" and value is not None else value
    return FirmFigures(firm_id, stage, {2025: year})


# Five 成长期 firms. Max points in the 成长期 column: 研发投入 8, 研发投入占营业收入比例 8,
# 发明专利申请数 7, 营业收入 7. Every other indicator is unreported by all five, so scores 0.
A = firm(1, revenue=1000, rd_spend=50, invention_applications=0)
B = firm(2, revenue=500, rd_spend=50, invention_applications=2)
C = firm(3, revenue=2000, rd_spend=100, invention_applications=1)
D = firm(4, revenue=800, rd_spend=0, invention_applications=2)
E = firm(5, revenue=None, rd_spend=20, invention_applications=5)
COHORT = [A, B, C, D, E]


def points(score, code):
    return next(p.points for p in score.parts if p.code == code)


def test_worked_example_by_hand():
    """points = max × (others below + ½ others level) ÷ 4, half up to 0.01; ≤ 0 or missing earns 0.

    研发投入 (万元) A 50, B 50, C 100, D 0, E 20:
      A: below D, E; level B → 2.5/4 × 8 = 5.00;  B: the same 5.00;  C: 4/4 × 8 = 8.00;
      D: 0 → 0;  E: below D → 1/4 × 8 = 2.00.
    研发投入占营业收入比例 A 5%, B 10%, C 5%, D 0%, E missing (no revenue):
      A: below D, E; level C → 5.00;  B: 8.00;  C: 5.00;  D: 0;  E: 0.
    发明专利申请数 A 0, B 2, C 1, D 2, E 5:
      A: 0;  B: below A, C; level D → 2.5/4 × 7 = 4.375 → 4.38;  C: below A → 1.75;  D: 4.38;  E: 7.00.
    营业收入 (万元) A 1000, B 500, C 2000, D 800, E missing:
      A: below B, D, E → 3/4 × 7 = 5.25;  B: below E → 1.75;  C: 7.00;  D: below B, E → 3.50;  E: 0.
    Totals: A 15.25, B 19.13, C 21.75, D 7.88, E 9.00.
    Percentiles (others below + ½ level, of 4): D 0, E 25, A 50, B 75, C 100.
    """
    scores = score_cohort(COHORT)
    expected = {
        1: ("5.00", "5.00", "0.00", "5.25", "15.25", 50),
        2: ("5.00", "8.00", "4.38", "1.75", "19.13", 75),
        3: ("8.00", "5.00", "1.75", "7.00", "21.75", 100),
        4: ("0.00", "0.00", "4.38", "3.50", "7.88", 0),
        5: ("2.00", "0.00", "7.00", "0.00", "9.00", 25),
    }
    for firm_id, (rd, intensity, patents, revenue, total, pct) in expected.items():
        score = scores[firm_id]
        assert points(score, "rd_spend") == Decimal(rd), firm_id
        assert points(score, "rd_intensity") == Decimal(intensity), firm_id
        assert points(score, "invention_applications") == Decimal(patents), firm_id
        assert points(score, "revenue") == Decimal(revenue), firm_id
        assert score.total == Decimal(total), firm_id
        assert score.percentile == pct, firm_id
        assert score.group == "growth"


def test_each_part_carries_its_reason_in_chinese():
    score = score_cohort(COHORT)[1]
    reasons = {p.code: p.reason for p in score.parts}
    assert reasons["rd_spend"] == "研发投入 50.00万元，高于同阶段（成长期）其他 4 家企业中的 2 家"
    assert reasons["invention_applications"] == "发明专利申请数为 0，不计分"
    assert reasons["rd_growth"] == "研发投入增长率：缺少上一年度数据，暂不计分"
    assert reasons["pct_applications"] == "PCT 专利申请数：未填报，不计分"


def test_young_firms_compete_with_young_firms():
    """A seed-stage firm is ranked only against 种子期/初创期 firms, on that column's points."""
    young = firm(10, stage="seed", rd_spend=5)
    old = firm(11, stage="mature", rd_spend=500)
    scores = score_cohort([young, old])
    assert scores[10].group == "early" and scores[11].group == "mature"
    # alone in its group: full points for any positive value (种子期/初创期 研发投入 8, 成熟期 8)
    assert points(scores[10], "rd_spend") == Decimal("8.00")
    assert scores[10].percentile == 100


def test_the_points_table_gives_each_stage_100():
    for column in range(3):
        assert sum(row[column] for row in POINTS.values()) == 100
    assert set(POINTS) == {i.code for i in INDICATORS}


def test_advice_names_the_biggest_gains_and_applying_it_raises_the_score_by_that():
    """A reports no 高新技术产品收入, 加计扣除 or 技术合同 — nobody does, so a first positive figure earns
    the full points (8, 8, 6 in the 成长期 column). Applied, each item raises A's total by its gain."""
    cohort = Cohort(COHORT)
    score = score_cohort(COHORT)[1]
    assert [a.figure for a in score.advice] == [
        "hitech_revenue",
        "rd_super_deduction",
        "tech_contract_turnover",
    ]
    assert [a.points_gain for a in score.advice] == [Decimal("8.00"), Decimal("8.00"), Decimal("6.00")]
    assert score.advice[0].text == "高新技术产品（服务）收入达到 1.00万元可提高约 8.0 分"
    for item in score.advice:
        applied = total_of(firm_parts(A.with_figure(item.figure, item.target), cohort))
        assert abs(applied - (score.total + item.points_gain)) <= 1


def test_advice_passes_the_next_firm_above():
    """A's 研发投入 is level with B's 50万元: at 51万元 it passes B on 研发投入 (3/4 × 8 = 6.00, +1.00) and
    C on the R&D share (5.1% > 5%: 6.00, +1.00), so the item promises 2 points."""
    items = {item.figure: item for item in advise(A, Cohort(COHORT), limit=len(FIGURES))}
    assert items["rd_spend"].target == Decimal("51") * WAN
    assert items["rd_spend"].points_gain == Decimal("2.00")
    assert items["rd_spend"].text == "研发投入达到 51.00万元可提高约 2.0 分"
    # 发明专利 0 → passing the lowest scoring firm (C's 1) takes 2: level with B and D, above C,
    # (1 + 1) / 4 × 7 = 3.50
    assert items["invention_applications"].target == 2
    assert items["invention_applications"].points_gain == Decimal("3.50")


# --- properties ----------------------------------------------------------------------------------

money = st.one_of(st.none(), st.integers(min_value=-50, max_value=5000).map(lambda w: Decimal(w) * WAN))
count = st.one_of(st.none(), st.integers(min_value=0, max_value=60))


@st.composite
def firm_figures(draw, firm_id):
    def year():
        return {code: draw(money if kind == "money" else count) for code, (_label, kind) in FIGURES.items()}

    years = {2025: year()}
    if draw(st.booleans()):
        years[2024] = year()
    return FirmFigures(firm_id, draw(st.sampled_from(["seed", "startup", "growth", "mature"])), years)


@st.composite
def cohorts(draw):
    size = draw(st.integers(min_value=1, max_value=7))
    return [draw(firm_figures(i + 1)) for i in range(size)]


@settings(max_examples=150, deadline=None)
@given(cohorts())
def test_parts_add_up_to_the_total_within_0_to_100(firms):
    for score in score_cohort(firms, with_advice=False).values():
        assert sum(p.points for p in score.parts) == score.total
        assert Decimal(0) <= score.total <= Decimal(100)
        assert all(Decimal(0) <= p.points <= p.max_points for p in score.parts)
        assert 0 <= score.percentile <= 100


@settings(max_examples=150, deadline=None)
@given(cohorts(), st.sampled_from(sorted(MORE_IS_BETTER)), st.integers(min_value=1, max_value=500))
def test_raising_a_more_is_better_figure_never_lowers_the_firms_own_total(firms, code, step):
    cohort = Cohort(firms)
    subject = firms[0]
    before = total_of(firm_parts(subject, cohort))
    current = subject.figure(code) or Decimal(0)
    increment = Decimal(step) * (WAN if FIGURES[code][1] == "money" else 1)
    after = total_of(firm_parts(subject.with_figure(code, current + increment), cohort))
    assert after >= before


@settings(max_examples=80, deadline=None)
@given(cohorts())
def test_the_first_advice_applied_raises_the_score_by_what_it_promised(firms):
    scores = score_cohort(firms)
    cohort_by_group = {}
    for f in firms:
        cohort_by_group.setdefault(f.group, []).append(f)
    for f in firms:
        score = scores[f.id]
        if not score.advice:
            continue
        item = score.advice[0]
        cohort = Cohort(cohort_by_group[f.group])
        applied = total_of(firm_parts(f.with_figure(item.figure, item.target), cohort))
        assert item.points_gain > 0
        assert abs(applied - score.total - item.points_gain) <= 1
