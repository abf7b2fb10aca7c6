"""Technology firms: the enterprise, its qualifications, IP, financing needs, documents and visits."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.engine import GUARANTEE_TYPES, INDUSTRIES, STAGES
from portal import money

from .uscc import validate_uscc_field

MONEY = {"max_digits": 16, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 3}


class Enterprise(models.Model):
    """A technology firm registered on the portal, identified by its 统一社会信用代码."""

    class Verification(models.TextChoices):
        PENDING = "pending", _("待审核")
        VERIFIED = "verified", _("已认证")
        REJECTED = "rejected", _("未通过")

    name = models.CharField(_("企业名称"), max_length=120)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc_field]
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=40)
    city = models.ForeignKey(
        "portal.Region", verbose_name=_("所在城市"), on_delete=models.PROTECT, related_name="enterprises"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    registered_capital = models.DecimalField(_("注册资本（元）"), **MONEY, null=True, blank=True)
    industry = models.CharField(
        _("所属行业"), max_length=32, choices=list(INDUSTRIES.items()), default="other"
    )
    stage = models.CharField(_("发展阶段"), max_length=16, choices=list(STAGES.items()), default="startup")
    employees = models.PositiveIntegerField(_("职工人数"), default=0)
    rd_staff = models.PositiveIntegerField(_("研发人员"), default=0)
    revenue_last_year = models.DecimalField(_("上年营业收入（元）"), **MONEY, default=Decimal("0"))
    rd_spend_last_year = models.DecimalField(_("上年研发投入（元）"), **MONEY, default=Decimal("0"))
    total_assets = models.DecimalField(_("资产总额（元）"), **MONEY, null=True, blank=True)
    export_business = models.BooleanField(_("有出口业务"), default=False)
    export_amount_last_year = models.DecimalField(_("上年出口额（元）"), **MONEY, default=Decimal("0"))
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_mobile = models.CharField(_("联系手机"), max_length=11, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    description = models.TextField(_("企业简介"), blank=True)
    verification_status = models.CharField(
        _("认证状态"), max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    verified_at = models.DateTimeField(_("认证时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("认证人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    shares_profile = models.BooleanField(
        _("同意向金融机构展示企业资料"),
        default=False,
        help_text=_("未同意时，金融机构只能看到企业名称、城市和行业。"),
    )
    created_at = models.DateTimeField(_("注册时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["verification_status"], name="enterprise_verification_idx"),
            models.Index(fields=["city", "industry"], name="enterprise_city_industry_idx"),
            models.Index(fields=["created_at"], name="enterprise_created_idx"),
            models.Index(fields=["verified_at"], name="enterprise_verified_at_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


class Qualification(models.Model):
    """A qualification certificate or registration of a firm (高企, 科小, 专精特新)."""

    class Kind(models.TextChoices):
        HITECH = "hitech", _("高新技术企业")
        TECH_SME = "tech_sme", _("科技型中小企业")
        SRDI = "srdi", _("专精特新")

    class Level(models.TextChoices):
        INNOVATIVE = "innovative", _("创新型中小企业")
        SRDI_SME = "srdi_sme", _("专精特新中小企业")
        GIANT = "giant", _("专精特新“小巨人”")

    class Source(models.TextChoices):
        DECLARED = "declared", _("企业自报")
        OFFICIAL = "official", _("官方名单确认")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="qualifications"
    )
    kind = models.CharField(_("资质类型"), max_length=16, choices=Kind.choices)
    level = models.CharField(_("专精特新层级"), max_length=16, choices=Level.choices, blank=True)
    number = models.CharField(_("证书/入库编号"), max_length=64, blank=True)
    issued_on = models.DateField(_("发证/入库日期"))
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.DECLARED)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("企业资质")
        verbose_name_plural = _("企业资质")
        ordering = ["enterprise", "kind", "-issued_on"]
        constraints = [
            models.CheckConstraint(
                name="qualification_srdi_has_level", condition=~Q(kind="srdi") | ~Q(level="")
            ),
            models.CheckConstraint(
                name="qualification_expiry_after_issue",
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.display_name}"

    @property
    def code(self) -> str:
        """The code the matching engine uses ('hitech', 'tech_sme', 'srdi_innovative', …)."""
        if self.kind == self.Kind.SRDI:
            return {"innovative": "srdi_innovative", "srdi_sme": "srdi_sme", "giant": "srdi_giant"}[
                self.level
            ]
        return self.kind

    @property
    def display_name(self) -> str:
        return self.get_level_display() if self.kind == self.Kind.SRDI else self.get_kind_display()

    def counts_on(self, day: date) -> bool:
        """A qualification counts on a day only if issued on or before it and not yet expired."""
        return self.issued_on <= day and (self.expires_on is None or day <= self.expires_on)

    @property
    def is_official(self) -> bool:
        return self.source == self.Source.OFFICIAL


class IPAsset(models.Model):
    """An intellectual-property asset of a firm."""

    class Kind(models.TextChoices):
        INVENTION_PATENT = "invention_patent", _("发明专利")
        UTILITY_MODEL = "utility_model", _("实用新型专利")
        DESIGN_PATENT = "design_patent", _("外观设计专利")
        SOFTWARE_COPYRIGHT = "software_copyright", _("软件著作权")
        TRADEMARK = "trademark", _("商标")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="ip_assets"
    )
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    number = models.CharField(_("登记/专利号"), max_length=64)
    title = models.CharField(_("名称"), max_length=200, blank=True)
    granted_on = models.DateField(_("授权日期"), null=True, blank=True)
    valuation = models.DecimalField(_("评估价值（元）"), **MONEY, null=True, blank=True)

    class Meta:
        verbose_name = _("知识产权")
        verbose_name_plural = _("知识产权")
        ordering = ["enterprise", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "number"], name="ipasset_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class FinancingNeed(models.Model):
    """A financing need posted by a firm (or on its behalf during a service visit)."""

    class Purpose(models.TextChoices):
        WORKING_CAPITAL = "working_capital", _("流动资金")
        RD = "rd", _("研发投入")
        EQUIPMENT = "equipment", _("设备购置")
        EXPORT = "export", _("出口业务")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("对接中")
        FULFILLED = "fulfilled", _("已满足")
        WITHDRAWN = "withdrawn", _("已撤回")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="needs"
    )
    amount = models.DecimalField(
        _("融资金额（元）"),
        **MONEY,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("10000000000"))],
    )
    term_months = models.PositiveSmallIntegerField(
        _("期限（月）"), validators=[MinValueValidator(1), MaxValueValidator(360)]
    )
    purpose = models.CharField(
        _("用途"), max_length=24, choices=Purpose.choices, default=Purpose.WORKING_CAPITAL
    )
    guarantee_types = models.JSONField(
        _("可接受担保方式"), default=list, help_text=", ".join(f"{k}={v}" for k, v in GUARANTEE_TYPES.items())
    )
    max_annual_rate = models.DecimalField(
        _("可接受最高年利率（%）"),
        **RATE,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("36"))],
    )
    needed_by = models.DateField(_("期望到位日期"), null=True, blank=True)
    description = models.TextField(_("补充说明"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    on_behalf = models.BooleanField(_("走访代录"), default=False)
    confirmed_by_firm = models.BooleanField(_("企业已确认"), default=True)
    created_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = _("融资需求")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "enterprise"], name="need_status_enterprise_idx"),
            models.Index(
                fields=["created_at"],
                include=["id", "status", "amount", "enterprise"],
                name="need_created_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(name="need_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {money.format_wan(self.amount)} · {self.term_months}个月"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


def document_upload_to(instance: "Document", filename: str) -> str:
    stamp = timezone.now().strftime("%Y%m")
    return f"documents/{instance.enterprise_id}/{stamp}/{filename}"


class Document(models.Model):
    """A file a firm uploads (营业执照, statements …). Type is checked by content, size by limit."""

    class Kind(models.TextChoices):
        BUSINESS_LICENSE = "business_license", _("营业执照")
        FINANCIAL_STATEMENT = "financial_statement", _("财务报表")
        QUALIFICATION = "qualification", _("资质证书")
        IP_CERTIFICATE = "ip_certificate", _("知识产权证书")
        OTHER = "other", _("其他材料")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("材料类型"), max_length=24, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=document_upload_to)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("企业材料")
        verbose_name_plural = _("企业材料")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"


class ServiceVisit(models.Model):
    """A one-to-one on-site service visit (上门服务) recorded by provincial staff."""

    class Topic(models.TextChoices):
        HITECH = "hitech_application", _("高企申报")
        RD_EXPENSE = "rd_expense", _("研发投入归集")
        FINANCING = "financing_need", _("融资需求")
        OTHER = "other", _("其他")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="visits"
    )
    visited_on = models.DateField(_("走访日期"))
    team = models.CharField(_("服务团队"), max_length=300, help_text=_("中心与银行的参与人员"))
    institution = models.ForeignKey(
        "lenders.Institution",
        verbose_name=_("同行金融机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
    )
    topics = models.JSONField(_("服务内容"), default=list)
    findings = models.TextField(_("发现的问题与需求"), blank=True)
    follow_up = models.TextField(_("后续跟进事项"), blank=True)
    follow_up_due = models.DateField(_("跟进截止日期"), null=True, blank=True)
    follow_up_done = models.BooleanField(_("跟进已完成"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("上门服务记录")
        verbose_name_plural = _("上门服务记录")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.visited_on:%Y-%m-%d}"


class ProfileConsent(models.Model):
    """A firm's decision whether one institution may see its full profile.

    An explicit row wins over the "all institutions" switch ``Enterprise.shares_profile``: a firm that
    shares with everyone can still refuse one institution (a row with ``granted=False``)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="consents"
    )
    institution = models.ForeignKey(
        "lenders.Institution", verbose_name=_("金融机构"), on_delete=models.CASCADE, related_name="+"
    )
    granted = models.BooleanField(_("同意展示"), default=True)
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("变更人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("资料授权")
        verbose_name_plural = _("资料授权")
        ordering = ["enterprise", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "institution"], name="consent_unique_institution")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} → {self.institution}: {'同意' if self.granted else '不同意'}"


class ProfileView(models.Model):
    """One opening of a firm's profile by someone outside the firm (who, which institution, when)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="profile_views"
    )
    institution = models.ForeignKey(
        "lenders.Institution",
        verbose_name=_("金融机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查看人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    restricted = models.BooleanField(_("仅基本信息"), default=True)
    viewed_at = models.DateTimeField(_("查看时间"), default=timezone.now)

    class Meta:
        verbose_name = _("资料查看记录")
        verbose_name_plural = _("资料查看记录")
        ordering = ["-viewed_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "viewed_at"], name="profileview_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.viewer} · {self.viewed_at:%Y-%m-%d %H:%M}"
