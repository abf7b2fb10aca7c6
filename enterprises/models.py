"""Technology firms: the enterprise, its qualifications, IP, financing needs, documents and visits."""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import money
from portal.text import DESCRIPTION_MAX, NOTE_MAX
from portal.validators import validate_founded_on, validate_needed_by, validate_qualification_date
from portal.vocabulary import GUARANTEE_TYPES, INDUSTRIES, STAGES

from .consent import ConsentPurpose
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
    founded_on = models.DateField(_("成立日期"), null=True, blank=True, validators=[validate_founded_on])
    registered_capital = models.DecimalField(_("注册资本（元）"), **MONEY, null=True, blank=True)
    industry = models.CharField(
        _("所属行业"), max_length=32, choices=list(INDUSTRIES.items()), default="other"
    )
    stage = models.CharField(_("发展阶段"), max_length=16, choices=list(STAGES.items()), default="startup")
    total_assets = models.DecimalField(_("资产总额（元）"), **MONEY, null=True, blank=True)
    had_bank_loan = models.BooleanField(
        _("曾获得银行贷款"),
        default=False,
        help_text=_("从未获得过银行贷款、且在平台上也没有放款记录的企业为首贷户。"),
    )
    export_business = models.BooleanField(_("有出口业务"), default=False)
    export_amount_last_year = models.DecimalField(_("上年出口额（元）"), **MONEY, default=Decimal("0"))
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_mobile = models.CharField(_("联系手机"), max_length=11, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    description = models.TextField(_("企业简介"), blank=True, max_length=DESCRIPTION_MAX)
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
    def is_first_loan_firm(self) -> bool:
        """首贷户: never had a bank loan by its own declaration, and none recorded on the portal.

        The rule is :data:`FIRST_LOAN_FIRMS` (lists annotate it with :func:`first_loan_firm`); an
        Enterprise read through ``annotate(first_loan_firm_flag=first_loan_firm())`` costs nothing
        more, otherwise this costs one query."""
        flag = getattr(self, "first_loan_firm_flag", None)
        if flag is None:
            flag = Enterprise.objects.filter(FIRST_LOAN_FIRMS, pk=self.pk).exists()
        return flag

    @property
    def latest_figures(self) -> "AnnualFigures | None":
        """The firm's newest :class:`AnnualFigures` row (its current 营业收入、研发投入、职工人数、科技人员
        and the rest), or None before any year is recorded. Lists prefetch :data:`ANNUAL_FIGURES`
        (or ``"annual_figures"``, or ``annual_figures_prefetch("enterprise__")`` from a related
        row); without it this costs one query."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "annual_figures" in cache:
            rows = list(cache["annual_figures"])
            return max(rows, key=lambda r: r.year) if rows else None
        return self.annual_figures.order_by("-year").first()

    @property
    def current_score(self) -> "InnovationScore | None":
        """The firm's current 科创积分 row, or None before the first computation. Lists prefetch
        :data:`LATEST_SCORE` (to ``latest_score_rows``); without it this costs one query."""
        rows = getattr(self, "latest_score_rows", None)
        if rows is None:
            rows = list(self.innovation_scores.filter(is_latest=True)[:1])
        return rows[0] if rows else None

    def identity_change_pending(self) -> bool:
        """Whether a change of name, USCC, legal representative or city waits for staff review."""
        return self.identity_changes.filter(status=IdentityChange.Status.PENDING).exists()

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


#: 首贷户 as a filter on Enterprise — the one rule (:attr:`Enterprise.is_first_loan_firm`, the lists'
#: :func:`first_loan_firm` annotation and every "仅首贷户" filter go through it): declared it never
#: had a bank loan, and no loan (``matching.Loan``, a disbursement) is recorded on the portal.
FIRST_LOAN_FIRMS = Q(had_bank_loan=False) & ~Q(applications__loan__isnull=False)


def first_loan_firm(ref: str = "pk") -> Exists:
    """首贷户 as an annotation (or filter) on any row that names a firm: ``ref`` is the path to the
    firm's id on the outer row (``"enterprise_id"`` on a lead or an application, ``"pk"`` on an
    Enterprise). One EXISTS subquery over :data:`FIRST_LOAN_FIRMS`, so a list costs no extra query."""
    return Exists(Enterprise.objects.filter(FIRST_LOAN_FIRMS, pk=OuterRef(ref)))


def statutory_expiry(kind: str, issued_on: date) -> date:
    """The last valid day of a qualification by the rules (domain.md §5) — the one place it is computed.

    科技型中小企业 (``tech_sme``): 31 December of the year it was registered (入库 2026-04-10 →
    2026-12-31). 高新技术企业 and every 专精特新 tier: three years from issue, the last valid day being
    the day before the third anniversary (2024-12-01 → 2027-11-30); an issue on 29 February has its
    anniversary on 28 February (the month-end rule of 《民法典》第二百零二条), so 2024-02-29 → 2027-02-27.
    """
    if kind == "tech_sme":
        return date(issued_on.year, 12, 31)
    year = issued_on.year + 3
    day = min(issued_on.day, 28) if issued_on.month == 2 and issued_on.day == 29 else issued_on.day
    return date(year, issued_on.month, day) - timedelta(days=1)


class Qualification(models.Model):
    """A qualification certificate or registration of a firm (高企, 科小, 专精特新).

    ``expires_on`` is always a date: left empty, it is the statutory expiry
    (:func:`statutory_expiry`); a later one is refused by the services."""

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
    issued_on = models.DateField(_("发证/入库日期"), validators=[validate_qualification_date])
    expires_on = models.DateField(
        _("有效期至"),
        blank=True,
        help_text=_(
            "留空按规定计算：高新技术企业、专精特新为发证之日起三年（至第三个周年日前一日），科技型中小企业为入库当年 12 月 31 日"
        ),
        validators=[validate_qualification_date],
    )
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

    @property
    def statutory_expiry(self) -> date:
        """The last valid day the rules give this qualification (see :func:`statutory_expiry`)."""
        return statutory_expiry(self.kind, self.issued_on)

    def counts_on(self, day: date) -> bool:
        """A qualification counts on a day only if issued on or before it and not yet expired."""
        expires = self.expires_on or self.statutory_expiry
        return self.issued_on <= day <= expires

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
    granted_on = models.DateField(
        _("授权日期"), null=True, blank=True, validators=[validate_qualification_date]
    )
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
        AWAITING_FIRM = "awaiting_firm", _("待企业确认")  # posted on a visit, not matched until confirmed
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
    needed_by = models.DateField(_("期望到位日期"), null=True, blank=True, validators=[validate_needed_by])
    description = models.TextField(_("补充说明"), blank=True, max_length=NOTE_MAX)
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
    is_renewal = models.BooleanField(_("续贷需求"), default=False)  # its loan: matching.LoanRenewal
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

    @property
    def awaits_firm(self) -> bool:
        """Posted on a service visit and not yet confirmed by the firm."""
        return self.status == self.Status.AWAITING_FIRM


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
    findings = models.TextField(_("发现的问题与需求"), blank=True, max_length=DESCRIPTION_MAX)
    follow_up = models.TextField(_("后续跟进事项"), blank=True, max_length=DESCRIPTION_MAX)
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
    """A firm's consent record: one institution (or, with no institution, every institution — the
    "share with all" switch ``Enterprise.shares_profile``) may read the profile groups in ``scope``
    for the purposes ticked, from ``granted_at`` until ``expires_on`` (at most one year).

    One row per (firm, institution): granting again or applying extends it, revoking keeps the row
    with status revoked — which also refuses that institution when the switch is on. Whether a
    row counts today is :meth:`is_live`; what a bank may see is ``enterprises.selectors.consent_scope``."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        REVOKED = "revoked", _("已撤回")
        EXPIRED = "expired", _("已到期")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="consents"
    )
    institution = models.ForeignKey(
        "lenders.Institution",
        verbose_name=_("金融机构"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("留空表示全部金融机构。"),
    )
    for_lead = models.BooleanField(_("线索跟进"), default=True)
    for_application = models.BooleanField(_("申请审查"), default=True)
    for_pool = models.BooleanField(_("培育库"), default=True)
    scope = models.JSONField(
        _("授权范围"),
        default=list,
        help_text=_("资料分组代码：basic、financials、ip、qualifications、documents。"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    expires_on = models.DateField(_("到期日"))
    revoked_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    expiry_notified_on = models.DateField(_("到期提醒日期"), null=True, blank=True)
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
            models.UniqueConstraint(fields=["enterprise", "institution"], name="consent_unique_institution"),
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(institution__isnull=True), name="consent_unique_all"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_on"], name="consent_status_expiry_idx")]

    def __str__(self) -> str:
        whom = self.institution or _("全部金融机构")
        return f"{self.enterprise} → {whom}: {self.get_status_display()} {self.expires_on}"

    @property
    def purposes(self) -> list[str]:
        """The purposes ticked, in the vocabulary's order (``ConsentPurpose`` values)."""
        return [p for p in ConsentPurpose.values if getattr(self, f"for_{p}")]

    def covers(self, purpose: str | None) -> bool:
        """Whether the record is for ``purpose`` (any purpose when None)."""
        return bool(self.purposes) if purpose is None else purpose in self.purposes

    def is_live(self, on: date) -> bool:
        """Active and not past its expiry on day ``on``."""
        return self.status == self.Status.ACTIVE and on <= self.expires_on

    def status_on(self, on: date) -> str:
        """The status as it stands on ``on``: an active record past its expiry is expired already,
        before the nightly task writes it."""
        if self.status == self.Status.ACTIVE and on > self.expires_on:
            return self.Status.EXPIRED
        return self.status


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
    purpose = models.CharField(
        _("查看用途"), max_length=12, choices=ConsentPurpose.choices, blank=True, default=""
    )
    viewed_at = models.DateTimeField(_("查看时间"), default=timezone.now)

    class Meta:
        verbose_name = _("资料查看记录")
        verbose_name_plural = _("资料查看记录")
        ordering = ["-viewed_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "viewed_at"], name="profileview_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.viewer} · {self.viewed_at:%Y-%m-%d %H:%M}"


class IdentityChange(models.Model):
    """A verified firm's change to its legal identity (name, USCC, legal representative, city),
    waiting for provincial staff. Until approved the firm keeps its verified values everywhere.
    ``changes`` is ``{field: {"old": value, "new": value}}`` (a city as its Region id)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("变更待审核")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="identity_changes"
    )
    changes = models.JSONField(_("变更内容"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    note = models.CharField(_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("企业身份信息变更")
        verbose_name_plural = _("企业身份信息变更")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(status="pending"), name="identitychange_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.get_status_display()}"


class AnnualFigures(models.Model):
    """A firm's figures for one financial year (the last three years are kept and scored).

    The latest year is the firm's current profile figures (营业收入、研发投入、职工人数、科技人员):
    they used to be single fields on :class:`Enterprise`. Money in yuan; a blank figure is "not
    reported" and earns no points in the 科创积分."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="annual_figures"
    )
    year = models.PositiveSmallIntegerField(
        _("财务年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    revenue = models.DecimalField(_("营业收入（元）"), **MONEY, null=True, blank=True)
    rd_spend = models.DecimalField(_("研发投入（元）"), **MONEY, null=True, blank=True)
    hitech_revenue = models.DecimalField(_("高新技术产品（服务）收入（元）"), **MONEY, null=True, blank=True)
    net_profit = models.DecimalField(_("净利润（元）"), **MONEY, null=True, blank=True)
    net_assets = models.DecimalField(_("净资产（元）"), **MONEY, null=True, blank=True)
    employees = models.PositiveIntegerField(_("职工人数"), null=True, blank=True)
    st_staff = models.PositiveIntegerField(_("科技人员"), null=True, blank=True)
    master_staff = models.PositiveIntegerField(_("硕士及以上学历人员"), null=True, blank=True)
    rd_super_deduction = models.DecimalField(_("研发费用加计扣除额（元）"), **MONEY, null=True, blank=True)
    tech_contract_turnover = models.DecimalField(_("技术合同成交额（元）"), **MONEY, null=True, blank=True)
    invention_applications = models.PositiveIntegerField(_("发明专利申请数"), null=True, blank=True)
    invention_grants = models.PositiveIntegerField(_("发明专利授权数"), null=True, blank=True)
    pct_applications = models.PositiveIntegerField(_("PCT 专利申请数"), null=True, blank=True)
    rd_platforms = models.PositiveIntegerField(_("省级及以上研发平台"), null=True, blank=True)
    st_awards = models.PositiveIntegerField(_("省级及以上科技奖励"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    #: The annual figure fields, in the order of ``enterprises.score.FIGURES`` (without
    #: ``qualifications_held``, which is counted from the firm's valid qualifications).
    FIGURE_FIELDS = (
        "revenue",
        "rd_spend",
        "hitech_revenue",
        "net_profit",
        "net_assets",
        "employees",
        "st_staff",
        "master_staff",
        "rd_super_deduction",
        "tech_contract_turnover",
        "invention_applications",
        "invention_grants",
        "pct_applications",
        "rd_platforms",
        "st_awards",
    )

    class Meta:
        verbose_name = _("年度经营数据")
        verbose_name_plural = _("年度经营数据")
        ordering = ["enterprise", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="annual_figures_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year}"

    def figures(self) -> dict:
        """``{field: value}`` of :attr:`FIGURE_FIELDS` (None: not reported)."""
        return {name: getattr(self, name) for name in self.FIGURE_FIELDS}


#: How many financial years a firm records (and the score reads): the last three.
FIGURE_YEARS = 3


def financial_years(today: date | None = None) -> list[int]:
    """The financial years a firm records on a day, newest first: the last three complete years
    (on 2026-12-02: 2025, 2024, 2023). The first is the "last financial year" (上年)."""
    year = (today or timezone.localdate()).year
    return [year - n for n in range(1, FIGURE_YEARS + 1)]


class InnovationScore(models.Model):
    """One computation of a firm's 科创积分 (enterprises.score), kept as history.

    The newest row per firm (``is_latest``) is the firm's current score; ``parts`` and ``advice``
    hold what the API and the pages show, exactly as computed."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="innovation_scores"
    )
    as_of = models.DateField(_("计算日期"))
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    stage_group = models.CharField(_("参评组别"), max_length=16)
    total = models.DecimalField(
        _("科创积分"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    percentile = models.PositiveSmallIntegerField(_("同组百分位"), default=0)
    cohort_size = models.PositiveIntegerField(_("同组企业数"), default=1)
    parts = models.JSONField(_("分项"), default=list)
    advice = models.JSONField(_("提分建议"), default=list)
    is_latest = models.BooleanField(_("当前积分"), default=True)

    class Meta:
        verbose_name = _("科创积分")
        verbose_name_plural = _("科创积分")
        ordering = ["enterprise", "-computed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(is_latest=True), name="innovation_score_one_latest"
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(total__lte=100), name="innovation_score_total_range"
            ),
        ]
        indexes = [models.Index(fields=["is_latest", "total"], name="innovation_score_latest_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.total}"


def annual_figures_prefetch(prefix: str = "") -> Prefetch:
    """Prefetch every firm's annual figures (newest year first) for :attr:`Enterprise.latest_figures`:
    ``Enterprise.objects.prefetch_related(ANNUAL_FIGURES)``, or from a row that points at the firm,
    ``FinancingNeed.objects.prefetch_related(annual_figures_prefetch("enterprise__"))``."""
    return Prefetch(f"{prefix}annual_figures", queryset=AnnualFigures.objects.order_by("-year"))


#: Prefetch of a list of firms' annual figures (see :func:`annual_figures_prefetch`).
ANNUAL_FIGURES = annual_figures_prefetch()


#: Prefetch the current score of each firm of a list: ``.prefetch_related(LATEST_SCORE)``.
LATEST_SCORE = Prefetch(
    "innovation_scores", queryset=InnovationScore.objects.filter(is_latest=True), to_attr="latest_score_rows"
)
