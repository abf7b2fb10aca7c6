"""Every qualification gets an expiry: a NULL one becomes the statutory expiry (domain.md §5),
then the column is NOT NULL (``expires_on`` is always a date)."""

from django.db import migrations, models


def fill_statutory_expiry(apps, schema_editor):
    from enterprises.models import statutory_expiry

    Qualification = apps.get_model("enterprises", "Qualification")
    rows = list(Qualification.objects.filter(expires_on__isnull=True).only("id", "kind", "issued_on"))
    for row in rows:
        row.expires_on = statutory_expiry(row.kind, row.issued_on)
    Qualification.objects.bulk_update(rows, ["expires_on"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0008_consent_expiry_schedule")]

    operations = [
        migrations.RunPython(fill_statutory_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="qualification",
            name="expires_on",
            field=models.DateField(
                blank=True,
                help_text="留空按规定计算：高新技术企业、专精特新为发证之日起三年（至第三个周年日前一日），科技型中小企业为入库当年 12 月 31 日",
                verbose_name="有效期至",
            ),
        ),
    ]
