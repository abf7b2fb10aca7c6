"""Demo data of the subsidies app, called at the end of ``portal.demo.seed`` (after the bank
history that records loans and repayments). It only calls the services: 免申即享 interest claims
for the year, firms' account confirmations, staff approvals and payments of some of them, the
banks' exclusive-product reward and risk compensation on defaulted exclusive-product loans.

Idempotent: the generators skip what exists, and which claims get confirmed, approved or paid
is decided by the claim id, so a second run changes nothing. Without loans it creates nothing.
"""

from __future__ import annotations

from datetime import date

from portal.models import Role, User
from portal.services import ServiceError

from .models import Claim, PolicyKind
from .selectors import risk_candidates_for_bank
from .services import (
    claim_approve,
    claim_confirm,
    claim_pay,
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
    year = year or today.year
    staff = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    report = {"interest": interest_claims_generate(year=year, as_of=today, actor=None)}
    if staff is None:
        return report

    # Most firms confirm their account (one in five not yet).
    awaiting = Claim.objects.filter(status=Claim.Status.AWAITING_CONFIRMATION, year=year).select_related(
        "enterprise"
    )
    for claim in awaiting.order_by("pk"):
        if claim.pk % 5:
            claim_confirm(user=staff, claim=claim, **_demo_account(claim))

    # Risk compensation on defaulted exclusive-product loans, claimed by a bank user.
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

    try:
        report["reward"] = len(reward_claims_generate(year=year))
    except ServiceError:
        report["reward"] = 0

    # Staff approve seven in ten submitted claims and pay four in ten (by id: stable on re-runs).
    for claim in Claim.objects.filter(status=Claim.Status.SUBMITTED, year=year).order_by("pk"):
        if claim.pk % 10 < 7 or claim.kind == PolicyKind.REWARD:
            try:
                claim_approve(user=staff, claim=claim)
            except ServiceError:
                continue
    for claim in Claim.objects.filter(status=Claim.Status.APPROVED, year=year).order_by("pk"):
        if claim.pk % 10 < 4 or claim.kind != PolicyKind.INTEREST:
            claim_pay(user=staff, claim=claim)
    return report
