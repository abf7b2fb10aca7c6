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
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from enterprises.services import consent_grant_for_application
from lenders.choices import DECLINE_REASONS
from lenders.models import Branch, Institution, PoolEntry
from matching.models import Application, Match
from matching.services.leads import lead_claim, lead_contact, lead_decline, lead_invite
from matching.services.review import application_transition
from portal.models import Role, Transition, User
from portal.services import transition_record
from portal.workdays import add_working_days

logger = logging.getLogger(__name__)

DEMO_NOTE = "【演示】"
SEED = 20261128
KEEP_UNCLAIMED = 6  # demo_officer's branch keeps this many fresh leads
MAX_WORKED = 160
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


@transaction.atomic
def seed_bank_history(*, today: date) -> dict:
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
    rng = random.Random(SEED)
    officers: dict[int, User] = {}
    demo_officer = User.objects.filter(username="demo_officer").first()
    keep_branch = demo_officer.branch_id if demo_officer else None
    kept = 0
    worked: list[Match] = []
    for match in leads:
        if match.branch_id is None:
            continue
        if match.branch_id == keep_branch and kept < KEEP_UNCLAIMED:
            kept += 1
            continue
        worked.append(match)
    worked = worked[:MAX_WORKED]
    stats = {"claimed": 0, "contacted": 0, "invited": 0, "declined": 0, "overdue": 0, "applications": 0}
    invited: list[tuple[Match, User, date]] = []
    reasons = list(DECLINE_REASONS)
    for i, match in enumerate(worked):
        actor = _officer_for(match.branch, officers)
        if match.branch_id == keep_branch and demo_officer is not None and i % 3 == 0:
            actor = demo_officer
        routed = today - timedelta(days=rng.randint(3, 120))
        deadline = add_working_days(_aware(routed, 9), settings.LEAD_RESPONSE_WORKING_DAYS)
        Match.objects.filter(pk=match.pk).update(routed_at=_aware(routed, 9), response_deadline=deadline)
        roll = rng.random()
        if roll < 0.12:  # left unanswered past its deadline
            stats["overdue"] += 1
            continue
        lead_claim(user=actor, match=match, note=DEMO_NOTE + "认领线索")
        Match.objects.filter(pk=match.pk).update(claimed_at=_aware(routed, 11))
        _backdate(match, _aware(routed, 11))
        stats["claimed"] += 1
        if roll < 0.22:
            continue  # claimed, not yet contacted
        late = rng.random() < 0.2
        contact_day = (
            min(timezone.localtime(deadline).date() + timedelta(days=1), today)  # after the deadline
            if late
            else routed + timedelta(days=rng.choice([0, 0, 1]))
        )
        contact_hour = rng.randint(10, 18)
        if roll < 0.42:
            reason = rng.choice(reasons)
            lead_decline(user=actor, match=match, reason_code=reason, note=DEMO_NOTE + "内部评估后暂不承接")
            Match.objects.filter(pk=match.pk).update(first_response_at=_aware(contact_day, contact_hour))
            _backdate(match, _aware(contact_day, contact_hour))
            stats["declined"] += 1
            continue
        lead_contact(
            user=actor,
            match=match,
            channel=rng.choice(["phone", "visit", "online"]),
            note="已与企业财务负责人沟通",
        )
        Match.objects.filter(pk=match.pk).update(first_response_at=_aware(contact_day, contact_hour))
        _backdate(match, _aware(contact_day, contact_hour))
        stats["contacted"] += 1
        if roll < 0.6:
            continue
        lead_invite(user=actor, match=match, note="欢迎在平台提交申请")
        _backdate(match, _aware(contact_day + timedelta(days=1), 10))
        stats["invited"] += 1
        invited.append((match, actor, contact_day + timedelta(days=2)))

    for n, (match, actor, applied_on) in enumerate(invited):
        if Application.objects.filter(
            enterprise_id=match.enterprise_id,
            product_id=match.product_id,
            status__in=Application.OPEN_STATUSES,
        ).exists():
            continue
        _application_history(match, actor, applied_on, APP_STATES[n % len(APP_STATES)], today, rng)
        stats["applications"] += 1
    _pools(today, rng)
    logger.info("bank demo history: %s", stats)
    return stats


def _application_history(
    match: Match, actor: User, applied_on: date, target: str, today: date, rng
) -> Application:
    amount, term = _amount_term(match)
    product = match.product
    submitted_at = _aware(min(applied_on, today), 14)
    firm_user = User.objects.filter(enterprise_id=match.enterprise_id, role=Role.FIRM).first()
    app = Application.objects.create(
        enterprise_id=match.enterprise_id,
        product=product,
        match=match,
        need=match.need,
        amount=amount,
        term_months=term,
        purpose=match.need.purpose,
        note=DEMO_NOTE + "企业经客户经理邀请提交申请",
        submitted_by=firm_user,
        created_at=submitted_at,
        status_changed_at=submitted_at,
    )
    transition_record(subject=app, from_state="", to_state=app.status, actor=firm_user, note="提交申请")
    consent_grant_for_application(user=firm_user, enterprise=app.enterprise, institution=product.institution)
    _backdate(app, submitted_at)
    day = min(applied_on, today)

    def step(action, **params):
        nonlocal day, app
        day = min(day + timedelta(days=rng.randint(1, 6)), today)
        app = application_transition(user=actor, application=app, action=action, **params)
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
    rate = _rate(product)
    step("approve", credit_line=amount, annual_rate=rate, term_months=term, note="审批通过")
    Application.objects.filter(pk=app.pk).update(approved_at=_aware(day, 16))
    if target == "approved":
        return app
    # A loan is possible: it starts on or after its approval day and no later than today, and every
    # repayment or default falls between its start and today (the service refuses anything else).
    start = min(day + timedelta(days=3), today - timedelta(days=1))
    if target in ("repaid", "defaulted"):
        start = date(today.year, 1, 1) + timedelta(days=rng.randint(10, 90))
    start = min(max(start, day), today)
    maturity = start + timedelta(days=30 * term)
    step(
        "disburse", principal=amount, annual_rate=rate, start_date=start, maturity_date=maturity, note="放款"
    )
    if target == "disbursed":
        return app
    interest = (amount * rate / Decimal("100") * Decimal("90") / Decimal("360")).quantize(Decimal("0.01"))
    if target == "repaid":
        paid = max(start, min(start + timedelta(days=rng.randint(120, 200)), today - timedelta(days=1)))
        day = paid - timedelta(days=1)
        step("repay", date=paid, principal=amount, interest=interest, note="提前结清")
        return app
        step(
            "repay",
            date=min(start + timedelta(days=90), today),
            principal=Decimal("0"),
            interest=interest,
            note="按季付息",
        )
    step(
        "default",
        date=max(start, min(start + timedelta(days=240), today - timedelta(days=1))),
        outstanding_principal=amount,
    )
    return app


def _pools(today: date, rng) -> None:
    from lenders.selectors import pool_candidates

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
