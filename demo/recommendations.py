"""Demo data of recommended lists (called last by ``portal.demo.seed``): one list of 太原市's
verified firms, sent by the demo staff 15 working days before ``today`` to 浦发银行太原分行 and
中国银行山西省分行 with 10 working days to answer; 浦发 has answered some firms of each kind
(contacted, granted, declined), 中国银行 none (so it is overdue and escalated). Deterministic and
idempotent (a second run finds the list by its title and changes nothing)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from lenders.models import Institution
from portal.models import Role, User
from portal.workdays import is_working_day
from recommendations import services
from recommendations.models import DeclineReason, Outcome, RecommendationFeedback, RecommendationList

BJ = ZoneInfo("Asia/Shanghai")
TITLE = "太原市科技企业推荐清单（第一批）"
SENT_WORKING_DAYS_AGO = 15
ANSWERS = (
    (Outcome.GRANTED, Decimal("5000000"), ""),
    (Outcome.CONTACTED, None, ""),
    (Outcome.DECLINED, None, DeclineReason.INCOMPLETE),
    (Outcome.GRANTED, Decimal("3000000"), ""),
    (Outcome.DECLINED, None, DeclineReason.NO_INTEREST),
    (Outcome.CONTACTED, None, ""),
)


def _working_days_before(day: date, n: int) -> date:
    from datetime import timedelta

    while n > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def seed_recommendations(*, today: date) -> dict:
    made = {"lists": 0, "answers": 0}
    if RecommendationList.objects.filter(title=TITLE).exists():
        return made
    staff = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    banks = list(
        Institution.objects.filter(name__in=["浦发银行太原分行", "中国银行山西省分行"]).order_by("name")
    )
    if staff is None or len(banks) < 2:
        return made
    try:
        rec_list = services.list_build(filters={"cities": ["140100"]}, by=staff, title=TITLE)
    except services.ServiceError:
        return made  # no verified firm in 太原市 (a seed without firms)
    sent_on = _working_days_before(today, SENT_WORKING_DAYS_AGO)
    sent_at = datetime.combine(sent_on, time(10), tzinfo=BJ)
    RecommendationList.objects.filter(pk=rec_list.pk).update(created_at=sent_at.replace(hour=9))
    services.list_send(rec_list=rec_list, institutions=banks, due_working_days=10, by=staff, now=sent_at)
    made["lists"] = 1
    pufa = next(b for b in banks if b.name == "浦发银行太原分行")
    officer = (
        User.objects.filter(role=Role.OFFICER, branch__institution=pufa, is_active=True)
        .order_by("pk")
        .first()
    )
    if officer is None:
        return made
    answered_at = datetime.combine(
        _working_days_before(today, SENT_WORKING_DAYS_AGO - 3), time(15), tzinfo=BJ
    )
    for entry, (outcome, amount, reason) in zip(rec_list.entries.order_by("pk"), ANSWERS, strict=False):
        fb = services.feedback_record(
            entry=entry,
            institution=pufa,
            outcome=outcome,
            amount=amount,
            reason_code=reason,
            note="演示数据",
            by=officer,
        )
        RecommendationFeedback.objects.filter(pk=fb.pk).update(answered_at=answered_at)
        made["answers"] += 1
    services.recipients_escalate_overdue()
    return made
