"""Step 2 of 3: today's consent becomes records. A granted row, and the "share with all" switch
``shares_profile``, become an active grant of every profile group for the purposes lead,
application and pool, expiring one year from the day this migration runs; a refused row becomes a
revoked record (it still refuses that institution while the switch is on)."""

from django.db import migrations
from django.utils import timezone

GROUPS = ["basic", "financials", "ip", "qualifications", "documents"]


def _one_year_after(day):
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def forwards(apps, schema_editor):
    ProfileConsent = apps.get_model("enterprises", "ProfileConsent")
    Enterprise = apps.get_model("enterprises", "Enterprise")
    now = timezone.now()
    today = timezone.localdate()
    until = _one_year_after(today)
    grant = {
        "status": "active",
        "for_lead": True,
        "for_application": True,
        "for_pool": True,
        "scope": GROUPS,
        "granted_at": now,
        "expires_on": until,
    }
    ProfileConsent.objects.filter(granted=True).update(**grant)
    ProfileConsent.objects.filter(granted=False).update(
        status="revoked", scope=[], revoked_at=now, expires_on=today
    )
    sharing = Enterprise.objects.filter(shares_profile=True).values_list("pk", flat=True)
    ProfileConsent.objects.bulk_create(
        [ProfileConsent(enterprise_id=pk, institution=None, changed_at=now, **grant) for pk in sharing.iterator()],
        batch_size=1000,
    )


def backwards(apps, schema_editor):
    ProfileConsent = apps.get_model("enterprises", "ProfileConsent")
    ProfileConsent.objects.filter(institution__isnull=True).delete()
    ProfileConsent.objects.filter(status="active").update(granted=True)
    ProfileConsent.objects.exclude(status="active").update(granted=False)


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0005_consent_records")]

    operations = [migrations.RunPython(forwards, backwards)]
