"""The Celery application. Settings come from Django's (``CELERY_*``); tasks are autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _visibility_from_env(sender, **kwargs):
    """``CELERY_VISIBILITY_TIMEOUT`` (seconds) shortens how long an unacknowledged message waits
    before it is redelivered — for a worker started to finish what a killed worker left (the
    redelivery tests start one so), never needed in normal operation."""
    seconds = os.environ.get("CELERY_VISIBILITY_TIMEOUT")
    if seconds:
        sender.conf.broker_transport_options = {
            **(sender.conf.broker_transport_options or {}),
            "visibility_timeout": int(seconds),
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }


# ------------------------------------------------------------------------------------------------
# Every periodic schedule of the portal, in one place. A data migration (matching 0004) creates
# each as a django-celery-beat PeriodicTask once; after that staff edit the time in the admin
# (定时任务), and a later migration run does not overwrite their changes.
# ------------------------------------------------------------------------------------------------
PERIODIC_TASKS = [
    # Every night at 02:00 Beijing time: match every open need against every published product.
    {
        "name": "夜间全量匹配",
        "task": "matching.nightly_full_run",
        "crontab": {"minute": "0", "hour": "2"},
    },
    # Every 15 minutes: leads past their first-response deadline are marked overdue, staff are
    # alerted and the need is offered to the next-ranked institution.
    {
        "name": "线索超时检查",
        "task": "matching.escalate_overdue_leads",
        "crontab": {"minute": "*/15"},
    },
    # Every minute: runs left "待派发" while Redis was down are sent, open needs of verified firms
    # not matched since they last changed get a run, and staff are alerted about runs without
    # progress for 10 minutes (matching 0007 creates it; a later migration moved it from */5).
    {
        "name": "未匹配需求补偿匹配",
        "task": "matching.sweep_unmatched_needs",
        "crontab": {"minute": "*"},
    },
    # Every night at 01:30 Beijing time: a firm's consent past its expiry date stops counting
    # (marked expired; banks see only name, city and industry again), and a firm whose consent
    # expires within 30 days is told once, so it can extend it in time (enterprises 0008 creates it).
    {
        "name": "资料授权到期处理",
        "task": "enterprises.consents_expire",
        "crontab": {"minute": "30", "hour": "1"},
    },
    # Every night at 00:40 Beijing time: the 科创积分 of every verified firm recomputed within its stage
    # group from the last three years' figures and its valid qualifications; a firm whose result is
    # unchanged keeps its row (enterprises/scoring.py; enterprises 0014 creates it).
    {
        "name": "科创积分夜间重算",
        "task": "enterprises.score_recompute",
        "crontab": {"minute": "40", "hour": "0"},
    },
    # 5 January, 04:00: the exclusive-product reward (专属产品奖励) of every bank for the year before.
    {
        "name": "专属产品年度奖励测算",
        "task": "subsidies.reward_yearly",
        "crontab": {"minute": "0", "hour": "4", "day_of_month": "5", "month_of_year": "1"},
    },
    # 5 January, April, July and October, 04:30: interest-subsidy claims (免申即享) generated from
    # the repayments banks recorded in the quarter just ended.
    {
        "name": "贴息免申即享测算",
        "task": "subsidies.interest_auto_claims",
        "crontab": {"minute": "30", "hour": "4", "day_of_month": "5", "month_of_year": "1,4,7,10"},
    },
    # Every night at 00:20 Beijing time: an approved credit line (an offer) the firm has not signed
    # by its validity date (授信有效期) is marked expired, and firm and bank are told (matching 0012
    # creates it). Signing and disbursing check the date themselves, so nothing waits on this.
    {
        "name": "授信有效期到期处理",
        "task": "matching.offers_expire",
        "crontab": {"minute": "20", "hour": "0"},
    },
    # Every morning at 08:00 Beijing time: a firm whose loan matures in 7 days is reminded to repay;
    # 60 and 30 days before maturity the firm and the bank's officer hear of the renewal (续贷) —
    # each notice once per loan, a missed day caught up the next (matching 0014 creates it).
    {
        "name": "贷款到期与续贷提醒",
        "task": "matching.loan_notices",
        "crontab": {"minute": "0", "hour": "8"},
    },
    # Every night at 03:15 Beijing time: Idempotency-Key rows older than 24 hours are deleted
    # (portal/idempotency.py; a portal migration creates it).
    {
        "name": "幂等键清理",
        "task": "portal.idempotency_cleanup",
        "crontab": {"minute": "15", "hour": "3"},
    },
    # Every hour at :40: complaints replied to 7 days ago that the firm neither confirmed nor
    # reopened are closed (feedback/services.py; a feedback migration creates it).
    {
        "name": "投诉答复后自动办结",
        "task": "feedback.complaints_autoclose",
        "crontab": {"minute": "40"},
    },
    # Every morning at 08:30 Beijing time: recommended lists past their feedback date with firms
    # unanswered — the institution's managers are told the first day after it, provincial staff two
    # working days later, each once (recommendations/services.py; a recommendations migration creates it).
    {
        "name": "推荐清单反馈超期提醒",
        "task": "recommendations.escalate_overdue",
        "crontab": {"minute": "30", "hour": "8"},
    },
]


def ensure_periodic_tasks(periodic_task_model, crontab_model) -> None:
    """Create the PeriodicTask rows of :data:`PERIODIC_TASKS` that do not exist yet (by name)."""
    for spec in PERIODIC_TASKS:
        if periodic_task_model.objects.filter(name=spec["name"]).exists():
            continue
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
        fields.update(spec["crontab"])
        schedule, _ = crontab_model.objects.get_or_create(**fields, timezone="Asia/Shanghai")
        periodic_task_model.objects.create(name=spec["name"], task=spec["task"], crontab=schedule)
