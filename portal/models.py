"""Users and roles, administrative regions, the audit trail of state changes, notifications."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FIRM = "firm", _("企业用户")
    OFFICER = "officer", _("客户经理")
    MANAGER = "manager", _("银行管理者")
    STAFF = "staff", _("省级专班")


BANK_ROLES = (Role.OFFICER, Role.MANAGER)


class User(AbstractUser):
    """A portal user. A firm user belongs to one Enterprise; an officer or manager to one Branch."""

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
        ]

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
    note = models.TextField(_("备注"), blank=True)
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
    body = models.TextField(_("内容"), blank=True)
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
