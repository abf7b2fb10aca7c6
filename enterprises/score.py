"""科创积分: a firm's innovation score after the national 企业创新积分制 — pure functions.

Nothing here reads the database: the caller hands in the cohort (every firm of one stage group with
its annual figures) and gets back, for each firm, the parts, the total and the advice. Like the
matching engine, the rules are tables that a reader can check against the method:

- ``INDICATORS``: the sixteen indicators in three classes (技术创新, 成长经营, 辅助), each with the
  annual figure that drives it and how its value is derived from the figures.
- ``POINTS``: the maximum points of each indicator for each stage group (a young firm's score leans
  on innovation, a mature firm's on growth and operations). Each column adds up to 100.

How an indicator is scored. A firm's indicator value is ranked among the other firms of its stage
group: ``points = max_points × (firms below + ½ × firms level) ÷ (cohort size − 1)``, rounded half up
to 0.01. A value that is missing, zero or negative earns nothing (no R&D, no points), and a firm alone
in its group earns the full points for any positive value. The total is the sum of the parts, so
the parts add up to the total exactly; it lies within 0–100.

Advice. For each indicator the firm could climb, the figure that drives it is raised to the value
that passes the next firm above (rounded up to a whole 万元 for money, a whole unit for counts), the
whole score is recomputed with the cohort fixed, and the gain is what the firm's total would rise by.
The two or three largest gains, one per figure, are the advice.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from portal.money import format_count, format_percent, format_wan

ZERO = Decimal("0")
CENT = Decimal("0.01")
WAN = Decimal("10000")

#: The stage groups a firm competes in (``Enterprise.stage`` → group).
STAGE_GROUPS: dict[str, str] = {"seed": "early", "startup": "early", "growth": "growth", "mature": "mature"}
STAGE_GROUP_LABELS: dict[str, str] = {"early": "种子期/初创期", "growth": "成长期", "mature": "成熟期"}

CLASSES: dict[str, str] = {"tech": "技术创新", "growth": "成长经营", "aux": "辅助"}

#: The annual figures a firm records per financial year: code → (label, kind). ``money`` is yuan,
#: ``people`` and ``count`` whole numbers (persons, items). ``qualifications_held`` is not annual: it is the firm's valid
#: qualifications on the day of scoring, handed in with the latest year.
FIGURES: dict[str, tuple[str, str]] = {
    "revenue": ("营业收入", "money"),
    "rd_spend": ("研发投入", "money"),
    "hitech_revenue": ("高新技术产品（服务）收入", "money"),
    "net_profit": ("净利润", "money"),
    "net_assets": ("净资产", "money"),
    "employees": ("职工人数", "people"),
    "st_staff": ("科技人员", "people"),
    "master_staff": ("硕士及以上学历人员", "people"),
    "rd_super_deduction": ("研发费用加计扣除额", "money"),
    "tech_contract_turnover": ("技术合同成交额", "money"),
    "invention_applications": ("发明专利申请数", "count"),
    "invention_grants": ("发明专利授权数", "count"),
    "pct_applications": ("PCT 专利申请数", "count"),
    "rd_platforms": ("省级及以上研发平台", "count"),
    "st_awards": ("省级及以上科技奖励", "count"),
    "qualifications_held": ("有效资质", "count"),
}

#: The latest year's figures that only ever help: raising one never lowers any indicator
#: (revenue, employees and net assets are also denominators of a share, so they are not here).
MORE_IS_BETTER: frozenset[str] = frozenset(
    {
        "rd_spend",
        "hitech_revenue",
        "net_profit",
        "st_staff",
        "master_staff",
        "rd_super_deduction",
        "tech_contract_turnover",
        "invention_applications",
        "pct_applications",
        "rd_platforms",
        "st_awards",
        "qualifications_held",
    }
)


@dataclass(frozen=True)
class FirmFigures:
    """One firm of a cohort: its id, stage and figures by financial year (year → code → value)."""

    id: int
    stage: str
    years: Mapping[int, Mapping[str, Decimal | int | None]]

    @property
    def group(self) -> str:
        return STAGE_GROUPS.get(self.stage, "early")

    def latest_year(self) -> int | None:
        return max(self.years) if self.years else None

    def figure(self, code: str, year_offset: int = 0) -> Decimal | None:
        """The figure in the latest year (offset 0) or the year before it (offset −1)."""
        latest = self.latest_year()
        if latest is None:
            return None
        value = self.years.get(latest + year_offset, {}).get(code)
        return None if value is None else Decimal(value)

    def with_figure(self, code: str, value: Decimal) -> FirmFigures:
        """The same firm with one latest-year figure changed (for advice and for tests)."""
        latest = self.latest_year()
        years = {year: dict(figures) for year, figures in self.years.items()}
        years[latest][code] = value
        return replace(self, years=years)


def _direct(code: str) -> Callable[[FirmFigures], Decimal | None]:
    return lambda firm: firm.figure(code)


def _share(numerator: str, denominator: str) -> Callable[[FirmFigures], Decimal | None]:
    def value(firm: FirmFigures) -> Decimal | None:
        top, bottom = firm.figure(numerator), firm.figure(denominator)
        if top is None or not bottom or bottom <= 0:
            return None
        return top / bottom

    return value


def _growth(code: str) -> Callable[[FirmFigures], Decimal | None]:
    def value(firm: FirmFigures) -> Decimal | None:
        now, before = firm.figure(code), firm.figure(code, -1)
        if now is None or not before or before <= 0:
            return None
        return (now - before) / before

    return value


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    cls: str
    driver: str  # the latest-year figure whose increase raises this indicator
    kind: str  # how the value reads: money | count | share | growth
    value: Callable[[FirmFigures], Decimal | None] = field(repr=False)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("rd_spend", "研发投入", "tech", "rd_spend", "money", _direct("rd_spend")),
    Indicator("rd_growth", "研发投入增长率", "tech", "rd_spend", "growth", _growth("rd_spend")),
    Indicator(
        "rd_intensity", "研发投入占营业收入比例", "tech", "rd_spend", "share", _share("rd_spend", "revenue")
    ),
    Indicator(
        "st_staff_share", "科技人员占职工比例", "tech", "st_staff", "share", _share("st_staff", "employees")
    ),
    Indicator(
        "invention_applications",
        "发明专利申请数",
        "tech",
        "invention_applications",
        "count",
        _direct("invention_applications"),
    ),
    Indicator(
        "pct_applications", "PCT 专利申请数", "tech", "pct_applications", "count", _direct("pct_applications")
    ),
    Indicator(
        "tech_contract_turnover",
        "技术合同成交额",
        "tech",
        "tech_contract_turnover",
        "money",
        _direct("tech_contract_turnover"),
    ),
    Indicator(
        "hitech_revenue",
        "高新技术产品（服务）收入",
        "growth",
        "hitech_revenue",
        "money",
        _direct("hitech_revenue"),
    ),
    Indicator("revenue", "营业收入", "growth", "revenue", "money", _direct("revenue")),
    Indicator("revenue_growth", "营业收入增长率", "growth", "revenue", "growth", _growth("revenue")),
    Indicator(
        "master_share",
        "硕士及以上人员占比",
        "growth",
        "master_staff",
        "share",
        _share("master_staff", "employees"),
    ),
    Indicator(
        "rd_super_deduction",
        "研发费用加计扣除额",
        "growth",
        "rd_super_deduction",
        "money",
        _direct("rd_super_deduction"),
    ),
    Indicator("roe", "净资产收益率", "growth", "net_profit", "share", _share("net_profit", "net_assets")),
    Indicator("rd_platforms", "省级及以上研发平台", "aux", "rd_platforms", "count", _direct("rd_platforms")),
    Indicator("st_awards", "省级及以上科技奖励", "aux", "st_awards", "count", _direct("st_awards")),
    Indicator(
        "qualifications_held",
        "有效资质",
        "aux",
        "qualifications_held",
        "count",
        _direct("qualifications_held"),
    ),
)

#: Maximum points: indicator → (early, growth, mature). Each column adds up to 100
#: (技术创新 50/45/40, 成长经营 35/45/50, 辅助 15/10/10).
POINTS: dict[str, tuple[int, int, int]] = {
    "rd_spend": (8, 8, 8),
    "rd_growth": (6, 6, 5),
    "rd_intensity": (10, 8, 7),
    "st_staff_share": (8, 6, 5),
    "invention_applications": (8, 7, 6),
    "pct_applications": (4, 4, 4),
    "tech_contract_turnover": (6, 6, 5),
    "hitech_revenue": (6, 8, 10),
    "revenue": (5, 7, 9),
    "revenue_growth": (8, 9, 8),
    "master_share": (6, 7, 7),
    "rd_super_deduction": (6, 8, 9),
    "roe": (4, 6, 7),
    "rd_platforms": (5, 4, 4),
    "st_awards": (5, 3, 3),
    "qualifications_held": (5, 3, 3),
}
_GROUP_COLUMN = {"early": 0, "growth": 1, "mature": 2}


def max_points(code: str, group: str) -> Decimal:
    return Decimal(POINTS[code][_GROUP_COLUMN[group]])


def class_maximum(cls: str, group: str) -> Decimal:
    return sum((max_points(i.code, group) for i in INDICATORS if i.cls == cls), ZERO)


def _check_tables() -> None:
    """The tables agree: every indicator has points, every column adds up to 100."""
    if set(POINTS) != {i.code for i in INDICATORS}:
        raise ValueError("POINTS and INDICATORS name different indicators")
    for group in _GROUP_COLUMN:
        if sum(max_points(i.code, group) for i in INDICATORS) != 100:
            raise ValueError(f"the {group} column of POINTS does not add up to 100")


_check_tables()


@dataclass(frozen=True)
class Part:
    code: str
    label: str
    cls: str
    value: Decimal | None
    points: Decimal
    max_points: Decimal
    reason: str


@dataclass(frozen=True)
class Advice:
    code: str
    label: str
    figure: str
    target: Decimal
    text: str
    points_gain: Decimal


@dataclass(frozen=True)
class Score:
    firm_id: int
    group: str
    total: Decimal
    percentile: int
    parts: tuple[Part, ...]
    advice: tuple[Advice, ...] = ()

    def class_totals(self) -> dict[str, Decimal]:
        totals = {cls: ZERO for cls in CLASSES}
        for part in self.parts:
            totals[part.cls] += part.points
        return totals


class Cohort:
    """The firms of one stage group, with each indicator's values sorted for ranking.

    Ranking a value costs two binary searches, so scoring a group of n firms, advice included,
    is O(n log n) per indicator.
    """

    def __init__(self, firms: Iterable[FirmFigures]):
        self.firms = list(firms)
        self.values: dict[str, dict[int, Decimal | None]] = {
            i.code: {firm.id: i.value(firm) for firm in self.firms} for i in INDICATORS
        }
        self._sorted = {
            code: sorted(v for v in values.values() if v is not None) for code, values in self.values.items()
        }
        self._missing = {
            code: sum(1 for v in values.values() if v is None) for code, values in self.values.items()
        }

    def standing(self, code: str, firm_id: int, value: Decimal | None) -> tuple[int, int, int]:
        """(others below, others level, others) for ``value`` of firm ``firm_id``'s indicator ``code``;
        the firm's own entry in the cohort is left out. A missing value of another firm counts below."""
        ordered = self._sorted[code]
        missing = self._missing[code]
        others = len(self.firms)
        own = self.values[code].get(firm_id, ...)
        if own is not ...:
            others -= 1
        below = missing + (bisect_left(ordered, value) if value is not None else 0)
        level = (bisect_right(ordered, value) - bisect_left(ordered, value)) if value is not None else 0
        if own is None:
            below -= 1
        elif own is not ...:
            if own < value:
                below -= 1
            elif own == value:
                level -= 1
        return below, level, others

    def next_above(self, code: str, firm_id: int, value: Decimal | None) -> Decimal | None:
        """The lowest other firm's positive value at or above ``value`` (the next rank to pass)."""
        ordered = self._sorted[code]
        floor = value if value is not None and value > 0 else None
        start = bisect_left(ordered, floor) if floor is not None else bisect_right(ordered, ZERO)
        own = self.values[code].get(firm_id)
        for index in range(start, len(ordered)):  # by index: a slice would copy the tail each call
            candidate = ordered[index]
            if candidate == own and own == value:
                # Skip the firm's own entry once; a level competitor shares the same value.
                own = ...
                continue
            return candidate
        return None


def rank_fraction(below: int, level: int, others: int, value: Decimal | None) -> Decimal:
    """(others below + ½ × others level) ÷ others; nothing for a value ≤ 0 or missing; alone, 1."""
    if value is None or value <= 0:
        return ZERO
    if not others:
        return Decimal(1)
    return (Decimal(below) + Decimal(level) / 2) / Decimal(others)


def _format_value(kind: str, value: Decimal | None) -> str:
    if value is None:
        return "未填报"
    if kind == "money":
        return format_wan(value)
    if kind == "count":
        return format_count(value)
    return format_percent(value)


def _reason(indicator: Indicator, value: Decimal | None, below: int, others: int, group: str) -> str:
    shown = _format_value(indicator.kind, value)
    if value is None:
        if indicator.kind == "growth":
            return f"{indicator.label}：缺少上一年度数据，暂不计分"
        return f"{indicator.label}：未填报，不计分"
    if value <= 0:
        return f"{indicator.label}为 {shown}，不计分"
    if not others:
        return f"{indicator.label} {shown}；同阶段（{STAGE_GROUP_LABELS[group]}）暂无其他企业，按满分计"
    return (
        f"{indicator.label} {shown}，高于同阶段（{STAGE_GROUP_LABELS[group]}）"
        f"其他 {others} 家企业中的 {below} 家"
    )


def firm_parts(firm: FirmFigures, cohort: Cohort) -> tuple[Part, ...]:
    """The firm's sixteen parts against the cohort (its own entry in the cohort left out)."""
    group = firm.group
    parts = []
    for indicator in INDICATORS:
        value = indicator.value(firm)
        below, level, others = cohort.standing(indicator.code, firm.id, value)
        maximum = max_points(indicator.code, group)
        points = (maximum * rank_fraction(below, level, others, value)).quantize(CENT, rounding=ROUND_HALF_UP)
        parts.append(
            Part(
                code=indicator.code,
                label=indicator.label,
                cls=indicator.cls,
                value=value,
                points=points,
                max_points=maximum,
                reason=_reason(indicator, value, below, others, group),
            )
        )
    return tuple(parts)


def total_of(parts: Iterable[Part]) -> Decimal:
    return sum((part.points for part in parts), ZERO)


def _target_for(indicator: Indicator, firm: FirmFigures, above: Decimal) -> Decimal | None:
    """The driving figure's value, on its grid (whole 万元 or whole units), that lifts the indicator
    strictly past ``above``; None when the figure cannot move it (a share with no denominator)."""
    current = firm.figure(indicator.driver) or ZERO
    # Every indicator is linear in its driver with the other figures fixed: v = a·x + b.
    v0 = indicator.value(firm.with_figure(indicator.driver, ZERO))
    v1 = indicator.value(firm.with_figure(indicator.driver, Decimal(1)))
    if v0 is None or v1 is None or v1 <= v0:
        return None
    grid = WAN if FIGURES[indicator.driver][1] == "money" else Decimal(1)
    needed = (above - v0) / (v1 - v0)
    target = max((needed / grid).to_integral_value(rounding=ROUND_CEILING) * grid, grid)
    if indicator.value(firm.with_figure(indicator.driver, target)) <= above:
        target += grid
    return target if target > current else None


def _advice_text(figure: str, target: Decimal, gain: Decimal) -> str:
    label, kind = FIGURES[figure]
    shown = {"money": format_wan(target), "people": f"{format_count(target)} 人"}.get(
        kind, f"{format_count(target)} 项"
    )
    return f"{label}达到 {shown}可提高约 {gain.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} 分"


def _points(code: str, firm_id: int, value: Decimal | None, cohort: Cohort, group: str) -> Decimal:
    """One indicator's points for ``value`` (what :func:`firm_parts` gives, without the reason)."""
    below, level, others = cohort.standing(code, firm_id, value)
    fraction = rank_fraction(below, level, others, value)
    return (max_points(code, group) * fraction).quantize(CENT, rounding=ROUND_HALF_UP)


def _moved_by() -> dict[str, tuple[Indicator, ...]]:
    """For each figure, the indicators whose value it moves (probed: every figure 1 in two years,
    then that figure 2 in the latest) — a figure's own indicators and the shares it divides."""
    probe = FirmFigures(0, "growth", {2024: dict.fromkeys(FIGURES, 1), 2025: dict.fromkeys(FIGURES, 1)})
    out = {}
    for code in FIGURES:
        moved = probe.with_figure(code, Decimal(2))
        out[code] = tuple(i for i in INDICATORS if i.value(moved) != i.value(probe))
    return out


_MOVED_BY = _moved_by()


def advise(firm: FirmFigures, cohort: Cohort, *, limit: int = 3) -> tuple[Advice, ...]:
    """The figures whose next step up would raise the firm's total most, one item per figure.

    For each indicator, its driving figure is raised to pass the next firm above; the gain is the
    whole total recomputed with that figure and the cohort fixed, so applying the advice raises the
    total by exactly ``points_gain``.
    """
    group = firm.group
    values = {i.code: i.value(firm) for i in INDICATORS}
    points = {i.code: _points(i.code, firm.id, values[i.code], cohort, group) for i in INDICATORS}
    best: dict[str, Advice] = {}
    for indicator in INDICATORS:
        value = values[indicator.code]
        above = cohort.next_above(indicator.code, firm.id, value)
        if above is None:
            if value is not None and value > 0:
                continue  # already first in its group
            above = ZERO  # no other firm scores here: any positive value earns the points
        target = _target_for(indicator, firm, above)
        if target is None:
            continue
        # Only the indicators the driver moves change; the others keep their points (so this is
        # the whole total recomputed, without recomputing what cannot change).
        moved = firm.with_figure(indicator.driver, target)
        gain = ZERO
        for other in _MOVED_BY[indicator.driver]:
            gain += _points(other.code, firm.id, other.value(moved), cohort, group) - points[other.code]
        if gain <= 0 or (indicator.driver in best and best[indicator.driver].points_gain >= gain):
            continue
        best[indicator.driver] = Advice(
            code=indicator.code,
            label=indicator.label,
            figure=indicator.driver,
            target=target,
            text=_advice_text(indicator.driver, target, gain),
            points_gain=gain,
        )
    return tuple(sorted(best.values(), key=lambda a: (-a.points_gain, a.code))[:limit])


def score_cohort(firms: Iterable[FirmFigures], *, with_advice: bool = True) -> dict[int, Score]:
    """Scores for every firm handed in. Firms of different stage groups are ranked apart."""
    by_group: dict[str, list[FirmFigures]] = {}
    for firm in firms:
        by_group.setdefault(firm.group, []).append(firm)
    scores: dict[int, Score] = {}
    for group, members in by_group.items():
        cohort = Cohort(members)
        parts = {firm.id: firm_parts(firm, cohort) for firm in members}
        totals = {firm_id: total_of(p) for firm_id, p in parts.items()}
        ordered = sorted(totals.values())
        for firm in members:
            total = totals[firm.id]
            others = len(ordered) - 1
            below = bisect_left(ordered, total)
            level = bisect_right(ordered, total) - below - 1
            share = (Decimal(below) + Decimal(level) / 2) / Decimal(others) * 100 if others else Decimal(100)
            scores[firm.id] = Score(
                firm_id=firm.id,
                group=group,
                total=total,
                percentile=int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
                parts=parts[firm.id],
                advice=advise(firm, cohort) if with_advice else (),
            )
    return scores
