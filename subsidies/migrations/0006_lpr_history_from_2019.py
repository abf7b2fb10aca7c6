"""The LPR history from the first reformed reading, 2019-08-20 (domain.md §3): adds the rows the
table lacks (it started at 2022-08-22); rows staff entered are kept."""

from django.db import migrations


def forwards(apps, schema_editor):
    from subsidies.lpr import ensure_lpr

    ensure_lpr(apps.get_model("subsidies", "LprRate"))


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0005_periodic_tasks")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
