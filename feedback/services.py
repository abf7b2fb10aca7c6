"""Writes of the feedback app: a firm rates the institution of an ended case; complaints go
through one transition table (:data:`TRANSITIONS`) — intake → handling → replied → closed, reopened
once. Every step is recorded (``transition_record``: timeline and audit) and notified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enterprises.services import desks_for
from matching.models import Application, Match
from matching.selectors import application_for_user, match_for_user
from portal.access import ACT, restrict
from portal.models import Role, User
from portal.services import ConflictError, NotAllowedError, ServiceError, notification_send, transition_record
from portal.text import NOTE_MAX
from portal.workdays import add_working_days

from .models import COMMENT_MAX, Complaint, Rating
from .selectors import RATEABLE_APPLICATION_STATUSES, RATEABLE_MATCH_STATUSES

C = Complaint.Status
BANK = frozenset({Role.OFFICER, Role.MANAGER})
FIRM = frozenset({Role.FIRM})
STAFF = frozenset({Role.STAFF, Role.REGION})  # the province's staff and the firm's region desk
SYSTEM = frozenset()  # only the periodic task

#: Working days provincial staff have to reply to a complaint.
REPLY_WORKING_DAYS = 5
#: Calendar days after the reply when a complaint the firm has not confirmed closes by itself.
AUTO_CLOSE_DAYS = 7
#: How many times a firm may reopen one complaint.
REOPEN_LIMIT = 1


def _require_firm(user: User) -> None:
    if not (user.is_authenticated and user.role == Role.FIRM and user.enterprise_id):
        raise NotAllowedError(_("只有企业用户可以进行评价或投诉。"))


def _one_case(application, match) -> None:
    if (application is None) == (match is None):
        raise ServiceError(_("请选择一项要评价的案件：一笔申请或一条线索。"), field="application")


# ------------------------------------------------------------------------------------------------
# Ratings
# ------------------------------------------------------------------------------------------------


@transaction.atomic
def rating_create(
    *,
    user: User,
    application: Application | None = None,
    match: Match | None = None,
    stars,
    comment: str = "",
    anonymous: bool = False,
) -> Rating:
    """The firm rates the institution of one of its ended cases, once per case (the constraints
    ``rating_one_per_application`` / ``rating_one_per_match`` back the check made here first)."""
    _require_firm(user)
    _one_case(application, match)
    if application is not None:
        application = application_for_user(user).filter(pk=application.pk).first()
        if application is None:
            raise ServiceError(_("未找到该申请。"), status=404)
        if application.status not in RATEABLE_APPLICATION_STATUSES:
            raise ConflictError(
                _("申请当前状态为“%(s)s”：结清、未通过或撤回后才能评价。")
                % {"s": application.get_status_display()},
                field="application",
                code="not_ended",
            )
        institution_id = application.product.institution_id
        already = Rating.objects.filter(application=application).exists()
    else:
        match = match_for_user(user).filter(pk=match.pk, is_lead=True).first()
        if match is None:
            raise ServiceError(_("未找到该线索。"), status=404)
        if match.status not in RATEABLE_MATCH_STATUSES:
            raise ConflictError(
                _("该线索当前状态为“%(s)s”：银行婉拒后才能评价。") % {"s": match.get_status_display()},
                field="match",
                code="not_ended",
            )
        institution_id = match.institution_id
        already = Rating.objects.filter(match=match).exists()
    if already:
        raise ConflictError(
            _("您已评价过该案件，每个案件只能评价一次。"), field="stars", code="already_rated"
        )
    try:
        stars = int(str(stars))
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        raise ServiceError(_("请选择 1 到 5 星。"), field="stars")
    comment = str(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ServiceError(_("评价内容不能超过 %(n)s 字。") % {"n": COMMENT_MAX}, field="comment")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                enterprise_id=user.enterprise_id,
                institution_id=institution_id,
                application=application,
                match=match,
                stars=stars,
                comment=comment,
                anonymous=bool(anonymous),
                rated_by=user,
            )
    except IntegrityError:  # two submissions at once: the constraint decides
        raise ConflictError(
            _("您已评价过该案件，每个案件只能评价一次。"), field="stars", code="already_rated"
        )
    notification_send(
        users=_bank_users(institution_id),
        title=_("收到一条企业评价：%(n)s 星") % {"n": stars},
        url=reverse("feedback:bank_ratings"),
    )
    return rating


# ------------------------------------------------------------------------------------------------
# Complaints: the one transition table
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    label: object
    sources: frozenset
    target: str | None  # None: stays in its state (the institution's statement)
    roles: frozenset
    note_required: bool = False


#: action → which states it leaves from, where it goes, who may take it.
TRANSITIONS: dict[str, Step] = {
    "handle": Step(gettext_lazy("开始办理"), frozenset({C.INTAKE}), C.HANDLING, STAFF),
    "reply": Step(gettext_lazy("答复企业"), frozenset({C.INTAKE, C.HANDLING}), C.REPLIED, STAFF, True),
    "answer": Step(gettext_lazy("机构说明"), frozenset({C.INTAKE, C.HANDLING}), None, BANK, True),
    "confirm": Step(gettext_lazy("确认办结"), frozenset({C.REPLIED}), C.CLOSED, FIRM),
    "reopen": Step(gettext_lazy("不满意，重新办理"), frozenset({C.REPLIED}), C.HANDLING, FIRM, True),
    "auto_close": Step(gettext_lazy("答复后 7 天自动办结"), frozenset({C.REPLIED}), C.CLOSED, SYSTEM),
}


def allowed_actions(*, user: User, complaint: Complaint) -> list[str]:
    """The actions ``user`` may take on ``complaint`` now (for the buttons; the service re-checks)."""
    if (
        not user.is_authenticated
        or not restrict(Complaint.objects.filter(pk=complaint.pk), user, ACT).exists()
    ):
        return []
    names = []
    for name, step in TRANSITIONS.items():
        if complaint.status in step.sources and user.role in step.roles:
            if name == "reopen" and complaint.reopen_count >= REOPEN_LIMIT:
                continue
            names.append(name)
    return names


def action_for_target(*, user: User, complaint: Complaint, to: str) -> str | None:
    """The action that takes ``complaint`` to state ``to`` for ``user``'s role from where it is
    (the API's ``{"to": …}``); ``to`` may also name an action (``answer``)."""
    if to in TRANSITIONS and TRANSITIONS[to].roles:
        return to
    for name, step in TRANSITIONS.items():
        if step.target == to and user.role in step.roles and complaint.status in step.sources:
            return name
    for name, step in TRANSITIONS.items():
        if step.target == to and user.role in step.roles:
            return name
    return None


def _desk_users(complaint: Complaint):
    """Who handles it: the province's staff and the desk of the firm's region."""
    return desks_for(complaint.enterprise)


def _bank_users(institution_id):
    return User.objects.filter(
        branch__institution_id=institution_id,
        role__in=[Role.OFFICER, Role.MANAGER],
        is_active=True,
        api_client__isnull=True,
    )


def _firm_users(complaint: Complaint):
    return User.objects.filter(enterprise_id=complaint.enterprise_id, role=Role.FIRM, is_active=True)


def _text(value, *, field: str, label: str, limit: int, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > limit:
        raise ServiceError(_("%(label)s不能超过 %(n)s 字。") % {"label": label, "n": limit}, field=field)
    return text


@transaction.atomic
def complaint_file(
    *,
    user: User,
    subject: str,
    body: str,
    kind: str = Complaint.Kind.COMPLAINT,
    application: Application | None = None,
    match: Match | None = None,
    institution=None,
) -> Complaint:
    """A firm files a complaint or suggestion about one of its cases (an application or a lead) or
    about an institution. Staff owe a reply within 5 working days (``portal.workdays``)."""
    _require_firm(user)
    if kind not in Complaint.Kind.values:
        raise ServiceError(_("请选择类别：投诉或建议。"), field="kind")
    if application is not None and match is not None:
        raise ServiceError(_("一次投诉只能关联一笔申请或一条线索。"), field="application")
    if application is not None:
        application = application_for_user(user).filter(pk=application.pk).first()
        if application is None:
            raise ServiceError(_("未找到该申请。"), status=404, field="application")
        institution_id = application.product.institution_id
    elif match is not None:
        match = match_for_user(user).filter(pk=match.pk, is_lead=True).first()
        if match is None:
            raise ServiceError(_("未找到该线索。"), status=404, field="match")
        institution_id = match.institution_id
    elif institution is not None:
        institution_id = institution.pk
    else:
        raise ServiceError(_("请选择投诉涉及的机构或案件。"), field="institution")
    subject = _text(subject, field="subject", label=_("标题"), limit=100, required=True)
    body = _text(body, field="body", label=_("内容"), limit=NOTE_MAX, required=True)
    now = timezone.now()
    complaint = Complaint.objects.create(
        enterprise_id=user.enterprise_id,
        institution_id=institution_id,
        application=application,
        match=match,
        kind=kind,
        subject=subject,
        body=body,
        response_due_at=add_working_days(now, REPLY_WORKING_DAYS),
        filed_by=user,
        created_at=now,
        status_changed_at=now,
    )
    transition_record(subject=complaint, from_state="", to_state=complaint.status, actor=user, note=subject)
    due = timezone.localtime(complaint.response_due_at).strftime("%Y-%m-%d")
    notification_send(
        users=list(_desk_users(complaint)),
        title=_("新的%(kind)s：%(subject)s") % {"kind": complaint.get_kind_display(), "subject": subject},
        body=_("请在 %(due)s 前答复企业。") % {"due": due},
        url=reverse("feedback:staff_complaint_detail", args=[complaint.pk]),
    )
    notification_send(
        users=list(_bank_users(institution_id)),
        title=_("企业提交了涉及本机构的%(kind)s：%(subject)s")
        % {"kind": complaint.get_kind_display(), "subject": subject},
        url=reverse("feedback:bank_complaint_detail", args=[complaint.pk]),
    )
    notification_send(
        users=[user],
        title=_("已收到您的%(kind)s，将于 %(due)s 前答复")
        % {"kind": complaint.get_kind_display(), "due": due},
        url=reverse("feedback:complaint_detail", args=[complaint.pk]),
    )
    return complaint


@transaction.atomic
def complaint_transition(
    *, user: User | None, complaint: Complaint, action: str, note: str = "", now=None
) -> Complaint:
    """Take ``action`` on ``complaint`` as ``user`` (``None``: the periodic task). An action not
    allowed from the current state is a ConflictError (409) and changes nothing."""
    step = TRANSITIONS.get(action)
    if step is None:
        raise ServiceError(_("未知的操作：%(a)s。") % {"a": action}, field="to")
    if user is None:
        if step.roles:
            raise NotAllowedError(_("该操作需要由用户执行。"))
        locked = Complaint.objects.select_for_update().filter(pk=complaint.pk).first()
    else:
        if not user.is_authenticated or user.role not in step.roles:
            raise NotAllowedError(_("当前账号的角色无权执行“%(label)s”。") % {"label": step.label})
        locked = restrict(Complaint.objects.select_for_update(), user, ACT).filter(pk=complaint.pk).first()
    if locked is None:
        raise ServiceError(_("未找到该投诉。"), status=404)
    if locked.status not in step.sources:
        raise ConflictError(
            _("投诉当前状态为“%(s)s”，不能执行“%(label)s”。")
            % {"s": locked.get_status_display(), "label": step.label},
            code="illegal_transition",
        )
    if action == "reopen" and locked.reopen_count >= REOPEN_LIMIT:
        raise ConflictError(
            _("该投诉已重新办理过一次，不能再次重新办理；如仍有问题，请提交新的投诉。"), code="reopen_limit"
        )
    note = _text(note, field="note", label=_("说明"), limit=NOTE_MAX, required=step.note_required)
    now = now or timezone.now()
    from_state = locked.status
    fields = ["status", "status_changed_at"]
    if action == "reply":
        locked.reply, locked.replied_at = note, now
        fields += ["reply", "replied_at"]
    elif action == "answer":
        locked.institution_answer, locked.institution_answered_at = note, now
        fields += ["institution_answer", "institution_answered_at"]
    elif action == "reopen":
        locked.reopen_count += 1
        locked.response_due_at = add_working_days(now, REPLY_WORKING_DAYS)
        fields += ["reopen_count", "response_due_at"]
    if step.target in (C.CLOSED,):
        locked.closed_at = now
        fields.append("closed_at")
    if step.target is not None:
        locked.status = step.target
    locked.status_changed_at = now
    locked.save(update_fields=fields)
    transition_record(
        subject=locked,
        from_state=from_state,
        to_state=locked.status,
        actor=user,
        note=note,
        data={"action": action},
    )
    _notify(complaint=locked, action=action, label=str(step.label), note=note, actor=user)
    return locked


def _notify(*, complaint: Complaint, action: str, label: str, note: str, actor) -> None:
    title = _("%(kind)s“%(subject)s”：%(label)s") % {
        "kind": complaint.get_kind_display(),
        "subject": complaint.subject,
        "label": label,
    }
    firm_url = reverse("feedback:complaint_detail", args=[complaint.pk])
    staff_url = reverse("feedback:staff_complaint_detail", args=[complaint.pk])
    bank_url = reverse("feedback:bank_complaint_detail", args=[complaint.pk])
    if action in ("handle", "reply", "answer", "auto_close"):
        notification_send(users=list(_firm_users(complaint)), title=title, body=note, url=firm_url)
    if action in ("answer", "confirm", "reopen", "auto_close"):
        notification_send(
            users=[u for u in _desk_users(complaint) if u != actor], title=title, body=note, url=staff_url
        )
    if action in ("reply", "reopen", "confirm", "auto_close"):
        notification_send(
            users=list(_bank_users(complaint.institution_id)), title=title, body=note, url=bank_url
        )


def complaints_autoclose(*, now=None) -> int:
    """Close each complaint replied to ``AUTO_CLOSE_DAYS`` days ago or earlier that the firm has
    neither confirmed nor reopened. Each is closed in its own transaction; a second run finds
    nothing to do."""
    now = now or timezone.now()
    due = Complaint.objects.filter(
        status=C.REPLIED, replied_at__lte=now - timedelta(days=AUTO_CLOSE_DAYS)
    ).values_list("pk", flat=True)
    closed = 0
    for pk in list(due):
        try:
            complaint_transition(user=None, complaint=Complaint(pk=pk), action="auto_close", now=now)
        except ConflictError:  # confirmed or reopened meanwhile
            continue
        closed += 1
    return closed
