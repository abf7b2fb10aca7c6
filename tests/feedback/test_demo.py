"""seed_demo shows ratings on ended cases, an open complaint within its deadline and a closed one —
and a second run changes nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Complaint, Rating
from feedback.selectors import RATEABLE_APPLICATION_STATUSES

pytestmark = pytest.mark.django_db


def test_the_demo_has_ratings_and_an_open_and_a_closed_complaint_and_seeds_idempotently():
    def seed():
        call_command(
            "seed_demo", "--password", "Demo-pass-2026", "--firms", "40", stdout=open("/dev/null", "w")
        )

    seed()
    ratings = list(Rating.objects.values_list("pk", "stars"))
    complaints = list(Complaint.objects.values_list("pk", "status", "response_due_at"))
    assert ratings
    assert all(
        r.application.status in RATEABLE_APPLICATION_STATUSES
        for r in Rating.objects.filter(application__isnull=False).select_related("application")
    )
    statuses = {c.subject: c for c in Complaint.objects.filter(enterprise__users__username="demo_firm")}
    open_one = next(c for c in statuses.values() if c.status == "intake")
    assert open_one.response_due_at > timezone.now()  # within its deadline
    assert any(c.status == "closed" for c in statuses.values())
    seed()
    assert list(Rating.objects.values_list("pk", "stars")) == ratings
    assert list(Complaint.objects.values_list("pk", "status", "response_due_at")) == complaints
