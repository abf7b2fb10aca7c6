"""Consent records get purposes, scope, a grant date, an expiry and a status; the profile-view log
gets the purpose of each view. Step 1 of 3: new columns (0006 fills them, 0007 drops ``granted``)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0004_dashboard_indexes"),
        ("lenders", "0003_leadread_poolentry_webhookdelivery"),
    ]

    operations = [
        migrations.AlterField(
            model_name="profileconsent",
            name="institution",
            field=models.ForeignKey(
                blank=True,
                help_text="留空表示全部金融机构。",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="lenders.institution",
                verbose_name="金融机构",
            ),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="for_lead",
            field=models.BooleanField(default=True, verbose_name="线索跟进"),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="for_application",
            field=models.BooleanField(default=True, verbose_name="申请审查"),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="for_pool",
            field=models.BooleanField(default=True, verbose_name="培育库"),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="scope",
            field=models.JSONField(
                default=list,
                help_text="资料分组代码：basic、financials、ip、qualifications、documents。",
                verbose_name="授权范围",
            ),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="status",
            field=models.CharField(
                choices=[("active", "有效"), ("revoked", "已撤回"), ("expired", "已到期")],
                default="active",
                max_length=10,
                verbose_name="状态",
            ),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="granted_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="授权时间"),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="expires_on",
            field=models.DateField(null=True, verbose_name="到期日"),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="撤回时间"),
        ),
        migrations.AddField(
            model_name="profileconsent",
            name="expiry_notified_on",
            field=models.DateField(blank=True, null=True, verbose_name="到期提醒日期"),
        ),
        migrations.AddField(
            model_name="profileview",
            name="purpose",
            field=models.CharField(
                blank=True,
                choices=[("lead", "线索跟进"), ("application", "申请审查"), ("pool", "培育库")],
                default="",
                max_length=12,
                verbose_name="查看用途",
            ),
        ),
    ]
