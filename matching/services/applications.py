"""What a firm does with an application: submit it, withdraw it.

The bank's side (accept … disburse) lives in ``review``. One open application per (firm, product)
is enforced by the database constraint ``application_one_open_per_product``; a second submission
(or a double click) is refused with a clear message, never a 500."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.services import consent_grant_for_application
from portal import money
from portal.models import Role, User
from portal.money import UNIT_WAN, UNIT_YUAN, format_money
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record

from ..models import Application, Match
from .events import application_bank_users, webhook_application_event
from .review import application_transition

TERM_MAX = 360
AMOUNT_MAX = Decimal("10000000000")


@transaction.atomic
def application_submit(
    *,
    user: User,
    product,
    amount: Decimal,
    term_months: int,
    purpose: str,
    note: str = "",
    match: Match | None = None,
    need=None,
    documents=(),
    share_profile: bool = False,
    money_unit: str = UNIT_YUAN,
) -> Application:
    """A firm applies for a product. Eligibility is not required (the bank decides); the product's
    own amount and term range is (:func:`_within_product_terms`). ``amount`` is yuan; ``money_unit``
    is the unit the caller's form shows it in (``UNIT_WAN`` on the apply page), for the messages.

    Applying shares the profile with the product's institution, explicitly: ``share_profile`` must
    be True (the firm ticked the box), and the application grants (or extends) that institution's
    ``application`` consent — every profile group, one year — in the same transaction."""
    if not (user.is_authenticated and user.role == Role.FIRM and user.enterprise_id):
        raise NotAllowedError(_("只有企业用户可以提交融资申请。"))
    if share_profile is not True:
        raise ServiceError(
            _("请勾选“同意向该机构展示企业资料”：银行需要查看企业资料才能审查申请。"), field="share_profile"
        )
    enterprise = user.enterprise
    if not product.is_published:
        raise ServiceError(_("该产品未上架，不能申请。"), field="product")
    if amount is None or amount <= 0:
        raise ServiceError(_("申请金额必须大于 0。"), field="amount")
    if amount > AMOUNT_MAX:
        raise ServiceError(_("申请金额不能超过 100 亿元。"), field="amount")
    if term_months is None or term_months < 1 or term_months > TERM_MAX:
        raise ServiceError(_("申请期限应在 1 到 360 个月之间。"), field="term_months")
    _within_product_terms(product, amount=amount, term_months=term_months, unit=money_unit)
    if match is not None and (match.enterprise_id != enterprise.pk or match.product_id != product.pk):
        raise ServiceError(_("推荐记录与所选产品不符。"), field="match")
    if need is None and match is not None:
        need = match.need
    if need is not None and need.enterprise_id != enterprise.pk:
        raise ServiceError(_("只能关联本企业的融资需求。"), field="need")
    documents = list(documents or ())
    if any(d.enterprise_id != enterprise.pk for d in documents):
        raise ServiceError(_("只能附上本企业上传的材料。"), field="documents")
    if Application.objects.filter(
        enterprise=enterprise, product=product, status__in=Application.OPEN_STATUSES
    ).exists():
        raise ConflictError(_duplicate_message(product), field="product", code="duplicate")
    now = timezone.now()
    try:
        with transaction.atomic():
            application = Application.objects.create(
                enterprise=enterprise,
                product=product,
                match=match,
                need=need,
                amount=amount,
                term_months=term_months,
                purpose=purpose or "",
                note=note or "",
                submitted_by=user,
                created_at=now,
                status_changed_at=now,
            )
    except IntegrityError:  # the same firm submitting twice at once (double click, two tabs)
        raise ConflictError(_duplicate_message(product), field="product", code="duplicate")
    if documents:
        application.documents.set(documents)
    consent_grant_for_application(user=user, enterprise=enterprise, institution=product.institution)
    transition_record(
        subject=application, from_state="", to_state=application.status, actor=user, note=note or ""
    )
    webhook_application_event(application=application, action="submit", note=note or "")
    notification_send(
        users=application_bank_users(application),
        title=_("新的融资申请：%(firm)s · %(product)s") % {"firm": enterprise.name, "product": product.name},
        body=_("申请金额 %(amount)s，期限 %(term)s 个月。")
        % {"amount": money.format_wan(amount), "term": term_months},
    )
    notification_send(
        users=[user],
        title=_("申请已提交：%(product)s") % {"product": product.name},
        url=reverse("enterprises:application_detail", args=[application.pk]),
    )
    return application


def _within_product_terms(product, *, amount: Decimal, term_months: int, unit: str) -> None:
    """The amount and term inside the product's own range (limits inclusive), or a 400 on the field."""
    if unit not in (UNIT_YUAN, UNIT_WAN):
        raise ValueError(f"unknown money unit {unit!r}")
    low, high = product.amount_min, product.amount_max
    span = {"low": format_money(low, unit), "high": format_money(high, unit), "a": format_money(amount, unit)}
    if amount < low:
        raise ServiceError(
            _("申请金额（%(a)s）低于该产品的最低额度（%(low)s），请在 %(low)s–%(high)s 之间申请。") % span,
            field="amount",
            code="amount_out_of_range",
        )
    if amount > high:
        raise ServiceError(
            _("申请金额（%(a)s）超过该产品的最高额度（%(high)s），请在 %(low)s–%(high)s 之间申请。") % span,
            field="amount",
            code="amount_out_of_range",
        )
    shortest, longest = product.term_min_months, product.term_max_months
    if not shortest <= term_months <= longest:
        raise ServiceError(
            _("申请期限（%(t)s 个月）不在该产品的期限范围内，请在 %(a)s–%(b)s 个月之间申请。")
            % {"t": term_months, "a": shortest, "b": longest},
            field="term_months",
            code="term_out_of_range",
        )


def _duplicate_message(product) -> str:
    return _("您已申请过“%(product)s”，该申请仍在办理中：请在“我的申请”中查看进度，或撤回后再重新申请。") % {
        "product": product.name
    }


@transaction.atomic
def application_withdraw(*, user: User, application: Application, note: str = "") -> Application:
    """The firm withdraws its application at any time before a loan is disbursed."""
    if not (
        user.is_authenticated and user.role == Role.FIRM and user.enterprise_id == application.enterprise_id
    ):
        raise NotAllowedError(_("只能撤回本企业的申请。"))
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status == Application.Status.WITHDRAWN:
        return locked
    if locked.status not in Application.OPEN_STATUSES:
        raise ConflictError(
            _("申请当前状态为“%(s)s”，不能撤回。") % {"s": locked.get_status_display()}, code="not_open"
        )
    before = locked.status
    locked.status = Application.Status.WITHDRAWN
    locked.withdraw_reason = Application.WithdrawReason.FIRM
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "withdraw_reason", "status_changed_at"])
    transition_record(subject=locked, from_state=before, to_state=locked.status, actor=user, note=note or "")
    webhook_application_event(application=locked, action="withdraw", from_state=before, note=note or "")
    locked.product = application.product
    locked.enterprise = application.enterprise
    locked.match = application.match
    notification_send(
        users=application_bank_users(locked),
        title=_("企业已撤回申请：%(firm)s · %(product)s")
        % {"firm": locked.enterprise.name, "product": locked.product.name},
        body=note or "",
    )
    notification_send(
        users=[user],
        title=_("申请已撤回：%(product)s") % {"product": locked.product.name},
        url=reverse("enterprises:application_detail", args=[locked.pk]),
    )
    application.status = locked.status
    application.status_changed_at = locked.status_changed_at
    return locked


def application_offer_accept(*, user: User, application: Application, note: str = "") -> Application:
    """The firm accepts an offer (签约确认): the ``sign`` step of the one transition table
    (``review.application_transition``), which releases the firm's other open offers and
    applications for the same need and refuses an offer past its validity date."""
    if not (user.is_authenticated and user.role == Role.FIRM):
        raise NotAllowedError(_("只有企业用户可以签约确认授信。"))
    return application_transition(user=user, application=application, action="sign", note=note)
