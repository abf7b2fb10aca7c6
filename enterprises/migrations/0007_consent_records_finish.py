"""Step 3 of 3: every record has an expiry; ``granted`` is replaced by ``status``; one "all
institutions" record per firm; an index for the nightly expiry pass."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0006_consent_records_data")]

    operations = [
        migrations.RemoveField(model_name="profileconsent", name="granted"),
        migrations.AlterField(
            model_name="profileconsent",
            name="expires_on",
            field=models.DateField(verbose_name="到期日"),
        ),
        migrations.AddConstraint(
            model_name="profileconsent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("institution__isnull", True)), fields=("enterprise",), name="consent_unique_all"
            ),
        ),
        migrations.AddIndex(
            model_name="profileconsent",
            index=models.Index(fields=["status", "expires_on"], name="consent_status_expiry_idx"),
        ),
    ]
