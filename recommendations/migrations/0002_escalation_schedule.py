"""Create the daily escalation of overdue recommended-list answers declared in portal/celery.py."""

from django.db import migrations


def create_schedules(apps, schema_editor):
    from portal.celery import ensure_periodic_tasks

    ensure_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
