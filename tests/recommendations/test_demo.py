"""seed_demo shows a sent recommended list with answers of each kind, one overdue institution
escalated, and the demo bank sees it — and a second run changes nothing."""

import pytest
from django.core.management import call_command

from demo.recommendations import TITLE
from portal.models import User
from recommendations.models import RecommendationFeedback, RecommendationList

pytestmark = pytest.mark.django_db


def seed():
    call_command("seed_demo", "--password", "Demo-pass-2026", "--firms", "40", stdout=open("/dev/null", "w"))


def test_the_demo_has_a_sent_list_with_every_kind_of_answer_and_seeds_idempotently(client):
    seed()
    rec_list = RecommendationList.objects.get(title=TITLE)
    assert rec_list.status == "sent" and rec_list.entries.exists()
    outcomes = set(
        RecommendationFeedback.objects.filter(entry__list=rec_list).values_list("outcome", flat=True)
    )
    assert outcomes == {"contacted", "granted", "declined"}
    boc = rec_list.recipients.get(institution__name="中国银行山西省分行")
    assert boc.manager_alerted_at is not None  # unanswered past its due date
    answers = list(RecommendationFeedback.objects.values_list("pk", "outcome", "amount"))
    seed()
    assert list(RecommendationFeedback.objects.values_list("pk", "outcome", "amount")) == answers
    assert RecommendationList.objects.filter(title=TITLE).count() == 1
    client.force_login(User.objects.get(username="demo_officer"))
    page = client.get("/recommendations/bank/").content.decode()
    assert f'data-recommendation-list="{rec_list.pk}"' in page
