"""Helpers for the subsidies tests: a credit loan of a verified firm with recorded repayments."""

from datetime import date
from decimal import Decimal

import pytest

from tests import factories as f


@pytest.fixture
def make_loan():
    """``make_loan(enterprise=..., product=..., principal=..., rate=..., repayments=[(date, interest, on_time)])``"""

    def make(
        *,
        enterprise=None,
        product=None,
        principal="3000000.00",
        rate="3.500",
        start=date(2026, 1, 10),
        repayments=(),
        status="active",
        **loan_fields,
    ):
        enterprise = enterprise or f.EnterpriseFactory()
        product = product or f.ProductFactory()
        application = f.ApplicationFactory(
            enterprise=enterprise,
            product=product,
            status="disbursed",
            amount=Decimal(principal),
            credit_line=Decimal(principal),
        )
        loan = f.LoanFactory(
            application=application,
            principal=Decimal(principal),
            annual_rate=Decimal(rate),
            start_date=start,
            maturity_date=date(start.year + 1, start.month, start.day),
            status=status,
            **loan_fields,
        )
        for paid_on, interest, on_time in repayments:
            f.RepaymentFactory(loan=loan, paid_on=paid_on, interest=Decimal(interest), on_time=on_time)
        return loan

    return make
