"""Financial institutions, their branches, and which users work where (User.branch)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.text import DESCRIPTION_MAX, NOTE_MAX


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
    description = models.TextField(_("机构介绍"), blank=True, max_length=DESCRIPTION_MAX)
    is_lender = models.BooleanField(_("提供融资产品"), default=True)
    webhook_url = models.URLField(_("事件推送地址"), blank=True)
    webhook_secret = models.CharField(_("推送签名密钥"), max_length=128, blank=True)
    webhook_events = models.JSONField(
        _("推送事件"),
        default=list,
        blank=True,
        help_text=_("为空表示推送全部事件（lenders.choices.WEBHOOK_EVENTS）"),
    )
    webhook_active = models.BooleanField(_("启用推送"), default=True)
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


class LeadRead(models.Model):
    """That a bank user has opened a lead: what the 'new leads' count in the navigation leaves out."""

    match = models.ForeignKey(
        "matching.Match", verbose_name=_("线索"), on_delete=models.CASCADE, related_name="reads"
    )
    user = models.ForeignKey(
        "portal.User", verbose_name=_("查看人"), on_delete=models.CASCADE, related_name="lead_reads"
    )
    read_at = models.DateTimeField(_("首次查看时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("线索查看记录")
        verbose_name_plural = _("线索查看记录")
        ordering = ["-read_at"]
        constraints = [models.UniqueConstraint(fields=["match", "user"], name="leadread_unique_user")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.match_id}"


class PoolEntry(models.Model):
    """A firm in an institution's incubation pool (培育库): the bank follows it before it asks for money."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="pool_entries"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        related_name="pool_entries",
    )
    note = models.TextField(_("培育说明"), blank=True, max_length=NOTE_MAX)
    added_by = models.ForeignKey(
        "portal.User",
        verbose_name=_("加入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("培育库企业")
        verbose_name_plural = _("培育库企业")
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "enterprise"], name="poolentry_unique_firm")
        ]

    def __str__(self) -> str:
        return f"{self.institution.short_name} · {self.enterprise.name}"


class WebhookDelivery(models.Model):
    """One event POSTed (or to be POSTed) to an institution's webhook, with the outcome of its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SUCCEEDED = "succeeded", _("已送达")
        FAILED = "failed", _("失败")

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event = models.CharField(_("事件"), max_length=48)
    url = models.URLField(_("推送地址"))
    payload = models.JSONField(_("事件内容"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    response_status = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True, max_length=NOTE_MAX)
    replay_of = models.ForeignKey(
        "self", verbose_name=_("重发自"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事件推送记录")
        verbose_name_plural = _("事件推送记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["institution", "created_at"], name="webhook_inst_created_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.get_status_display()})"


API_CLIENT_SCOPES = {
    "leads:read": _("读取线索"),
    "leads:write": _("办理线索（认领、联系、邀请、婉拒、转派）"),
    "applications:read": _("读取申请"),
    "applications:write": _("办理申请（受理、授信、放款等）"),
    "products:write": _("新建、修改、上架、下架产品"),
    "webhooks:write": _("查看和修改事件推送设置"),
    "recommendations:read": _("读取省级专班推送的推荐清单"),
    "recommendations:write": _("反馈推荐清单（逐户反馈对接情况）"),
}


class ApiClient(models.Model):
    """A bank's own system as an OAuth2 client (client credentials). It acts through its service
    user (``user``: a manager of the institution with no usable password, named after the client),
    so the access model scopes it like a manager; ``scopes`` limit what it may do."""

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="api_clients"
    )
    name = models.CharField(_("名称"), max_length=80)
    scopes = models.JSONField(_("权限范围"), default=list)
    application = models.OneToOneField(
        "oauth2_provider.Application",
        verbose_name=_("OAuth2 应用"),
        on_delete=models.PROTECT,
        related_name="kejin_client",
    )
    user = models.OneToOneField(
        "portal.User", verbose_name=_("服务账号"), on_delete=models.PROTECT, related_name="api_client"
    )
    created_by = models.ForeignKey(
        "portal.User", verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接入客户端")
        verbose_name_plural = _("接入客户端")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def is_live(self, now=None) -> bool:
        from django.utils import timezone

        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
