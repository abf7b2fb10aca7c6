"""The subsidy rules that the reads (``selectors``) and the writes (``services``) of the subsidies
app both stand on: the policy version in force, the LPR on a day and the subsidy ratio it gives,
what a firm already received in a year, claim periods, and the figures of an interest-subsidy claim
for one loan period. Queries on the app's models and pure functions over them; this module imports
neither ``selectors`` nor ``services``. Every sum comes from :mod:`subsidies.calc`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from matching.models import Loan

from . import calc
from .lpr import LPR_FIRST_DATE
from .models import Claim, LprRate, Policy, PolicyKind
from .params import InterestParams

ZERO = Decimal("0.00")


def policy_in_force(kind: str, on_date: date) -> Policy | None:
    """The policy version of ``kind`` whose effective period covers ``on_date``.

    The current (active) version wins over an older one that still covers the date; among equals
    the latest effective date, then the highest version.
    """
    return (
        Policy.objects.filter(kind=kind, effective_from__lte=on_date)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on_date))
        .order_by("-is_active", "-effective_from", "-version", "-id")
        .first()
    )


def lpr_in_force(on_date: date) -> LprRate | None:
    """The LPR row in force on ``on_date`` (the latest one from on or before it), or None: a date
    before the first reformed reading (2019-08-20) or before every row of the table has no LPR."""
    if on_date < LPR_FIRST_DATE:
        return None
    return LprRate.objects.filter(effective_from__lte=on_date).order_by("-effective_from").first()


def no_lpr_reason(on_date: date) -> str:
    """Why ``on_date`` has no LPR, in Chinese."""
    if on_date < LPR_FIRST_DATE:
        return _("%(d)s 没有 LPR：贷款市场报价利率（LPR）自 %(first)s 起按新机制报价，此前没有 LPR。") % {
            "d": on_date.isoformat(),
            "first": LPR_FIRST_DATE.isoformat(),
        }
    return _("%(d)s 没有 LPR：LPR 表中没有该日或之前生效的报价，请专班补录。") % {"d": on_date.isoformat()}


def interest_ratio(
    params: InterestParams, *, annual_rate: Decimal, on_date: date
) -> tuple[Decimal | None, list[str]]:
    """The subsidy ratio (share of interest) for a loan at ``annual_rate``; with the reasons.

    A policy may state its ratio against LPR (``ratio_of_lpr``): the subsidy rate is then
    ratio_of_lpr × the 1-year LPR on ``on_date`` (the loan's start date), i.e. a share of interest
    of ratio_of_lpr × LPR ÷ annual_rate, at most 100 %. Where that date has no LPR the ratio is
    None and the reason says so (callers give no subsidy with that reason; nothing raises).
    """
    if params.ratio_of_lpr is None:
        return params.ratio or ZERO, []
    row = lpr_in_force(on_date)
    if row is None:
        return None, [no_lpr_reason(on_date)]
    lpr = row.one_year
    subsidy_rate = params.ratio_of_lpr * lpr
    ratio = min(Decimal("1"), subsidy_rate / annual_rate)
    reason = _(
        "本政策按 LPR 贴息：%(d)s 适用 1 年期 LPR %(lpr)s%%，贴息利率 = %(share)s × %(lpr)s%% = %(sr)s%%，"
        "相当于利息的 %(ratio)s。"
    ) % {
        "d": on_date.isoformat(),
        "lpr": lpr,
        "share": params.ratio_of_lpr,
        "sr": subsidy_rate.normalize(),
        "ratio": f"{(ratio * 100).quantize(Decimal('0.01'))}%",
    }
    return ratio, [reason]


def firm_subsidised_by_year(enterprise, years) -> dict[int, Decimal]:
    """What the firm already received (interest-subsidy claims in any status but rejected) in
    each of ``years`` — what is no longer left of its yearly cap."""
    years = list(years)
    live = [
        Claim.Status.AWAITING_CONFIRMATION,
        Claim.Status.SUBMITTED,
        Claim.Status.REVIEWED,
        Claim.Status.APPROVED,
        Claim.Status.PAID,
    ]
    rows = dict(
        Claim.objects.filter(
            kind=PolicyKind.INTEREST,
            enterprise_id=getattr(enterprise, "pk", enterprise),
            year__in=years,
            status__in=live,
        )
        .values("year")
        .annotate(total=Sum("amount"))
        .values_list("year", "total")
    )
    return {y: rows.get(y, ZERO) for y in years}


def period_of(rule: str, day: date) -> tuple[date, date]:
    """The claim period containing ``day``: its calendar quarter, or its calendar year."""
    if rule == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    q = (day.month - 1) // 3
    start = date(day.year, 3 * q + 1, 1)
    end = calc.add_months(start, 3) - timedelta(days=1)
    return start, end


def periods_of_year(rule: str, year: int) -> list[tuple[date, date]]:
    if rule == "year":
        return [(date(year, 1, 1), date(year, 12, 31))]
    return [period_of(rule, date(year, m, 1)) for m in (1, 4, 7, 10)]


def _firm_used_this_year(enterprise_id, year: int) -> Decimal:
    return firm_subsidised_by_year(enterprise_id, [year])[year]


class Skip(Exception):
    """A loan-period pair that gets no claim, with the reason (for the generator's report)."""


def _life_end(loan: Loan) -> date:
    """The first day the loan no longer accrues contractual interest: its maturity, or the day it
    was recorded as defaulted if earlier."""
    if loan.defaulted_on and loan.defaulted_on < loan.maturity_date:
        return loan.defaulted_on
    return loan.maturity_date


def loan_outstanding_segments(loan: Loan) -> list[tuple[date, date, Decimal]]:
    """The loan's life as ``(from, to, outstanding principal)`` pieces, ``to`` exclusive: the
    principal from the start date, less each principal repayment from the day it was paid."""
    end = _life_end(loan)
    outstanding, cursor = loan.principal, loan.start_date
    pieces: list[tuple[date, date, Decimal]] = []
    for r in sorted(loan.repayments.all(), key=lambda r: (r.paid_on, r.pk or 0)):
        if r.principal <= 0:
            continue
        day = min(max(r.paid_on, cursor), end)
        if day > cursor and outstanding > 0:
            pieces.append((cursor, day, outstanding))
        cursor = max(cursor, day)
        outstanding -= r.principal
    if end > cursor and outstanding > 0:
        pieces.append((cursor, end, outstanding))
    return pieces


def _clip(pieces, lo: date, hi: date) -> list[tuple[date, date, Decimal]]:
    return [(max(a, lo), min(b, hi), out) for a, b, out in pieces if min(b, hi) > max(a, lo)]


def interest_claim_figures(*, loan: Loan, period_start: date, period_end: date) -> dict:
    """Everything an interest-subsidy claim for ``loan`` over the period would hold: the interest
    accrued on the period's days inside the loan's life and the subsidy on it (domain.md §4).
    Raises :class:`Skip` with the reason when no claim is due."""
    policy = policy_in_force(PolicyKind.INTEREST, period_start)
    if policy is None:
        raise Skip(_("期间起始日没有生效的贷款贴息政策"))
    params = InterestParams.of(policy)
    application = loan.application
    product = application.product
    enterprise = application.enterprise
    if product.product_type not in params.eligible_product_types:
        raise Skip(_("产品类型“%(t)s”不在政策适用范围内") % {"t": product.get_product_type_display()})
    if not enterprise.is_verified:
        raise Skip(_("企业尚未通过认证"))
    first = max(period_start, loan.start_date)
    stop = min(period_end + timedelta(days=1), _life_end(loan))
    if stop <= first:
        raise Skip(_("本期不在贷款计息期内"))
    pieces = loan_outstanding_segments(loan)
    now = _clip(pieces, first, stop)
    if not now:
        raise Skip(_("本期没有未偿本金"))
    repayments = sorted(loan.repayments.all(), key=lambda r: (r.paid_on, r.pk or 0))
    paying = [r for r in repayments if r.interest > 0 and r.paid_on >= first]
    if not paying:
        raise Skip(_("本期应计利息尚未由银行登记支付"))
    covering = paying[0]
    window = [r for r in repayments if first <= r.paid_on <= covering.paid_on]
    late = [r for r in window if not r.on_time]
    if late and params.require_on_time:
        raise Skip(
            _("本期有逾期还款（%(d)s），按政策不享受贴息")
            % {"d": "、".join(r.paid_on.isoformat() for r in late)}
        )
    ratio, lpr_reasons = interest_ratio(params, annual_rate=loan.annual_rate, on_date=loan.start_date)
    if ratio is None:
        raise Skip(lpr_reasons[0])
    year_first = max(date(period_start.year, 1, 1), loan.start_date)
    already = _firm_used_this_year(enterprise.pk, period_start.year)
    result = calc.interest_subsidy_for_period(
        segments=now,
        annual_rate=loan.annual_rate,
        basis=params.basis,
        ratio=ratio,
        principal_cap_rate=params.principal_cap_rate,
        firm_year_cap=params.firm_year_cap,
        already_subsidised_this_year=already,
        earlier_segments_this_year=_clip(pieces, year_first, first),
        repaid_on_time=not late,
        require_on_time=params.require_on_time,
    )
    if result.amount <= 0:
        raise Skip(_("本年贴息已达企业年度上限"))
    reasons = [
        _("适用政策：%(n)s（第 %(v)s 版），申领期间 %(a)s 至 %(b)s，计入 %(y)s 年度。")
        % {
            "n": policy.name,
            "v": policy.version,
            "a": period_start.isoformat(),
            "b": period_end.isoformat(),
            "y": period_start.year,
        },
        _("本期利息已由银行于 %(d)s 登记支付%(late)s；该企业 %(y)s 年此前已申领贴息 %(u)s。")
        % {
            "d": covering.paid_on.isoformat(),
            "late": _("（有逾期）") if late else _("（按期）"),
            "y": period_start.year,
            "u": calc.fmt_yuan(already),
        },
        *lpr_reasons,
        *result.reasons,
    ]
    return {
        "policy": policy,
        "params": params,
        "amount": result.amount,
        "accrued_interest": result.accrued_interest,
        "days": result.days,
        "reasons": reasons,
        "enterprise": enterprise,
        "institution_id": product.institution_id,
    }
