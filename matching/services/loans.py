"""The loan after disbursement, from the firm's side: the reminders the clock sends (repayment 7 days
before maturity; the renewal radar 60 and 30 days before), the 无还本续贷 pre-check and the renewal
request, which posts a new need linked to the loan and offered first to the same institution.

Each notice is sent once per loan: ``LoanNotice`` is unique on (loan, kind) and the row is written
in the same transaction as the notifications, so a second run (or two workers at once) sends
nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Enterprise, FinancingNeed
from enterprises.services import need_create
from portal.models import Role, User
from portal.money import format_wan
from portal.services import ServiceError, notification_send
from portal.vocabulary import QUALIFICATIONS

from ..models import Loan, LoanNotice, LoanRenewal, Match

REPAYMENT_REMINDER_DAYS = 7
RENEWAL_NOTICE_DAYS = (60, 30)  # the renewal radar: the earlier notice first

# kind → days before maturity at which it becomes due
_NOTICE_DAYS = {
    LoanNotice.Kind.RENEWAL_60: 60,
    LoanNotice.Kind.RENEWAL_30: 30,
    LoanNotice.Kind.REPAYMENT_7: REPAYMENT_REMINDER_DAYS,
}


def _firm_users(loan: Loan) -> list[User]:
    return list(
        User.objects.filter(enterprise_id=loan.application.enterprise_id, role=Role.FIRM, is_active=True)
    )


def loan_officers(loan: Loan) -> list[User]:
    """The bank people told about a loan: the officer who worked its lead (or recorded the loan),
    else the managers of the lending institution."""
    officer = None
    match = loan.application.match
    if match is not None and match.assigned_officer_id:
        officer = match.assigned_officer
    elif loan.created_by_id:
        officer = loan.created_by
    if officer is not None and officer.is_active:
        return [officer]
    return list(
        User.objects.filter(
            branch__institution_id=loan.application.product.institution_id, role=Role.MANAGER, is_active=True
        )
    )


def _loan_url(loan: Loan) -> str:
    return reverse("subsidies:my_loan_detail", args=[loan.pk])


def _send(loan: Loan, kind: str, today: date) -> None:
    firm, product = loan.application.enterprise, loan.application.product
    days = (loan.maturity_date - today).days
    facts = {
        "firm": firm.name,
        "product": product.name,
        "bank": product.institution.short_name,
        "principal": format_wan(loan.outstanding_principal),
        "maturity": f"{loan.maturity_date:%Y-%m-%d}",
        "days": days,
    }
    if kind == LoanNotice.Kind.REPAYMENT_7:
        notification_send(
            users=_firm_users(loan),
            title=_("还款提醒：%(product)s 将于 %(maturity)s 到期") % facts,
            body=_("您在%(bank)s的贷款（未偿本金 %(principal)s）还有 %(days)s 天到期，请提前备足还款资金。")
            % facts,
            url=_loan_url(loan),
        )
        return
    notification_send(
        users=_firm_users(loan),
        title=_("续贷提醒：%(product)s 将于 %(maturity)s 到期") % facts,
        body=_(
            "您在%(bank)s的贷款（未偿本金 %(principal)s）还有 %(days)s 天到期。如需续贷，"
            "可在贷款页面查看无还本续贷预审结果并提交续贷申请，需求将优先推送给%(bank)s。"
        )
        % facts,
        url=_loan_url(loan),
    )
    notification_send(
        users=loan_officers(loan),
        title=_("续贷客户：%(firm)s 的贷款将于 %(maturity)s 到期") % facts,
        body=_(
            "%(firm)s 在「%(product)s」的贷款（未偿本金 %(principal)s）还有 %(days)s 天到期，请提前对接续贷。"
        )
        % facts,
        url=reverse("lenders:lead_list") + "?renewals=due",
    )


def loans_send_notices(*, today: date | None = None) -> int:
    """Send every loan notice that is due on ``today`` and not sent yet; return how many were sent.

    A notice is due from its day (60, 30 or 7 days before maturity) until maturity, so a run missed
    on the day itself still sends it; once recorded it is never sent again. A loan already inside
    30 days gets its 30-day notice, not a stale 60-day one as well."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(_NOTICE_DAYS.values()))
    loans = (
        Loan.objects.filter(status=Loan.Status.ACTIVE, maturity_date__gte=today, maturity_date__lte=horizon)
        .select_related(
            "application__enterprise",
            "application__product__institution",
            "application__match__assigned_officer",
            "created_by",
        )
        .prefetch_related("repayments", "notices")
        .order_by("maturity_date", "pk")
    )
    sent = 0
    for loan in loans:
        days = (loan.maturity_date - today).days
        done = {n.kind for n in loan.notices.all()}
        due = [kind for kind, d in _NOTICE_DAYS.items() if days <= d and kind not in done]
        if LoanNotice.Kind.RENEWAL_30 in due or LoanNotice.Kind.RENEWAL_30 in done:
            due = [k for k in due if k != LoanNotice.Kind.RENEWAL_60]  # superseded
        for kind in due:
            try:
                with transaction.atomic():
                    LoanNotice.objects.create(loan=loan, kind=kind, sent_on=today)
                    _send(loan, kind, today)
            except IntegrityError:  # another run recorded it first
                continue
            sent += 1
    return sent


# The 无还本续贷 pre-check
# =============================================================================================


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    met: bool
    reason: str


def renewal_precheck(loan: Loan, *, today: date | None = None) -> list[Condition]:
    """The usual conditions of a renewal without repaying first (无还本续贷), each met or not with
    its reason in Chinese: no overdue on this loan, the firm still verified, its qualifications
    valid (the product's required ones, else at least one sci-tech qualification; the validity rule
    is ``Qualification.counts_on``), and the principal under the product's renewal limit."""
    today = today or timezone.localdate()
    application = loan.application
    firm, product = application.enterprise, application.product
    out: list[Condition] = []

    late = [r for r in loan.repayments.all() if not r.on_time]
    if loan.phase_on(today) == Loan.Phase.OVERDUE:
        out.append(
            Condition(
                "no_overdue",
                _("本笔贷款无逾期"),
                False,
                _("贷款已于 %(d)s 到期，本金尚未结清，处于逾期状态。")
                % {"d": f"{loan.maturity_date:%Y-%m-%d}"},
            )
        )
    elif late:
        out.append(
            Condition(
                "no_overdue",
                _("本笔贷款无逾期"),
                False,
                _("有 %(n)s 笔还款晚于约定日期（最近一笔 %(d)s）。")
                % {"n": len(late), "d": f"{late[-1].paid_on:%Y-%m-%d}"},
            )
        )
    else:
        out.append(
            Condition("no_overdue", _("本笔贷款无逾期"), True, _("本笔贷款按期还本付息，无逾期记录。"))
        )

    if firm.verification_status == Enterprise.Verification.VERIFIED:
        out.append(Condition("verified", _("企业认证有效"), True, _("企业仍为已认证状态。")))
    else:
        out.append(
            Condition(
                "verified",
                _("企业认证有效"),
                False,
                _("企业当前认证状态为“%(s)s”，须为已认证。") % {"s": firm.get_verification_status_display()},
            )
        )

    quals = list(firm.qualifications.all())
    criteria = getattr(product, "criteria", None)
    required = list(criteria.required_qualifications or []) if criteria is not None else []
    label = _("科技资质在有效期内")
    if required:
        missing = [code for code in required if not any(q.code == code and q.counts_on(today) for q in quals)]
        names = {q.code: q.display_name for q in quals}
        if missing:
            out.append(
                Condition(
                    "qualifications",
                    label,
                    False,
                    _("产品要求的资质已过期或未取得：%(q)s。")
                    % {"q": "、".join(QUALIFICATIONS.get(c, names.get(c, c)) for c in missing)},
                )
            )
        else:
            out.append(
                Condition(
                    "qualifications",
                    label,
                    True,
                    _("产品要求的资质均在有效期内：%(q)s。")
                    % {"q": "、".join(QUALIFICATIONS.get(c, c) for c in required)},
                )
            )
    else:
        valid = [q for q in quals if q.counts_on(today)]
        if valid:
            q = max(valid, key=lambda q: q.expires_on or q.statutory_expiry)
            out.append(
                Condition(
                    "qualifications",
                    label,
                    True,
                    _("%(q)s有效期至 %(d)s。")
                    % {"q": q.display_name, "d": f"{(q.expires_on or q.statutory_expiry):%Y-%m-%d}"},
                )
            )
        else:
            out.append(
                Condition(
                    "qualifications",
                    label,
                    False,
                    _(
                        "企业暂无有效期内的科技资质（高新技术企业、科技型中小企业或专精特新），请更新资质信息。"
                    ),
                )
            )

    limit = product.renewal_limit
    if loan.principal <= limit:
        out.append(
            Condition(
                "renewal_limit",
                _("贷款额度在续贷上限内"),
                True,
                _("贷款本金 %(p)s，未超过本产品无还本续贷上限 %(l)s。")
                % {"p": format_wan(loan.principal), "l": format_wan(limit)},
            )
        )
    else:
        out.append(
            Condition(
                "renewal_limit",
                _("贷款额度在续贷上限内"),
                False,
                _("贷款本金 %(p)s，超过本产品无还本续贷上限 %(l)s。")
                % {"p": format_wan(loan.principal), "l": format_wan(limit)},
            )
        )
    return out


def _purpose_of(loan: Loan) -> str:
    purpose = loan.application.purpose
    if purpose in FinancingNeed.Purpose.values:
        return purpose
    need = loan.application.need
    return need.purpose if need is not None else FinancingNeed.Purpose.WORKING_CAPITAL


def _term_of(loan: Loan) -> int:
    application = loan.application
    return application.approved_term_months or application.term_months


@transaction.atomic
def loan_request_renewal(*, user: User, loan: Loan) -> FinancingNeed:
    """The firm asks to renew its loan: a financing need pre-filled from the loan (outstanding
    principal, the approved term, the purpose, the original guarantee types), marked as a renewal
    and linked to the loan (``LoanRenewal``); the match run then offers it first to the loan's
    institution (``runs.match_needs``). Refused (409) when the pre-check fails — with the reasons —
    or when the loan already has a renewal; another firm's loan is not found (404)."""
    if user.role != Role.FIRM or loan.application.enterprise_id != user.enterprise_id:
        raise ServiceError(_("未找到该贷款。"), status=404)
    loan = (
        Loan.objects.select_for_update(of=("self",))
        .select_related("application__enterprise", "application__product__institution", "application__need")
        .get(pk=loan.pk)
    )
    if LoanRenewal.objects.filter(loan=loan).exists():
        raise ServiceError(
            _("该笔贷款已提交过续贷申请，请在融资需求中查看进度。"), status=409, code="renewal_exists"
        )
    if loan.status != Loan.Status.ACTIVE:
        raise ServiceError(
            _("贷款当前状态为“%(s)s”，只有未结清的贷款可以申请续贷。") % {"s": loan.phase_label},
            status=409,
            code="loan_closed",
        )
    failed = [c for c in renewal_precheck(loan) if not c.met]
    if failed:
        error = ServiceError(
            _("暂不符合无还本续贷条件：%(r)s") % {"r": "；".join(f"{c.label}：{c.reason}" for c in failed)},
            status=409,
            code="precheck_failed",
        )
        error.reasons = [c.__dict__ for c in failed]
        raise error
    source = loan.application.need
    guarantee_types = list(source.guarantee_types) if source is not None else []
    if not guarantee_types:
        guarantee_types = list(loan.application.product.guarantee_types) or ["credit"]
    need = need_create(
        user=user,
        enterprise=loan.application.enterprise,
        amount=loan.outstanding_principal,
        term_months=_term_of(loan),
        purpose=_purpose_of(loan),
        guarantee_types=guarantee_types,
        description=_("续贷：%(product)s（%(bank)s）贷款 %(p)s，%(d)s 到期。")
        % {
            "product": loan.application.product.name,
            "bank": loan.application.product.institution.short_name,
            "p": format_wan(loan.principal),
            "d": f"{loan.maturity_date:%Y-%m-%d}",
        },
    )
    FinancingNeed.objects.filter(pk=need.pk).update(is_renewal=True)
    need.is_renewal = True
    LoanRenewal.objects.create(loan=loan, need=need, requested_by=user)
    notification_send(
        users=loan_officers(loan),
        title=_("续贷申请：%(firm)s") % {"firm": loan.application.enterprise.name},
        body=_("%(firm)s 申请续贷「%(product)s」到期贷款（%(d)s 到期），需求已优先推送给贵机构。")
        % {
            "firm": loan.application.enterprise.name,
            "product": loan.application.product.name,
            "d": f"{loan.maturity_date:%Y-%m-%d}",
        },
        url=reverse("lenders:lead_list") + "?renewals=requested",
    )
    return need


def renewal_first_institutions(need_ids) -> dict[int, int]:
    """need id → the institution a renewal need is offered to first (its loan's)."""
    return dict(
        LoanRenewal.objects.filter(need_id__in=list(need_ids)).values_list(
            "need_id", "loan__application__product__institution_id"
        )
    )


__all__ = [
    "Condition",
    "Match",
    "loan_officers",
    "loan_request_renewal",
    "loans_send_notices",
    "renewal_first_institutions",
    "renewal_precheck",
]
