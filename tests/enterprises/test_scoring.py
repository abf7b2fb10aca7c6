"""科创积分 service, API and pages (enterprises/scoring.py, selectors, api/score.py, score_views.py):
the stored scores are the engine's over the database's cohort, history is kept with one current row,
the API shape, the advice applied, tenancy (firms, desks, banks through the bank view only)."""

from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import Count

from enterprises import score as engine
from enterprises.consent import ConsentPurpose
from enterprises.models import AnnualFigures, Enterprise, InnovationScore
from enterprises.scoring import cohort_figures, score_recompute, score_recompute_later
from enterprises.selectors import enterprise_profile_for_bank
from enterprises.services import consent_grant, enterprise_verify, qualification_create
from matching.models import Match
from matching.services.dispatch import start_full_run
from tests import factories as f

pytestmark = pytest.mark.django_db

WAN = Decimal("10000")
NOW = "2026-03-10 10:00 +08:00"
LATER = "2026-04-10 10:00 +08:00"
PART_KEYS = {"code", "label", "class", "value", "points", "max_points", "reason"}
ADVICE_KEYS = {"code", "label", "text", "points_gain"}


def figures(enterprise, years: dict[int, dict]):
    """The firm's annual figures exactly as given (money in 万元), every other figure blank."""
    AnnualFigures.objects.filter(enterprise=enterprise).exclude(year__in=list(years)).delete()
    for year, given in years.items():
        row = dict.fromkeys(AnnualFigures.FIGURE_FIELDS)
        for code, value in given.items():
            money = engine.FIGURES[code][1] == "money" and value is not None
            row[code] = Decimal(value) * WAN if money else value
        AnnualFigures.objects.update_or_create(enterprise=enterprise, year=year, defaults=row)


# The worked example of tests/enterprises/test_score.py, as five verified 成长期 firms in the database
# (financial year 2025; as of 2026-03-10 the scored years are 2023–2025; no qualifications).
WORKED = {
    "A": ({"revenue": 1000, "rd_spend": 50, "invention_applications": 0}, Decimal("15.25")),
    "B": ({"revenue": 500, "rd_spend": 50, "invention_applications": 2}, Decimal("19.13")),
    "C": ({"revenue": 2000, "rd_spend": 100, "invention_applications": 1}, Decimal("21.75")),
    "D": ({"revenue": 800, "rd_spend": 0, "invention_applications": 2}, Decimal("7.88")),
    "E": ({"revenue": None, "rd_spend": 20, "invention_applications": 5}, Decimal("9.00")),
}


@pytest.fixture
def cohort(cast):
    """Firm A (firm_a's) … E: the worked example; firm_b's firm is E, in 大同市 (another region).
    Outside the cohort: an unverified growth firm with figures, a verified one without figures."""
    firms = {"A": cast.firm_a.enterprise, "E": cast.firm_b.enterprise}
    for key in "BCD":
        firms[key] = f.EnterpriseFactory(stage="growth")
    Enterprise.objects.filter(pk=firms["E"].pk).update(city=f.region("140200"))
    for key, (given, _total) in WORKED.items():
        Enterprise.objects.filter(pk=firms[key].pk).update(stage="growth", verification_status="verified")
        figures(firms[key], {2025: given})
    firms["pending"] = f.EnterpriseFactory(stage="growth", verification_status="pending")
    figures(firms["pending"], {2025: {"revenue": 5000, "rd_spend": 900, "invention_applications": 9}})
    firms["blank"] = f.EnterpriseFactory(stage="growth")
    AnnualFigures.objects.filter(enterprise=firms["blank"]).delete()
    for firm in firms.values():
        firm.refresh_from_db()
    return firms


def recompute(at=NOW, **kwargs):
    with time_machine.travel(at, tick=False):
        return score_recompute(**kwargs)


def latest(firm) -> InnovationScore | None:
    return InnovationScore.objects.filter(enterprise=firm, is_latest=True).first()


# -- computing and storing --------------------------------------------------------------------------


def test_stored_totals_are_the_engines_and_the_worked_example_by_hand(cohort):
    result = recompute()
    assert result == {"scored": 5, "written": 5, "unchanged": 0, "cleared": 0}
    # The engine over the same cohort, built here by hand (not through the service's reader).
    by_hand = [
        engine.FirmFigures(
            cohort[key].pk,
            "growth",
            {
                2025: {
                    **{
                        c: (Decimal(v) * WAN if v is not None and c != "invention_applications" else v)
                        for c, v in given.items()
                    },
                    "qualifications_held": 0,
                }
            },
        )
        for key, (given, _) in WORKED.items()
    ]
    expected = engine.score_cohort(by_hand)
    for key, (_given, total) in WORKED.items():
        row = latest(cohort[key])
        assert row.total == expected[cohort[key].pk].total == total, key
        assert row.stage_group == "growth" and row.cohort_size == 5
        assert row.as_of.isoformat() == "2026-03-10"
        assert [p["code"] for p in row.parts] == [i.code for i in engine.INDICATORS]
    # Percentiles (others below + ½ level, of 4): D 0, E 25, A 50, B 75, C 100.
    assert {k: latest(cohort[k]).percentile for k in "ABCDE"} == {"A": 50, "B": 75, "C": 100, "D": 0, "E": 25}
    # Firm A's 营业收入 part by hand: above B, D and E of the other four → 3/4 × 7 = 5.25.
    revenue = next(p for p in latest(cohort["A"]).parts if p["code"] == "revenue")
    assert revenue == {
        "code": "revenue",
        "label": "营业收入",
        "class": "growth",
        "value": "10000000.00",
        "points": "5.25",
        "max_points": "7.00",
        "reason": revenue["reason"],
    }
    assert "高于同阶段（成长期）其他 4 家企业中的 3 家" in revenue["reason"]


def test_an_unverified_firm_and_one_without_figures_get_no_score(cohort):
    recompute()
    assert latest(cohort["pending"]) is None and latest(cohort["blank"]) is None
    # The unverified firm's much larger figures are not in the cohort: C stays first in R&D.
    rd = next(p for p in latest(cohort["C"]).parts if p["code"] == "rd_spend")
    assert rd["points"] == "8.00"


def test_only_the_scored_years_count_and_qualifications_count_on_the_day(cohort):
    figures(cohort["A"], {2022: {"revenue": 99999}, 2025: WORKED["A"][0]})  # 2022: outside 2023–2025
    f.QualificationFactory(enterprise=cohort["A"], issued_on="2025-01-01", expires_on="2027-12-31")
    f.QualificationFactory(
        enterprise=cohort["A"], kind="tech_sme", issued_on="2025-01-01", expires_on="2025-12-31"
    )
    with time_machine.travel(NOW, tick=False):
        firm = next(x for x in cohort_figures(as_of=engine_date()) if x.id == cohort["A"].pk)
    assert set(firm.years) == {2025}
    assert firm.years[2025]["qualifications_held"] == 1  # the expired 科技型中小企业 does not count


def engine_date():
    from django.utils import timezone

    return timezone.localdate()


def test_history_is_kept_unchanged_results_add_no_row_and_one_row_is_current(cohort):
    recompute()
    assert recompute() == {"scored": 5, "written": 0, "unchanged": 5, "cleared": 0}
    first_c = latest(cohort["C"])
    figures(cohort["C"], {2025: {**WORKED["C"][0], "revenue": 100}})  # C falls to last in revenue
    result = recompute(LATER)
    assert result["written"] >= 1
    assert InnovationScore.objects.filter(enterprise=cohort["C"]).count() == 2
    first_c.refresh_from_db()
    assert first_c.is_latest is False and first_c.total == Decimal("21.75")  # history kept as it was
    now_c = latest(cohort["C"])
    assert now_c.as_of.isoformat() == "2026-04-10" and now_c.total < first_c.total
    per_firm = InnovationScore.objects.filter(is_latest=True).values("enterprise").annotate(n=Count("id"))
    assert {row["n"] for row in per_firm} == {1} and len(per_firm) == 5


def test_an_unchanged_result_keeps_its_day_and_records_when_it_was_last_checked(cohort):
    recompute()
    assert recompute(LATER)["written"] == 0
    row = latest(cohort["A"])
    assert row.as_of.isoformat() == "2026-03-10" and row.computed_at.date().isoformat() == "2026-04-10"


def test_a_firm_that_leaves_the_cohort_keeps_its_history_but_no_current_score(cohort):
    recompute()
    Enterprise.objects.filter(pk=cohort["D"].pk).update(verification_status="rejected")
    assert recompute(LATER)["cleared"] == 1
    assert latest(cohort["D"]) is None
    assert InnovationScore.objects.filter(enterprise=cohort["D"]).count() == 1


def test_recompute_reads_in_a_fixed_number_of_queries(cohort, django_assert_max_num_queries):
    for _ in range(20):
        firm = f.EnterpriseFactory(stage="growth", shares_profile=False)
        figures(firm, {2024: {"revenue": 300, "rd_spend": 30}, 2025: {"revenue": 400, "rd_spend": 45}})
        f.QualificationFactory(enterprise=firm)
    with django_assert_max_num_queries(12):
        assert recompute()["written"] == 25


def test_the_advices_first_item_applied_raises_the_total_by_its_points_gain(cohort):
    recompute()
    row = latest(cohort["A"])
    first = row.advice[0]
    assert set(first) >= ADVICE_KEYS | {"figure", "target"}
    if first["figure"] == "qualifications_held":
        for _ in range(int(first["target"])):
            f.QualificationFactory(enterprise=cohort["A"])
    else:
        AnnualFigures.objects.filter(enterprise=cohort["A"], year=2025).update(
            **{first["figure"]: Decimal(first["target"])}
        )
    recompute()
    raised = latest(cohort["A"]).total
    assert abs(raised - row.total - Decimal(first["points_gain"])) <= 1
    assert raised > row.total


# -- recomputing later ------------------------------------------------------------------------------


def test_recompute_later_runs_once_after_commit_and_not_on_rollback(
    cohort, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            score_recompute_later(cohort["A"])
            score_recompute_later(cohort["B"])  # same group, same transaction: one task
        assert len(callbacks) == 1 and not InnovationScore.objects.exists()
        callbacks[0]()
    assert latest(cohort["A"]).total == Decimal("15.25")
    with pytest.raises(RuntimeError), transaction.atomic():
        score_recompute_later(cohort["A"])
        raise RuntimeError("rolled back")
    assert InnovationScore.objects.count() == 5


def test_verifying_a_firm_and_adding_a_qualification_rescore_its_group(
    cast, cohort, django_capture_on_commit_callbacks
):
    pending = cohort["pending"]
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        enterprise_verify(user=cast.staff, enterprise=pending, approve=True)
    assert latest(pending) is not None and latest(pending).cohort_size == 6
    before = latest(cohort["A"]).total
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        qualification_create(
            user=cast.firm_a, enterprise=cohort["A"], kind="hitech", issued_on=engine_date_at(NOW)
        )
    assert latest(cohort["A"]).total > before  # 有效资质: the only firm holding one, 3 points


def engine_date_at(at):
    with time_machine.travel(at, tick=False):
        return engine_date()


def test_the_nightly_schedule_is_declared():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from portal.celery import ensure_periodic_tasks

    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)
    task = PeriodicTask.objects.get(task="enterprises.score_recompute")
    assert (task.crontab.hour, task.crontab.minute) == ("0", "40")


# -- the API ---------------------------------------------------------------------------------------


def test_the_firms_score_api_has_exactly_the_contracts_shape_and_parts_add_up(cast, cohort, api_for):
    recompute()
    body = api_for(cast.firm_a).get("/api/v1/enterprises/me/score/").json()
    assert set(body) == {"total", "percentile", "stage", "as_of", "parts", "advice"}
    assert body["total"] == "15.25" and body["percentile"] == 50
    assert body["stage"] == "growth" and body["as_of"] == "2026-03-10"
    assert len(body["parts"]) == 16 and all(set(p) == PART_KEYS for p in body["parts"])
    assert sum(Decimal(p["points"]) for p in body["parts"]) == Decimal(body["total"])
    assert sum(Decimal(p["max_points"]) for p in body["parts"]) == Decimal("100")
    assert 1 <= len(body["advice"]) <= 3 and all(set(a) == ADVICE_KEYS for a in body["advice"])
    assert all("可提高约" in a["text"] for a in body["advice"])


def test_firm_a_never_sees_firm_bs_score(cast, cohort, api_for, client_for):
    recompute()
    a, b = api_for(cast.firm_a), api_for(cast.firm_b)
    assert a.get("/api/v1/enterprises/me/score/").json()["total"] == "15.25"
    assert b.get("/api/v1/enterprises/me/score/").json()["total"] == "9.00"
    assert a.get(f"/api/v1/enterprises/{cohort['E'].pk}/score/").status_code == 403
    page = client_for(cast.firm_a).get("/firm/score/").content.decode()
    assert 'data-total="15.25"' in page and "9.00" not in page.split('id="score-history"')[1]


def test_before_the_first_score_the_api_answers_nulls_and_the_page_says_what_to_do(cast, api_for, client_for):
    AnnualFigures.objects.filter(enterprise=cast.firm_a.enterprise).delete()
    body = api_for(cast.firm_a).get("/api/v1/enterprises/me/score/").json()
    assert body == {
        "total": None,
        "percentile": None,
        "stage": "growth",
        "as_of": None,
        "parts": [],
        "advice": [],
    }
    html = client_for(cast.firm_a).get("/firm/score/").content.decode()
    assert 'id="score-empty"' in html and "年度经营数据" in html and "score.js" not in html


def test_staff_read_every_firms_score_and_a_region_desk_only_its_regions(cast, cohort, api_for):
    recompute()
    staff = api_for(cast.staff)
    assert staff.get(f"/api/v1/enterprises/{cohort['E'].pk}/score/").json()["total"] == "9.00"
    assert staff.get(f"/api/v1/enterprises/{cohort['pending'].pk}/score/").json()["total"] is None
    taiyuan = api_for(f.RegionDeskFactory(region=f.region("140100")))
    assert taiyuan.get(f"/api/v1/enterprises/{cohort['A'].pk}/score/").json()["total"] == "15.25"
    assert taiyuan.get(f"/api/v1/enterprises/{cohort['E'].pk}/score/").status_code == 404  # 大同市
    assert api_for(cast.officer_a).get(f"/api/v1/enterprises/{cohort['A'].pk}/score/").status_code == 403


# -- pages -----------------------------------------------------------------------------------------


def test_the_firms_page_shows_total_classes_parts_advice_and_trend(cast, cohort, client_for):
    recompute()
    figures(cohort["A"], {2025: {**WORKED["A"][0], "rd_spend": 120}})
    recompute(LATER)
    html = client_for(cast.firm_a).get("/firm/score/").content.decode()
    row = latest(cohort["A"])
    assert f'data-total="{row.total}"' in html and 'id="score-radar"' in html and "score.js" in html
    assert html.count("data-part=") == 16 and html.count('data-class="') == 3
    assert html.count("data-history=") == 2 and "2026-03-10" in html and "2026-04-10" in html
    assert row.advice[0]["text"] in html
    workspace = client_for(cast.firm_a).get("/firm/").content.decode()
    assert 'id="workspace-score"' in workspace and "/firm/score/" in workspace


def test_the_distribution_page_counts_by_group_and_city_and_a_region_desk_sees_its_own(
    cast, cohort, client_for
):
    recompute()
    html = client_for(cast.staff).get("/dashboard/scores/").content.decode()
    assert 'data-group="growth"' in html and 'data-city="140100"' in html and 'data-city="140200"' in html
    growth = html.split('data-group="growth"')[1].split("</tr>")[0]
    # 5 firms, median 15.25; bands: D 7.88 and E 9.00 in 0–9, A 15.25 and B 19.13 in 10–19, C 21.75 in 20–29
    assert '<td class="text-end">5</td><td class="text-end">15.25</td>' in growth
    assert '<td class="text-end">2</td><td class="text-end">2</td><td class="text-end">1</td>' in growth
    desk = (
        client_for(f.RegionDeskFactory(region=f.region("140100"))).get("/dashboard/scores/").content.decode()
    )
    assert 'data-city="140100"' in desk and 'data-city="140200"' not in desk
    assert client_for(cast.officer_a).get("/dashboard/scores/").status_code == 403


# -- banks: only through the bank view, only with consent to financials -----------------------------


@pytest.fixture
def scored_lead(cast, cohort, django_capture_on_commit_callbacks):
    """Firm A (no share-with-all) scored, and bank A's lead on its need from a full matching run."""
    firm = cohort["A"]
    Enterprise.objects.filter(pk=firm.pk).update(shares_profile=False)
    firm.refresh_from_db()
    for _ in range(7):  # patents raise the match score to a lead (they are not in the 科创积分)
        f.IPAssetFactory(enterprise=firm)
    product = f.ProductFactory(institution=cast.bank_a, name="甲行科创贷")
    f.NeedFactory(enterprise=firm)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        start_full_run(trigger="manual", user=cast.staff)
    recompute()
    return Match.objects.get(enterprise=firm, product=product, is_lead=True)


def test_a_bank_sees_the_score_only_with_consent_to_financials(
    cast, cohort, scored_lead, client_for, api_for
):
    firm = cohort["A"]
    officer = client_for(cast.officer_a)
    url = f"/bank/leads/{scored_lead.pk}/"

    def view():
        return enterprise_profile_for_bank(user=cast.officer_a, enterprise=firm, purpose=ConsentPurpose.LEAD)

    with time_machine.travel(NOW, tick=False):
        assert (
            "innovation_score" not in view() and 'id="profile-score"' not in officer.get(url).content.decode()
        )
        consent_grant(user=cast.firm_a, enterprise=firm, institution=cast.bank_a, scope=["basic", "ip"])
        html = officer.get(url).content.decode()
        assert 'data-profile="restricted"' in html and 'id="profile-score"' not in html
        api = api_for(cast.officer_a).get(f"/api/v1/matches/{scored_lead.pk}/").json()
        # The match's score factor keeps its code (科创积分, redacted text); the score itself is absent.
        assert "innovation_score" not in view() and "innovation_score" not in api["enterprise_profile"]
        assert "15.25" not in str(api)
        consent_grant(
            user=cast.firm_a, enterprise=firm, institution=cast.bank_a, scope=["basic", "financials"]
        )
        html = officer.get(url).content.decode()
        assert 'data-score-total="15.25"' in html and "成长期组，高于同组 50% 的企业" in html
        shown = view()["innovation_score"]
        assert shown["total"] == "15.25" and shown["percentile"] == 50 and shown["stage_group"] == "growth"
        assert [c["code"] for c in shown["classes"]] == ["tech", "growth", "aux"]
        assert sum(Decimal(c["points"]) for c in shown["classes"]) == Decimal("15.25")
        api = api_for(cast.officer_a).get(f"/api/v1/matches/{scored_lead.pk}/").json()
        assert api["enterprise_profile"]["innovation_score"]["total"] == "15.25"
    # Bank B has no business with firm A: no way to its score.
    assert client_for(cast.officer_b).get(url).status_code == 404
