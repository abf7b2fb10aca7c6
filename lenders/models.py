"""Financial institutions, their branches, and which users work where (User.branch)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Institution(models.Model):
    """A bank, securities firm, insurer, fund, guarantee company — or a service centre (not a lender)."""

    class Kind(models.TextChoices):
        BANK = "bank", _("银行")
        SECURITIES = "securities", _("证券")
        INSURANCE = "insurance", _("保险")
        FUND = "fund", _("基金")
        GUARANTEE = "guarantee", _("担保")
        SERVICE = "service", _("服务机构")

    kind = models.CharField(_("机构类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("机构名称"), max_length=120, unique=True)
    short_name = models.CharField(_("简称"), max_length=32)
    description = models.TextField(_("机构介绍"), blank=True)
    is_lender = models.BooleanField(_("提供融资产品"), default=True)
    webhook_url = models.URLField(_("事件推送地址"), blank=True)
    webhook_secret = models.CharField(_("推送签名密钥"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("金融机构")
        verbose_name_plural = _("金融机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def provincial_branch(self) -> "Branch | None":
        return self.branches.filter(is_provincial=True).first()


class Branch(models.Model):
    """A branch of an institution: the provincial office, a city branch or a sci-tech branch."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="branches"
    )
    name = models.CharField(_("网点名称"), max_length=120)
    city = models.ForeignKey(
        "portal.Region",
        verbose_name=_("所在城市"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="branches",
    )
    is_scitech = models.BooleanField(_("科技特色支行"), default=False)
    is_provincial = models.BooleanField(_("省级分行/总部"), default=False)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("网点")
        verbose_name_plural = _("网点")
        ordering = ["institution", "-is_provincial", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="branch_unique_name"),
            models.UniqueConstraint(
                fields=["institution"],
                condition=models.Q(is_provincial=True),
                name="branch_one_provincial_per_institution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution.short_name} · {self.name}"
