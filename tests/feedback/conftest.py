"""Fixtures of the feedback tests: leads from a real matching run, and cases that ended through
the real transitions (an application withdrawn by the firm, one rejected by the bank, a lead
declined by the officer)."""

from decimal import Decimal

import pytest
import time_machine

from matching.services.applications import application_submit, application_withdraw
from matching.services.leads import lead_decline
from matching.services.review import application_transition
from tests.portal.conftest import leads  # noqa: F401  (the real-run leads fixture)

NOW = "2026-03-10 10:00 +08:00"


@pytest.fixture
def ended(cast, leads):  # noqa: F811
    """Firm A's application to bank A's product, withdrawn; a second one, rejected by the bank;
    and bank A's lead for firm A, declined by its officer."""
    lead_a, lead_b = leads
    with time_machine.travel(NOW, tick=False):
        withdrawn = application_submit(
            user=cast.firm_a,
            product=lead_a.product,
            amount=Decimal("5000000"),
            term_months=12,
            purpose="working_capital",
            match=lead_a,
            share_profile=True,
        )
        application_withdraw(user=cast.firm_a, application=withdrawn)
        rejected = application_submit(
            user=cast.firm_a,
            product=lead_a.product,
            amount=Decimal("5000000"),
            term_months=12,
            purpose="working_capital",
            share_profile=True,
        )
        application_transition(user=cast.officer_a, application=rejected, action="accept")
        application_transition(
            user=cast.officer_a,
            application=rejected,
            action="reject",
            reason_code="collateral",
            note="缺少抵押",
        )
        declined = lead_decline(user=cast.officer_a, match=lead_a, reason_code="collateral")
    withdrawn.refresh_from_db()
    rejected.refresh_from_db()
    return {"withdrawn": withdrawn, "rejected": rejected, "declined": declined, "lead_b": lead_b}
