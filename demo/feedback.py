"""Demo data of the feedback app (called by ``demo.seed.seed``): ratings on ended demo cases, an
open complaint within its deadline and a closed one. Deterministic (chosen by id order, stars
from the case's id) and idempotent (a second run finds everything in place)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from feedback import services
from feedback.models import Complaint, Rating
from feedback.selectors import RATEABLE_APPLICATION_STATUSES
from lenders.models import Institution
from matching.models import Application, Match
from portal.models import Role, Transition, User
from portal.selectors import transitions_for
from portal.workdays import add_working_days

BJ = ZoneInfo("Asia/Shanghai")
APPLICATION_RATINGS = 24
MATCH_RATINGS = 12
COMMENTS = (
    "",
    "客户经理响应及时，流程清楚。",
    "审批时间偏长，希望提速。",
    "",
    "沟通耐心，材料要求说明清楚。",
)
OPEN_SUBJECT = "线索推送后客户经理未按期联系"
CLOSED_SUBJECT = "建议公开贷款审批进度"


def _stars(pk: int) -> int:
    return (3, 4, 5, 4, 2, 5, 3)[pk % 7]


def _moment(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=BJ)


def _backdate(complaint: Complaint, *, filed: date, step_days: tuple[int, ...]) -> None:
    """Put a complaint made now into the demo's past: filed on ``filed`` at 10:00, its steps
    ``step_days`` days later; the reply deadline counted again from the filing (5 working days)."""
    created = _moment(filed)
    steps = list(transitions_for(complaint))
    moments = [created + timedelta(days=d, hours=i) for i, d in enumerate(step_days)]
    for t, at in zip(steps, moments, strict=False):
        Transition.objects.filter(pk=t.pk).update(at=at)
    last = moments[min(len(steps), len(moments)) - 1]
    fields = {
        "created_at": created,
        "status_changed_at": last,
        "response_due_at": add_working_days(created, services.REPLY_WORKING_DAYS),
    }
    if complaint.status == Complaint.Status.CLOSED:
        fields.update(replied_at=moments[2], closed_at=moments[-1])
    Complaint.objects.filter(pk=complaint.pk).update(**fields)


@transaction.atomic
def seed_feedback(*, today: date) -> dict:
    made = {"ratings": 0, "complaints": 0}
    applications = (
        Application.objects.filter(status__in=RATEABLE_APPLICATION_STATUSES)
        .select_related("product")
        .order_by("pk")[:APPLICATION_RATINGS]
    )
    for a in applications:
        if Rating.objects.filter(application=a).exists():
            continue
        day = min(a.status_changed_at.astimezone(BJ).date() + timedelta(days=1), today)
        Rating.objects.create(
            enterprise_id=a.enterprise_id,
            institution_id=a.product.institution_id,
            application=a,
            stars=_stars(a.pk),
            comment=COMMENTS[a.pk % len(COMMENTS)],
            anonymous=a.pk % 3 == 0,
            created_at=_moment(day, 16),
        )
        made["ratings"] += 1
    for m in Match.objects.filter(is_lead=True, status=Match.Status.DECLINED).order_by("pk")[:MATCH_RATINGS]:
        if Rating.objects.filter(match=m).exists():
            continue
        day = min(m.updated_at.astimezone(BJ).date() + timedelta(days=1), today)
        Rating.objects.create(
            enterprise_id=m.enterprise_id,
            institution_id=m.institution_id,
            match=m,
            stars=max(1, _stars(m.pk) - 1),
            comment=COMMENTS[m.pk % len(COMMENTS)],
            anonymous=m.pk % 2 == 0,
            created_at=_moment(day, 16),
        )
        made["ratings"] += 1

    firm = User.objects.filter(username="demo_firm", role=Role.FIRM).first()
    staff = User.objects.filter(username="demo_staff", role=Role.STAFF).first()
    pufa = Institution.objects.filter(name="浦发银行太原分行").first()
    if firm is None or staff is None or pufa is None:
        return made
    mine = Complaint.objects.filter(enterprise_id=firm.enterprise_id)
    if not mine.filter(subject=CLOSED_SUBJECT).exists():
        closed = services.complaint_file(
            user=firm,
            kind=Complaint.Kind.SUGGESTION,
            subject=CLOSED_SUBJECT,
            body="希望在企业工作台看到每笔申请在银行内部的审批环节和预计完成时间。",
            institution=pufa,
        )
        services.complaint_transition(user=staff, complaint=closed, action="handle")
        services.complaint_transition(
            user=staff,
            complaint=closed,
            action="reply",
            note="已转请浦发银行太原分行在申请详情中同步审批环节，平台下一版本将显示预计完成时间。",
        )
        services.complaint_transition(user=firm, complaint=closed, action="confirm")
        _backdate(closed, filed=today - timedelta(days=20), step_days=(0, 1, 3, 4))
        made["complaints"] += 1
    if not mine.filter(subject=OPEN_SUBJECT).exists():
        opened = services.complaint_file(
            user=firm,
            subject=OPEN_SUBJECT,
            body="融资需求推送给银行后，超过两个工作日仍未有客户经理联系我们。",
            institution=pufa,
        )
        _backdate(opened, filed=today - timedelta(days=1), step_days=(0,))
        made["complaints"] += 1
    return made
