"""What a bank does with an application: accept … disburse, repay, default — and the firm's one
step in the table, its acceptance of an offer (签约确认, ``sign``), and the offer's expiry.

One server-side transition table decides what may happen in which state and by which role; every
action goes through :func:`application_transition`, which records a Transition, notifies the firm
and emits a webhook event. An action illegal in the current state is a ConflictError (409), a role
not allowed is a NotAllowedError (403), whatever the client sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enterprises.models import FinancingNeed
from lenders.choices import REJECT_REASONS
from portal.access import ACT, can, restrict
from portal.models import Role, User
from portal.money import UNIT_WAN, UNIT_YUAN, format_money, format_wan
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record

from ..models import Application, Loan, Repayment
from .events import application_bank_users, webhook_application_event
from .guarantee import guarantee_refer

A = Application.Status
BANK = frozenset({Role.OFFICER, Role.MANAGER})
FIRM = frozenset({Role.FIRM})
SYSTEM = frozenset()  # no user may ask for it: the periodic sweep (:func:`offers_expire`) does it
ZERO = Decimal("0")
#: An offer (an approved credit line) is valid this many calendar days after its approval unless
#: the bank sets another date; the bank may set at most OFFER_VALID_DAYS_MAX.
OFFER_VALID_DAYS = 30
OFFER_VALID_DAYS_MAX = 180


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
    # The firm accepts the offer (签约确认): its other offers and applications for the need are
    # released (withdrawn, reason chose_other). Only a signed offer can be disbursed.
    "sign": Action(gettext_lazy("签约确认"), frozenset({A.APPROVED}), A.SIGNED, roles=FIRM),
    "expire": Action(gettext_lazy("授信过期"), frozenset({A.APPROVED}), A.EXPIRED, roles=SYSTEM),
    "disburse": Action(gettext_lazy("放款"), frozenset({A.SIGNED}), A.DISBURSED),
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
    if action == "sign":
        # Lock the need first (always in this order: need, then applications): two acceptances of
        # offers for one need run one after the other, and the second finds the first's release.
        _lock_need(application)
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
    _refuse_offer_state(application, action)
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
        guarantee_refer(
            need=application.need, reason_code=application.reject_reason, reason=data["reason"], actor=user
        )
    return application


def _lock_need(application: Application) -> None:
    need_id = Application.objects.filter(pk=application.pk).values_list("need_id", flat=True).first()
    if need_id is not None:
        list(FinancingNeed.objects.select_for_update().filter(pk=need_id).values_list("pk", flat=True))


def _refuse_offer_state(application: Application, action: str) -> None:
    """The offer's own refusals, clearer than "state X cannot do Y": signing or disbursing an offer
    past its validity (whether or not the sweep has marked it expired), signing an offer released
    because the firm chose another, disbursing an offer the firm has not signed."""
    if action not in ("sign", "disburse"):
        return
    today = timezone.localdate()
    if application.offer_expired_on(today):
        raise ConflictError(
            _(
                "该授信已过期（有效期至 %(d)s），企业未在有效期内签约确认：不能%(what)s。如仍需办理，请银行重新授信。"
            )
            % {"d": application.valid_until or "—", "what": _("签约") if action == "sign" else _("放款")},
            code="offer_expired",
        )
    if action == "sign" and application.withdraw_reason == Application.WithdrawReason.CHOSE_OTHER:
        raise ConflictError(
            _("您已为该融资需求签约了其他机构的方案，此授信已释放，不能再签约。"), code="chose_other"
        )
    if action == "disburse" and application.status == A.APPROVED:
        raise ConflictError(
            _("企业尚未签约确认该授信（有效期至 %(d)s），不能放款：请待企业在平台签约确认后再登记放款。")
            % {"d": application.valid_until or "—"},
            code="not_signed",
        )


def _notify(*, application: Application, action: str, label: str, note: str) -> None:
    if action == "sign":
        notification_send(
            users=application_bank_users(application),
            title=_("企业已签约确认授信：%(firm)s · %(product)s")
            % {"firm": application.enterprise.name, "product": application.product.name},
            body=_("授信额度 %(line)s，年利率 %(rate)s%%，期限 %(term)s 个月：可办理放款。")
            % {
                "line": format_wan(application.credit_line),
                "rate": application.approved_rate,
                "term": application.approved_term_months,
            },
        )

    firm_users = User.objects.filter(enterprise_id=application.enterprise_id, role=Role.FIRM, is_active=True)
    titles = {
        "accept": _("您的申请已受理"),
        "request_documents": _("请补充申请材料"),
        "approve": _("您的申请已获授信"),
        "sign": _("您已签约确认授信"),
        "reject": _("您的申请未获通过"),
        "expire": _("授信已过期"),
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
    today = timezone.localdate()
    valid_until = _offer_valid_until(params, today)
    application.status = A.APPROVED
    application.credit_line = credit_line
    application.approved_rate = rate
    application.approved_term_months = term
    application.approved_at = timezone.now()
    application.valid_until = valid_until
    return {"credit_line": credit_line, "annual_rate": rate, "term_months": term, "valid_until": valid_until}


def _offer_valid_until(params: dict, today: date) -> date:
    """The offer's last valid day (Beijing date): the bank's, or OFFER_VALID_DAYS after today."""
    if params.get("valid_until") in (None, ""):
        return today + timedelta(days=OFFER_VALID_DAYS)
    day = _date(params, "valid_until", _("授信有效期"))
    if day < today:
        raise ServiceError(
            _("授信有效期（%(d)s）不能早于今天（%(t)s）。") % {"d": day, "t": today}, field="valid_until"
        )
    if day > today + timedelta(days=OFFER_VALID_DAYS_MAX):
        raise ServiceError(
            _("授信有效期最长为授信日后 %(n)s 天（至 %(m)s）。")
            % {"n": OFFER_VALID_DAYS_MAX, "m": today + timedelta(days=OFFER_VALID_DAYS_MAX)},
            field="valid_until",
        )
    return day


def _sign(*, user, application, params, unit):
    """The firm accepts this offer; every other open offer and application of the firm for the
    same need is released (withdrawn, reason chose_other), each bank told in aggregate what won."""
    if application.need_id is not None:
        taken = (
            Application.objects.filter(need_id=application.need_id, enterprise_id=application.enterprise_id)
            .exclude(pk=application.pk)
            .filter(status__in=[A.SIGNED, A.DISBURSED, A.REPAID, A.DEFAULTED])
            .exists()
        )
        if taken:
            raise ConflictError(
                _("您已为该融资需求签约了其他机构的方案，不能再签约第二个。"), code="need_taken"
            )
    application.status = A.SIGNED
    application.signed_at = timezone.now()
    released = _release_others(user=user, winner=application)
    return {"valid_until": application.valid_until, "released": released}


def _release_others(*, user, winner: Application) -> list[int]:
    if winner.need_id is None:
        return []
    others = list(
        Application.objects.select_for_update(of=("self",))
        .select_related("product", "product__institution", "enterprise")
        .filter(
            need_id=winner.need_id, enterprise_id=winner.enterprise_id, status__in=Application.OPEN_STATUSES
        )
        .exclude(pk=winner.pk)
        .order_by("pk")
    )
    now = timezone.now()
    for other in others:
        before = other.status
        other.status = A.WITHDRAWN
        other.withdraw_reason = Application.WithdrawReason.CHOSE_OTHER
        other.status_changed_at = now
        other.save(update_fields=["status", "withdraw_reason", "status_changed_at"])
        summary = chosen_terms_summary(winner=winner, other=other)
        transition_record(
            subject=other,
            from_state=before,
            to_state=other.status,
            actor=user,
            note=summary,
            data={"action": "withdraw", "reason": "chose_other"},
        )
        webhook_application_event(
            application=other, action="withdraw", from_state=before, note=summary, reason="chose_other"
        )
        notification_send(
            users=application_bank_users(other),
            title=_("企业已选择其他机构的方案：%(firm)s · %(product)s")
            % {"firm": other.enterprise.name, "product": other.product.name},
            body=summary,
        )
    return [o.pk for o in others]


def _pp(delta: Decimal) -> str:
    return f"{abs(delta).quantize(Decimal('0.01'))}"


def chosen_terms_summary(*, winner: Application, other: Application) -> str:
    """What a released bank is told: how the chosen terms compare with its own, in aggregate —
    never the chosen institution or product."""
    parts = []
    rate, line, term = winner.approved_rate, winner.credit_line, winner.approved_term_months
    if other.approved_rate is not None and other.credit_line is not None:
        diff = rate - other.approved_rate
        if diff < 0:
            parts.append(_("年利率低 %(d)s 个百分点") % {"d": _pp(diff)})
        elif diff > 0:
            parts.append(_("年利率高 %(d)s 个百分点") % {"d": _pp(diff)})
        else:
            parts.append(_("年利率相同"))
        line_diff = line - other.credit_line
        if line_diff > 0:
            parts.append(_("授信额度多 %(a)s") % {"a": format_wan(line_diff)})
        elif line_diff < 0:
            parts.append(_("授信额度少 %(a)s") % {"a": format_wan(-line_diff)})
        other_term = other.approved_term_months or other.term_months
        if term > other_term:
            parts.append(_("期限长 %(n)s 个月") % {"n": term - other_term})
        elif term < other_term:
            parts.append(_("期限短 %(n)s 个月") % {"n": other_term - term})
    else:
        parts.append(
            _("年利率 %(r)s%%，授信额度 %(a)s，期限 %(n)s 个月")
            % {"r": rate, "a": format_wan(line), "n": term}
        )
    return _("企业已选择其他机构的方案：%(terms)s。您的申请已释放（撤回）。") % {"terms": "，".join(parts)}


def offers_expire(*, today: date | None = None) -> int:
    """Mark every approved offer past its validity date expired (periodic, idempotent): each one
    in its own transaction, a conditional change under the row lock, recorded and notified. The
    check at signing and disbursement does not depend on this having run."""
    today = today or timezone.localdate()
    spec = TRANSITIONS["expire"]
    due = list(
        Application.objects.filter(status__in=spec.sources, valid_until__lt=today)
        .order_by("valid_until", "pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in due:
        if _offer_expire_one(pk=pk, today=today):
            done += 1
    return done


@transaction.atomic
def _offer_expire_one(*, pk: int, today: date) -> bool:
    app = (
        Application.objects.select_for_update(of=("self",))
        .select_related("product", "product__institution", "enterprise")
        .filter(pk=pk, status=A.APPROVED, valid_until__lt=today)
        .first()
    )
    if app is None:  # signed, withdrawn or expired meanwhile
        return False
    app.status = A.EXPIRED
    app.status_changed_at = timezone.now()
    app.save(update_fields=["status", "status_changed_at"])
    note = _("授信有效期至 %(d)s，企业未在有效期内签约确认。") % {"d": app.valid_until}
    transition_record(
        subject=app,
        from_state=A.APPROVED,
        to_state=app.status,
        actor=None,
        note=note,
        data={"action": "expire", "valid_until": app.valid_until.isoformat()},
    )
    webhook_application_event(application=app, action="expire", from_state=A.APPROVED, note=note)
    _notify(application=app, action="expire", label=str(TRANSITIONS["expire"].label), note=note)
    notification_send(
        users=application_bank_users(app),
        title=_("授信已过期：%(firm)s · %(product)s")
        % {"firm": app.enterprise.name, "product": app.product.name},
        body=note,
    )
    return True


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
    "sign": _sign,
    "disburse": _disburse,
    "repay": _repay,
    "default": _default,
}
