"""Demo data of the firm side for ``seed_demo``: demo_firm's consent records and a few openings of
its profile by bank officers, so the consent page has something to show. Idempotent (natural keys)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from enterprises.models import Enterprise, ProfileConsent, ProfileView
from enterprises.services import consent_grant
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
    from enterprises.visits import visit_record

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
