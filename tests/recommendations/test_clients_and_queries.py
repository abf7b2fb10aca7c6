"""A bank's system reads and answers its recommended lists with the ``recommendations`` scopes; the
funnel of any number of lists is one query (the dashboard stays cheap)."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from enterprises.models import InnovationScore
from recommendations import selectors, services
from recommendations.models import RecommendationFeedback
from tests import factories as f
from tests.portal.test_api_clients import bearer, create_client, token_for

pytestmark = pytest.mark.django_db


def sent_list(cast, title="清单", institutions=None):
    firm = cast.firm_a.enterprise
    InnovationScore.objects.get_or_create(
        enterprise=firm,
        is_latest=True,
        defaults={"as_of": date(2026, 9, 1), "stage_group": "growth", "total": Decimal("80")},
    )
    rec_list = services.list_build(filters={"min_score": "70"}, by=cast.staff, title=title)
    services.list_send(
        rec_list=rec_list, institutions=institutions or [cast.bank_a], due_working_days=5, by=cast.staff
    )
    return rec_list


def test_a_banks_system_reads_with_read_and_answers_only_with_write(cast):
    rec_list = sent_list(cast)
    firm = cast.firm_a.enterprise
    reader = bearer(token_for(create_client(cast, ["recommendations:read"])))
    listed = reader.get("/api/v1/recommendations/")
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["results"]] == [rec_list.pk]
    refused = reader.post(
        f"/api/v1/recommendations/{rec_list.pk}/feedback/",
        {"enterprise": firm.pk, "outcome": "contacted"},
        format="json",
    )
    assert refused.status_code == 403 and not RecommendationFeedback.objects.exists()
    leads_only = bearer(token_for(create_client(cast, ["leads:read"], name="线索系统")))
    assert leads_only.get("/api/v1/recommendations/").status_code == 403
    writer = bearer(
        token_for(create_client(cast, ["recommendations:read", "recommendations:write"], name="清单系统"))
    )
    done = writer.post(
        f"/api/v1/recommendations/{rec_list.pk}/feedback/",
        {"enterprise": firm.pk, "outcome": "granted", "amount": "1500000"},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert RecommendationFeedback.objects.get().amount == Decimal("1500000.00")


def test_the_funnel_of_many_lists_is_one_query(cast, django_assert_num_queries):
    with time_machine.travel("2026-11-02 10:00 +08:00"):
        bank_c = f.BranchFactory().institution
        for n in range(3):
            sent_list(cast, title=f"清单{n}", institutions=[cast.bank_a, cast.bank_b, bank_c])
        with django_assert_num_queries(1):
            funnels = selectors.list_funnels(user=cast.staff, limit=10)
    assert len(funnels) == 3 and all(len(item["recipients"]) == 3 for item in funnels)
    assert all(item["totals"]["sent"] == 3 for item in funnels)  # one firm × three institutions
