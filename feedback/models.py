"""Ratings of institutions by firms, and complaints (投诉与建议) handled by provincial staff.

A rating belongs to one ended case — an application that was repaid, rejected or withdrawn, or a
lead the bank declined — and there is at most one per case. A complaint is about a case or an
institution; its lifecycle (intake → handling → replied → closed, reopened once) is the transition
table in ``feedback.services``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.text import NOTE_MAX

COMMENT_MAX = 500


class Rating(models.Model):
    """A firm's 1–5 star rating of the institution that handled one of its cases."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="ratings"
    )
    institution = models.ForeignKey(
        "lenders.Institution", verbose_name=_("机构"), on_delete=models.CASCADE, related_name="ratings"
    )
    application = models.ForeignKey(
        "matching.Application",
        verbose_name=_("融资申请"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    match = models.ForeignKey(
        "matching.Match",
        verbose_name=_("线索"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    stars = models.PositiveSmallIntegerField(_("评分（星）"))
    comment = models.TextField(_("评价内容"), blank=True, max_length=COMMENT_MAX)
    anonymous = models.BooleanField(_("匿名评价"), default=False)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("服务评价")
        verbose_name_plural = _("服务评价")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(application__isnull=False),
                name="rating_one_per_application",
            ),
            models.UniqueConstraint(
                fields=["match"], condition=Q(match__isnull=False), name="rating_one_per_match"
            ),
            models.CheckConstraint(name="rating_stars_1_to_5", condition=Q(stars__gte=1, stars__lte=5)),
            models.CheckConstraint(
                name="rating_exactly_one_case",
                condition=Q(application__isnull=False, match__isnull=True)
                | Q(application__isnull=True, match__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["institution", "created_at"], name="rating_institution_idx")]

    def __str__(self) -> str:
        return f"{self.institution_id}: {self.stars}"


class Complaint(models.Model):
    """A firm's complaint or suggestion about a case or an institution."""

    class Status(models.TextChoices):
        INTAKE = "intake", _("已提交")
        HANDLING = "handling", _("办理中")
        REPLIED = "replied", _("已答复")
        CLOSED = "closed", _("已办结")

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("投诉")
        SUGGESTION = "suggestion", _("建议")

    #: States in which provincial staff still owe the firm a reply (the deadline runs).
    AWAITING_REPLY = (Status.INTAKE, Status.HANDLING)

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="complaints"
    )
    institution = models.ForeignKey(
        "lenders.Institution", verbose_name=_("涉及机构"), on_delete=models.PROTECT, related_name="complaints"
    )
    application = models.ForeignKey(
        "matching.Application",
        verbose_name=_("涉及申请"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    match = models.ForeignKey(
        "matching.Match",
        verbose_name=_("涉及线索"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices, default=Kind.COMPLAINT)
    subject = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), max_length=NOTE_MAX)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.INTAKE)
    response_due_at = models.DateTimeField(_("答复期限"))
    reply = models.TextField(_("专班答复"), blank=True, max_length=NOTE_MAX)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    institution_answer = models.TextField(_("机构说明"), blank=True, max_length=NOTE_MAX)
    institution_answered_at = models.DateTimeField(_("机构说明时间"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重新办理次数"), default=0)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("状态更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("投诉与建议")
        verbose_name_plural = _("投诉与建议")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="complaint_reopened_at_most_once", condition=Q(reopen_count__lte=1)),
        ]
        indexes = [
            models.Index(fields=["status", "response_due_at"], name="complaint_due_idx"),
            models.Index(fields=["institution", "status"], name="complaint_institution_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_overdue(self) -> bool:
        return self.status in self.AWAITING_REPLY and self.response_due_at < timezone.now()
