"""Demo data of the subsidies app, called at the end of ``demo.seed.seed`` (after the bank
history that records loans and repayments). It only calls the services: 免申即享 interest claims
for the year, firms' account confirmations, the two-desk review of some of them (reviewed by the
science desk's demo_staff, approved by demo_finance, paid by demo_cashier — four eyes), the
banks' exclusive-product reward and risk compensation on defaulted exclusive-product loans.

Idempotent: the generators skip what exists, and which claims get confirmed, approved or paid
is decided by the claim id, so a second run changes nothing. Without loans it creates nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from portal.models import Role, Transition, User
from portal.services import ServiceError
from subsidies.models import Claim, LedgerEntry, PolicyKind
from subsidies.selectors import risk_candidates_for_bank
from subsidies.services import (
    claim_approve,
    claim_confirm,
    claim_pay,
    claim_review,
    interest_claims_generate,
    reward_claims_generate,
    risk_claim_submit,
)


def _demo_account(claim: Claim) -> dict:
    return {
        "payee_name": claim.enterprise.name,
        "payee_bank": "中国银行太原分行营业部",
        "payee_account": f"6216{claim.enterprise_id:08d}{claim.pk:06d}",
    }


def seed_subsidies(*, today: date, year: int | None = None) -> dict:
    """The subsidy history of budget ``year`` (default: today's) as of ``today``. Claims of the
    latest ended period are handled today (some still wait for the firm or for staff: demo_firm's
    newest claim waits for its confirmation); earlier periods were paid about a month after they
    ended (their approval and payment are dated then). Risk compensation and the reward are claimed
    for a finished year only (from 1 January of the year after)."""
    year = year or today.year
    staff = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    # The finance desk's first user approves, its second pays (approver and payer differ).
    finance = list(User.objects.filter(role=Role.FINANCE, is_active=True).order_by("pk")[:2])
    report = {"interest": interest_claims_generate(year=year, as_of=today, actor=None)}
    if staff is None:
        return report
    # The latest ended claim period (quarterly, the demo policy's rule): the quarter before today's.
    latest = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)

    def current(claim: Claim) -> bool:
        return claim.kind != PolicyKind.INTEREST or claim.period_end == latest

    def slot(claim: Claim) -> int:
        """The claim's place in the shares below (0–9): from its rank among the claims of its kind
        and period (stable on re-runs, whatever ids the database gave), spread so that even a
        handful of claims reaches every desk."""
        rank = Claim.objects.filter(
            year=year, kind=claim.kind, period_end=claim.period_end, pk__lt=claim.pk
        ).count()
        return _SPREAD[rank % len(_SPREAD)]

    # Firms confirm their account (in the latest period one in five not yet, and demo_firm not yet).
    demo_firm = User.objects.filter(username="demo_firm").values_list("enterprise_id", flat=True).first()
    awaiting = Claim.objects.filter(status=Claim.Status.AWAITING_CONFIRMATION, year=year).select_related(
        "enterprise"
    )
    for claim in awaiting.order_by("pk"):
        if current(claim) and (slot(claim) % 5 == 0 or claim.enterprise_id == demo_firm):
            continue
        claim_confirm(user=staff, claim=claim, **_demo_account(claim))

    if year < today.year:
        _risk_claims(year)
        try:
            report["reward"] = len(reward_claims_generate(year=year))
        except ServiceError:
            report["reward"] = 0

    # The science desk reviews every claim of earlier periods and eight in ten of the latest; the
    # finance desk approves every reviewed claim of earlier periods and six in ten of the latest
    # (by rank: stable on re-runs), so demo_staff has claims 待初审 and demo_finance claims 待批准;
    # a second finance user pays what was approved — of the latest period two in ten, at least
    # one — so demo_cashier has claims to pay.
    for claim in Claim.objects.filter(status=Claim.Status.SUBMITTED, year=year).order_by("pk"):
        if not current(claim) or slot(claim) < 8 or claim.kind == PolicyKind.REWARD:
            claim_review(user=staff, claim=claim)
    if not finance:
        return report
    for claim in Claim.objects.filter(status=Claim.Status.REVIEWED, year=year).order_by("pk"):
        if not current(claim) or slot(claim) < 6 or claim.kind == PolicyKind.REWARD:
            try:
                claim_approve(user=finance[0], claim=claim)
            except ServiceError:
                continue
    if len(finance) < 2:
        return report
    paid_today = Claim.objects.filter(status=Claim.Status.PAID, year=year, period_end=latest).exists()
    for claim in Claim.objects.filter(status=Claim.Status.APPROVED, year=year).order_by("pk"):
        if not current(claim) or slot(claim) < 2 or claim.kind != PolicyKind.INTEREST or not paid_today:
            claim_pay(user=finance[1], claim=claim)
            paid_today = paid_today or current(claim)
    earlier = Claim.objects.filter(kind=PolicyKind.INTEREST, year=year).exclude(period_end=latest)
    if not paid_today:
        # No claim of the latest period could be paid today (a small seed: they all wait for the
        # firm): the newest paid claim of an earlier period keeps today's date, paid late, so 本月
        # still has a payment.
        late = earlier.filter(status=Claim.Status.PAID).order_by("-period_end", "-pk").first()
        earlier = earlier.exclude(pk=late.pk) if late else earlier
    for claim in earlier:
        _backdate_handling(claim, today=today)
    return report


# A claim's slot by its rank: 1 → paid, 2–4 → approved (待支付), 6–7 → reviewed (待批准), 8–9 →
# submitted (待初审), 0 and 5 → waiting for the firm; the first six ranks already cover each state.
_SPREAD = (1, 8, 6, 2, 0, 3, 9, 7, 4, 5)


def _risk_claims(year: int) -> None:
    """Risk compensation on the year's defaulted exclusive-product loans, claimed by a bank user."""
    bank_users = User.objects.filter(role__in=(Role.MANAGER, Role.OFFICER), is_active=True).select_related(
        "branch"
    )
    seen: set[int] = set()
    for user in bank_users.order_by("pk"):
        if user.institution_id in seen:
            continue
        seen.add(user.institution_id)
        for loan in risk_candidates_for_bank(user).filter(defaulted_on__year=year):
            try:
                risk_claim_submit(user=user, loan=loan)
            except ServiceError:
                continue


def _backdate_handling(claim: Claim, *, today: date) -> None:
    """A claim of an earlier period was confirmed, approved and paid within weeks of its end: date
    its transitions, review, payment and ledger rows so (never after yesterday). Idempotent."""
    from django.contrib.contenttypes.models import ContentType


    base = claim.period_end
    when = {
        Claim.Status.SUBMITTED: min(base + timedelta(days=10), today - timedelta(days=1)),
        Claim.Status.REVIEWED: min(base + timedelta(days=18), today - timedelta(days=1)),
        Claim.Status.APPROVED: min(base + timedelta(days=25), today - timedelta(days=1)),
        Claim.Status.PAID: min(base + timedelta(days=35), today - timedelta(days=1)),
    }
    ct = ContentType.objects.get_for_model(Claim)
    created = _at(base + timedelta(days=1), 8)
    Claim.objects.filter(pk=claim.pk).update(created_at=created)
    Transition.objects.filter(
        content_type=ct, object_id=claim.pk, to_state=Claim.Status.AWAITING_CONFIRMATION
    ).update(at=created)
    for state, day in when.items():
        Transition.objects.filter(content_type=ct, object_id=claim.pk, to_state=state).update(at=_at(day, 15))
    if claim.reviewed_at:
        Claim.objects.filter(pk=claim.pk).update(reviewed_at=_at(when[Claim.Status.REVIEWED], 15))
    if claim.approved_at:
        Claim.objects.filter(pk=claim.pk).update(approved_at=_at(when[Claim.Status.APPROVED], 15))
    if claim.paid_at:
        Claim.objects.filter(pk=claim.pk).update(paid_at=_at(when[Claim.Status.PAID], 15))
    LedgerEntry.objects.filter(claim=claim, kind=LedgerEntry.Kind.COMMIT).update(
        at=_at(when[Claim.Status.APPROVED], 15)
    )
    LedgerEntry.objects.filter(claim=claim, kind=LedgerEntry.Kind.PAY).update(
        at=_at(when[Claim.Status.PAID], 15)
    )


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))
