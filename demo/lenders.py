"""Demo data of the bank side for ``seed_demo``: a believable history on the leads the matching
run produced — leads claimed, contacted, invited, declined and overdue; applications in every
state; loans disbursed, repaid and defaulted; incubation pools — while ``demo_officer`` keeps
several unclaimed leads to work.

The matching run starts when the seed's transaction commits, so this history is written by a
callback registered after it (same commit, next in line). With a separate worker (Redis) the run
finishes later and there is nothing to work yet: the history is then skipped, and a later
``seed_demo`` adds it. Idempotent: once written (marked by its applications' note) it is not
written again."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from enterprises.models import Enterprise, FinancingNeed
from enterprises.services import consent_grant_for_application
from lenders.choices import DECLINE_REASONS
from lenders.models import Branch, Institution, PoolEntry
from lenders.selectors import pool_candidates
from matching.models import Application, Match
from matching.services.leads import lead_claim, lead_contact, lead_decline, lead_invite
from matching.services.loans import loans_send_notices
from matching.services.review import application_transition
from portal.models import Role, Transition, User
from portal.services import transition_record
from portal.workdays import add_working_days
from products.models import Product
from subsidies.calc import add_months  # the one month arithmetic (《民法典》第二百零二条)

logger = logging.getLogger(__name__)

DEMO_NOTE = "【演示】"
SEED = 20261128
KEEP_UNCLAIMED = 6  # demo_officer's branch keeps this many fresh leads
MAX_WORKED = 400
OFFICER_NAMES = "王李张刘陈杨赵黄周吴"
APP_STATES = [
    "submitted",
    "accepted",
    "approved",
    "rejected",
    "withdrawn",
    "disbursed",
    "repaid",
    "defaulted",
]
LOAN_STATES = ("disbursed", "repaid", "defaulted")
POOLS = {"浦发银行太原分行": 8, "中国银行山西省分行": 4, "中国农业银行山西省分行": 5}


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _backdate(subject, when: datetime) -> None:
    """Move the newest transition of ``subject`` to ``when`` (the demo's past)."""
    ct = ContentType.objects.get_for_model(subject)
    last = Transition.objects.filter(content_type=ct, object_id=subject.pk).aggregate(m=Max("id"))["m"]
    if last:
        Transition.objects.filter(pk=last).update(at=when)


def _officer_for(branch: Branch, cache: dict) -> User:
    """An officer of ``branch`` to act in the history (demo accounts first, else a named one)."""
    if branch.pk in cache:
        return cache[branch.pk]
    officer = (
        User.objects.filter(branch=branch, role=Role.OFFICER)
        .exclude(username="demo_officer")
        .order_by("pk")
        .first()
    )
    if officer is None:
        username = f"officer_{branch.pk}"
        officer, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": Role.OFFICER,
                "branch": branch,
                "first_name": OFFICER_NAMES[branch.pk % len(OFFICER_NAMES)] + "经理",
            },
        )
        if created:
            officer.set_unusable_password()
            officer.save(update_fields=["password"])
    cache[branch.pk] = officer
    return officer


def _amount_term(match: Match) -> tuple[Decimal, int]:
    product, need = match.product, match.need
    amount = min(max(need.amount, product.amount_min), product.amount_max)
    term = min(max(need.term_months, product.term_min_months), product.term_max_months)
    return amount, term


def _rate(product) -> Decimal:
    low = product.rate_min if product.rate_min is not None else Decimal("3.500")
    high = product.rate_max if product.rate_max is not None else low + Decimal("2")
    return min(high, low + Decimal("0.500"))


#: How many days before the seed's today a need whose lead ends in this state was posted (a range
#: wide enough for the state's lifecycle; the history is spread over these ranges).
POSTED_DAYS_AGO = {
    # outcomes of a lead without an application
    "overdue": (6, 200),
    "claimed": (3, 12),
    "declined": (3, 340),
    "contacted": (3, 340),
    "invited": (3, 60),
    # the state an application reaches
    "submitted": (2, 4),
    "accepted": (5, 25),
    "approved": (8, 60),
    "rejected": (8, 330),
    "withdrawn": (5, 330),
    "disbursed": (20, 330),
    "repaid": (200, 345),
    "defaulted": (250, 350),
}
OFFER_DAYS = 90  # the validity the demo's banks give an open offer (授信有效期)
INTEREST_DAY = 20  # banks settle quarterly interest on the 20th of Mar, Jun, Sep and Dec (结息日)


@dataclass
class _Plan:
    match: Match
    actor: User
    outcome: str  # overdue, claimed, declined, contacted, invited
    target: str | None = None  # the application's state, for an invited lead
    today_fact: bool = False  # submitted today / disbursed today


@transaction.atomic
def seed_bank_history(*, today: date, seed: int = SEED) -> dict:
    """The banks' history over the year before ``today``, deterministic for ``today`` and ``seed``.
    Every need that got leads is dated the day they were routed, and everything after it (claim,
    contact, application, approval, disbursement, interest, repayment, default) lies between that
    day and ``today``, in lifecycle order, never in the future. On ``today`` itself: an application
    to review for demo_officer's branch and a disbursement; tomorrow a lead of demo_officer falls due."""
    if Transition.objects.filter(note__startswith=DEMO_NOTE).exists():
        return {"skipped": "already seeded"}
    leads = list(
        Match.objects.filter(is_lead=True, status=Match.Status.SUGGESTED, assigned_officer__isnull=True)
        .select_related("product", "product__institution", "need", "enterprise", "branch")
        .order_by("-score", "pk")
    )
    if not leads:
        logger.info("bank demo history skipped: no leads yet (the match run has not finished)")
        return {"skipped": "no leads"}
    rng = random.Random(f"{seed}:{today.isoformat()}")
    officers: dict[int, User] = {}
    demo_officer = User.objects.filter(username="demo_officer").first()
    keep_branch = demo_officer.branch_id if demo_officer else None
    kept: list[Match] = []
    worked: list[Match] = []
    for match in leads:
        if match.branch_id is None:
            continue
        if match.branch_id == keep_branch and len(kept) < KEEP_UNCLAIMED:
            kept.append(match)
            continue
        worked.append(match)
    offered = _demo_firm_offer_leads(leads)
    offered_needs = {o.need_id for o in offered}
    worked = [m for m in worked if m.need_id not in offered_needs][:MAX_WORKED]
    kept = [m for m in kept if m.pk not in {o.pk for o in offered}]

    plans = _plan_outcomes(worked, rng, officers=officers, demo_officer=demo_officer, keep_branch=keep_branch)
    posted = _posting_days(plans, kept, rng, today=today)
    stats = {"claimed": 0, "contacted": 0, "invited": 0, "declined": 0, "overdue": 0, "applications": 0}
    _firm_loan_history(today=today, rng=random.Random(f"{seed}:{today.isoformat()}:demo_firm"))
    for plan in plans:
        _work_lead(plan, posted[plan.match.need_id], rng, today=today, stats=stats)
    for plan in plans:
        if plan.target is None:
            continue
        applied_on = min(posted[plan.match.need_id] + timedelta(days=2), today)
        if plan.today_fact and plan.target == "submitted":
            applied_on = today
        _application_history(plan.match, plan.actor, applied_on, plan.target, today, rng, plan.today_fact)
        stats["applications"] += 1
    _demo_firm_offers(offered, rng, officers=officers, today=today, stats=stats)
    _kept_leads(kept, today=today)
    _date_needs_and_matches(posted, today=today)
    _guarantee_decline(today=today)
    _pools(today, rng)
    logger.info("bank demo history: %s", stats)
    return stats


def _demo_firm_offer_leads(leads: list[Match]) -> list[Match]:
    """Two of demo_firm's leads for its open need, from two institutions (the best-scored of each):
    they become the two open offers its offers page compares."""
    picked: dict[int, Match] = {}
    for match in leads:
        if match.branch_id is None or match.need.status != "open":
            continue
        if not match.enterprise.users.filter(username="demo_firm").exists():
            continue
        picked.setdefault(match.institution_id, match)
        if len(picked) == 2:
            break
    return list(picked.values()) if len(picked) == 2 else []


def _demo_firm_offers(offered: list[Match], rng, *, officers: dict, today: date, stats: dict) -> None:
    """demo_firm's need gets two open offers: each lead claimed, contacted and invited, the firm
    applies, the bank approves (valid for OFFER_DAYS) — the firm has yet to choose. The second bank
    offers a lower rate, so the page has a cheapest offer to show."""
    for i, match in enumerate(offered):
        routed = min(timezone.localdate(match.need.created_at), today)
        actor = _officer_for(match.branch, officers)
        _work_lead(_Plan(match, actor, "invited"), routed, rng, today=today, stats=stats)
        _application_history(match, actor, routed, "approved", today, rng, rate_cut=Decimal("0.300") * i)
        stats["applications"] += 1


def _plan_outcomes(worked, rng, *, officers, demo_officer, keep_branch) -> list[_Plan]:
    """What happens to each worked lead; the invited ones get the state their application reaches.
    The first lead of demo_officer's branch becomes an application submitted today (to review), the
    first disbursement of the history is made today."""
    plans: list[_Plan] = []
    forced_review = False
    for i, match in enumerate(worked):
        actor = _officer_for(match.branch, officers)
        if match.branch_id == keep_branch and demo_officer is not None and i % 3 == 0:
            actor = demo_officer
        roll = rng.random()
        if match.branch_id == keep_branch and demo_officer is not None and not forced_review:
            plans.append(_Plan(match, demo_officer, "invited", "submitted", today_fact=True))
            forced_review = True
            continue
        if roll < 0.12:
            outcome = "overdue"
        elif roll < 0.22:
            outcome = "claimed"
        elif roll < 0.42:
            outcome = "declined"
        elif roll < 0.6:
            outcome = "contacted"
        else:
            outcome = "invited"
        plans.append(_Plan(match, actor, outcome))
    applying: set[tuple[int, int]] = {
        (p.match.enterprise_id, p.match.product_id) for p in plans if p.target is not None
    }
    n = 0
    disbursed_today = False
    loaned: set[int] = set()  # needs whose offer the firm signed: one loan per need
    for plan in plans:
        if plan.outcome != "invited" or plan.target is not None:
            continue
        key = (plan.match.enterprise_id, plan.match.product_id)
        if key in applying:
            continue
        applying.add(key)
        plan.target = APP_STATES[n % len(APP_STATES)]
        if plan.target in LOAN_STATES:
            if plan.match.need_id in loaned:
                plan.target = "rejected"
            loaned.add(plan.match.need_id)
        if plan.target == "disbursed" and not disbursed_today:
            plan.today_fact = disbursed_today = True
        n += 1
    return plans


def _posting_days(plans: list[_Plan], kept: list[Match], rng, *, today: date) -> dict[int, date]:
    """The day each need with leads was posted (and its leads routed): the range of its first
    lead's fate (an application's state before a lead's outcome). Kept leads' needs: today."""
    posted: dict[int, date] = {}
    for plan in sorted(plans, key=lambda p: p.target is None):
        if plan.match.need_id in posted:
            continue
        if plan.today_fact and plan.target == "submitted":
            days = 2
        else:
            days = rng.randint(*POSTED_DAYS_AGO[plan.target or plan.outcome])
        posted[plan.match.need_id] = today - timedelta(days=days)
    for match in kept:
        posted.setdefault(match.need_id, today)
    return posted


def _work_lead(plan: _Plan, routed: date, rng, *, today: date, stats: dict) -> None:
    match, actor = plan.match, plan.actor
    routed_at = _aware(routed, 9)
    Match.objects.filter(pk=match.pk).update(
        created_at=routed_at,
        routed_at=routed_at,
        response_deadline=add_working_days(routed_at, settings.LEAD_RESPONSE_WORKING_DAYS),
    )
    if plan.outcome == "overdue":  # left unanswered past its deadline
        stats["overdue"] += 1
        return
    lead_claim(user=actor, match=match, note=DEMO_NOTE + "认领线索")
    Match.objects.filter(pk=match.pk).update(claimed_at=_aware(routed, 11))
    _backdate(match, _aware(routed, 11))
    stats["claimed"] += 1
    if plan.outcome == "claimed":
        return
    late = rng.random() < 0.2
    contact_day = min(routed + timedelta(days=3 if late else rng.choice([0, 0, 1])), today)
    contact_at = _aware(contact_day, rng.randint(12, 18))
    if plan.outcome == "declined":
        reason = rng.choice(list(DECLINE_REASONS))
        lead_decline(user=actor, match=match, reason_code=reason, note=DEMO_NOTE + "内部评估后暂不承接")
        Match.objects.filter(pk=match.pk).update(first_response_at=contact_at)
        _backdate(match, contact_at)
        stats["declined"] += 1
        return
    lead_contact(
        user=actor,
        match=match,
        channel=rng.choice(["phone", "visit", "online"]),
        note="已与企业财务负责人沟通",
    )
    Match.objects.filter(pk=match.pk).update(first_response_at=contact_at)
    _backdate(match, contact_at)
    stats["contacted"] += 1
    if plan.outcome == "contacted":
        return
    lead_invite(user=actor, match=match, note="欢迎在平台提交申请")
    _backdate(match, max(contact_at, _aware(min(routed + timedelta(days=1), today), 18)))
    stats["invited"] += 1


def _kept_leads(kept: list[Match], *, today: date) -> None:
    """demo_officer's fresh leads: routed today, except the first, routed yesterday and due tomorrow."""
    for n, match in enumerate(kept):
        if n == 0:
            Match.objects.filter(pk=match.pk).update(
                created_at=_aware(today - timedelta(days=1), 9),
                routed_at=_aware(today - timedelta(days=1), 9),
                response_deadline=_aware(today + timedelta(days=1), 9),
            )


def _date_needs_and_matches(posted: dict[int, date], *, today: date) -> None:
    """A need is posted the day its leads were routed, and matched then: its matches (leads or not)
    carry that date. A firm registers before it posts. Needs without leads keep their own date."""

    for need_id, day in posted.items():
        FinancingNeed.objects.filter(pk=need_id).update(
            created_at=_aware(day, 8), needed_by=day + timedelta(days=60)
        )
    for need in FinancingNeed.objects.exclude(pk__in=list(posted)).only("pk", "created_at"):
        Match.objects.filter(need_id=need.pk).update(created_at=need.created_at)
    for need_id, day in posted.items():
        Match.objects.filter(need_id=need_id, is_lead=False).update(created_at=_aware(day, 9))
    first_posted: dict[int, date] = {}
    for need_id, firm_id in FinancingNeed.objects.filter(pk__in=list(posted)).values_list(
        "pk", "enterprise_id"
    ):
        first_posted[firm_id] = min(posted[need_id], first_posted.get(firm_id, posted[need_id]))
    for firm in Enterprise.objects.filter(pk__in=list(first_posted)).only("pk", "created_at"):
        first = first_posted[firm.pk]
        if timezone.localdate(firm.created_at) > first:
            registered = first - timedelta(days=1)
            Enterprise.objects.filter(pk=firm.pk).update(created_at=_aware(registered, 9))
            Enterprise.objects.filter(pk=firm.pk, verified_at__isnull=False).update(
                verified_at=_aware(registered, 15)
            )


def _add_months(d: date, n: int) -> date:

    return add_months(d, n)


def _interest_days(start: date, end: date) -> list[date]:
    """Quarterly interest days (the 20th of Mar, Jun, Sep, Dec) after ``start`` up to ``end``."""
    days = []
    year = start.year
    while date(year, 3, INTEREST_DAY) <= end:
        for month in (3, 6, 9, 12):
            d = date(year, month, INTEREST_DAY)
            if start < d <= end:
                days.append(d)
        year += 1
    return days


def _interest(principal: Decimal, rate: Decimal, start: date, end: date) -> Decimal:
    return (principal * rate / Decimal("100") * Decimal((end - start).days) / Decimal("360")).quantize(
        Decimal("0.01")
    )


def _application_history(
    match: Match | None,
    actor: User,
    applied_on: date,
    target: str,
    today: date,
    rng,
    today_fact: bool = False,
    *,
    product=None,
    need=None,
    amount_term: tuple[Decimal, int] | None = None,
    rate_cut: Decimal = Decimal("0"),
) -> Application:
    """An application from ``applied_on`` to ``target``: every step a few days after the one
    before, none after ``today``; a loan starts on or after its approval, interest is paid
    quarterly, a repayment or default only once the loan has run a while (else the application
    stops at disbursed). ``today_fact`` on a disbursement: the loan starts today."""
    amount, term = amount_term or _amount_term(match)
    product = product or match.product
    need = need or match.need
    enterprise_id = need.enterprise_id
    submitted_at = _aware(min(applied_on, today), 14)
    firm_user = User.objects.filter(enterprise_id=enterprise_id, role=Role.FIRM).first()
    app = Application.objects.create(
        enterprise_id=enterprise_id,
        product=product,
        match=match,
        need=need,
        amount=amount,
        term_months=term,
        purpose=need.purpose,
        note=DEMO_NOTE + ("企业经客户经理邀请提交申请" if match else "企业在产品超市提交申请"),
        submitted_by=firm_user,
        created_at=submitted_at,
        status_changed_at=submitted_at,
    )
    transition_record(subject=app, from_state="", to_state=app.status, actor=firm_user, note="提交申请")
    consent_grant_for_application(user=firm_user, enterprise=app.enterprise, institution=product.institution)
    _backdate(app, submitted_at)
    day = min(applied_on, today)

    def step(action, on=None, by=None, **params):
        nonlocal day, app
        day = min(on or day + timedelta(days=rng.randint(1, 4)), today)
        app = application_transition(user=by or actor, application=app, action=action, **params)
        _backdate(app, _aware(day, 16))
        Application.objects.filter(pk=app.pk).update(status_changed_at=_aware(day, 16))

    if target == "submitted":
        return app
    if target == "withdrawn":
        Application.objects.filter(pk=app.pk).update(status=Application.Status.WITHDRAWN)
        transition_record(
            subject=app,
            from_state="submitted",
            to_state="withdrawn",
            actor=firm_user,
            note="企业改选其他产品",
        )
        _backdate(app, _aware(min(day + timedelta(days=2), today), 11))
        return app
    if target == "rejected":
        step(
            "reject",
            reason_code=rng.choice(["leverage", "revenue", "collateral"]),
            note="综合评估未达授信标准",
        )
        return app
    step("accept", note="材料齐全，予以受理")
    if target == "accepted":
        if rng.random() < 0.5:
            step("request_documents", note="请补充近两年审计报告")
        return app
    rate = max(_rate(product) - rate_cut, product.rate_min or Decimal("0"))
    step("approve", credit_line=amount, annual_rate=rate, term_months=term, note="审批通过")
    Application.objects.filter(pk=app.pk).update(approved_at=_aware(day, 16))
    approved_on = day
    if target == "approved":  # an open offer: the demo's banks give 90 days to sign
        Application.objects.filter(pk=app.pk).update(valid_until=approved_on + timedelta(days=OFFER_DAYS))
        return app
    # 签约 before the disbursement: by the firm's account; a demo firm without one signed at the
    # bank's counter (recorded like the demo's withdrawals, without an actor).
    if firm_user is not None:
        step("sign", on=approved_on, by=firm_user, note="企业签约确认")
    else:
        Application.objects.filter(pk=app.pk).update(status=Application.Status.SIGNED)
        transition_record(
            subject=app,
            from_state="approved",
            to_state="signed",
            actor=None,
            note="企业签约确认（线下）",
            data={"action": "sign"},
        )
        _backdate(app, _aware(approved_on, 16))
        app.refresh_from_db()
    Application.objects.filter(pk=app.pk).update(
        valid_until=approved_on + timedelta(days=30), signed_at=_aware(approved_on, 16)
    )
    start = today if today_fact else min(approved_on + timedelta(days=rng.randint(1, 5)), today)
    maturity = _add_months(start, term)
    step(
        "disburse",
        on=start,
        principal=amount,
        annual_rate=rate,
        start_date=start,
        maturity_date=maturity,
        note="放款",
    )
    if target == "repaid":
        end = start + timedelta(days=rng.randint(120, 200))
        if end >= today or end > maturity:
            target = "disbursed"
    elif target == "defaulted":
        end = start + timedelta(days=rng.randint(150, 240))
        if end >= today or end > maturity:
            target = "disbursed"
    if target == "disbursed":
        end = today
    last = start
    for paid_on in _interest_days(start, end if target != "defaulted" else end - timedelta(days=90)):
        step(
            "repay",
            on=paid_on,
            date=paid_on,
            principal=Decimal("0"),
            interest=_interest(amount, rate, last, paid_on),
            note="按季付息",
        )
        last = paid_on
    if target == "repaid":
        step(
            "repay",
            on=end,
            date=end,
            principal=amount,
            interest=_interest(amount, rate, last, end),
            note="提前结清",
        )
    elif target == "defaulted":
        step("default", on=end, date=end, outstanding_principal=amount)
    return app


def _firm_loan_history(*, today: date, rng) -> None:
    """demo_firm's earlier credit loan (高新贷, 招商银行, about 320 days ago, interest paid quarterly):
    a fulfilled need and its application, so that the firm has a loan and an interest subsidy to
    confirm; its current need stays open for the banks' leads."""

    user = User.objects.filter(username="demo_firm").first()
    product = Product.objects.filter(name="高新贷", institution__name="招商银行太原分行").first()
    if user is None or user.enterprise_id is None or product is None:
        return
    branch = Branch.objects.filter(institution=product.institution, is_provincial=True).first()
    if branch is None:
        return
    # Posted 330 days ago, a 12-month loan: it matures 40–60 days after ``today`` — inside the
    # renewal radar's 60 days, so the demo shows its renewal notices and the 无还本续贷 pre-check.
    posted = today - timedelta(days=330)
    need = FinancingNeed.objects.create(
        enterprise_id=user.enterprise_id,
        amount=Decimal("5000000"),
        term_months=12,
        purpose="working_capital",
        guarantee_types=["credit"],
        max_annual_rate=Decimal("4.50"),
        needed_by=posted + timedelta(days=30),
        description="智能巡检机器人首批订单备货流动资金",
        posted_by=user,
        created_at=_aware(posted, 10),
    )
    _application_history(
        None,
        _officer_for(branch, {}),
        posted + timedelta(days=3),
        "disbursed",
        today,
        rng,
        product=product,
        need=need,
        amount_term=(need.amount, need.term_months),
    )
    FinancingNeed.objects.filter(pk=need.pk).update(status=FinancingNeed.Status.FULFILLED)


def _pools(today: date, rng) -> None:

    for name, count in POOLS.items():
        institution = Institution.objects.filter(name=name).first()
        if institution is None:
            continue
        adder = User.objects.filter(
            branch__institution=institution, role__in=[Role.OFFICER, Role.MANAGER]
        ).first()
        if adder is None:
            continue
        for firm in pool_candidates(user=adder).filter(stage__in=["seed", "startup"])[:count]:
            PoolEntry.objects.get_or_create(
                institution=institution,
                enterprise=firm,
                defaults={"note": "初创期科技企业，持续跟踪研发进展与融资需求", "added_by": adder},
            )


def seed_loan_notices(*, today: date) -> int:
    """The loan notices due on ``today`` (repayment 7 days before maturity, renewal 60/30 days
    before): demo_firm's 招商银行 loan gets its 60-day renewal notices. Each is sent once per loan,
    so a second seed sends nothing."""

    return loans_send_notices(today=today)


def _guarantee_decline(*, today: date) -> None:
    """A lead of demo_firm's open need declined for lack of collateral (缺少抵押物) by its bank, so the
    firm is offered the government-guarantee route: 山西省融资再担保集团's 担保增信 as the next referral,
    its fee and effect stated (``matching.services.guarantee``). Skipped once there is such a decline."""
    firm_user = User.objects.filter(username="demo_firm").first()
    if firm_user is None or firm_user.enterprise_id is None:
        return
    if Match.objects.filter(
        enterprise_id=firm_user.enterprise_id, status=Match.Status.DECLINED, decline_reason="collateral"
    ).exists():
        return
    demo_officer = User.objects.filter(username="demo_officer").first()
    lead = (
        Match.objects.filter(
            enterprise_id=firm_user.enterprise_id,
            is_lead=True,
            status__in=[Match.Status.SUGGESTED, Match.Status.CLAIMED, Match.Status.CONTACTED],
            branch__isnull=False,
            need__status="open",
        )
        .exclude(branch_id=getattr(demo_officer, "branch_id", None))  # demo_officer's leads stay fresh
        .select_related("branch", "need", "product__institution", "assigned_officer")
        .order_by("-score", "pk")
        .first()
    )
    if lead is None:
        return
    officer = lead.assigned_officer or _officer_for(lead.branch, {})
    lead_decline(
        user=officer,
        match=lead,
        reason_code="collateral",
        note=DEMO_NOTE + "企业无可抵押的房产设备，建议通过政府性融资担保增信",
    )
    at = _aware(today, 11)
    if lead.first_response_at is None:
        Match.objects.filter(pk=lead.pk).update(first_response_at=at, claimed_at=at)
    _backdate(lead, at)
    referred = Match.objects.filter(
        need_id=lead.need_id, is_lead=True, product__institution__kind=Institution.Kind.GUARANTEE
    ).first()
    if referred is not None:  # the referral, on the demo's today like the decline before it
        Match.objects.filter(pk=referred.pk).update(
            routed_at=at, response_deadline=add_working_days(at, settings.LEAD_RESPONSE_WORKING_DAYS)
        )
        _backdate(referred, at)
