"""Demo data of the firm side for ``seed_demo``: demo_firm's consent records and a few openings of
its profile by bank officers, so the consent page has something to show. Idempotent (natural keys)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from lenders.models import Institution
from portal.models import User

from .models import Enterprise, ProfileConsent, ProfileView

CONSENTING_TO = ("浦发银行太原分行", "中国银行山西省分行")
VIEWS = (  # viewer username, days before the demo's today, hour
    ("demo_officer", 3, 10),
    ("demo_officer", 1, 15),
    ("demo_officer_other", 2, 9),
)


def seed_firm_demo(*, today) -> None:
    user = User.objects.filter(username="demo_firm").select_related("enterprise").first()
    if user is None or user.enterprise_id is None:
        return
    firm: Enterprise = user.enterprise
    for name in CONSENTING_TO:
        institution = Institution.objects.filter(name=name).first()
        if institution is not None:
            ProfileConsent.objects.get_or_create(
                enterprise=firm, institution=institution, defaults={"granted": True, "changed_by": user}
            )
    for username, days, hour in VIEWS:
        viewer = User.objects.filter(username=username).first()
        if viewer is None or viewer.institution_id is None:
            continue
        at = timezone.make_aware(datetime.combine(today - timedelta(days=days), time(hour, 0)))
        ProfileView.objects.get_or_create(
            enterprise=firm,
            viewer=viewer,
            viewed_at=at,
            defaults={"institution_id": viewer.institution_id, "restricted": False},
        )
