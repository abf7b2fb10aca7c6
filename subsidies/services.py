"""Writes of the subsidies app: policy versions, LPR rows, claims and their review, the ledger.

Rules stated here (and shown to users in the explanations):

* **Claim period (贴息)** — a policy's ``claim_period`` cuts a year into calendar quarters
  (default) or the calendar year; a claim covers one loan and one period that has ended: the
  days of the period inside the loan's life (start to maturity, or to the default date), with the
  principal outstanding over them, accrue the interest the subsidy is on (domain.md §4); the
  principal cap is an annual rate pro rata to those days. The claim's year is the period's year
  (its days fall in it) and its policy the version in force on the period's first day.
* **When a claim is due (免申即享)** — once the bank has recorded the period's interest as paid:
  the first repayment carrying interest dated on or after the period's first interest day covers
  it (interest is paid in arrears: quarterly on the 21st, or at maturity); any repayment from
  that day up to the covering one recorded as late excludes the period when the policy requires
  on-time repayment.
* **Per-firm yearly cap** — the firm's interest claims already made that year (any status but
  rejected), all loans together, count against ``firm_year_cap``: a claim gets at most what is left.
* **Risk compensation** — only for defaulted loans under exclusive sci-tech products
  (``Product.is_exclusive``); the trigger is the product's **year-end** NPL ratio for the year Y
  of default: outstanding principal of its defaulted loans on 12-31 of Y ÷ outstanding principal
  of all its loans on 12-31 of Y (normal, overdue and defaulted); above ``npl_trigger`` it pays.
  Defaults of Y are claimable from 1 January of Y+1, once the ratio is known. The bank's yearly
  cap counts the institution's risk claims of that year (any status but rejected).
* **Exclusive-product reward** — counts credit lines in force only (approved and not later
  withdrawn, rejected or cancelled), at the approved amount, in the year of approval.
* **Budget** — per policy series and budget year: the budget of the newest version covering the
  year; remaining = budget − (COMMIT − RELEASE) + RECOVERY, all sums of LedgerEntry.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from matching.models import Application, Loan
from portal.models import Role, Transition, User
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record

from . import calc, duties
from .lpr import LPR_FIRST_DATE
from .models import Claim, LedgerEntry, LprRate, Policy, PolicyKind, Recovery
from .params import (
    PARAMETER_LABELS,
    InterestParams,
    ParameterError,
    RewardParams,
    RiskParams,
    validate_parameters,
)
from .rules import Skip, interest_claim_figures, period_of, periods_of_year, policy_in_force
from .selectors import budget_balance

ZERO = Decimal("0.00")
LIVE_STATUSES = (
    Claim.Status.AWAITING_CONFIRMATION,
    Claim.Status.SUBMITTED,
    Claim.Status.REVIEWED,
    Claim.Status.APPROVED,
    Claim.Status.PAID,
)


def _require_staff(user) -> None:
    if not user.is_authenticated or user.role != Role.STAFF:
        raise NotAllowedError(_("只有省级专班可以执行此操作"))


_DUTY_REFUSALS = {
    duties.AUTHOR_POLICY: _lazy("只有省级专班（科技口）可以编写和修改补贴政策"),
    duties.REVIEW_CLAIM: _lazy("只有省级专班（科技口）可以初审申领"),
    duties.APPROVE_CLAIM: _lazy("只有财政专班可以批准或退回已初审的申领"),
    duties.PAY_CLAIM: _lazy("只有财政专班可以标记拨付"),
}


def _require_duty(user, permission: str) -> None:
    """The money-flow permission, granted by role in ``subsidies.duties`` (one table)."""
    if not duties.holds(user, permission):
        raise NotAllowedError(str(_DUTY_REFUSALS[permission]), code="duty")


def _money(value, field: str) -> Decimal:
    if isinstance(value, float) or not isinstance(value, Decimal):
        raise TypeError(f"{field}: 须为 Decimal，收到 {type(value).__name__}")
    return value


# ------------------------------------------------------------------------------------------
# Policies and LPR
# ------------------------------------------------------------------------------------------


def _check_policy_fields(*, kind, parameters, effective_from, effective_to, budget) -> dict:
    _money(budget, "budget")
    if budget < 0:
        raise ServiceError(_("预算不能为负数"), field="budget")
    if effective_to is not None and effective_to < effective_from:
        raise ServiceError(_("失效日期不能早于生效日期"), field="effective_to")
    try:
        return validate_parameters(kind, parameters)
    except ParameterError as exc:
        name, message = next(iter(exc.errors.items()))
        label = PARAMETER_LABELS[name][0] if name in PARAMETER_LABELS else _("政策参数")
        raise ServiceError(f"{label}：{message}", field=name) from exc


@transaction.atomic
def policy_create(
    *,
    user,
    series: str,
    kind: str,
    name: str,
    parameters: dict,
    effective_from: date,
    effective_to: date | None = None,
    budget: Decimal,
    source: str = "",
) -> Policy:
    """Create version 1 of a new policy series."""
    _require_duty(user, duties.AUTHOR_POLICY)
    clean = _check_policy_fields(
        kind=kind,
        parameters=parameters,
        effective_from=effective_from,
        effective_to=effective_to,
        budget=budget,
    )
    if Policy.objects.filter(series=series).exists():
        raise ConflictError(_("政策编号已存在，请在原政策上“修改”生成新版本"), field="series")
    try:
        with transaction.atomic():
            policy = Policy.objects.create(
                series=series,
                version=1,
                kind=kind,
                name=name,
                parameters=clean,
                effective_from=effective_from,
                effective_to=effective_to,
                budget=budget,
                is_active=True,
                source=source,
                created_by=user,
                updated_by=user,
            )
    except IntegrityError as exc:
        raise ConflictError(_("政策编号已存在"), field="series") from exc
    transition_record(subject=policy, from_state="", to_state="v1", actor=user, note=_("新建政策"))
    return policy


@transaction.atomic
def policy_new_version(
    *,
    user,
    policy: Policy,
    name: str,
    parameters: dict,
    effective_from: date,
    effective_to: date | None = None,
    budget: Decimal,
    source: str = "",
) -> Policy:
    """ "Edit" a policy: a new version of its series. The old version is deactivated (its period
    ends the day before the new one starts, if it started earlier); claims keep their version. The
    old version's period is thereby edited: its ``updated_by`` becomes ``user``."""
    _require_duty(user, duties.AUTHOR_POLICY)
    clean = _check_policy_fields(
        kind=policy.kind,
        parameters=parameters,
        effective_from=effective_from,
        effective_to=effective_to,
        budget=budget,
    )
    versions = list(Policy.objects.select_for_update().filter(series=policy.series).order_by("version"))
    current = next((p for p in versions if p.is_active), versions[-1])
    if effective_from < current.effective_from:
        raise ServiceError(_("新版本的生效日期不能早于现行版本的生效日期"), field="effective_from")
    current.is_active = False
    if effective_from > current.effective_from:
        current.effective_to = effective_from - timedelta(days=1)
    current.updated_by = user
    current.save(update_fields=["is_active", "effective_to", "updated_by"])
    new = Policy.objects.create(
        series=policy.series,
        version=versions[-1].version + 1,
        kind=policy.kind,
        name=name,
        parameters=clean,
        effective_from=effective_from,
        effective_to=effective_to,
        budget=budget,
        is_active=True,
        source=source,
        created_by=user,
        updated_by=user,
    )
    transition_record(
        subject=new,
        from_state=f"v{current.version}",
        to_state=f"v{new.version}",
        actor=user,
        note=_("政策修改，生成新版本"),
    )
    return new


@transaction.atomic
def lpr_add(*, user, effective_from: date, one_year: Decimal, five_year: Decimal) -> LprRate:
    _require_staff(user)
    _money(one_year, "one_year")
    _money(five_year, "five_year")
    if one_year <= 0 or five_year <= 0:
        raise ServiceError(_("LPR 必须大于 0"), field="one_year")
    if effective_from < LPR_FIRST_DATE:
        raise ServiceError(
            _("LPR 自 %(d)s 起按新机制报价，生效日期不能早于该日") % {"d": LPR_FIRST_DATE.isoformat()},
            field="effective_from",
        )
    try:
        with transaction.atomic():
            row = LprRate.objects.create(
                effective_from=effective_from, one_year=one_year, five_year=five_year
            )
    except IntegrityError as exc:
        raise ConflictError(_("该生效日期的 LPR 已存在"), field="effective_from") from exc
    transition_record(subject=row, from_state="", to_state="added", actor=user, note=str(row))
    return row


# ------------------------------------------------------------------------------------------
# Claim helpers
# ------------------------------------------------------------------------------------------


def _firm_users(enterprise_id):
    return list(User.objects.filter(enterprise_id=enterprise_id, role=Role.FIRM, is_active=True))


def _bank_users(institution_id):
    return list(
        User.objects.filter(
            branch__institution_id=institution_id, role__in=(Role.MANAGER, Role.OFFICER), is_active=True
        )
    )


def _audience(claim: Claim):
    if claim.kind == PolicyKind.INTEREST and claim.enterprise_id:
        return _firm_users(claim.enterprise_id)
    return _bank_users(claim.institution_id) if claim.institution_id else []


def _claim_url(claim: Claim, user) -> str:
    if user.role == Role.FIRM:
        return reverse("subsidies:my_claims")
    if user.role in (Role.STAFF, Role.FINANCE):
        return reverse("subsidies:claim_detail", args=[claim.pk])
    return reverse("subsidies:bank_claims")


def _notify(claim: Claim, title: str, body: str = "") -> None:
    users = _audience(claim)
    for user in users:
        notification_send(users=[user], title=title, body=body, url=_claim_url(claim, user))


def _claim_insert(**fields) -> Claim:
    """Insert a claim; a duplicate (same loan and period, or the same bank's reward for the year)
    is refused by the database constraints and reported as a clear conflict."""
    try:
        with transaction.atomic():
            return Claim.objects.create(**fields)
    except IntegrityError as exc:
        text = str(exc)
        if "claim_reward_once_per_year" in text:
            raise ConflictError(
                _("该机构该年度的专属产品奖励已生成，不能重复申领"), code="duplicate"
            ) from exc
        if "claim_once_per_loan_period" in text:
            raise ConflictError(_("该贷款在该期间已有申领，不能重复申领"), code="duplicate") from exc
        raise


# ------------------------------------------------------------------------------------------
# 贷款贴息 — interest subsidy claims
# ------------------------------------------------------------------------------------------


def _loans_for_interest(year: int):
    """Loans whose life overlaps ``year`` and with interest recorded as paid from that year on."""
    return (
        Loan.objects.filter(start_date__lte=date(year, 12, 31), maturity_date__gt=date(year, 1, 1))
        .filter(repayments__paid_on__gte=date(year, 1, 1), repayments__interest__gt=0)
        .distinct()
        .select_related("application", "application__product", "application__enterprise")
        .prefetch_related("repayments")
        .order_by("start_date", "id")
    )


@transaction.atomic
def interest_claims_generate(*, year: int, as_of: date | None = None, actor=None) -> dict:
    """免申即享: create the interest-subsidy claims of ``year`` for every ended period and every
    credit loan with recorded interest, under policies with ``auto_claim``. Idempotent: an
    existing claim for a loan and period is left alone. Claims wait for the firm to confirm its
    bank account (status awaiting)."""
    as_of = as_of or timezone.localdate()
    report = {"created": 0, "existing": 0, "skipped": 0, "amount": ZERO, "reasons": {}}
    existing = set(
        Claim.objects.filter(kind=PolicyKind.INTEREST, year=year).values_list("loan_id", "period_start")
    )
    policy = policy_in_force(PolicyKind.INTEREST, date(year, 1, 1)) or policy_in_force(
        PolicyKind.INTEREST, date(year, 12, 31)
    )
    rule = InterestParams.of(policy).claim_period if policy else "quarter"
    if policy is not None:
        _lock_series(policy.series)  # one generator at a time: the per-firm yearly cap holds
    for loan in _loans_for_interest(year):
        for start, end in periods_of_year(rule, year):
            if end >= as_of:
                continue
            if (loan.pk, start) in existing:
                report["existing"] += 1
                continue
            try:
                fig = interest_claim_figures(loan=loan, period_start=start, period_end=end)
                if not fig["params"].auto_claim:
                    raise Skip(_("政策未实行免申即享，由企业自行申领"))
            except Skip as why:
                report["skipped"] += 1
                report["reasons"][str(why)] = report["reasons"].get(str(why), 0) + 1
                continue
            claim = _interest_claim_insert(
                loan=loan, fig=fig, start=start, end=end, status=Claim.Status.AWAITING_CONFIRMATION
            )
            existing.add((loan.pk, start))
            transition_record(
                subject=claim,
                from_state="",
                to_state=claim.status,
                actor=actor,
                note=_("免申即享：按本期应计利息自动生成（银行已登记付息）"),
            )
            _notify(
                claim,
                _("您有一笔贷款贴息待确认：%(a)s") % {"a": calc.fmt_yuan(claim.amount)},
                _("系统已按 %(a)s 至 %(b)s 的应计利息为您生成贴息，请确认收款账户。")
                % {"a": start.isoformat(), "b": end.isoformat()},
            )
            report["created"] += 1
            report["amount"] += claim.amount
    return report


def _interest_claim_insert(*, loan: Loan, fig: dict, start: date, end: date, status: str, **payee) -> Claim:
    """The interest-subsidy claim of one loan period, from :func:`interest_claim_figures`' figures
    (generated 免申即享 or submitted by the firm)."""
    return _claim_insert(
        policy=fig["policy"],
        kind=PolicyKind.INTEREST,
        loan=loan,
        enterprise=fig["enterprise"],
        institution_id=fig["institution_id"],
        year=start.year,
        period_start=start,
        period_end=end,
        amount=fig["amount"],
        explanation=fig["reasons"],
        status=status,
        **payee,
    )


def _check_account(payee_name: str, payee_bank: str, payee_account: str) -> tuple[str, str, str]:
    payee_name, payee_bank = payee_name.strip(), payee_bank.strip()
    account = payee_account.replace(" ", "")
    if not payee_name:
        raise ServiceError(_("请填写收款户名"), field="payee_name")
    if not payee_bank:
        raise ServiceError(_("请填写开户行"), field="payee_bank")
    if not account.isdigit() or not 8 <= len(account) <= 40:
        raise ServiceError(_("收款账号只能包含数字，8 到 40 位"), field="payee_account")
    return payee_name, payee_bank, account


@transaction.atomic
def interest_claim_submit(
    *, user, loan: Loan, period_start: date, payee_name: str, payee_bank: str, payee_account: str
) -> Claim:
    """A firm claims the interest subsidy for one ended period of its loan (policies without
    免申即享); every figure is computed from the loan (interest accrued in the period)."""
    if user.role != Role.FIRM or loan.application.enterprise_id != user.enterprise_id:
        raise NotAllowedError(_("只能为本企业的贷款申领贴息"))
    policy = policy_in_force(PolicyKind.INTEREST, period_start)
    rule = InterestParams.of(policy).claim_period if policy else "quarter"
    if policy is not None:
        _lock_series(policy.series)
    start, end = period_of(rule, period_start)
    if end >= timezone.localdate():
        raise ServiceError(_("该期间尚未结束，结束后才能申领"), field="period")
    payee_name, payee_bank, account = _check_account(payee_name, payee_bank, payee_account)
    try:
        fig = interest_claim_figures(loan=loan, period_start=start, period_end=end)
    except Skip as why:
        raise ServiceError(str(why), field="period") from why
    claim = _interest_claim_insert(
        loan=loan,
        fig=fig,
        start=start,
        end=end,
        status=Claim.Status.SUBMITTED,
        payee_name=payee_name,
        payee_bank=payee_bank,
        payee_account=account,
    )
    transition_record(subject=claim, from_state="", to_state=claim.status, actor=user, note=_("企业申领"))
    return claim


@transaction.atomic
def claim_confirm(*, user, claim: Claim, payee_name: str, payee_bank: str, payee_account: str) -> Claim:
    """The firm confirms its bank account on an auto-generated claim: awaiting → submitted.
    Staff may record it on the firm's behalf (e.g. during a service visit); the record says so."""
    on_behalf = user.role == Role.STAFF
    if not on_behalf and (user.role != Role.FIRM or claim.enterprise_id != user.enterprise_id):
        raise NotAllowedError(_("只能确认本企业的申领"))
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != Claim.Status.AWAITING_CONFIRMATION:
        raise ConflictError(_("该申领不在待确认状态"))
    claim.payee_name, claim.payee_bank, claim.payee_account = _check_account(
        payee_name, payee_bank, payee_account
    )
    claim.status = Claim.Status.SUBMITTED
    claim.save(update_fields=["payee_name", "payee_bank", "payee_account", "status"])
    transition_record(
        subject=claim,
        from_state=Claim.Status.AWAITING_CONFIRMATION,
        to_state=claim.status,
        actor=user,
        note=_("专班代企业录入收款账户") if on_behalf else _("企业确认收款账户"),
    )
    return claim


# ------------------------------------------------------------------------------------------
# 风险补偿 — risk compensation
# ------------------------------------------------------------------------------------------


def npl_ratio(*, product_id: int, year: int) -> tuple[Decimal, Decimal, Decimal | None]:
    """(defaulted outstanding, all outstanding, ratio or None when nothing was outstanding) of the
    product's loans on 31 December of ``year`` — the year-end non-performing ratio (domain.md §4).

    On that day a loan disbursed by then counts with its principal less the principal repaid by
    then; one recorded as defaulted by then counts, in both figures, with its outstanding at
    default less what was recovered on it by then."""
    day = date(year, 12, 31)
    loans = list(
        Loan.objects.filter(application__product_id=product_id, start_date__lte=day)
        .annotate(
            repaid_by=Sum("repayments__principal", filter=Q(repayments__paid_on__lte=day), default=ZERO)
        )
        .values_list("pk", "principal", "repaid_by", "status", "defaulted_on", "outstanding_at_default")
    )
    recovered = dict(
        Recovery.objects.filter(claim__loan_id__in=[row[0] for row in loans], at__date__lte=day)
        .values("claim__loan_id")
        .annotate(total=Sum("recovered"))
        .values_list("claim__loan_id", "total")
    )
    defaulted = total = ZERO
    for pk, principal, repaid_by, status, defaulted_on, at_default in loans:
        if status == Loan.Status.DEFAULTED and defaulted_on and defaulted_on <= day:
            outstanding = max(ZERO, (at_default or ZERO) - recovered.get(pk, ZERO))
            defaulted += outstanding
        else:
            outstanding = max(ZERO, principal - repaid_by)
        total += outstanding
    return defaulted, total, (defaulted / total if total else None)


def _lock_series(series: str) -> None:
    list(Policy.objects.select_for_update().filter(series=series).order_by("id").values_list("id", flat=True))


@transaction.atomic
def risk_claim_submit(*, user, loan: Loan) -> Claim:
    """A bank claims risk compensation on a defaulted loan under its exclusive product."""
    product = loan.application.product
    if user.role not in (Role.OFFICER, Role.MANAGER) or product.institution_id != user.institution_id:
        raise NotAllowedError(_("只能为本机构的贷款申请风险补偿"))
    if loan.status != Loan.Status.DEFAULTED or not loan.defaulted_on or not loan.outstanding_at_default:
        raise ServiceError(_("只有已登记违约且有未偿本金的贷款可以申请风险补偿"), field="loan")
    if not product.is_exclusive:
        raise ServiceError(_("风险补偿仅适用于科技信贷专属产品"), field="loan")
    year = loan.defaulted_on.year
    claimable_from = date(year + 1, 1, 1)
    if timezone.localdate() < claimable_from:
        raise ServiceError(
            _("%(y)s 年末不良率尚未确定：%(y)s 年违约的贷款自 %(d)s 起可申请风险补偿。")
            % {"y": year, "d": claimable_from.isoformat()},
            field="loan",
            code="not_yet",
        )
    policy = policy_in_force(PolicyKind.RISK, loan.defaulted_on)
    if policy is None:
        raise ServiceError(_("违约日没有生效的风险补偿政策"), field="loan")
    _lock_series(policy.series)
    params = RiskParams.of(policy)
    defaulted, outstanding, ratio = npl_ratio(product_id=product.pk, year=year)
    npl_reason = _(
        "%(y)s 年末该产品不良率 = %(y)s-12-31 违约贷款未偿本金 %(d)s ÷ 全部贷款未偿本金 %(p)s = %(r)s，"
        "触发线 %(t)s%%。"
    ) % {
        "y": year,
        "d": calc.fmt_yuan(defaulted),
        "p": calc.fmt_yuan(outstanding),
        "r": "—" if ratio is None else f"{(ratio * 100).quantize(Decimal('0.01'))}%",
        "t": (params.npl_trigger * 100).normalize(),
    }
    if ratio is None or ratio <= params.npl_trigger:
        raise ServiceError(_("未触发风险补偿：") + npl_reason, field="loan")
    used = (
        Claim.objects.filter(
            kind=PolicyKind.RISK, institution_id=product.institution_id, year=year, status__in=LIVE_STATUSES
        ).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    pool = max(ZERO, params.bank_year_cap - used)
    result = calc.risk_compensation(
        outstanding_principal=loan.outstanding_at_default,
        ratio=params.ratio,
        per_loan_cap=params.per_loan_cap,
        pool_remaining=pool,
    )
    if result.amount <= 0:
        raise ConflictError(_("该银行本年风险补偿额度已用完"), field="loan")
    reasons = [
        _("适用政策：%(n)s（第 %(v)s 版）。") % {"n": policy.name, "v": policy.version},
        npl_reason,
        _("每行每年上限 %(c)s，本年已申领 %(u)s。")
        % {"c": calc.fmt_yuan(params.bank_year_cap), "u": calc.fmt_yuan(used)},
        *result.reasons,
    ]
    claim = _claim_insert(
        policy=policy,
        kind=PolicyKind.RISK,
        loan=loan,
        enterprise=loan.application.enterprise,
        institution_id=product.institution_id,
        year=year,
        period_start=loan.defaulted_on,
        period_end=loan.defaulted_on,
        amount=result.amount,
        explanation=reasons,
        status=Claim.Status.SUBMITTED,
    )
    transition_record(
        subject=claim, from_state="", to_state=claim.status, actor=user, note=_("银行申请风险补偿")
    )
    return claim


@transaction.atomic
def risk_recovery_record(*, user, claim: Claim, recovered: Decimal) -> Recovery:
    """A later recovery on a compensated loan: the pro-rata share of the compensation goes back
    into the pool (a RECOVERY ledger entry in the claim's budget year)."""
    _money(recovered, "recovered")
    if user.role == Role.STAFF:
        pass
    elif user.role in (Role.OFFICER, Role.MANAGER) and claim.institution_id == user.institution_id:
        pass
    else:
        raise NotAllowedError(_("只有专班或该贷款的银行可以登记追回"))
    claim = Claim.objects.select_for_update(of=("self",)).select_related("loan", "policy").get(pk=claim.pk)
    if claim.kind != PolicyKind.RISK or claim.status != Claim.Status.PAID:
        raise ConflictError(_("只有已拨付的风险补偿可以登记追回"))
    if recovered <= 0:
        raise ServiceError(_("追回金额必须大于 0"), field="recovered")
    before = claim.recoveries.aggregate(r=Sum("recovered"), p=Sum("payback"))
    total_recovered = (before["r"] or ZERO) + recovered
    total_payback = calc.recovery_payback(
        compensated=claim.amount,
        outstanding_at_default=claim.loan.outstanding_at_default,
        recovered=total_recovered,
    )
    payback = total_payback - (before["p"] or ZERO)
    row = Recovery.objects.create(claim=claim, recovered=recovered, payback=payback, by=user)
    _ledger_write(
        claim,
        LedgerEntry.Kind.RECOVERY,
        payback,
        user,
        timezone.now(),
        _("追回 %(r)s，按比例回补资金池 %(p)s")
        % {"r": calc.fmt_yuan(recovered), "p": calc.fmt_yuan(payback)},
        maker=user,
    )
    transition_record(
        subject=claim,
        from_state=claim.status,
        to_state=claim.status,
        actor=user,
        note=_("登记追回"),
        data={"recovered": str(recovered), "payback": str(payback)},
    )
    return row


# ------------------------------------------------------------------------------------------
# 专属产品奖励 — the yearly exclusive-product reward
# ------------------------------------------------------------------------------------------


#: Application states in which an approved credit line is in force (not withdrawn, rejected or
#: cancelled): approved, and every state a loan on it can reach.
CREDIT_LINE_IN_FORCE = (
    Application.Status.APPROVED,
    Application.Status.SIGNED,
    Application.Status.DISBURSED,
    Application.Status.REPAID,
    Application.Status.DEFAULTED,
)


def exclusive_credit_totals(year: int) -> dict[int, Decimal]:
    """Institution id → credit lines in force granted in ``year`` (``approved_at``, Beijing time)
    under its exclusive products, at the approved amount; a line later withdrawn by the firm (or
    otherwise no longer in force) does not count."""
    rows = (
        Application.objects.filter(
            product__is_exclusive=True,
            credit_line__isnull=False,
            approved_at__year=year,
            status__in=CREDIT_LINE_IN_FORCE,
        )
        .values("product__institution_id")
        .annotate(total=Sum("credit_line"))
    )
    return {r["product__institution_id"]: r["total"] for r in rows}


@transaction.atomic
def reward_claims_generate(*, year: int, actor=None) -> list[Claim]:
    """The yearly job: each bank's exclusive-product reward for ``year``, computed from approved
    credit lines; the highest units already rewarded come from its earlier reward claims.
    Banks that already have a reward claim for the year are left alone (idempotent)."""
    if actor is not None and actor.is_authenticated and actor.role != Role.STAFF:
        raise NotAllowedError(_("只有省级专班可以计算专属产品奖励"))
    policy = policy_in_force(PolicyKind.REWARD, date(year, 12, 31)) or policy_in_force(
        PolicyKind.REWARD, date(year, 1, 1)
    )
    if policy is None:
        raise ServiceError(_("%(y)s 年没有生效的专属产品奖励政策") % {"y": year}, field="year")
    params = RewardParams.of(policy)
    totals = exclusive_credit_totals(year)
    done = set(
        Claim.objects.filter(kind=PolicyKind.REWARD, year=year).values_list("institution_id", flat=True)
    )
    highs = dict(
        Claim.objects.filter(kind=PolicyKind.REWARD, year__lt=year, reward_units__isnull=False)
        .exclude(status=Claim.Status.REJECTED)
        .values("institution_id")
        .annotate(high=Max("reward_units"))
        .values_list("institution_id", "high")
    )
    created = []
    for institution_id, total in sorted(totals.items()):
        if institution_id in done:
            continue
        result = calc.exclusive_product_reward(
            [(year, total)],
            unit=params.unit,
            reward_per_unit=params.reward_per_unit,
            already_rewarded_units=highs.get(institution_id, 0),
        )[0]
        if result.reward <= 0:
            continue
        claim = _claim_insert(
            policy=policy,
            kind=PolicyKind.REWARD,
            institution_id=institution_id,
            year=year,
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
            amount=result.reward,
            reward_units=result.units,
            explanation=[
                _("适用政策：%(n)s（第 %(v)s 版）。") % {"n": policy.name, "v": policy.version},
                *result.reasons,
            ],
            status=Claim.Status.SUBMITTED,
        )
        transition_record(
            subject=claim, from_state="", to_state=claim.status, actor=actor, note=_("年度专属产品奖励计算")
        )
        _notify(claim, _("%(y)s 年专属产品奖励已核算：%(a)s") % {"y": year, "a": calc.fmt_yuan(claim.amount)})
        created.append(claim)
    return created


# ------------------------------------------------------------------------------------------
# Review: approve, reject, pay
# ------------------------------------------------------------------------------------------


def _ledger_write(
    claim: Claim, kind: str, amount, user, at, note: str, *, maker=None, checker=None
) -> LedgerEntry | None:
    """Every yuan a claim commits, pays or brings back is one ledger row in the claim's budget year;
    a zero amount writes nothing (the ledger holds only positive movements). ``maker`` prepared
    the step, ``checker`` checked it (four eyes)."""
    if amount <= 0:
        return None
    return LedgerEntry.objects.create(
        policy=claim.policy,
        claim=claim,
        kind=kind,
        amount=amount,
        year=claim.year,
        at=at,
        by=user,
        note=note,
        maker=maker,
        checker=checker,
    )


def _name(user) -> str:
    return user.display_name if user is not None else _("系统")


def _submitter(claim: Claim):
    """Who put the claim up for review: the actor of its move to 待初审 (the firm confirming, the
    bank claiming), or None when the system generated it straight into review."""
    row = (
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Claim),
            object_id=claim.pk,
            to_state=Claim.Status.SUBMITTED,
        )
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    return row.actor if row else None


def _four_eyes(maker, checker, *, maker_role: str, checker_role: str) -> tuple[str, dict]:
    """The note and data of an audited step: both names, maker and checker."""
    note = _("%(mr)s：%(m)s；%(cr)s：%(c)s") % {
        "mr": maker_role,
        "m": _name(maker),
        "cr": checker_role,
        "c": _name(checker),
    }
    data = {
        "maker": _name(maker),
        "maker_id": maker.pk if maker is not None else None,
        "checker": _name(checker),
        "checker_id": checker.pk if checker is not None else None,
    }
    return note, data


def loan_event_recorders(claim: Claim) -> dict[int, str]:
    """Users who recorded the loan events a claim rests on, with what they recorded: the
    disbursement (``Loan.created_by``), each repayment (``Repayment.recorded_by``) and the
    application's moves to disbursed, repaid or defaulted (their Transition actors)."""
    if not claim.loan_id:
        return {}
    loan = Loan.objects.select_related("application").get(pk=claim.loan_id)
    found: dict[int, str] = {}
    if loan.created_by_id:
        found[loan.created_by_id] = _("放款登记")
    for user_id in loan.repayments.exclude(recorded_by=None).values_list("recorded_by_id", flat=True):
        found.setdefault(user_id, _("还款登记"))
    labels = {
        Application.Status.DISBURSED: _("放款登记"),
        Application.Status.REPAID: _("还款登记"),
        Application.Status.DEFAULTED: _("违约登记"),
    }
    rows = Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(Application),
        object_id=loan.application_id,
        to_state__in=list(labels),
    ).exclude(actor=None)
    for user_id, state in rows.values_list("actor_id", "to_state"):
        found.setdefault(user_id, labels[state])
    return found


def approval_conflict(user, claim: Claim) -> str | None:
    """Why ``user`` may not approve ``claim`` though holding the duty (None if nothing stands in
    the way): the maker of any earlier step of the money may not be its checker."""
    policy = claim.policy
    if user.pk in (policy.created_by_id, policy.updated_by_id):
        return _(
            "您创建或最后修改了本申领所依据的政策版本（%(p)s 第 %(v)s 版），不能批准其下的申领，"
            "请由另一名财政专班人员批准。"
        ) % {"p": policy.name, "v": policy.version}
    recorded = loan_event_recorders(claim).get(user.pk)
    if recorded:
        return _("您登记了本申领所依据的贷款事项（%(e)s），不能批准该申领，请由另一名财政专班人员批准。") % {
            "e": recorded
        }
    if claim.reviewed_by_id == user.pk:
        return _("初审与批准须由两名不同人员办理：您已初审本申领，不能再批准。")
    return None


def _notify_desk(role: str, claim: Claim, title: str) -> None:
    users = list(User.objects.filter(role=role, is_active=True))
    if users:
        notification_send(users=users, title=title, url=reverse("subsidies:claim_detail", args=[claim.pk]))


@transaction.atomic
def claim_review(*, user, claim: Claim) -> Claim:
    """初审: the science desk checks a submitted claim and passes it to the finance desk."""
    _require_duty(user, duties.REVIEW_CLAIM)
    claim = Claim.objects.select_for_update(of=("self",)).select_related("policy").get(pk=claim.pk)
    if claim.status != Claim.Status.SUBMITTED:
        raise ConflictError(_("只有待初审的申领可以初审（当前：%(s)s）") % {"s": claim.get_status_display()})
    now = timezone.now()
    claim.status = Claim.Status.REVIEWED
    claim.reviewed_by, claim.reviewed_at = user, now
    claim.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    note, data = _four_eyes(_submitter(claim), user, maker_role=_("提交人"), checker_role=_("初审人"))
    transition_record(
        subject=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        actor=user,
        note=note,
        data=data,
    )
    _notify_desk(
        Role.FINANCE,
        claim,
        _("申领 #%(id)s 已初审，待批准：%(a)s") % {"id": claim.pk, "a": calc.fmt_yuan(claim.amount)},
    )
    return claim


@transaction.atomic
def claim_approve(*, user, claim: Claim) -> Claim:
    """Approve a reviewed claim (finance desk): commit its amount to the policy's budget of the
    claim's year. The approver is neither its reviewer, nor the author or last editor of its policy
    version, nor a recorder of its loan's events. The policy series rows are locked first, so two
    approvals at once cannot overspend."""
    _require_duty(user, duties.APPROVE_CLAIM)
    _lock_series(claim.policy.series)
    claim = (
        Claim.objects.select_for_update(of=("self",)).select_related("policy", "reviewed_by").get(pk=claim.pk)
    )
    if claim.status == Claim.Status.SUBMITTED:
        raise ConflictError(_("该申领尚未初审：请先由省级专班初审后再批准"))
    if claim.status != Claim.Status.REVIEWED:
        raise ConflictError(_("只有已初审的申领可以批准（当前：%(s)s）") % {"s": claim.get_status_display()})
    if conflict := approval_conflict(user, claim):
        raise NotAllowedError(conflict, code="four_eyes")
    balance = budget_balance(series=claim.policy.series, year=claim.year)
    if claim.amount > balance["remaining"]:
        raise ConflictError(
            _("预算不足：%(y)s 年剩余 %(r)s，本笔 %(a)s")
            % {"y": claim.year, "r": calc.fmt_yuan(balance["remaining"]), "a": calc.fmt_yuan(claim.amount)},
            code="budget",
        )
    return _claim_checked(
        claim,
        user=user,
        to_state=Claim.Status.APPROVED,
        step="approved",
        maker=claim.reviewed_by,
        maker_role=_("初审人"),
        checker_role=_("批准人"),
        ledger_kind=LedgerEntry.Kind.COMMIT,
        ledger_note=_("批准申领 #%(id)s") % {"id": claim.pk},
        title=_("您的%(k)s申领已批准：%(a)s")
        % {"k": claim.get_kind_display(), "a": calc.fmt_yuan(claim.amount)},
    )


def _claim_checked(
    claim: Claim,
    *,
    user,
    to_state: str,
    step: str,
    maker,
    maker_role: str,
    checker_role: str,
    ledger_kind: str,
    ledger_note: str,
    title: str,
) -> Claim:
    """The second pair of eyes on a claim's amount (approve: commit it to the budget; pay: pay it
    out), once the caller has checked the state and the people: the claim moves on to ``to_state``
    with ``<step>_by``/``<step>_at`` set, the ledger gets the amount with maker and checker, the
    transition names both, and the claim's audience hears ``title``."""
    from_state = claim.status
    now = timezone.now()
    claim.status = to_state
    setattr(claim, f"{step}_by", user)
    setattr(claim, f"{step}_at", now)
    claim.save(update_fields=["status", f"{step}_by", f"{step}_at"])
    note, data = _four_eyes(maker, user, maker_role=maker_role, checker_role=checker_role)
    _ledger_write(claim, ledger_kind, claim.amount, user, now, ledger_note, maker=maker, checker=user)
    transition_record(
        subject=claim,
        from_state=from_state,
        to_state=claim.status,
        actor=user,
        note=note,
        data=data,
    )
    _notify(claim, title)
    return claim


_AT_REVIEW = (Claim.Status.SUBMITTED, Claim.Status.AWAITING_CONFIRMATION)


def claim_reject_check(*, user, claim: Claim) -> None:
    """Whether ``user`` may send ``claim`` back in its state (raises NotAllowedError with the reason;
    pages and the API ask before reading the reason): the science desk at review (待初审, or
    待企业确认), the finance desk once reviewed."""
    if claim.status in _AT_REVIEW:
        _require_duty(user, duties.REVIEW_CLAIM)
    elif claim.status == Claim.Status.REVIEWED:
        _require_duty(user, duties.APPROVE_CLAIM)
    elif not duties.holds(user, duties.REVIEW_CLAIM) and not duties.holds(user, duties.APPROVE_CLAIM):
        raise NotAllowedError(_("只有省级专班（初审）或财政专班（审批）可以退回申领"), code="duty")


@transaction.atomic
def claim_reject(*, user, claim: Claim, reason: str) -> Claim:
    """Send a claim back (see :func:`claim_reject_check` for who may, in which state)."""
    claim_reject_check(user=user, claim=claim)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请填写未批准原因"), field="reason")
    claim = Claim.objects.select_for_update(of=("self",)).select_related("reviewed_by").get(pk=claim.pk)
    claim_reject_check(user=user, claim=claim)  # again, on the locked row
    before = claim.status
    if before not in (*_AT_REVIEW, Claim.Status.REVIEWED):
        raise ConflictError(
            _("只有待初审、已初审或待确认的申领可以退回（当前：%(s)s）") % {"s": claim.get_status_display()}
        )
    now = timezone.now()
    if before in _AT_REVIEW:
        claim.reviewed_by, claim.reviewed_at = user, now
        fields = ["reviewed_by", "reviewed_at"]
        maker, maker_role = _submitter(claim), _("提交人")
    else:
        claim.approved_by, claim.approved_at = user, now
        fields = ["approved_by", "approved_at"]
        maker, maker_role = claim.reviewed_by, _("初审人")
    claim.status = Claim.Status.REJECTED
    claim.reject_reason = reason
    claim.save(update_fields=["status", "reject_reason", *fields])
    note, data = _four_eyes(maker, user, maker_role=maker_role, checker_role=_("退回人"))
    transition_record(
        subject=claim,
        from_state=before,
        to_state=claim.status,
        actor=user,
        note=f"{reason}（{note}）",
        data={**data, "reason": reason},
    )
    _notify(claim, _("您的%(k)s申领未获批准") % {"k": claim.get_kind_display()}, reason)
    return claim


@transaction.atomic
def claim_pay(*, user, claim: Claim) -> Claim:
    """Mark an approved claim paid (finance desk): by a second finance user, never its approver."""
    _require_duty(user, duties.PAY_CLAIM)
    claim = (
        Claim.objects.select_for_update(of=("self",)).select_related("policy", "approved_by").get(pk=claim.pk)
    )
    if claim.status != Claim.Status.APPROVED:
        raise ConflictError(
            _("只有已批准的申领可以标记拨付（当前：%(s)s）") % {"s": claim.get_status_display()}
        )
    if user.pk in (claim.approved_by_id, claim.reviewed_by_id):
        raise NotAllowedError(
            _("批准与拨付须由两名不同人员办理：您已批准本申领，请由另一名财政专班人员标记拨付。"),
            code="four_eyes",
        )
    return _claim_checked(
        claim,
        user=user,
        to_state=Claim.Status.PAID,
        step="paid",
        maker=claim.approved_by,
        maker_role=_("批准人"),
        checker_role=_("拨付人"),
        ledger_kind=LedgerEntry.Kind.PAY,
        ledger_note=_("拨付申领 #%(id)s") % {"id": claim.pk},
        title=_("%(k)s资金已拨付：%(a)s") % {"k": claim.get_kind_display(), "a": calc.fmt_yuan(claim.amount)},
    )
