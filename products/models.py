"""The product catalogue (产品超市) and each product's eligibility criteria."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.text import DESCRIPTION_MAX
from portal.vocabulary import GUARANTEE_TYPES, PRODUCT_TYPES

MONEY = {"max_digits": 16, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 3}
INNOVATION_SCORE_RANGE_MESSAGE = _("最低科创积分应在 0–100 分之间")


class Product(models.Model):
    """A financial product an institution offers to technology firms."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已上架")
        RETIRED = "retired", _("已下架")

    institution = models.ForeignKey(
        "lenders.Institution", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="products"
    )
    name = models.CharField(_("产品名称"), max_length=80)
    product_type = models.CharField(_("产品类型"), max_length=24, choices=list(PRODUCT_TYPES.items()))
    amount_min = models.DecimalField(
        _("最低金额（元）"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    amount_max = models.DecimalField(
        _("最高金额（元）"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    term_min_months = models.PositiveSmallIntegerField(_("最短期限（月）"), default=1)
    term_max_months = models.PositiveSmallIntegerField(_("最长期限（月）"))
    rate_min = models.DecimalField(_("最低年利率（%）"), **RATE, null=True, blank=True)
    rate_max = models.DecimalField(_("最高年利率（%）"), **RATE, null=True, blank=True)
    guarantee_types = models.JSONField(
        _("担保方式"), default=list, help_text=", ".join(f"{k}={v}" for k, v in GUARANTEE_TYPES.items())
    )
    fully_online = models.BooleanField(_("全流程线上"), default=False)
    is_exclusive = models.BooleanField(_("科技信贷专属产品"), default=False)
    renewal_limit = models.DecimalField(
        _("无还本续贷上限（元）"),
        **MONEY,
        default=Decimal("10000000"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("本金不超过此金额的贷款可申请无还本续贷（默认 1000 万元）"),
    )
    guarantee_fee_rate = models.DecimalField(
        _("年担保费率（%）"),
        **RATE,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("担保机构产品填写：按担保金额每年收取的担保费率"),
    )
    guarantee_coverage = models.DecimalField(
        _("担保责任比例（%）"),
        **RATE,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("担保机构产品填写：担保机构对贷款本金承担代偿责任的比例"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    description = models.TextField(_("产品介绍"), blank=True, max_length=DESCRIPTION_MAX)
    published_at = models.DateTimeField(_("上架时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("金融产品")
        verbose_name_plural = _("金融产品")
        ordering = ["institution", "name"]
        indexes = [models.Index(fields=["status", "product_type"], name="product_status_type_idx")]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="product_unique_name"),
            models.CheckConstraint(name="product_amount_range", condition=Q(amount_min__lte=F("amount_max"))),
            models.CheckConstraint(
                name="product_term_range", condition=Q(term_min_months__lte=F("term_max_months"))
            ),
            models.CheckConstraint(
                name="product_rate_range",
                condition=Q(rate_min__isnull=True)
                | Q(rate_max__isnull=True)
                | Q(rate_min__lte=F("rate_max")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.institution.short_name}）"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def score_requirement(self) -> int | None:
        """The 最低科创积分 its criteria set (None: no requirement, or no criteria row)."""
        try:
            return self.criteria.min_innovation_score
        except Criteria.DoesNotExist:
            return None

    @property
    def is_credit_loan(self) -> bool:
        return self.product_type == "credit" or list(self.guarantee_types) == ["credit"]

    def clean(self) -> None:
        errors = {}
        if self.amount_min is not None and self.amount_max is not None and self.amount_min > self.amount_max:
            errors["amount_max"] = _("最高金额不能低于最低金额")
        if self.term_min_months and self.term_max_months and self.term_min_months > self.term_max_months:
            errors["term_max_months"] = _("最长期限不能短于最短期限")
        if self.rate_min is not None and self.rate_max is not None and self.rate_min > self.rate_max:
            errors["rate_max"] = _("最高利率不能低于最低利率")
        if not self.guarantee_types:
            errors["guarantee_types"] = _("至少选择一种担保方式")
        elif any(g not in GUARANTEE_TYPES for g in self.guarantee_types):
            errors["guarantee_types"] = _("担保方式不在可选范围内")
        if errors:
            raise ValidationError(errors)


class Criteria(models.Model):
    """A product's eligibility criteria. Empty lists mean 'no restriction'."""

    product = models.OneToOneField(
        Product, verbose_name=_("产品"), on_delete=models.CASCADE, related_name="criteria"
    )
    cities = models.JSONField(_("适用城市（区划代码）"), default=list, blank=True)
    industries = models.JSONField(_("适用行业"), default=list, blank=True)
    stages = models.JSONField(_("适用发展阶段"), default=list, blank=True)
    required_qualifications = models.JSONField(_("必备资质"), default=list, blank=True)
    min_revenue = models.DecimalField(_("最低上年营收（元）"), **MONEY, null=True, blank=True)
    min_invention_patents = models.PositiveSmallIntegerField(_("最少发明专利（件）"), default=0)
    min_years = models.PositiveSmallIntegerField(_("最短成立年限（年）"), default=0)
    export_required = models.BooleanField(_("须有出口业务"), default=False)
    max_amount_revenue_ratio = models.DecimalField(
        _("金额不超过营收的比例"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    min_innovation_score = models.PositiveSmallIntegerField(
        _("最低科创积分"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100, message=INNOVATION_SCORE_RANGE_MESSAGE)],
        help_text=_("企业当前科创积分须不低于此分（0–100 分）；不填为不限"),
    )

    class Meta:
        verbose_name = _("准入条件")
        verbose_name_plural = _("准入条件")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_innovation_score__isnull=True) | Q(min_innovation_score__lte=100),
                name="criteria_min_innovation_score_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.name} 准入条件"
