"""Two officers at the same moment, against PostgreSQL: exactly one wins."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from matching.models import Loan, Match
from matching.services.leads import lead_claim
from matching.services.review import application_transition
from portal.services import ConflictError
from tests.lenders.conftest import make_application, make_lead

pytestmark = pytest.mark.django_db(transaction=True)


def race(n, work):
    """Run ``work(i)`` in ``n`` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = ("ok", work(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_officers_claiming_the_same_lead_at_once_exactly_one_wins(cast, product_a):
    lead = make_lead(cast, product_a)
    officers = [cast.officer_a, cast.officer_a2]
    results = race(2, lambda i: lead_claim(user=officers[i], match=Match.objects.get(pk=lead.pk)))
    wins = [r for r in results if r[0] == "ok"]
    losses = [r for r in results if r[0] == "error"]
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0][1], ConflictError)
    winner = wins[0][1].assigned_officer
    assert winner.display_name in losses[0][1].message
    assert Match.objects.get(pk=lead.pk).assigned_officer == winner


def test_two_disbursements_of_the_same_application_make_exactly_one_loan(cast, product_a):
    app = make_application(cast, product_a, status="signed")
    people = [cast.officer_a, cast.manager_a]
    params = {
        "principal": "2000000.00",
        "annual_rate": "4.000",
        "start_date": timezone.localdate(),  # approved today (make_application): disbursed today
        "maturity_date": timezone.localdate() + timedelta(days=365),
    }
    results = race(
        2,
        lambda i: application_transition(user=people[i], application=app, action="disburse", **params),
    )
    assert sorted(r[0] for r in results) == ["error", "ok"]
    assert isinstance(next(r[1] for r in results if r[0] == "error"), ConflictError)
    assert Loan.objects.filter(application=app).count() == 1
