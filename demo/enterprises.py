"""Demo data of the firm side for ``seed_demo``: demo_firm's consent records and a few openings of
its profile by bank officers, so the consent page has something to show. Idempotent (natural keys)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from enterprises.models import AnnualFigures, Enterprise, InnovationScore, ProfileConsent, ProfileView
from enterprises.scoring import score_recompute, scored_years
from enterprises.services import consent_grant
from enterprises.visits import visit_record
from lenders.models import Institution
from portal.models import Role, User

# demo_firm's consent records: institution name → purposes and profile groups (None: all).
CONSENTING_TO = {
    "浦发银行太原分行": (None, None),
    "中国银行山西省分行": (["lead", "application"], ["basic", "financials", "qualifications"]),
}
VIEWS = (  # viewer username, days before the demo's today, hour, minute, purpose
    ("demo_officer", 3, 10, 0, "lead"),
    ("demo_officer", 3, 10, 20, "lead"),  # opened again within the hour: one row, 2 times
    ("demo_officer", 1, 15, 0, "application"),
    ("demo_officer_other", 2, 9, 0, "lead"),
)


def seed_firm_demo(*, today) -> None:
    user = User.objects.filter(username="demo_firm").select_related("enterprise").first()
    if user is None or user.enterprise_id is None:
        return
    firm: Enterprise = user.enterprise
    for name, (purposes, scope) in CONSENTING_TO.items():
        institution = Institution.objects.filter(name=name).first()
        if institution is not None:
            if not ProfileConsent.objects.filter(enterprise=firm, institution=institution).exists():
                consent_grant(
                    user=user, enterprise=firm, institution=institution, purposes=purposes, scope=scope
                )
    for username, days, hour, minute, purpose in VIEWS:
        viewer = User.objects.filter(username=username).first()
        if viewer is None or viewer.institution_id is None:
            continue
        at = timezone.make_aware(datetime.combine(today - timedelta(days=days), time(hour, minute)))
        ProfileView.objects.get_or_create(
            enterprise=firm,
            viewer=viewer,
            viewed_at=at,
            defaults={"institution_id": viewer.institution_id, "restricted": False, "purpose": purpose},
        )


# Service visits 一对一精准服务: (firm username or firm name, days before the demo's today, team,
# institution name or None, topics, findings, follow-up, follow-up due in days after the visit or
# None, a need found on the visit or None). Who records a visit: demo_zonggai (the 综改区 科技金融部,
# with 建行综改支行) the zone's firms' visits, demo_staff (the province's centre) the others — a region
# desk records visits at its own region's firms only.
VISITS = (
    (
        "demo_firm",
        12,
        "省科技金融服务中心 王磊、浦发银行太原科技支行 李娜",
        "浦发银行太原分行",
        ["hitech_application", "financing_need"],
        "企业拟于明年申报高新技术企业，研发费用归集尚未单独设账；二期产线有设备购置资金需求。",
        "协助企业建立研发费用辅助账，提交高企申报材料清单",
        18,
        None,
    ),
    (
        "demo_firm2",
        5,
        "综改区科技金融部 韩冰、建设银行综改支行 陈晨",
        "中国建设银行山西省分行",
        ["financing_need", "rd_expense"],
        "企业新接到半导体材料订单，原材料采购存在资金缺口，可提供订单和应收账款作为担保。",
        "银行客户经理一周内上门收集订单合同与近两年财务报表",
        6,
        {
            "amount": Decimal("8000000"),
            "term_months": 12,
            "purpose": "working_capital",
            "guarantee_types": ["order", "receivable"],
            "description": "走访中了解到：新增订单原材料采购资金缺口约800万元。",
        },
    ),
    (
        "demo_firm",
        40,
        "省科技金融服务中心 王磊",
        None,
        ["rd_expense"],
        "讲解研发费用加计扣除政策，企业财务已按要求归集上年度研发投入。",
        "",
        None,
        None,
    ),
)


#: The region desks that record their region's demo visits (demo/seed.py creates them); the
#: province's centre (demo_staff) records the rest.
VISIT_DESKS = ("demo_zonggai",)


def seed_visits(*, today) -> int:
    """A few service visits by demo_staff and the 综改区 desk demo_zonggai (one with follow-ups due soon, one that found a financing
    need posted on the firm's behalf and waiting for the firm's confirmation). Idempotent: a visit
    already recorded (same firm, day and team) is skipped. Returns the visits created."""

    staff = User.objects.filter(username="demo_staff").first()
    if staff is None:
        return 0
    desks = {u.region_id: u for u in User.objects.filter(username__in=VISIT_DESKS, role=Role.REGION)}
    created = 0
    for username, days_ago, team, institution_name, topics, findings, follow_up, due_in, need in VISITS:
        owner = User.objects.filter(username=username).select_related("enterprise").first()
        if owner is None or owner.enterprise_id is None:
            continue
        visited_on = min(today - timedelta(days=days_ago), timezone.localdate())
        if owner.enterprise.visits.filter(visited_on=visited_on, team=team).exists():
            continue
        visit_record(
            user=desks.get(owner.enterprise.city_id, staff),
            enterprise=owner.enterprise,
            visited_on=visited_on,
            team=team,
            topics=topics,
            institution=Institution.objects.filter(name=institution_name).first()
            if institution_name
            else None,
            findings=findings,
            follow_up=follow_up,
            follow_up_due=visited_on + timedelta(days=due_in) if due_in is not None else None,
            need=need,
        )
        created += 1
    return created


# ------------------------------------------------------------------------------------------------
# 科创积分: the last three years' figures of every firm, and the scores (demo_firm with a history)
# ------------------------------------------------------------------------------------------------


def _yuan(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _intended_figures(firm: Enterprise, years: list[int], *, invention_patents: int) -> dict[int, dict]:
    """The figures a demo firm reports for ``years`` (oldest first), derived from its profile and
    deterministic per firm (its USCC seeds the generator), so a second seed changes nothing."""
    import random

    rng = random.Random(firm.uscc)
    revenue = Decimal(getattr(firm, "revenue_last_year", None) or rng.randint(50, 3000) * 10000)
    rd_spend = Decimal(getattr(firm, "rd_spend_last_year", None) or revenue * Decimal("0.05"))
    employees = getattr(firm, "employees", None) or rng.randint(10, 300)
    st_staff = min(getattr(firm, "rd_staff", None) or max(1, employees // 5), employees)
    latest = {
        "revenue": _yuan(revenue),
        "rd_spend": _yuan(rd_spend),
        "hitech_revenue": _yuan(revenue * Decimal(rng.randint(30, 90)) / 100) if rng.random() < 0.8 else None,
        "net_profit": _yuan(revenue * Decimal(rng.randint(-5, 15)) / 100),
        "net_assets": _yuan(revenue * Decimal(rng.randint(40, 120)) / 100),
        "employees": employees,
        "st_staff": st_staff,
        "master_staff": max(0, st_staff * rng.randint(10, 50) // 100),
        "rd_super_deduction": _yuan(rd_spend * Decimal(rng.randint(50, 100)) / 100)
        if rng.random() < 0.75
        else None,
        "tech_contract_turnover": _yuan(rng.randint(10, 800) * 10000) if rng.random() < 0.6 else None,
        "invention_applications": min(invention_patents + rng.randint(0, 3), 20),
        "invention_grants": invention_patents,
        "pct_applications": rng.choice([0, 0, 0, 1, 2]),
        "rd_platforms": rng.choice([0, 0, 0, 1, 1, 2]),
        "st_awards": rng.choice([0, 0, 0, 0, 1]),
    }
    out = {years[-1]: latest}
    current = latest
    for year in reversed(years[:-1]):  # earlier years: smaller by each year's growth
        growth = Decimal(100 + rng.randint(-10, 40)) / 100
        rd_growth = Decimal(100 + rng.randint(-10, 50)) / 100
        earlier = dict(current)
        for code in ("revenue", "hitech_revenue", "net_profit", "net_assets", "tech_contract_turnover"):
            earlier[code] = _yuan(current[code] / growth) if current[code] is not None else None
        for code in ("rd_spend", "rd_super_deduction"):
            earlier[code] = _yuan(current[code] / rd_growth) if current[code] is not None else None
        earlier["employees"] = max(1, int(current["employees"] / growth))
        earlier["st_staff"] = min(earlier["employees"], max(1, int(current["st_staff"] / rd_growth)))
        earlier["master_staff"] = min(earlier["st_staff"], current["master_staff"])
        earlier["invention_applications"] = rng.randint(0, 3)
        earlier["invention_grants"] = 0
        out[year] = earlier
        current = earlier
    return out


def seed_annual_figures(*, today) -> None:
    """Every firm's figures of the three financial years the score reads; a figure a firm already
    has (from its profile or an earlier seed) is kept, only blanks are filled."""
    from django.db.models import Count, Q


    years = list(scored_years(today))
    demo = User.objects.filter(username="demo_firm").values_list("enterprise_id", flat=True).first()
    existing = {(row.enterprise_id, row.year): row for row in AnnualFigures.objects.filter(year__in=years)}
    firms = Enterprise.objects.annotate(
        patents=Count("ip_assets", filter=Q(ip_assets__kind="invention_patent"))
    ).order_by("pk")
    create, update = [], []
    for firm in firms:
        intended = _intended_figures(firm, years, invention_patents=firm.patents)
        if firm.pk == demo:  # demo_firm reports its 技术合同成交额 (its history shows what that added)
            intended[years[-1]]["tech_contract_turnover"] = _yuan(2_600_000)
        for year, values in intended.items():
            row = existing.get((firm.pk, year))
            if row is None:
                create.append(AnnualFigures(enterprise=firm, year=year, **values))
                continue
            blanks = {k: v for k, v in values.items() if getattr(row, k) is None and v is not None}
            if blanks:
                for k, v in blanks.items():
                    setattr(row, k, v)
                update.append(row)
    AnnualFigures.objects.bulk_create(create, batch_size=1000)
    if update:
        AnnualFigures.objects.bulk_update(update, list(AnnualFigures.FIGURE_FIELDS), batch_size=500)


def seed_scores(*, today) -> None:
    """The scores of the demo. demo_firm gets a history the first time: its score a month ago,
    before it reported its 技术合同成交额, then today's with it."""

    seed_annual_figures(today=today)
    firm_id = User.objects.filter(username="demo_firm").values_list("enterprise_id", flat=True).first()
    earlier = max(today - timedelta(days=30), today.replace(month=1, day=1))
    if (
        firm_id is not None
        and earlier < today
        and not InnovationScore.objects.filter(enterprise_id=firm_id, as_of__lt=today).exists()
    ):
        row = AnnualFigures.objects.get(enterprise_id=firm_id, year=scored_years(today)[-1])
        reported = row.tech_contract_turnover
        AnnualFigures.objects.filter(pk=row.pk).update(tech_contract_turnover=None)
        score_recompute(as_of=earlier)
        AnnualFigures.objects.filter(pk=row.pk).update(tech_contract_turnover=reported)
    score_recompute(as_of=today)
