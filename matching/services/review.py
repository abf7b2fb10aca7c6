"""What a bank does with an application: accept … disburse, repay, default.

One server-side transition table decides what may happen in which state and by which role; every
action goes through :func:`application_transition`, which records a Transition, notifies the firm
and emits a webhook event. An action illegal in the current state is a ConflictError (409), a role
not allowed is a NotAllowedError (403), whatever the client sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lenders.choices import REJECT_REASONS
from lenders.services import webhook_application_event
from portal.access import ACT, can, restrict
from portal.models import Role, User
from portal.money import UNIT_WAN, UNIT_YUAN, format_money
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record

from ..models import Application, Loan, Repayment

A = Application.Status
BANK = frozenset({Role.OFFICER, Role.MANAGER})
ZERO = Decimal("0")


@dataclass(frozen=True)
class Action:
    label: object
    sources: frozenset
    target: str | None  # None: decided by the action (repay: stays disbursed or becomes repaid)
    roles: frozenset = BANK


#: action → which states it leaves from, where it goes, who may do it.
TRANSITIONS: dict[str, Action] = {
    "accept": Action(gettext_lazy("受理"), frozenset({A.SUBMITTED}), A.ACCEPTED),
    "request_documents": Action(gettext_lazy("补充材料"), frozenset({A.ACCEPTED}), A.ACCEPTED),
    "approve": Action(gettext_lazy("授信"), frozenset({A.ACCEPTED}), A.APPROVED),
    "reject": Action(gettext_lazy("不予授信"), frozenset({A.SUBMITTED, A.ACCEPTED}), A.REJECTED),
    "disburse": Action(gettext_lazy("放款"), frozenset({A.APPROVED}), A.DISBURSED),
    "repay": Action(gettext_lazy("登记还款"), frozenset({A.DISBURSED}), None),
    "default": Action(gettext_lazy("登记违约"), frozenset({A.DISBURSED}), A.DEFAULTED),
}


def allowed_actions(*, user: User, application: Application) -> list[str]:
    """The actions ``user`` may take on ``application`` now (for buttons; the service re-checks)."""
    if user.role not in BANK or not can(user, application, ACT):
        return []
    return [
        name for name, a in TRANSITIONS.items() if application.status in a.sources and user.role in a.roles
    ]


# --- parameter parsing: whatever the client sends, typed values or strings -------------------


def _decimal(
    params: dict, name: str, label: str, *, required: bool = True, positive: bool = True
) -> Decimal | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise ServiceError(_("请填写%(label)s。") % {"label": label}, field=name)
        return None
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("%(label)s必须是数字。") % {"label": label}, field=name)
    if not number.is_finite():
        raise ServiceError(_("%(label)s必须是数字。") % {"label": label}, field=name)
    if positive and number <= 0:
        raise ServiceError(_("%(label)s必须大于0。") % {"label": label}, field=name)
    if number < 0:
        raise ServiceError(_("%(label)s不能为负数。") % {"label": label}, field=name)
    return number.quantize(Decimal("0.01")) if name != "annual_rate" else number.quantize(Decimal("0.001"))


def _int(params: dict, name: str, label: str) -> int:
    value = params.get(name)
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise ServiceError(_("请填写%(label)s（整数月）。") % {"label": label}, field=name)
    if number <= 0:
        raise ServiceError(_("%(label)s必须大于0。") % {"label": label}, field=name)
    return number


def _date(params: dict, name: str, label: str) -> date:
    value = params.get(name)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise ServiceError(_("请填写%(label)s（YYYY-MM-DD）。") % {"label": label}, field=name)


def _bool(params: dict, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "on", "yes")
    return bool(value)


def _rate_in_product(application: Application, rate: Decimal) -> None:
    product = application.product
    if rate <= 0 or rate > Decimal("36"):
        raise ServiceError(_("年利率必须在 0–36% 之间。"), field="annual_rate")
    low, high = product.rate_min, product.rate_max
    if (low is not None and rate < low) or (high is not None and rate > high):
        raise ServiceError(
            _("年利率须在产品利率区间 %(low)s%%–%(high)s%% 之内。")
            % {
                "low": f"{low:.2f}" if low is not None else "—",
                "high": f"{high:.2f}" if high is not None else "—",
            },
            field="annual_rate",
        )


# --- the one entry point ------------------------------------------------------------------


@transaction.atomic
def application_transition(
    *, user: User, application: Application, action: str, money_unit: str = UNIT_YUAN, **params
) -> Application:
    """Apply ``action`` to ``application`` as ``user``. Returns the application in its new state.

    Amounts in ``params`` are yuan; ``money_unit`` is the unit the caller's form shows them in
    (``UNIT_WAN`` on the bank's pages), so that a refusal quotes amounts as the user typed them."""
    if money_unit not in (UNIT_YUAN, UNIT_WAN):
        raise ValueError(f"unknown money unit {money_unit!r}")
    spec = TRANSITIONS.get(action)
    if spec is None:
        raise ServiceError(_("未知的操作：%(action)s。") % {"action": action}, field="action")
    if not user.is_authenticated or user.role not in spec.roles:
        raise NotAllowedError(_("当前账号的角色无权执行“%(label)s”。") % {"label": spec.label})
    # Lock the row: two concurrent actions on one application run one after the other.
    locked = (
        restrict(Application.objects.select_for_update(of=("self",)), user, ACT)
        .select_related("product", "product__institution", "enterprise")
        .filter(pk=application.pk)
        .first()
    )
    if locked is None:
        raise ServiceError(_("未找到该申请。"), status=404)
    application = locked
    if application.status not in spec.sources:
        raise ConflictError(
            _("申请当前状态为“%(status)s”，不能执行“%(label)s”。")
            % {"status": application.get_status_display(), "label": spec.label},
            code="illegal_transition",
        )
    note = str(params.get("note") or "").strip()
    from_state = application.status
    handler = _HANDLERS[action]
    data = json.loads(
        json.dumps(
            handler(user=user, application=application, params=params, unit=money_unit) or {},
            cls=DjangoJSONEncoder,
        )
    )
    to_state = application.status
    now = timezone.now()
    application.status_changed_at = now
    application.save()
    transition_record(
        subject=application,
        from_state=from_state,
        to_state=to_state,
        actor=user,
        note=note,
        data={"action": action, **data},
    )
    _notify(application=application, action=action, label=str(spec.label), note=note)
    webhook_application_event(
        application=application, action=action, from_state=from_state, note=note, **data
    )
    if action == "reject":
        from .guarantee import guarantee_refer

        guarantee_refer(
            need=application.need, reason_code=application.reject_reason, reason=data["reason"], actor=user
        )
    return application


def _notify(*, application: Application, action: str, label: str, note: str) -> None:
    from django.urls import NoReverseMatch, reverse

    firm_users = User.objects.filter(enterprise_id=application.enterprise_id, role=Role.FIRM, is_active=True)
    titles = {
        "accept": _("您的申请已受理"),
        "request_documents": _("请补充申请材料"),
        "approve": _("您的申请已获授信"),
        "reject": _("您的申请未获通过"),
        "disburse": _("您的贷款已放款"),
        "repay": _("还款已登记"),
        "default": _("贷款已登记为违约"),
    }
    try:
        url = reverse("enterprises:application_detail", args=[application.pk])
    except NoReverseMatch:
        url = ""
    notification_send(
        users=list(firm_users),
        title=f"{titles.get(action, label)}：{application.product.name}（{application.product.institution.short_name}）",
        body=note,
        url=url,
    )


def _accept(*, user, application, params, unit):
    application.status = A.ACCEPTED
    return {}


def _request_documents(*, user, application, params, unit):
    note = str(params.get("note") or "").strip()
    if not note:
        raise ServiceError(_("请说明需要补充哪些材料。"), field="note")
    return {"documents_requested": note}


def _approve(*, user, application, params, unit):
    credit_line = _decimal(params, "credit_line", _("授信额度"))
    rate = _decimal(params, "annual_rate", _("年利率"))
    term = _int(params, "term_months", _("授信期限"))
    if credit_line > application.amount and not _bool(params, "confirm_over_request"):
        raise ServiceError(
            _("授信额度超过企业申请金额，如确需超额授信请勾选确认。"),
            field="credit_line",
            code="over_request",
        )
    _rate_in_product(application, rate)
    product = application.product
    if not product.term_min_months <= term <= product.term_max_months:
        raise ServiceError(
            _("授信期限须在产品期限 %(a)s–%(b)s 个月之内。")
            % {"a": product.term_min_months, "b": product.term_max_months},
            field="term_months",
        )
    application.status = A.APPROVED
    application.credit_line = credit_line
    application.approved_rate = rate
    application.approved_term_months = term
    application.approved_at = timezone.now()
    return {"credit_line": credit_line, "annual_rate": rate, "term_months": term}


def _reject(*, user, application, params, unit):
    code = params.get("reason_code") or ""
    if code not in REJECT_REASONS:
        raise ServiceError(_("请选择不予授信的原因。"), field="reason_code")
    application.status = A.REJECTED
    application.reject_reason = code
    application.reject_note = str(params.get("note") or "").strip()
    return {"reason_code": code, "reason": str(REJECT_REASONS[code])}


def _approval_day(application) -> date | None:
    return timezone.localdate(application.approved_at) if application.approved_at else None


def _disburse(*, user, application, params, unit):
    principal = _decimal(params, "principal", _("放款本金"))
    rate = _decimal(params, "annual_rate", _("年利率"))
    start = _date(params, "start_date", _("起息日"))
    maturity = _date(params, "maturity_date", _("到期日"))
    if application.credit_line is not None and principal > application.credit_line:
        raise ServiceError(
            _("放款本金（%(p)s）不能超过授信额度（%(c)s）。")
            % {"p": format_money(principal, unit), "c": format_money(application.credit_line, unit)},
            field="principal",
        )
    _rate_in_product(application, rate)
    approved_on, today = _approval_day(application), timezone.localdate()
    if approved_on is not None and start < approved_on:
        raise ServiceError(
            _("起息日（%(d)s）不能早于授信日期（%(a)s）。") % {"d": start, "a": approved_on},
            field="start_date",
        )
    if start > today:
        raise ServiceError(
            _("起息日（%(d)s）不能晚于今天（%(t)s）：请在放款后登记。") % {"d": start, "t": today},
            field="start_date",
        )
    if maturity <= start:
        raise ServiceError(
            _("到期日（%(m)s）必须晚于起息日（%(d)s）。") % {"m": maturity, "d": start},
            field="maturity_date",
        )
    try:
        with transaction.atomic():
            Loan.objects.create(
                application=application,
                principal=principal,
                annual_rate=rate,
                start_date=start,
                maturity_date=maturity,
                created_by=user,
            )
    except IntegrityError:
        raise ConflictError(_("该申请已登记放款。"), code="already_disbursed")
    application.status = A.DISBURSED
    return {"principal": principal, "annual_rate": rate, "start_date": start, "maturity_date": maturity}


def _loan(application) -> Loan:
    loan = Loan.objects.select_for_update().filter(application=application).first()
    if loan is None:
        raise ConflictError(_("该申请没有放款记录。"))
    return loan


def _day_in_loan(loan: Loan, day: date, *, field: str, label: str) -> None:
    """A dated event of a loan (a repayment, a default) happens between its start and today."""
    if day < loan.start_date:
        raise ServiceError(
            _("%(label)s（%(d)s）不能早于起息日（%(s)s）。")
            % {"label": label, "d": day, "s": loan.start_date},
            field=field,
        )
    today = timezone.localdate()
    if day > today:
        raise ServiceError(
            _("%(label)s（%(d)s）不能晚于今天（%(t)s）。") % {"label": label, "d": day, "t": today},
            field=field,
        )


def _repay(*, user, application, params, unit):
    loan = _loan(application)
    paid_on = _date(params, "date", _("还款日期"))
    principal = _decimal(params, "principal", _("归还本金"), required=False, positive=False) or ZERO
    interest = _decimal(params, "interest", _("支付利息"), required=False, positive=False) or ZERO
    if principal + interest <= 0:
        raise ServiceError(_("请填写归还本金或支付利息。"), field="principal")
    _day_in_loan(loan, paid_on, field="date", label=_("还款日期"))
    outstanding = loan.outstanding_principal
    if principal > outstanding:
        raise ServiceError(
            _("归还本金（%(p)s）超过未偿本金（%(o)s）。")
            % {"p": format_money(principal, unit), "o": format_money(outstanding, unit)},
            field="principal",
        )
    Repayment.objects.create(
        loan=loan,
        paid_on=paid_on,
        principal=principal,
        interest=interest,
        on_time=paid_on <= loan.maturity_date,
        recorded_by=user,
    )
    remaining = outstanding - principal
    if remaining == 0:
        loan.status = Loan.Status.REPAID
        loan.repaid_on = paid_on
        loan.save(update_fields=["status", "repaid_on"])
        application.status = A.REPAID
    return {
        "date": paid_on,
        "principal": principal,
        "interest": interest,
        "on_time": paid_on <= loan.maturity_date,
        "outstanding_principal": remaining,
    }


def _default(*, user, application, params, unit):
    loan = _loan(application)
    day = _date(params, "date", _("违约日期"))
    outstanding = _decimal(params, "outstanding_principal", _("未偿本金"))
    remaining = loan.outstanding_principal
    if outstanding > remaining:
        raise ServiceError(
            _("未偿本金（%(p)s）不能超过尚未归还的本金（%(o)s）。")
            % {"p": format_money(outstanding, unit), "o": format_money(remaining, unit)},
            field="outstanding_principal",
        )
    _day_in_loan(loan, day, field="date", label=_("违约日期"))
    loan.status = Loan.Status.DEFAULTED
    loan.defaulted_on = day
    loan.outstanding_at_default = outstanding
    loan.save(update_fields=["status", "defaulted_on", "outstanding_at_default"])
    application.status = A.DEFAULTED
    return {"date": day, "outstanding_principal": outstanding}


_HANDLERS = {
    "accept": _accept,
    "request_documents": _request_documents,
    "approve": _approve,
    "reject": _reject,
    "disburse": _disburse,
    "repay": _repay,
    "default": _default,
}
