"""The profile's single-year figures now live in AnnualFigures (0013 copied them into last year's row)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0013_annual_figures_innovation_score_first_loan"),
    ]

    operations = [
        migrations.RemoveField(model_name="enterprise", name="employees"),
        migrations.RemoveField(model_name="enterprise", name="rd_staff"),
        migrations.RemoveField(model_name="enterprise", name="revenue_last_year"),
        migrations.RemoveField(model_name="enterprise", name="rd_spend_last_year"),
    ]
