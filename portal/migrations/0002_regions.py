from django.db import migrations


def forwards(apps, schema_editor):
    from portal.regions import ensure_regions

    ensure_regions(apps.get_model("portal", "Region"))


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
