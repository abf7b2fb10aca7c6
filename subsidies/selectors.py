"""Reads of the subsidies app: the policy in force, the quote, claim scoping, ledger balances and
leverage. Every figure comes from :mod:`subsidies.calc`; nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from matching.models import Application, Loan
from matching.selectors import application_for_user, loan_for_user
from portal import kpi
from portal.models import Role
from portal.services import ServiceError
from portal.vocabulary import PRODUCT_TYPES

from . import calc
from .models import Claim, LedgerEntry, LprRate, Policy, PolicyKind
from .params import InterestParams
from .rules import (
    Skip,
    firm_subsidised_by_year,
    interest_claim_figures,
    interest_ratio,
    periods_of_year,
    policy_in_force,
)

ZERO = Decimal("0.00")


# ------------------------------------------------------------------------------------------
# Policies and LPR
# ------------------------------------------------------------------------------------------


def lpr_table() -> list[tuple[date, Decimal, Decimal]]:
    return [tuple(row) for row in LprRate.objects.values_list("effective_from", "one_year", "five_year")]


def lpr_list():
    """Every LPR row, oldest first."""
    return LprRate.objects.order_by("effective_from")


# ------------------------------------------------------------------------------------------
# Quote (calculator API, calculator page and the product page tag share this one function)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductQuote:
    product: object
    amount: Decimal
    term_months: int
    annual_rate: Decimal
    start: date
    end: date
    days: int
    interest: Decimal
    subsidy: Decimal
    interest_after_subsidy: Decimal
    effective_annual_rate: Decimal
    basis: int
    policy: Policy | None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    years: tuple = field(default_factory=tuple)  # calc.QuoteYear per calendar-year part
    assumption: str = ""  # what the quote assumes about the policy, said on screen

    def as_api(self) -> dict:
        return {
            "days": self.days,
            "interest": str(self.interest),
            "subsidy": str(self.subsidy),
            "interest_after_subsidy": str(self.interest_after_subsidy),
            "effective_annual_rate": str(self.effective_annual_rate),
            "policy": None
            if self.policy is None
            else {
                "id": self.policy.pk,
                "series": self.policy.series,
                "version": self.policy.version,
                "name": self.policy.name,
            },
            "basis": self.basis,
            "reasons": list(self.reasons),
        }


def _check_decimal(name: str, value) -> Decimal:
    if isinstance(value, float) or not isinstance(value, Decimal):
        raise TypeError(f"{name}: 须为 Decimal，收到 {type(value).__name__}")
    return value


def quote_for_product(
    *,
    product,
    amount: Decimal,
    term_months: int,
    annual_rate: Decimal | None = None,
    start: date | None = None,
    enterprise=None,
) -> ProductQuote:
    """What a bullet loan under ``product`` costs after the interest subsidy (domain.md §4).

    ``annual_rate`` defaults to the product's lowest rate; ``start`` to today. The policy is the
    interest-subsidy policy in force on ``start``, assumed to continue for the whole term (the
    quote says so in ``assumption``); a loan over several calendar years is the sum of its years,
    each with its own firm cap, less what ``enterprise`` (the firm asking; None: anonymous, nothing)
    already received in that year. A product type outside the eligible types (e.g. not a credit
    loan) gets zero with the reason. ``ServiceError(field=...)`` names the input for a
    non-positive amount, a term below one month or a rate outside the product's range.
    """
    amount = _check_decimal("amount", amount)
    if annual_rate is None:
        annual_rate = product.rate_min
        if annual_rate is None:
            raise ServiceError(_("该产品未公布利率，请填写年利率"), field="annual_rate")
    annual_rate = _check_decimal("annual_rate", annual_rate)
    start = start or timezone.localdate()
    if amount <= 0:
        raise ServiceError(_("贷款金额必须大于 0"), field="amount")
    if not isinstance(term_months, int) or isinstance(term_months, bool) or term_months < 1:
        raise ServiceError(_("贷款期限至少 1 个月"), field="term_months")
    if annual_rate <= 0:
        raise ServiceError(_("年利率必须大于 0"), field="annual_rate")
    if (product.rate_min is not None and annual_rate < product.rate_min) or (
        product.rate_max is not None and annual_rate > product.rate_max
    ):
        raise ServiceError(
            _("年利率须在该产品的利率区间 %(lo)s%% – %(hi)s%% 之内")
            % {"lo": product.rate_min or "—", "hi": product.rate_max or "—"},
            field="annual_rate",
        )

    policy = policy_in_force(PolicyKind.INTEREST, start)
    if policy is None:
        result = calc.quote(
            principal=amount,
            annual_rate=annual_rate,
            start=start,
            months=term_months,
            ratio=ZERO,
            principal_cap_rate=ZERO,
            firm_year_cap=ZERO,
            basis=360,
            eligible=False,
            ineligible_reason=_("%(d)s 没有生效的贷款贴息政策") % {"d": start.isoformat()},
        )
        extra: list[str] = []
        assumption = ""
    else:
        params = InterestParams.of(policy)
        eligible = product.product_type in params.eligible_product_types
        extra = [_("适用政策：%(name)s（第 %(v)s 版）。") % {"name": policy.name, "v": policy.version}]
        assumption = str(QUOTE_ASSUMPTION) % {"d": start.isoformat()}
        ratio = ZERO
        types = "、".join(calc_labels(params.eligible_product_types))
        ineligible_reason = _("该产品为%(t)s，贴息政策仅适用于%(types)s") % {
            "t": product.get_product_type_display(),
            "types": types,
        }
        if eligible:
            ratio, lpr_reasons = interest_ratio(params, annual_rate=annual_rate, on_date=start)
            if ratio is None:
                eligible, ratio, ineligible_reason = False, ZERO, lpr_reasons[0]
            else:
                extra += lpr_reasons
        already = {}
        if enterprise is not None and eligible:
            end_year = calc.add_months(start, term_months).year
            already = firm_subsidised_by_year(enterprise, range(start.year, end_year + 1))
            if any(already.values()):
                extra.append(
                    _("已扣除贵企业当年已申领的贴息：%(list)s。")
                    % {"list": "；".join(f"{y} 年 {calc.fmt_yuan(v)}" for y, v in already.items() if v)}
                )
        result = calc.quote(
            principal=amount,
            annual_rate=annual_rate,
            start=start,
            months=term_months,
            ratio=ratio,
            principal_cap_rate=params.principal_cap_rate,
            firm_year_cap=params.firm_year_cap,
            basis=params.basis,
            eligible=eligible,
            ineligible_reason=ineligible_reason,
            already_subsidised_by_year=already,
        )
        extra.append(assumption)
    return ProductQuote(
        product=product,
        amount=amount,
        term_months=term_months,
        annual_rate=annual_rate,
        start=start,
        end=result.end,
        days=result.days,
        interest=result.interest,
        subsidy=result.subsidy,
        interest_after_subsidy=result.interest_after_subsidy,
        effective_annual_rate=result.effective_annual_rate,
        basis=result.basis,
        policy=policy,
        reasons=tuple(extra) + result.reasons,
        years=result.years,
        assumption=assumption,
    )


QUOTE_ASSUMPTION = gettext_lazy(
    "测算假设 %(d)s 生效的贴息政策在贷款期内各年度延续不变；跨年度的贷款按自然年度分段计算，"
    "每年各自适用企业年度上限，实际以各期申领时有效的政策为准。"
)


def calc_labels(codes) -> list[str]:

    return [PRODUCT_TYPES.get(c, c) for c in codes]


# ------------------------------------------------------------------------------------------
# Claims (scoping), budget balances and the ledger
# ------------------------------------------------------------------------------------------


def claim_for_user(user):
    """Staff and the finance desk: every claim. Firm: its own. Officer and manager: their institution's (interest
    claims on its loans, its risk compensation and rewards). Anyone else: nothing."""
    qs = Claim.objects.select_related(
        "policy", "enterprise", "institution", "loan", "reviewed_by", "approved_by", "paid_by"
    )
    if not user.is_authenticated:
        return qs.none()
    if user.role in (Role.STAFF, Role.FINANCE):
        return qs
    if user.role == Role.FIRM:
        return qs.filter(enterprise_id=user.enterprise_id)
    if user.role in (Role.OFFICER, Role.MANAGER):
        return qs.filter(institution_id=user.institution_id)
    return qs.none()


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def policies_covering(year: int):
    first, last = _year_bounds(year)
    return Policy.objects.filter(effective_from__lte=last).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=first)
    )


def _sums(qs) -> dict:
    rows = qs.values("policy__series", "year", "kind").annotate(total=Sum("amount"))
    out: dict = {}
    for r in rows:
        out.setdefault((r["policy__series"], r["year"]), {})[r["kind"]] = r["total"]
    return out


def _balance(budget: Decimal, sums: dict) -> dict:
    commit = sums.get(LedgerEntry.Kind.COMMIT, ZERO)
    release = sums.get(LedgerEntry.Kind.RELEASE, ZERO)
    paid = sums.get(LedgerEntry.Kind.PAY, ZERO)
    recovered = sums.get(LedgerEntry.Kind.RECOVERY, ZERO)
    committed = commit - release
    return {
        "budget": budget,
        "committed": committed,
        "paid": paid,
        "committed_unpaid": committed - paid,
        "recovered": recovered,
        "remaining": budget - committed + recovered,
    }


def budget_balance(*, series: str, year: int) -> dict:
    """Budget, committed, paid, recovered and remaining of a policy series in a budget year, all
    from sums of LedgerEntry. The budget is that of the newest version covering the year."""
    version = policies_covering(year).filter(series=series).order_by("-version").first()
    budget = version.budget if version else ZERO
    sums = _sums(LedgerEntry.objects.filter(policy__series=series, year=year)).get((series, year), {})
    return {"series": series, "year": year, "policy": version, **_balance(budget, sums)}


def ledger_balances(*, year: int) -> dict:
    """Balances of every policy series covering ``year`` and the total (two queries)."""
    versions: dict[str, Policy] = {}
    for p in policies_covering(year).order_by("series", "version"):
        versions[p.series] = p
    sums = _sums(LedgerEntry.objects.filter(year=year))
    for series, _year in sums:
        if series not in versions:
            versions[series] = Policy.objects.filter(series=series).order_by("-version").first()
    rows = []
    for series, policy in sorted(versions.items(), key=lambda kv: (kv[1].kind, kv[0])):
        budget = policy.budget if policies_covering(year).filter(pk=policy.pk).exists() else ZERO
        rows.append(
            {
                "series": series,
                "year": year,
                "policy": policy,
                **_balance(budget, sums.get((series, year), {})),
            }
        )
    total = {
        key: sum((r[key] for r in rows), ZERO)
        for key in ("budget", "committed", "paid", "committed_unpaid", "recovered", "remaining")
    }
    return {"year": year, "rows": rows, "total": total}


def ledger_entries(*, year: int | None = None, series: str | None = None):
    qs = LedgerEntry.objects.select_related(
        "policy", "claim", "by", "maker", "checker", "claim__enterprise", "claim__institution"
    )
    if year:
        qs = qs.filter(year=year)
    if series:
        qs = qs.filter(policy__series=series)
    return qs


# ------------------------------------------------------------------------------------------
# Leverage
# ------------------------------------------------------------------------------------------


def _period_bounds_dt(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def policies_overlapping(start: date, end: date):
    """Policy versions whose effective period overlaps ``[start, end]``."""
    return Policy.objects.filter(effective_from__lte=end).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=start)
    )


def supported_products_q(policies, prefix: str = "") -> Q:
    """The products a policy of the fund supports, as a filter on a Product path ``prefix``:
    贴息 — the policy's eligible product types; 风险补偿 and 专属产品奖励 — the banks' exclusive
    sci-tech credit products (``is_exclusive``)."""
    types: set[str] = set()
    exclusive = False
    for policy in policies:
        if policy.kind == PolicyKind.INTEREST:
            types.update(InterestParams.of(policy).eligible_product_types)
        else:
            exclusive = True
    q = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
    if types:
        q |= Q(**{f"{prefix}product_type__in": sorted(types)})
    if exclusive:
        q |= Q(**{f"{prefix}is_exclusive": True})
    return q


def leverage(
    *, start: date, end: date, loans=None, ledger=None, institution=None, per_policy: bool = True
) -> dict:
    """撬动 (domain.md §4), the one definition: credit disbursed in ``[start, end]`` (loans by start
    date) under the products a policy of the fund supports ÷ fiscal money paid in the period by the
    three policies (ledger payments by moment of payment) net of recoveries.

    ``per_policy=False`` skips the per-policy rows (one query less per policy).
    ``loans`` / ``ledger``: already scoped Loan / LedgerEntry querysets (the dashboard passes its
    filtered ones); by default all loans and entries, or ``institution``'s (its products' loans;
    claims of or through it). Returns ``{"start", "end", "finance", "loans", "paid", "recovered",
    "fiscal", "ratio", "definition", "policies": [...]}``; each policy row has the same figures for
    the products that policy supports and its own payments."""
    institution_id = getattr(institution, "pk", institution)
    if loans is None:
        loans = Loan.objects.all()
        if institution_id:
            loans = loans.filter(application__product__institution_id=institution_id)
    if ledger is None:
        ledger = LedgerEntry.objects.all()
        if institution_id:
            ledger = ledger.filter(
                Q(claim__institution_id=institution_id)
                | Q(claim__loan__application__product__institution_id=institution_id)
            )
    lo, hi = _period_bounds_dt(start, end)
    loans = loans.filter(start_date__gte=start, start_date__lte=end)
    ledger = ledger.filter(at__gte=lo, at__lt=hi, kind__in=(LedgerEntry.Kind.PAY, LedgerEntry.Kind.RECOVERY))
    policies = list(policies_overlapping(start, end).order_by("kind", "series", "version"))
    by_series: dict[str, list] = {}
    for policy in policies:
        by_series.setdefault(policy.series, []).append(policy)
    money = {
        (r["policy__series"], r["kind"]): r["s"]
        for r in ledger.order_by().values("policy__series", "kind").annotate(s=Sum("amount"))
    }
    for series, _kind in money:
        if series not in by_series:
            by_series[series] = list(Policy.objects.filter(series=series).order_by("version"))

    def figures(versions, series_list) -> dict:
        lent = loans.filter(supported_products_q(versions, "application__product__")).aggregate(
            s=Sum("principal"), n=Count("pk")
        )
        finance, count = lent["s"] or ZERO, lent["n"]
        paid = sum((money.get((s, LedgerEntry.Kind.PAY)) or ZERO for s in series_list), ZERO)
        recovered = sum((money.get((s, LedgerEntry.Kind.RECOVERY)) or ZERO for s in series_list), ZERO)
        fiscal = paid - recovered
        return {
            "finance": finance,
            "loans": count,
            "paid": paid,
            "recovered": recovered,
            "fiscal": fiscal,
            "ratio": kpi.ratio(finance, fiscal),
        }

    rows = []
    for series, versions in (
        sorted(by_series.items(), key=lambda kv: (kv[1][-1].kind, kv[0])) if per_policy else ()
    ):
        latest = versions[-1]
        rows.append(
            {"series": series, "name": latest.name, "kind": latest.kind, **figures(versions, [series])}
        )
    return {
        "start": start,
        "end": end,
        "definition": kpi.definition("leverage"),
        "finance_definition": kpi.definition("leverage_finance"),
        "fiscal_definition": kpi.definition("leverage_fiscal"),
        **figures(policies, list(by_series)),
        "policies": rows,
    }


def leverage_for_year(year: int, *, institution=None) -> dict:
    """The leverage page and API: :func:`leverage` for the calendar year ``year`` (Beijing time),
    province-wide or for ``institution``. ``{"year", "institution_id", "definition", "policies",
    "overall"}``."""
    start, end = _year_bounds(year)
    data = leverage(start=start, end=end, institution=institution)
    overall = {k: data[k] for k in ("finance", "loans", "paid", "recovered", "fiscal", "ratio")}
    return {
        "year": year,
        "institution_id": getattr(institution, "pk", institution),
        "start": start,
        "end": end,
        "definition": data["definition"],
        "finance_definition": data["finance_definition"],
        "fiscal_definition": data["fiscal_definition"],
        "policies": data["policies"],
        "overall": overall,
    }


# ------------------------------------------------------------------------------------------
# What a firm may still claim itself, and what a bank may claim
# ------------------------------------------------------------------------------------------


def claimable_periods_for_firm(user, *, today: date | None = None) -> list[dict]:
    """Ended periods of the firm's loans with recorded interest and no claim yet, under interest
    policies without 免申即享 (those are generated for the firm), each with the figures pre-filled
    (or the reason no subsidy is due)."""
    today = today or timezone.localdate()
    loans = list(loan_for_user(user).prefetch_related("repayments"))
    if not loans:
        return []
    claimed = set(
        Claim.objects.filter(kind=PolicyKind.INTEREST, loan__in=loans).values_list("loan_id", "period_start")
    )
    out = []
    for year in (today.year - 1, today.year):
        policy = policy_in_force(PolicyKind.INTEREST, date(year, 12, 31)) or policy_in_force(
            PolicyKind.INTEREST, date(year, 1, 1)
        )
        if policy is None or InterestParams.of(policy).auto_claim:
            continue
        for loan in loans:
            for start, end in periods_of_year(InterestParams.of(policy).claim_period, year):
                if end >= today or (loan.pk, start) in claimed:
                    continue
                if loan.start_date > end or loan.maturity_date <= start:
                    continue  # the period is outside the loan's life
                if not any(r.interest > 0 and r.paid_on >= start for r in loan.repayments.all()):
                    continue  # its interest is not recorded as paid yet
                try:
                    fig = interest_claim_figures(loan=loan, period_start=start, period_end=end)
                    out.append(
                        {
                            "loan": loan,
                            "start": start,
                            "end": end,
                            "amount": fig["amount"],
                            "reasons": fig["reasons"],
                        }
                    )
                except Skip as why:
                    out.append(
                        {"loan": loan, "start": start, "end": end, "amount": None, "reasons": [str(why)]}
                    )
    return out


def risk_candidates_for_bank(user):
    """Defaulted loans under the bank's exclusive products without a risk-compensation claim."""
    if not user.is_authenticated or not user.is_bank:
        return Loan.objects.none()
    return (
        loan_for_user(user)
        .filter(status=Loan.Status.DEFAULTED, application__product__is_exclusive=True)
        .exclude(claims__kind=PolicyKind.RISK)
        .order_by("-defaulted_on", "-id")
    )


# ------------------------------------------------------------------------------------------
# Offers side by side: each open offer for a need at its cost after subsidy (the quote above)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferCost:
    """One open offer (an approved credit line not yet signed, within its validity) and what it
    costs the firm after subsidy: the quote for its own terms, starting today, for this firm."""

    application: object
    quote: ProductQuote | None
    problem: str = ""  # why there is no quote (e.g. the product's rate range changed since)
    cheapest: bool = False

    def as_api(self) -> dict:
        app, q = self.application, self.quote
        return {
            "application": app.pk,
            "institution_name": app.product.institution.name,
            "product_name": app.product.name,
            "credit_line": str(app.credit_line),
            "annual_rate": str(app.approved_rate),
            "term_months": app.approved_term_months,
            "interest": str(q.interest) if q else None,
            "subsidy": str(q.subsidy) if q else None,
            "interest_after_subsidy": str(q.interest_after_subsidy) if q else None,
            "effective_annual_rate": str(q.effective_annual_rate) if q else None,
            "valid_until": app.valid_until.isoformat() if app.valid_until else None,
        }


def need_offers(*, user, need, today: date | None = None) -> list[OfferCost]:
    """The firm's open offers for ``need`` (a need the caller may see), each with the subsidies
    quote for its credit line, rate and term from today — the firm's yearly cap already used
    included — cheapest after subsidy (lowest effective annual rate) marked. Oldest offer first."""
    today = today or timezone.localdate()
    apps = list(
        application_for_user(user)
        .filter(
            need_id=need.pk,
            enterprise_id=need.enterprise_id,
            status=Application.Status.APPROVED,
            credit_line__isnull=False,
            approved_rate__isnull=False,
            approved_term_months__isnull=False,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("approved_at", "pk")
    )
    rows: list[tuple[object, ProductQuote | None, str]] = []
    for app in apps:
        try:
            q = quote_for_product(
                product=app.product,
                amount=app.credit_line,
                term_months=app.approved_term_months,
                annual_rate=app.approved_rate,
                start=today,
                enterprise=app.enterprise_id,
            )
        except ServiceError as exc:
            rows.append((app, None, exc.message))
        else:
            rows.append((app, q, ""))
    rates = [q.effective_annual_rate for _app, q, _p in rows if q is not None]
    best = min(rates) if len(rates) > 1 else None
    return [
        OfferCost(
            application=app,
            quote=q,
            problem=problem,
            cheapest=best is not None and q is not None and q.effective_annual_rate == best,
        )
        for app, q, problem in rows
    ]


def loan_subsidies(loans) -> dict[int, dict]:
    """Interest subsidy on each of ``loans`` (already scoped by the caller), from its claims as
    recorded — never recomputed: ``received`` is what was paid out (已拨付), ``pending`` what is
    claimed and not yet paid (awaiting the firm, submitted or approved). loan id → both, in yuan."""
    ids = [getattr(loan, "pk", loan) for loan in loans]
    out = {pk: {"received": ZERO, "pending": ZERO} for pk in ids}
    rows = (
        Claim.objects.filter(kind=PolicyKind.INTEREST, loan_id__in=ids)
        .exclude(status=Claim.Status.REJECTED)
        .values("loan_id", "status")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        key = "received" if row["status"] == Claim.Status.PAID else "pending"
        out[row["loan_id"]][key] += row["total"] or ZERO
    return out
