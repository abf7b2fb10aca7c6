"""Users and roles, administrative regions, the audit trail of state changes, notifications."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import SYSTEM_TEXT_MAX


class Role(models.TextChoices):
    FIRM = "firm", _("企业用户")
    OFFICER = "officer", _("客户经理")
    MANAGER = "manager", _("银行管理者")
    STAFF = "staff", _("省级专班")
    REGION = "region", _("区域专班")
    FINANCE = "finance", _("财政专班")


BANK_ROLES = (Role.OFFICER, Role.MANAGER)
#: Government desks: the province (``staff``, sees all) and a city's or 综改区's desk (``region``,
#: sees and acts only within ``User.region``).
GOVERNMENT_ROLES = (Role.STAFF, Role.REGION)


class User(AbstractUser):
    """A portal user. A firm user belongs to one Enterprise; an officer or manager to one Branch; a
    region desk (区域专班: a city finance bureau or the 综改区 科技金融部) to one Region."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, blank=True)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("所属企业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    branch = models.ForeignKey(
        "lenders.Branch",
        verbose_name=_("所属网点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    region = models.ForeignKey(
        "portal.Region",
        verbose_name=_("所属区域"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="desks",
        help_text=_("区域专班只能查看和办理本区域企业的事项。"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                name="user_firm_has_enterprise",
                condition=~Q(role="firm") | Q(enterprise__isnull=False),
            ),
            models.CheckConstraint(
                name="user_bank_role_has_branch",
                condition=~Q(role__in=["officer", "manager"]) | Q(branch__isnull=False),
            ),
            models.CheckConstraint(
                name="user_region_desk_has_region",
                condition=~Q(role="region") | Q(region__isnull=False),
            ),
        ]

    def clean(self):
        super().clean()
        if self.role == Role.REGION and not self.region_id:
            raise ValidationError({"region": _("区域专班账号必须选择所属区域（地级市或综改区）。")})

    @property
    def is_firm(self) -> bool:
        return self.role == Role.FIRM

    @property
    def is_officer(self) -> bool:
        return self.role == Role.OFFICER

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_bank(self) -> bool:
        return self.role in BANK_ROLES

    @property
    def is_provincial(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_region_desk(self) -> bool:
        return self.role == Role.REGION

    @property
    def is_government(self) -> bool:
        """The province's desk or a region's desk (each scoped by the access rules)."""
        return self.role in GOVERNMENT_ROLES
    def is_finance(self) -> bool:
        return self.role == Role.FINANCE

    @property
    def institution_id(self) -> int | None:
        return self.branch.institution_id if self.branch_id else None

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Region(models.Model):
    """A Shanxi city (GB/T 2260 code) or a zone inside one (综改区, parent 太原市)."""

    class Kind(models.TextChoices):
        CITY = "city", _("地级市")
        ZONE = "zone", _("功能区")

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=32, unique=True)
    short_name = models.CharField(_("简称"), max_length=16, blank=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.CITY)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), on_delete=models.PROTECT, null=True, blank=True, related_name="zones"
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    """One state change of any tracked object: who, when, from, to, note. Never edited."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    note = models.TextField(_("备注"), blank=True, max_length=SYSTEM_TEXT_MAX)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="transition_subject_idx")]

    def __str__(self) -> str:
        return f"{self.content_type.model}#{self.object_id}: {self.from_state or '—'} → {self.to_state}"


class Notification(models.Model):
    """An in-site message to one user (also e-mailed where the user has an address)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, max_length=SYSTEM_TEXT_MAX)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.title


class ImportBatch(models.Model):
    """One upload of an official list (科技型中小企业 入库名单 or 高新技术企业 名单): previewed first,
    then applied in one transaction."""

    class Kind(models.TextChoices):
        TECH_SME = "tech_sme", _("科技型中小企业入库名单")
        HITECH = "hitech", _("高新技术企业名单")

    class Status(models.TextChoices):
        PREVIEW = "preview", _("待确认导入")
        APPLIED = "applied", _("已导入")
        DISCARDED = "discarded", _("已放弃")

    kind = models.CharField(_("名单类型"), max_length=16, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    file_name = models.CharField(_("文件名"), max_length=200)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PREVIEW)
    rows = models.JSONField(_("解析结果"), default=list, blank=True)
    errors = models.JSONField(_("行错误"), default=list, blank=True)
    confirmed_count = models.PositiveIntegerField(_("确认资质数"), default=0)
    created_count = models.PositiveIntegerField(_("新增资质数"), default=0)
    unregistered_count = models.PositiveIntegerField(_("未注册企业数"), default=0)
    flagged_count = models.PositiveIntegerField(_("标记存疑数"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("官方名单导入")
        verbose_name_plural = _("官方名单导入")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.year} {self.get_kind_display()}（{self.file_name}）"


class OfficialListEntry(models.Model):
    """A firm on an applied official list; ``enterprise`` is empty while it has not registered."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("导入批次"), on_delete=models.CASCADE, related_name="entries"
    )
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    name = models.CharField(_("企业名称"), max_length=120)
    number = models.CharField(_("证书/入库编号"), max_length=64, blank=True)
    issued_on = models.DateField(_("发证/入库日期"))
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("平台企业"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    invited_at = models.DateTimeField(_("邀请时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("官方名单企业")
        verbose_name_plural = _("官方名单企业")
        ordering = ["batch", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "uscc"], name="listentry_unique_uscc")]
        indexes = [models.Index(fields=["uscc"], name="listentry_uscc_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class QualificationFlag(models.Model):
    """A self-declared qualification that the official list of its kind and year does not contain."""

    qualification = models.ForeignKey(
        "enterprises.Qualification", verbose_name=_("资质"), on_delete=models.CASCADE, related_name="+"
    )
    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("导入批次"), on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(_("原因"), max_length=200)
    created_at = models.DateTimeField(_("标记时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution_note = models.CharField(_("处理说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("资质存疑标记")
        verbose_name_plural = _("资质存疑标记")
        ordering = ["resolved_at", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "batch"], name="qualflag_once_per_batch")
        ]

    def __str__(self) -> str:
        return f"{self.qualification} · {self.reason}"


class AuditEvent(models.Model):
    """One audited act: who, when, what and from where. Written only by ``portal.audit``; never edited."""

    class Action(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGOUT = "logout", _("退出")
        LOGIN_FAILED = "login_failed", _("登录失败")
        STATE_CHANGE = "state_change", _("状态变更")
        ACCESS_REFUSED = "access_refused", _("拒绝访问")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("用户名"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("动作"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["action", "at"], name="audit_action_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["ip_address"], name="audit_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '—'} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("审计日志只能新增，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("审计日志不能删除")


class WorkdayOverride(models.Model):
    """One day of a year's holiday schedule entered by provincial staff: a statutory holiday or a
    weekend day made a working day (调休), from the State Council's yearly notice. A year with any
    such row is computed from these rows alone (portal/workdays.py); the package is not consulted."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休息）")
        WORKDAY = "workday", _("调休工作日（上班）")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("说明"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` of one user (or machine client's service user) on an API POST
    (portal/idempotency.py). ``status`` is null while the first request is still being served."""

    key = models.CharField(_("幂等键"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("路径"), max_length=500)
    body_hash = models.CharField(_("请求摘要"), max_length=64)
    status = models.PositiveSmallIntegerField(_("响应状态"), null=True, blank=True)
    # The first answer replayed to a retry: an API response, capped like every text (1 MB).
    response_body = models.TextField(_("响应内容"), blank=True, max_length=1_000_000)
    content_type = models.CharField(_("响应类型"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("幂等请求")
        verbose_name_plural = _("幂等请求")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
