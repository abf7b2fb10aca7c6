"""Create the subsidy schedules declared in portal/celery.py (yearly reward, quarterly 免申即享)."""

from django.db import migrations


def create_schedules(apps, schema_editor):
    from portal.celery import ensure_periodic_tasks

    ensure_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("subsidies", "0004_dashboard_indexes"),
        ("matching", "0004_periodic_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
