"""Rules of recommended lists: building one from filters, sending it, the banks' answers and the
escalation of overdue answers. Every refusal is a ``ServiceError`` with a Chinese message (and the
input field it concerns), raised before anything is written.

Filters (``RecommendationList.filters``, stored as built, all optional):

- ``min_score``: the firm's current 科创积分 (``InnovationScore.is_latest``) at least this (0–100);
- ``stage_groups`` (early / growth / mature, the score's groups) and ``stages``
  (``Enterprise.stage``): the firm's stage in either;
- ``cities`` (Region codes) and ``industries``;
- ``first_loan_only``: 首贷户 only (``enterprises.models.FIRST_LOAN_FIRMS``);
- ``consenting_only`` with ``consent_institutions``: only firms that let *each* of those
  institutions see their profile (``enterprises.consent.consenting_q``, purpose 培育库); sending such
  a list to an institution checks the same rule again for every firm of the list.

Only verified firms are ever listed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from enterprises.models import FIRST_LOAN_FIRMS, Enterprise, InnovationScore
from enterprises.score import STAGE_GROUPS
from enterprises.selectors import consenting_q
from lenders.models import Institution
from portal.access import ACT, can
from portal.models import BANK_ROLES, Region, Role, User
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record
from portal.text import NOTE_MAX
from portal.vocabulary import INDUSTRIES, STAGES
from portal.workdays import add_working_days, working_days_between

from .models import (
    TITLE_MAX,
    DeclineReason,
    Outcome,
    RecommendationEntry,
    RecommendationFeedback,
    RecommendationList,
    RecommendationRecipient,
)
from .selectors import PURPOSE

MAX_DUE_WORKING_DAYS = 30
DEFAULT_DUE_WORKING_DAYS = 10
#: How many working days after the due date, still unanswered, provincial staff are told (the
#: institution's managers are told the first day after it).
STAFF_ESCALATION_WORKING_DAYS = 2
MAX_AMOUNT = Decimal("99999999999999.99")
STAGE_GROUP_CODES = tuple(dict.fromkeys(STAGE_GROUPS.values()))


def _require_staff(user) -> None:
    if user is None or getattr(user, "role", None) != Role.STAFF:
        raise NotAllowedError("只有省级专班可以编制和发送推荐清单。")


def _codes(value, allowed, *, field: str, label: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ServiceError(f"{label}格式不正确。", field=field)
    out = []
    for v in value:
        v = str(v)
        if v not in allowed:
            raise ServiceError(f"{label}“{v}”不存在。", field=field)
        if v not in out:
            out.append(v)
    return out


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def filters_clean(filters: dict | None) -> dict:
    """The filters, checked and in their stored form (see the module docstring)."""
    filters = dict(filters or {})
    unknown = set(filters) - {
        "min_score",
        "stage_groups",
        "stages",
        "cities",
        "industries",
        "first_loan_only",
        "consenting_only",
        "consent_institutions",
    }
    if unknown:
        raise ServiceError(f"不支持的筛选条件：{'、'.join(sorted(unknown))}。", field="filters")
    out: dict = {}
    raw = filters.get("min_score")
    if raw not in (None, ""):
        try:
            score = Decimal(str(raw))
        except InvalidOperation:
            raise ServiceError("科创积分下限须为 0 到 100 之间的数字。", field="min_score") from None
        if not score.is_finite() or score < 0 or score > 100:
            raise ServiceError("科创积分下限须为 0 到 100 之间的数字。", field="min_score")
        out["min_score"] = str(score.quantize(Decimal("0.01")))
    out["stage_groups"] = _codes(
        filters.get("stage_groups"), STAGE_GROUP_CODES, field="stage_groups", label="参评组别"
    )
    out["stages"] = _codes(filters.get("stages"), STAGES, field="stages", label="发展阶段")
    cities = set(Region.objects.values_list("pk", flat=True))
    out["cities"] = _codes(filters.get("cities"), {str(c) for c in cities}, field="cities", label="城市")
    out["industries"] = _codes(filters.get("industries"), INDUSTRIES, field="industries", label="行业")
    out["first_loan_only"] = _flag(filters.get("first_loan_only"))
    out["consenting_only"] = _flag(filters.get("consenting_only"))
    institutions = filters.get("consent_institutions") or []
    if not isinstance(institutions, (list, tuple)):
        institutions = [institutions]
    try:
        ids = sorted({int(i) for i in institutions})
    except (TypeError, ValueError):
        raise ServiceError("机构编号无效。", field="consent_institutions") from None
    if len(ids) != Institution.objects.filter(pk__in=ids).count():
        raise ServiceError("所选机构不存在。", field="consent_institutions")
    if out["consenting_only"] and not ids:
        raise ServiceError(
            "只选授权企业时，请选择企业须授权的机构（即拟发送的机构）。", field="consent_institutions"
        )
    out["consent_institutions"] = ids if out["consenting_only"] else []
    return out


def _latest_total():
    return Subquery(
        InnovationScore.objects.filter(enterprise_id=OuterRef("pk"), is_latest=True).values("total")[:1]
    )


def list_candidates(filters: dict) -> QuerySet[Enterprise]:
    """The verified firms that ``filters`` (cleaned) select, best score first, each annotated with
    its current score (``current_total``, None without one)."""
    qs = Enterprise.objects.filter(verification_status=Enterprise.Verification.VERIFIED).annotate(
        current_total=_latest_total()
    )
    if filters.get("min_score") is not None:
        qs = qs.filter(current_total__gte=Decimal(filters["min_score"]))
    stages = set(filters.get("stages") or [])
    for group in filters.get("stage_groups") or []:
        stages |= {s for s, g in STAGE_GROUPS.items() if g == group}
    if stages:
        qs = qs.filter(stage__in=sorted(stages))
    if filters.get("cities"):
        qs = qs.filter(city_id__in=filters["cities"])
    if filters.get("industries"):
        qs = qs.filter(industry__in=filters["industries"])
    if filters.get("first_loan_only"):
        qs = qs.filter(pk__in=Enterprise.objects.filter(FIRST_LOAN_FIRMS).values("pk"))
    if filters.get("consenting_only"):
        for institution_id in filters.get("consent_institutions") or []:
            qs = qs.filter(consenting_q(institution_id=institution_id, purpose=PURPOSE))
    return qs.order_by("-current_total", "name", "pk")


def list_preview(*, filters: dict, by) -> int:
    """How many firms a list built from ``filters`` would hold now (the builder's count)."""
    _require_staff(by)
    return list_candidates(filters_clean(filters)).count()


@transaction.atomic
def list_build(*, filters: dict, by, title: str) -> RecommendationList:
    """A draft list of the firms ``filters`` select now, each with its score and first-loan status
    of today (kept: later changes of the firm do not change the list)."""
    _require_staff(by)
    title = (title or "").strip()
    if not title:
        raise ServiceError("请填写清单名称。", field="title")
    if len(title) > TITLE_MAX:
        raise ServiceError(f"清单名称不能超过 {TITLE_MAX} 个字。", field="title")
    cleaned = filters_clean(filters)
    firms = list(list_candidates(cleaned).values_list("pk", "current_total"))
    if not firms:
        raise ServiceError("没有符合筛选条件的已认证企业，请放宽条件。", field="filters")
    first_loan = set(
        Enterprise.objects.filter(FIRST_LOAN_FIRMS, pk__in=[pk for pk, _ in firms]).values_list(
            "pk", flat=True
        )
    )
    rec_list = RecommendationList.objects.create(title=title, filters=cleaned, created_by=by)
    RecommendationEntry.objects.bulk_create(
        [
            RecommendationEntry(list=rec_list, enterprise_id=pk, score=total, first_loan=pk in first_loan)
            for pk, total in firms
        ]
    )
    transition_record(
        subject=rec_list,
        from_state="",
        to_state=RecommendationList.Status.DRAFT,
        actor=by,
        note=f"按筛选条件编制，共 {len(firms)} 户企业",
        data={"filters": cleaned},
    )
    return rec_list


def _bank_users(institution_id: int, roles) -> list[User]:
    return list(
        User.objects.filter(branch__institution_id=institution_id, role__in=roles, is_active=True).order_by(
            "pk"
        )
    )


@transaction.atomic
def list_send(
    *, rec_list: RecommendationList, institutions, due_working_days: int, by, now: datetime | None = None
) -> RecommendationList:
    """Send a draft list to ``institutions``; answers are due ``due_working_days`` working days
    later (``portal.workdays``). The banks' officers and managers are told."""
    _require_staff(by)
    rec_list = RecommendationList.objects.select_for_update().get(pk=rec_list.pk)
    if not can(by, rec_list, ACT):
        raise ServiceError("未找到该清单。", status=404)
    if rec_list.is_sent:
        raise ConflictError("清单已发送，不能再次发送。")
    try:
        days = int(due_working_days)
    except (TypeError, ValueError):
        raise ServiceError("反馈期限须为 1 到 30 个工作日。", field="due_working_days") from None
    if not 1 <= days <= MAX_DUE_WORKING_DAYS:
        raise ServiceError("反馈期限须为 1 到 30 个工作日。", field="due_working_days")
    try:
        ids = sorted({int(getattr(i, "pk", i)) for i in institutions or []})
    except (TypeError, ValueError):
        raise ServiceError("机构编号无效。", field="institutions") from None
    if not ids:
        raise ServiceError("请至少选择一家接收机构。", field="institutions")
    chosen = list(Institution.objects.filter(pk__in=ids, is_lender=True).order_by("name"))
    if len(chosen) != len(ids):
        raise ServiceError("所选机构不存在或不提供融资产品。", field="institutions")
    entries = rec_list.entries.all()
    if not entries.exists():
        raise ServiceError("清单中没有企业，不能发送。")
    if rec_list.filters.get("consenting_only"):
        for institution in chosen:
            missing = entries.exclude(
                enterprise__in=Enterprise.objects.filter(
                    consenting_q(institution_id=institution.pk, purpose=PURPOSE)
                )
            ).count()
            if missing:
                raise ServiceError(
                    f"清单中有 {missing} 户企业未授权{institution.short_name}查看资料（本清单只含授权企业），"
                    "请改选机构或重新编制清单。",
                    field="institutions",
                )
    now = now or timezone.now()
    due_on = add_working_days(now, days).date()
    RecommendationRecipient.objects.bulk_create(
        [
            RecommendationRecipient(list=rec_list, institution=i, sent_at=now, due_on=due_on, sent_by=by)
            for i in chosen
        ]
    )
    rec_list.status = RecommendationList.Status.SENT
    rec_list.sent_at = now
    rec_list.due_working_days = days
    rec_list.feedback_due = due_on
    rec_list.save(update_fields=["status", "sent_at", "due_working_days", "feedback_due"])
    transition_record(
        subject=rec_list,
        from_state=RecommendationList.Status.DRAFT,
        to_state=RecommendationList.Status.SENT,
        actor=by,
        note=f"发送给{'、'.join(i.short_name for i in chosen)}，{days} 个工作日内（{due_on:%Y-%m-%d} 前）反馈",
        data={"institutions": ids, "due_on": due_on.isoformat()},
    )
    firms = entries.count()
    url = reverse("recommendations:bank_detail", args=[rec_list.pk])
    for institution in chosen:
        notification_send(
            users=_bank_users(institution.pk, BANK_ROLES),
            title=f"省级专班推荐清单：{rec_list.title}",
            body=f"共 {firms} 户企业，请在 {due_on:%Y-%m-%d} 前逐户反馈对接情况（已联系、已授信或不予支持）。",
            url=url,
        )
    return rec_list


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ServiceError("请填写有效的授信金额。", field="amount") from None
    if not amount.is_finite():
        raise ServiceError("请填写有效的授信金额。", field="amount")
    return amount


@transaction.atomic
def feedback_record(
    *,
    entry: RecommendationEntry,
    institution,
    outcome: str,
    amount=None,
    reason_code: str = "",
    note: str = "",
    by,
) -> RecommendationFeedback:
    """The institution's answer about one firm of a list (amount in yuan). A second answer updates
    the first; each answer is a transition in the audit trail (from the previous outcome)."""
    institution_id = getattr(institution, "pk", institution)
    if by is None or by.role not in BANK_ROLES or by.institution_id != institution_id:
        raise NotAllowedError("只有接收清单的机构的客户经理或管理者可以反馈。")
    rec_list = RecommendationList.objects.get(pk=entry.list_id)
    if not can(by, rec_list, ACT):
        raise ServiceError("未找到该清单。", status=404)
    if not rec_list.is_sent:
        raise ConflictError("清单尚未发送，不能反馈。")
    if not RecommendationRecipient.objects.filter(list=rec_list, institution_id=institution_id).exists():
        raise ServiceError("本机构不是该清单的接收机构。", status=404)
    if outcome not in Outcome.values:
        raise ServiceError(
            "请选择反馈结果：已联系（contacted）、已授信（granted）或不予支持（declined）。", field="outcome"
        )
    value = _amount(amount)
    if outcome == Outcome.GRANTED:
        if value is None:
            raise ServiceError("已授信时请填写授信金额。", field="amount")
        if value <= 0:
            raise ServiceError("授信金额必须大于 0。", field="amount")
        if value > MAX_AMOUNT:
            raise ServiceError("授信金额过大，请核对。", field="amount")
        value = value.quantize(Decimal("0.01"))
    else:
        value = None
    reason_code = (reason_code or "").strip()
    if outcome == Outcome.DECLINED:
        if not reason_code:
            raise ServiceError("不予支持时请选择原因。", field="reason_code")
        if reason_code not in DeclineReason.values:
            choices = "、".join(f"{c}（{label}）" for c, label in DeclineReason.choices)
            raise ServiceError(f"原因代码无效，可选：{choices}。", field="reason_code")
    else:
        reason_code = ""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError(f"说明不能超过 {NOTE_MAX} 个字。", field="note")
    now = timezone.now()
    current = (
        RecommendationFeedback.objects.select_for_update()
        .filter(entry=entry, institution_id=institution_id)
        .first()
    )
    previous = current.outcome if current else ""
    if current is None:
        current = RecommendationFeedback(entry=entry, institution_id=institution_id)
    current.outcome = outcome
    current.amount = value
    current.reason_code = reason_code
    current.note = note
    current.answered_by = by
    current.answered_at = now
    current.save()
    transition_record(
        subject=current,
        from_state=previous,
        to_state=outcome,
        actor=by,
        note=note,
        data={
            "list": rec_list.pk,
            "enterprise": entry.enterprise_id,
            "amount": None if value is None else str(value),
            "reason_code": reason_code,
        },
    )
    return current


def _unanswered(recipient: RecommendationRecipient) -> int:
    entries = RecommendationEntry.objects.filter(list_id=recipient.list_id).count()
    answered = RecommendationFeedback.objects.filter(
        entry__list_id=recipient.list_id, institution_id=recipient.institution_id
    ).count()
    return entries - answered


def recipients_escalate_overdue(*, now: datetime | None = None) -> int:
    """Recipients past their due date with firms still unanswered: the first day after the due date
    the institution's managers are told; ``STAFF_ESCALATION_WORKING_DAYS`` working days after it,
    still unanswered, provincial staff are told — each once (``manager_alerted_at``,
    ``staff_alerted_at``), through the portal's notifications. Returns how many alerts were sent.
    Running it twice alerts nobody twice."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    candidates = list(
        RecommendationRecipient.objects.filter(list__status=RecommendationList.Status.SENT, due_on__lt=today)
        .filter(manager_alerted_at__isnull=True)
        .values_list("pk", flat=True)
    ) + list(
        RecommendationRecipient.objects.filter(list__status=RecommendationList.Status.SENT, due_on__lt=today)
        .filter(staff_alerted_at__isnull=True)
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in dict.fromkeys(candidates):
        with transaction.atomic():
            recipient = (
                RecommendationRecipient.objects.select_for_update()
                .select_related("list", "institution")
                .get(pk=pk)
            )
            missing = _unanswered(recipient)
            if missing <= 0:
                continue
            title = f"推荐清单反馈超期：{recipient.list.title}"
            body = (
                f"{recipient.institution.short_name}应在 {recipient.due_on:%Y-%m-%d} 前反馈，"
                f"尚有 {missing} 户企业未反馈。"
            )
            if recipient.manager_alerted_at is None:
                notification_send(
                    users=_bank_users(recipient.institution_id, (Role.MANAGER,)),
                    title=title,
                    body=body + "请督促客户经理尽快逐户反馈。",
                    url=reverse("recommendations:bank_detail", args=[recipient.list_id]),
                )
                recipient.manager_alerted_at = now
                recipient.save(update_fields=["manager_alerted_at"])
                sent += 1
            if (
                recipient.staff_alerted_at is None
                and working_days_between(recipient.due_on, today) >= STAFF_ESCALATION_WORKING_DAYS
            ):
                notification_send(
                    users=User.objects.filter(role=Role.STAFF, is_active=True),
                    title=title,
                    body=body + "已提醒该机构管理者，仍未反馈。",
                    url=reverse("recommendations:detail", args=[recipient.list_id]),
                )
                recipient.staff_alerted_at = now
                recipient.save(update_fields=["staff_alerted_at"])
                sent += 1
    return sent
