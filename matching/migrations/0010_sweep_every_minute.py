"""The unmatched-needs sweep runs every minute (it was every 5): it also sends runs left "待派发"
while Redis was down and alerts staff about stalled runs (portal/celery.py). A schedule staff
changed from the old */5 is left as they set it."""

from django.db import migrations


def every_minute(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    from portal.celery import ensure_periodic_tasks

    ensure_periodic_tasks(PeriodicTask, CrontabSchedule)
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.filter(task="matching.sweep_unmatched_needs", crontab__minute="*/5").update(
        crontab=schedule
    )


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0009_run_pending_dispatch_stall"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(every_minute, migrations.RunPython.noop)]
