"""Calculations for the province's 科技金融专项 subsidies: 贷款贴息, 风险补偿 and 专属产品奖励.

Pure Python (no Django, no database; figures are written by the portal's one presentation module
``portal.money``, itself plain Python) so services, views, the API and the seed
command can all call the same figures, and tests can check them by hand. The rules are those of
``/work/shared/domain.md`` §3 (LPR) and §4 (subsidy rules).

Conventions
-----------
* Money is in yuan (元) as ``Decimal``. Annual rates are **percent** Decimals: ``Decimal('3.10')``
  is 3.10 %. Ratios and cap rates are **fractions**: ``Decimal('0.5')`` is 50 %.
* Floats are refused everywhere with ``TypeError`` (see :func:`_require`, the one guard every
  public function uses); so are ints where a Decimal is expected. Day counts, month counts,
  years, basis points and unit counts are plain ``int``.
* No intermediate value is ever rounded: arguments are turned into exact ``fractions.Fraction``
  values (a ``Decimal`` division would round to the context precision). Each figure is rounded
  once, at the end, half up (``ROUND_HALF_UP``) to the fen (0.01 元); rates to 0.0001 %.
* A figure that is the difference of two money figures shown to the user (interest after
  subsidy = interest − subsidy) is the exact difference of the two rounded figures, so what is
  on screen always adds up and matches the money that actually moves.
* Every result is a frozen dataclass carrying ``reasons``: Chinese sentences with the figures
  written out, so staff and firms can see how a figure was reached.
* Invalid values raise ``ValueError`` whose message starts with the argument's name, e.g.
  ``"principal: 必须大于 0，收到 0"``.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Literal, TypeVar

from portal import money

__all__ = [
    "CapKind",
    "CompensationCap",
    "CompensationResult",
    "Quote",
    "QuoteYear",
    "RewardYear",
    "SubsidyResult",
    "accrued_interest",
    "add_months",
    "exclusive_product_reward",
    "fmt_wan",
    "fmt_yi",
    "fmt_yuan",
    "interest_subsidy_for_period",
    "lpr_on",
    "quote",
    "rate_from_lpr",
    "recovery_payback",
    "risk_compensation",
]

T = TypeVar("T")

#: Which term of the ``min(...)`` decided an interest subsidy ('ineligible': none is due).
CapKind = Literal["ratio", "principal_cap", "firm_year_cap", "ineligible"]
#: Which term decided a risk compensation ('ratio': the plain ratio, nothing capped it).
CompensationCap = Literal["ratio", "per_loan_cap", "pool"]

DAY_COUNT_BASES = (360, 365)
LPR_TENORS = ("1y", "5y")
_ZERO = Fraction(0)


# --------------------------------------------------------------------------------------------
# The guard, validators and exact rounding
# --------------------------------------------------------------------------------------------


def _require(name: str, value: object, kind: type[T]) -> T:
    """Return ``value`` if it is a ``kind``; the one type guard used by every public function.

    A float is refused with a message saying why (binary floats cannot hold 0.1 or 3.10 exactly)
    and what to pass instead. ``bool`` does not count as ``int``, ``datetime`` does not count as
    ``date``, and a Decimal must be finite (no NaN / Infinity).
    """
    if isinstance(value, float):
        hint = f"Decimal('{value!r}')" if kind is Decimal else kind.__name__
        raise TypeError(
            f"{name}: 不接受 float（{value!r}），二进制浮点数无法精确表示金额和利率，请传入 {hint}"
        )
    if (
        not isinstance(value, kind)
        or (isinstance(value, bool) and kind is not bool)
        or (kind is date and isinstance(value, datetime))
    ):
        raise TypeError(f"{name}: 须为 {kind.__name__}，收到 {type(value).__name__}（{value!r}）")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{name}: 须为有限数值，收到 {value}")
    return value


def _exact(name: str, value: object, *, minimum: Literal["positive", "non_negative"]) -> Fraction:
    """Check a Decimal argument and its sign; return it as an exact Fraction."""
    x = Fraction(_require(name, value, Decimal))
    if minimum == "positive" and x <= 0:
        raise ValueError(f"{name}: 必须大于 0，收到 {value}")
    if minimum == "non_negative" and x < 0:
        raise ValueError(f"{name}: 不能为负数，收到 {value}")
    return x


def _ratio(name: str, value: object) -> Fraction:
    """A fraction between 0 and 1 inclusive, e.g. ``Decimal('0.5')`` for 50 %."""
    x = _exact(name, value, minimum="non_negative")
    if x > 1:
        raise ValueError(f"{name}: 须为 0 到 1 之间的比例（如 Decimal('0.5') 表示 50%），收到 {value}")
    return x


def _basis(value: object) -> int:
    basis = _require("basis", value, int)
    if basis not in DAY_COUNT_BASES:
        raise ValueError(f"basis: 计息基数只能是 360 或 365，收到 {basis}")
    return basis


def _round(x: Fraction, places: int = 2) -> Decimal:
    """Round an exact value half up (a tie goes away from zero) to ``places`` decimals."""
    return money.round_exact(x, places)


# --------------------------------------------------------------------------------------------
# Display: the portal's one presentation module (portal.money), behind calc's type guard
# --------------------------------------------------------------------------------------------


def fmt_yuan(amount: Decimal) -> str:
    """``Decimal('77930.5555')`` → ``'77,930.56元'`` (fen, half up, thousands separators)."""
    return money.format_yuan_exact(_require("amount", amount, Decimal))


def fmt_wan(amount: Decimal) -> str:
    """Yuan shown in 万元 with 2 decimals: ``Decimal('38965.28')`` → ``'3.90万元'``."""
    return money.format_wan(_require("amount", amount, Decimal))


def fmt_yi(amount: Decimal) -> str:
    """Yuan shown in 亿元 with 2 decimals: ``Decimal('101000000')`` → ``'1.01亿元'``."""
    return money.format_yi(_require("amount", amount, Decimal))


_money = money.format_money_exact  # 亿元 / 万元 / 元: the largest unit that loses no fen
_pct = money.format_rate_exact  # Decimal('3.1') → '3.10%'
_share = money.format_share_exact  # 0.5 → '50%', 0.035 → '3.5%'


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def add_months(d: date, n: int) -> date:
    """The same day ``n`` months later (earlier if ``n`` < 0); the month's last day if it has none.

    This is 《民法典》第二百零二条: "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，
    月末日为期间的最后一日". So 2026-01-31 + 1 → 2026-02-28, 2024-01-31 + 1 → 2024-02-29, and
    2025-11-30 + 1 → 2025-12-30 (a month-end start does not stick to month ends).
    The actual interest days between are ``(add_months(d, n) - d).days``.
    """
    d = _require("d", d, date)
    n = _require("n", n, int)
    year, month0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"n: {d.isoformat()} 加 {n} 个月超出可表示的日期范围")
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


# --------------------------------------------------------------------------------------------
# 贷款贴息 — interest subsidy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuoteYear:
    """One calendar-year part of a quoted loan: its days ``[start, end)``, interest and subsidy
    (each rounded once, to the fen) and the term of the ``min(...)`` that decided the subsidy."""

    year: int
    start: date
    end: date
    days: int
    interest: Decimal
    subsidy: Decimal
    which_cap: CapKind


@dataclass(frozen=True, slots=True)
class Quote:
    """What a bullet loan costs after the interest subsidy (shown before the firm applies).

    ``days`` are actual calendar days from start to ``end``; money in yuan rounded to the fen;
    ``effective_annual_rate`` in percent with 4 decimals; ``which_cap`` names the term of the
    ``min(...)`` that decided the subsidy ('ineligible' when no subsidy is due; over several
    years the tightest term that decided any year); ``years`` the calendar-year parts.
    """

    days: int
    interest: Decimal
    subsidy: Decimal
    interest_after_subsidy: Decimal
    effective_annual_rate: Decimal
    basis: int
    reasons: tuple[str, ...]
    which_cap: CapKind
    end: date
    years: tuple[QuoteYear, ...] = ()

    @property
    def explanation(self) -> str:
        """The reasons as one paragraph."""
        return "".join(self.reasons)


@dataclass(frozen=True, slots=True)
class SubsidyResult:
    """An interest subsidy for interest actually accrued over one claim period of a loan."""

    amount: Decimal
    capped_by: CapKind
    reasons: tuple[str, ...]
    days: int = 0
    accrued_interest: Decimal = Decimal("0.00")

    @property
    def explanation(self) -> str:
        """The reasons as one paragraph."""
        return "".join(self.reasons)


def _capped_subsidy(
    *,
    interest: Fraction,
    ratio: Fraction,
    principal_cap: Fraction,
    principal_cap_label: str,
    firm_year_cap: Fraction,
    already: Fraction,
    interest_label: str,
    year_label: str = "本年",
) -> tuple[Decimal, CapKind, list[str]]:
    """subsidy = min(interest × ratio, principal cap, max(0, yearly cap − already)).

    ``interest`` is exact (unrounded) and ``interest_label`` names it in the explanation; the
    principal cap is the annual cap rate pro rata to the days (``principal_cap_label`` writes it
    out). On a tie the earlier term is named. Returns the subsidy rounded to the fen, the
    deciding term and the explaining sentences.
    """
    by_ratio = interest * ratio
    remaining = max(_ZERO, firm_year_cap - already)
    terms: list[tuple[CapKind, Fraction]] = [
        ("ratio", by_ratio),
        ("principal_cap", principal_cap),
        ("firm_year_cap", remaining),
    ]
    which, exact = min(terms, key=lambda term: term[1])
    amount = _round(exact)
    floor_note = "，不低于 0" if firm_year_cap - already < 0 else ""
    reasons = [
        f"按比例：{interest_label} × {_share(ratio)} = {_money(by_ratio)}。",
        f"本金上限（年化）：{principal_cap_label} = {_money(principal_cap)}。",
        f"企业年度上限：{_money(firm_year_cap)} − {year_label}已贴息 {_money(already)} = "
        f"剩余 {_money(remaining)}{floor_note}。",
    ]
    if which == "ratio":
        reasons.append(f"贴息取三者中的最小值：{fmt_yuan(amount)}（按比例计算，未触及上限）。")
    elif which == "principal_cap":
        reasons.append(f"贴息取三者中的最小值：{fmt_yuan(amount)}（受本金年化上限限制）。")
    elif remaining == 0:
        reasons.append(
            f"{year_label}贴息已达企业年度上限 {_money(firm_year_cap)}，本笔贴息为 {fmt_yuan(amount)}。"
        )
    else:
        reasons.append(
            f"贴息取三者中的最小值：{fmt_yuan(amount)}（受企业每年 {_money(firm_year_cap)} 上限限制）。"
        )
    return amount, which, reasons


def _year_parts(start: date, end: date) -> list[tuple[int, date, date]]:
    """``[start, end)`` split at each 1 January: (year, first day, first day after the part)."""
    parts = []
    cursor = start
    while cursor < end:
        next_year = date(cursor.year + 1, 1, 1)
        stop = min(end, next_year)
        parts.append((cursor.year, cursor, stop))
        cursor = stop
    return parts


def quote(
    *,
    principal: Decimal,
    annual_rate: Decimal,
    start: date,
    months: int,
    ratio: Decimal,
    principal_cap_rate: Decimal,
    firm_year_cap: Decimal,
    basis: int,
    eligible: bool = True,
    ineligible_reason: str = "",
    already_subsidised_this_year: Decimal = Decimal("0"),
    already_subsidised_by_year: Mapping[int, Decimal] | None = None,
) -> Quote:
    """Cost of a bullet loan after the interest subsidy, exactly as domain.md §4.

    * days = actual calendar days from ``start`` to ``add_months(start, months)``;
    * the term is split at each 1 January; for each calendar-year part of ``d`` days:
      interest = principal × annual_rate% × d / basis and subsidy = min(interest × ratio,
      principal × principal_cap_rate × d / basis, firm_year_cap − what the firm already received
      that year (not below 0)) — computed on the *unrounded* interest and rounded once — or 0
      with ``ineligible_reason`` when ``eligible`` is False. ``already_subsidised_by_year`` maps a
      year to what the firm already received in it; ``already_subsidised_this_year`` is that of
      the start's year (either may be given; nothing for an anonymous quote);
    * interest = the whole term's interest rounded once; subsidy = the sum of the years'
      subsidies (each is its own money, and the claims of each year add up to it);
    * interest_after_subsidy = interest − subsidy (both as rounded, so the figures add up);
    * effective_annual_rate = interest_after_subsidy / principal × basis / days × 100.

    Worked example: 500万元 at 3.10% from 2026-01-01 for 6 months, basis 360 → 181 days,
    interest 77,930.56元, subsidy 38,965.28元, after subsidy 38,965.28元, effective 1.5500%.
    Over several years: 1,000万元 at 4.00% from 2026-07-01 for 24 months → 2026 184 days
    (subsidy 102,222.22), 2027 365 days (200,000.00, the firm cap), 2028 182 days (101,111.11).
    """
    p = _exact("principal", principal, minimum="positive")
    rate = _require("annual_rate", annual_rate, Decimal)
    r = _exact("annual_rate", rate, minimum="positive")
    start = _require("start", start, date)
    months = _require("months", months, int)
    if months < 1:
        raise ValueError(f"months: 必须至少为 1，收到 {months}")
    share = _ratio("ratio", ratio)
    cap_rate = _ratio("principal_cap_rate", principal_cap_rate)
    year_cap = _exact("firm_year_cap", firm_year_cap, minimum="non_negative")
    basis = _basis(basis)
    eligible = _require("eligible", eligible, bool)
    ineligible_reason = _require("ineligible_reason", ineligible_reason, str)
    already_first = _exact(
        "already_subsidised_this_year", already_subsidised_this_year, minimum="non_negative"
    )
    already: dict[int, Fraction] = {start.year: already_first}
    for year, value in (already_subsidised_by_year or {}).items():
        year = _require("already_subsidised_by_year.year", year, int)
        already[year] = _exact(f"already_subsidised_by_year[{year}]", value, minimum="non_negative")

    end = add_months(start, months)
    days = (end - start).days
    interest_exact = p * r / 100 * days / basis
    interest = _round(interest_exact)
    parts = _year_parts(start, end)
    several = len(parts) > 1

    month_end_note = "（到期月无对应日，取该月最后一日）" if end.day != start.day else ""
    reasons = [
        f"计息期 {start.isoformat()} 至 {end.isoformat()}（{months} 个月{month_end_note}），"
        f"实际 {days} 天，计息基数 {basis} 天。",
        f"利息 = 本金 {_money(p)} × 年利率 {_pct(rate)} × {days} 天 ÷ {basis} = {fmt_yuan(interest)}。",
    ]
    if several:
        reasons.append(
            f"贷款跨 {len(parts)} 个自然年度，按年度分段计算贴息，每年各自适用企业年度上限，合计为总贴息。"
        )
    years: list[QuoteYear] = []
    for year, part_start, part_end in parts:
        part_days = (part_end - part_start).days
        part_interest = p * r / 100 * part_days / basis
        if several:
            reasons.append(
                f"{year} 年（{part_start.isoformat()} 至 {(part_end - timedelta(days=1)).isoformat()}，"
                f"{part_days} 天）：利息 = 本金 {_money(p)} × {_pct(rate)} × {part_days} 天 ÷ {basis} = "
                f"{fmt_yuan(_round(part_interest))}。"
            )
        if eligible:
            subsidy_y, which_y, cap_reasons = _capped_subsidy(
                interest=part_interest,
                ratio=share,
                principal_cap=p * cap_rate * part_days / basis,
                principal_cap_label=f"本金 {_money(p)} × {_share(cap_rate)} × {part_days} 天 ÷ {basis}",
                firm_year_cap=year_cap,
                already=already.get(year, _ZERO),
                interest_label=f"{year} 年未舍入的利息" if several else "未舍入的利息",
                year_label=f"{year} 年" if several else "本年",
            )
            reasons += [f"{year} 年{line}" if several else line for line in cap_reasons]
        else:
            subsidy_y, which_y = _round(_ZERO), "ineligible"
        years.append(
            QuoteYear(
                year=year,
                start=part_start,
                end=part_end,
                days=part_days,
                interest=_round(part_interest),
                subsidy=subsidy_y,
                which_cap=which_y,
            )
        )
    if eligible:
        subsidy = min(interest, sum((y.subsidy for y in years), _round(_ZERO)))
        decided = {y.which_cap for y in years}
        which: CapKind = next(
            (k for k in ("firm_year_cap", "principal_cap") if k in decided), "ratio"
        )  # type: ignore[assignment]
        if several:
            reasons.append(
                "贴息合计 = " + " + ".join(fmt_yuan(y.subsidy) for y in years) + f" = {fmt_yuan(subsidy)}。"
            )
    else:
        subsidy, which = _round(_ZERO), "ineligible"
        why = ineligible_reason.strip() or "该贷款不符合贴息条件"
        reasons.append(f"{why.rstrip('。')}，贴息为 0。")

    after = interest - subsidy
    effective = _round(Fraction(after) / p * basis / days * 100, 4)
    reasons += [
        f"贴息后利息 = {fmt_yuan(interest)} − {fmt_yuan(subsidy)} = {fmt_yuan(after)}。",
        f"贴息后实际年化利率 = {fmt_yuan(after)} ÷ {_money(p)} × {basis} ÷ {days} = {effective}%。",
    ]
    return Quote(
        days=days,
        interest=interest,
        subsidy=subsidy,
        interest_after_subsidy=after,
        effective_annual_rate=effective,
        basis=basis,
        reasons=tuple(reasons),
        which_cap=which,
        end=end,
        years=tuple(years),
    )


def _segments(name: str, value: object) -> list[tuple[date, date, Fraction]]:
    """Check a sequence of ``(from_date, to_date, outstanding_principal)``: in date order, not
    overlapping (gaps allowed); returned with the principal as an exact Fraction."""
    segments = _require(name, value, Sequence)  # type: ignore[type-abstract]
    if isinstance(segments, str | bytes):
        raise TypeError(f"{name}: 须为 (起始日, 截止日, 未偿本金) 元组的序列")
    out: list[tuple[date, date, Fraction]] = []
    previous_end: date | None = None
    for i, segment in enumerate(segments):
        label = f"{name}[{i}]"
        if not isinstance(segment, tuple) or len(segment) != 3:
            raise TypeError(f"{label}: 须为 (起始日, 截止日, 未偿本金) 三元组，收到 {segment!r}")
        start = _require(f"{label}.from_date", segment[0], date)
        end = _require(f"{label}.to_date", segment[1], date)
        outstanding = _exact(f"{label}.outstanding_principal", segment[2], minimum="non_negative")
        if end < start:
            raise ValueError(f"{label}: 截止日 {end.isoformat()} 早于起始日 {start.isoformat()}")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"{label}: 与前一区间重叠或顺序颠倒（起始日 {start.isoformat()}）")
        out.append((start, end, outstanding))
        previous_end = end
    return out


def accrued_interest(
    *,
    principal_outstanding_segments: Sequence[tuple[date, date, Decimal]],
    annual_rate: Decimal,
    basis: int,
) -> Decimal:
    """Interest actually accrued over a support period, rounded once to the fen.

    Each segment ``(from_date, to_date, outstanding_principal)`` accrues
    principal × annual_rate% × (to_date − from_date).days / basis (the first day counts, the
    last does not: 算头不算尾). Segments must be in date order and must not overlap; gaps are
    allowed (nothing outstanding). The segment amounts are summed exactly and rounded at the end.
    """
    r = _exact("annual_rate", annual_rate, minimum="positive")
    basis = _basis(basis)
    segments = _segments("principal_outstanding_segments", principal_outstanding_segments)
    return _round(sum((out * r / 100 * (b - a).days / basis for a, b, out in segments), _ZERO))


def interest_subsidy_for_period(
    *,
    segments: Sequence[tuple[date, date, Decimal]],
    annual_rate: Decimal,
    basis: int,
    ratio: Decimal,
    principal_cap_rate: Decimal,
    firm_year_cap: Decimal,
    already_subsidised_this_year: Decimal,
    earlier_segments_this_year: Sequence[tuple[date, date, Decimal]] = (),
    repaid_on_time: bool = True,
    require_on_time: bool = True,
) -> SubsidyResult:
    """The subsidy on interest accrued in one claim period of a loan (a 贴息 claim), domain.md §4.

    ``segments`` are the parts of the period inside the loan's life, each ``(from, to,
    outstanding principal)`` with ``to`` exclusive (算头不算尾). Over them:

    * accrued interest = Σ outstanding × annual_rate% × days / basis;
    * subsidy = min(accrued × ratio, Σ outstanding × principal_cap_rate × days / basis) — the
      principal cap is an annual rate, pro rata to the days;
    * then at most what is left of the firm's yearly cap: firm_year_cap −
      already_subsidised_this_year (not below 0).

    Rounding happens once, on the loan's running total for the calendar year:
    ``earlier_segments_this_year`` are the loan's segments of the same year before this period,
    and the claim is round(total through this period) − round(total before it), so a loan's
    claims of one year add up to its yearly subsidy rounded at the end (the quote's figure).
    ``capped_by='ineligible'`` with 0 when the period was not repaid on time and the policy
    requires it.
    """
    r = _exact("annual_rate", annual_rate, minimum="positive")
    basis = _basis(basis)
    share = _ratio("ratio", ratio)
    cap_rate = _ratio("principal_cap_rate", principal_cap_rate)
    year_cap = _exact("firm_year_cap", firm_year_cap, minimum="non_negative")
    already = _exact("already_subsidised_this_year", already_subsidised_this_year, minimum="non_negative")
    repaid_on_time = _require("repaid_on_time", repaid_on_time, bool)
    require_on_time = _require("require_on_time", require_on_time, bool)
    now = _segments("segments", segments)
    before = _segments("earlier_segments_this_year", earlier_segments_this_year)

    def figures(parts):
        interest = sum((out * r / 100 * (b - a).days / basis for a, b, out in parts), _ZERO)
        cap = sum((out * cap_rate * (b - a).days / basis for a, b, out in parts), _ZERO)
        return interest, cap

    interest, cap = figures(now)
    days = sum((b - a).days for a, b, _out in now)
    accrued = _round(interest)
    pieces = "；".join(
        f"{a.isoformat()} 至 {(b - timedelta(days=1)).isoformat()} 共 {(b - a).days} 天，未偿本金 {_money(out)}"
        for a, b, out in now
        if b > a
    )
    reasons = [
        f"本期计息 {days} 天（{pieces or '无'}），应计利息 = 未偿本金 × 年利率 {_pct(annual_rate)} × 天数 ÷ "
        f"{basis} = {fmt_yuan(accrued)}。"
    ]
    if not repaid_on_time and require_on_time:
        reasons.append("贷款未按期还本付息，按政策不享受本期贴息，贴息为 0。")
        return SubsidyResult(
            amount=_round(_ZERO), capped_by="ineligible", reasons=tuple(reasons), days=days, accrued_interest=accrued
        )
    if not repaid_on_time:
        reasons.append("贷款未按期还本付息，但本政策不以按期还款为条件。")
    cap_label = " + ".join(
        f"{_money(out)} × {_share(cap_rate)} × {(b - a).days} 天 ÷ {basis}" for a, b, out in now if b > a
    )
    _amount, which, cap_reasons = _capped_subsidy(
        interest=interest,
        ratio=share,
        principal_cap=cap,
        principal_cap_label=f"未偿本金 {cap_label or '0'}",
        firm_year_cap=year_cap,
        already=already,
        interest_label=f"应计利息 {fmt_yuan(accrued)}",
    )
    own = min(interest * share, cap)
    earlier_interest, earlier_cap = figures(before)
    earlier = min(earlier_interest * share, earlier_cap)
    due = _round(earlier + own) - _round(earlier)
    remaining = _round(max(_ZERO, year_cap - already))
    amount = min(due, remaining)
    if amount == remaining and remaining < _round(own):
        which = "firm_year_cap"
    if due != _round(own) and amount == due:
        cap_reasons.append(
            f"本年该笔贷款的贴息按累计数舍入到分：累计 {fmt_yuan(_round(earlier + own))} − 此前各期 "
            f"{fmt_yuan(_round(earlier))} = 本期 {fmt_yuan(amount)}。"
        )
    return SubsidyResult(
        amount=amount,
        capped_by=which,
        reasons=tuple(reasons + cap_reasons),
        days=days,
        accrued_interest=accrued,
    )


# --------------------------------------------------------------------------------------------
# 专属产品奖励 — exclusive-product reward
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RewardYear:
    """One year of a bank's exclusive-product reward.

    ``units`` = whole units (亿元 by default) of the year's total granted credit lines;
    ``previous_high`` = the highest ``units`` already rewarded before this year.
    """

    year: int
    total: Decimal
    units: int
    previous_high: int
    reward: Decimal
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        """The reasons as one paragraph."""
        return "".join(self.reasons)


def exclusive_product_reward(
    yearly_totals: Sequence[tuple[int, Decimal]],
    *,
    unit: Decimal = Decimal("100000000"),
    reward_per_unit: Decimal = Decimal("200000"),
    already_rewarded_units: int = 0,
) -> tuple[RewardYear, ...]:
    """Reward per year for a bank's exclusive sci-tech credit products (the seed's rule).

    Years must be strictly increasing. For each year in order: N = floor(total / unit);
    reward = reward_per_unit × max(0, N − highest N already rewarded); then the highest becomes
    max(highest, N). ``already_rewarded_units`` is the highest N rewarded before the first year.
    Totals of 0.6亿, 1.3亿, 3.45亿, 3.2亿, 4.1亿 give 0, 20万, 40万, 0, 20万.
    """
    u = _exact("unit", unit, minimum="positive")
    per_unit = _exact("reward_per_unit", reward_per_unit, minimum="non_negative")
    highest = _require("already_rewarded_units", already_rewarded_units, int)
    if highest < 0:
        raise ValueError(f"already_rewarded_units: 不能为负数，收到 {highest}")
    totals = _require("yearly_totals", yearly_totals, Sequence)  # type: ignore[type-abstract]
    if isinstance(totals, str | bytes):
        raise TypeError("yearly_totals: 须为 (年度, 授信总额) 元组的序列")

    results: list[RewardYear] = []
    previous_year: int | None = None
    for i, item in enumerate(totals):
        label = f"yearly_totals[{i}]"
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"{label}: 须为 (年度, 授信总额) 二元组，收到 {item!r}")
        year = _require(f"{label}.year", item[0], int)
        total = _require(f"{label}.total", item[1], Decimal)
        exact_total = _exact(f"{label}.total", total, minimum="non_negative")
        if previous_year is not None and year <= previous_year:
            raise ValueError(f"{label}: 年度须严格递增，{year} 不在 {previous_year} 之后")
        previous_year = year

        units = math.floor(exact_total / u)
        new_units = max(0, units - highest)
        reward = _round(per_unit * new_units)
        reasons = [
            f"{year} 年专属科技信贷产品授信总额 {_money(exact_total)}，"
            f"按每 {_money(u)} 计整数部分 N = {units}。"
        ]
        if new_units and highest == 0:
            reasons.append(
                f"首次达到 {_money(u)}，新增 {units} − 0 = {new_units} 个，"
                f"奖励 {new_units} × {_money(per_unit)} = {_money(Fraction(reward))}。"
            )
        elif new_units:
            reasons.append(
                f"此前已奖励的最高 N 为 {highest}，新增 {units} − {highest} = {new_units} 个，"
                f"奖励 {new_units} × {_money(per_unit)} = {_money(Fraction(reward))}。"
            )
        elif highest == 0:
            reasons.append(f"未达到 {_money(u)}，本年不奖励。")
        else:
            reasons.append(f"N 未超过此前已奖励的最高 N = {highest}，本年不奖励。")
        results.append(
            RewardYear(
                year=year,
                total=total,
                units=units,
                previous_high=highest,
                reward=reward,
                reasons=tuple(reasons),
            )
        )
        highest = max(highest, units)
    return tuple(results)


# --------------------------------------------------------------------------------------------
# 风险补偿 — risk compensation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompensationResult:
    """Risk compensation to a bank for one defaulted loan."""

    amount: Decimal
    capped_by: CompensationCap
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        """The reasons as one paragraph."""
        return "".join(self.reasons)


def risk_compensation(
    *,
    outstanding_principal: Decimal,
    ratio: Decimal,
    per_loan_cap: Decimal | None = None,
    pool_remaining: Decimal,
) -> CompensationResult:
    """Compensation = outstanding × ratio, capped by ``per_loan_cap`` (if given) and the pool.

    ``pool_remaining`` is what is left this year of the bank's yearly cap (cap minus what was
    already compensated this year). The trigger — the product's year-end NPL ratio above 1 % —
    is the caller's check; this function only computes the amount.
    """
    outstanding = _exact("outstanding_principal", outstanding_principal, minimum="non_negative")
    share = _ratio("ratio", ratio)
    cap = None if per_loan_cap is None else _exact("per_loan_cap", per_loan_cap, minimum="non_negative")
    pool = _exact("pool_remaining", pool_remaining, minimum="non_negative")

    by_ratio = outstanding * share
    terms: list[tuple[CompensationCap, Fraction]] = [("ratio", by_ratio)]
    reasons = [f"按比例：违约贷款未偿本金 {_money(outstanding)} × {_share(share)} = {_money(by_ratio)}。"]
    if cap is not None:
        terms.append(("per_loan_cap", cap))
        reasons.append(f"单笔补偿上限 {_money(cap)}。")
    terms.append(("pool", pool))
    reasons.append(f"该银行本年补偿额度剩余 {_money(pool)}（每行每年上限减去本年已补偿）。")
    which, exact = min(terms, key=lambda term: term[1])
    amount = _round(exact)
    why = {"ratio": "按比例计算，未触及上限", "per_loan_cap": "受单笔上限限制", "pool": "受本年剩余额度限制"}
    reasons.append(f"补偿金额取其中最小值：{_money(Fraction(amount))}（{why[which]}）。")
    return CompensationResult(amount=amount, capped_by=which, reasons=tuple(reasons))


def recovery_payback(*, compensated: Decimal, outstanding_at_default: Decimal, recovered: Decimal) -> Decimal:
    """What the bank pays back to the pool from a later recovery, pro rata, rounded to the fen.

    payback = compensated × min(recovered, outstanding_at_default) / outstanding_at_default.
    """
    paid = _exact("compensated", compensated, minimum="non_negative")
    outstanding = _exact("outstanding_at_default", outstanding_at_default, minimum="positive")
    got = _exact("recovered", recovered, minimum="non_negative")
    return _round(paid * min(got, outstanding) / outstanding)


# --------------------------------------------------------------------------------------------
# LPR
# --------------------------------------------------------------------------------------------


def lpr_on(table: Sequence[tuple[date, Decimal, Decimal]], d: date, tenor: str = "1y") -> Decimal:
    """The LPR (percent) in force on day ``d``, from a dated table staff can extend.

    ``table`` rows are ``(effective_from, one_year, five_year)`` in any order; the row with the
    latest ``effective_from`` on or before ``d`` applies. ``tenor`` is '1y' or '5y' (5年期以上).
    ``ValueError`` if ``d`` is before the first row or two rows share a date.
    """
    d = _require("d", d, date)
    tenor = _require("tenor", tenor, str)
    if tenor not in LPR_TENORS:
        raise ValueError(f"tenor: 只能是 '1y' 或 '5y'，收到 {tenor!r}")
    rows = _require("table", table, Sequence)  # type: ignore[type-abstract]
    if isinstance(rows, str | bytes) or not rows:
        raise ValueError("table: LPR 表为空或不是 (生效日, 1年期, 5年期以上) 元组的序列")
    checked: list[tuple[date, Decimal, Decimal]] = []
    for i, row in enumerate(rows):
        label = f"table[{i}]"
        if not isinstance(row, tuple) or len(row) != 3:
            raise TypeError(f"{label}: 须为 (生效日, 1年期, 5年期以上) 三元组，收到 {row!r}")
        effective_from = _require(f"{label}.effective_from", row[0], date)
        one_year = _require(f"{label}.one_year", row[1], Decimal)
        five_year = _require(f"{label}.five_year", row[2], Decimal)
        checked.append((effective_from, one_year, five_year))
    checked.sort(key=lambda row: row[0])
    for earlier, later in pairwise(checked):
        if earlier[0] == later[0]:
            raise ValueError(f"table: 生效日 {later[0].isoformat()} 重复")
    in_force = [row for row in checked if row[0] <= d]
    if not in_force:
        raise ValueError(f"d: {d.isoformat()} 早于 LPR 表中最早的生效日 {checked[0][0].isoformat()}")
    return in_force[-1][1] if tenor == "1y" else in_force[-1][2]


def rate_from_lpr(lpr: Decimal, spread_bp: int) -> Decimal:
    """LPR plus a spread in basis points: ``rate_from_lpr(Decimal('3.10'), 50)`` → ``Decimal('3.60')``."""
    lpr = _require("lpr", lpr, Decimal)
    spread_bp = _require("spread_bp", spread_bp, int)
    rate = lpr + Decimal(spread_bp).scaleb(-2)
    if rate <= 0:
        raise ValueError(f"spread_bp: LPR {_pct(lpr)} 加 {spread_bp} 个基点后利率不为正")
    return rate
