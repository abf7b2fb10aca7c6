from django.db import migrations


def forwards(apps, schema_editor):
    from subsidies.lpr import ensure_lpr

    ensure_lpr(apps.get_model("subsidies", "LprRate"))


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
