"""Subsidy policies (versioned, with parameters and budget), claims, the fiscal ledger, and LPR."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.text import NOTE_MAX

MONEY = {"max_digits": 16, "decimal_places": 2}


class LprRate(models.Model):
    """Loan Prime Rate in force from a date (a dated table staff can extend)."""

    effective_from = models.DateField(_("生效日期"), unique=True)
    one_year = models.DecimalField(_("1年期（%）"), max_digits=5, decimal_places=2)
    five_year = models.DecimalField(_("5年期以上（%）"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("贷款市场报价利率")
        verbose_name_plural = _("贷款市场报价利率")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d} {self.one_year}% / {self.five_year}%"


class PolicyKind(models.TextChoices):
    INTEREST = "interest", _("贷款贴息")
    RISK = "risk", _("风险补偿")
    REWARD = "reward", _("专属产品奖励")


class Policy(models.Model):
    """One version of a subsidy policy. A change makes a new version; claims keep theirs."""

    series = models.SlugField(_("政策编号"), max_length=48, help_text=_("同一政策各版本共用"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    kind = models.CharField(_("政策类型"), max_length=16, choices=PolicyKind.choices)
    name = models.CharField(_("政策名称"), max_length=120)
    parameters = models.JSONField(_("参数"), default=dict, help_text=_("金额与比例以字符串保存，避免浮点"))
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    budget = models.DecimalField(_("预算（元）"), **MONEY)
    is_active = models.BooleanField(_("现行版本"), default=True)
    source = models.CharField(_("政策依据"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("最后改动本版本的人（如生成新版本时截止本版本）；与创建人一样不得批准本版本下的申领"),
    )

    class Meta:
        verbose_name = _("补贴政策")
        verbose_name_plural = _("补贴政策")
        ordering = ["kind", "series", "-version"]
        # Duties of the money flow, granted by role in ``subsidies.duties`` (one table).
        permissions = [("author_policy", _("编写和修改补贴政策"))]
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="policy_unique_version"),
            models.UniqueConstraint(
                fields=["series"], condition=Q(is_active=True), name="policy_one_active_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Claim(models.Model):
    """A claim under a policy: interest subsidy for a loan and period, risk compensation for a
    defaulted loan, or a bank's yearly exclusive-product reward."""

    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting", _("待企业确认")
        SUBMITTED = "submitted", _("待初审")
        REVIEWED = "reviewed", _("已初审（待批准）")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        PAID = "paid", _("已拨付")

    policy = models.ForeignKey(
        Policy, verbose_name=_("政策版本"), on_delete=models.PROTECT, related_name="claims"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=PolicyKind.choices)
    loan = models.ForeignKey(
        "matching.Loan",
        verbose_name=_("贷款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
    )
    institution = models.ForeignKey(
        "lenders.Institution",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    period_start = models.DateField(_("期间起"))
    period_end = models.DateField(_("期间止"))
    amount = models.DecimalField(_("核定金额（元）"), **MONEY)
    explanation = models.JSONField(_("计算说明"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    payee_name = models.CharField(_("收款户名"), max_length=120, blank=True)
    payee_account = models.CharField(_("收款账号"), max_length=40, blank=True)
    payee_bank = models.CharField(_("开户行"), max_length=120, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("初审人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("财政专班批准（或未批准）本申领的人"),
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拨付人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reject_reason = models.TextField(_("未批准原因"), blank=True, max_length=NOTE_MAX)
    reward_units = models.PositiveIntegerField(
        _("奖励计数单位"), null=True, blank=True, help_text=_("专属产品奖励：当年授信总额的整数亿元数 N")
    )
    paid_at = models.DateTimeField(_("拨付时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("补贴申领")
        verbose_name_plural = _("补贴申领")
        ordering = ["-created_at", "-id"]
        # Duties of the money flow, granted by role in ``subsidies.duties`` (one table).
        permissions = [
            ("review_claim", _("初审补贴申领")),
            ("approve_claim", _("批准补贴申领")),
            ("pay_claim", _("标记补贴拨付")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "loan", "period_start", "period_end"],
                condition=Q(loan__isnull=False),
                name="claim_once_per_loan_period",
            ),
            models.UniqueConstraint(
                fields=["kind", "institution", "year"],
                condition=Q(kind="reward"),
                name="claim_reward_once_per_year",
            ),
            models.CheckConstraint(name="claim_amount_not_negative", condition=Q(amount__gte=0)),
            models.CheckConstraint(
                name="claim_period_order", condition=Q(period_end__gte=models.F("period_start"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.amount}元"


class Recovery(models.Model):
    """A later recovery on a loan whose risk compensation was paid; the pro-rata payback goes
    back into the pool as a RECOVERY ledger entry."""

    claim = models.ForeignKey(
        Claim, verbose_name=_("风险补偿申领"), on_delete=models.PROTECT, related_name="recoveries"
    )
    recovered = models.DecimalField(_("追回金额（元）"), **MONEY)
    payback = models.DecimalField(_("回补资金池（元）"), **MONEY)
    at = models.DateTimeField(_("登记时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("违约贷款追回")
        verbose_name_plural = _("违约贷款追回")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(name="recovery_recovered_positive", condition=Q(recovered__gt=0)),
            models.CheckConstraint(name="recovery_payback_not_negative", condition=Q(payback__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.recovered}元"


class LedgerEntry(models.Model):
    """One movement of fiscal money. Balances are sums of the ledger, never a stored total."""

    class Kind(models.TextChoices):
        COMMIT = "commit", _("预算占用")
        RELEASE = "release", _("占用释放")
        PAY = "pay", _("拨付")
        RECOVERY = "recovery", _("追回入池")

    policy = models.ForeignKey(
        Policy, verbose_name=_("政策版本"), on_delete=models.PROTECT, related_name="ledger"
    )
    claim = models.ForeignKey(
        Claim, verbose_name=_("申领"), on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    year = models.PositiveSmallIntegerField(_("预算年度"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("摘要"), max_length=200, blank=True)
    # Four eyes: who prepared the step this entry records (maker) and who checked it and moved the
    # money (checker). Commit: the reviewer and the approver; pay: the approver and the payer.
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人（制单）"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("财政资金台账")
        verbose_name_plural = _("财政资金台账")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["policy", "year", "kind"], name="ledger_policy_year_idx"),
            models.Index(fields=["kind", "at"], name="ledger_kind_at_idx"),
        ]
        constraints = [models.CheckConstraint(name="ledger_amount_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}元"

    @staticmethod
    def total(qs) -> "models.Decimal":
        return qs.aggregate(s=Sum("amount"))["s"] or 0
