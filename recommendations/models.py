"""推荐清单: lists of firms that provincial staff build from filters and send to institutions, and
each institution's answer per firm (contacted, credit granted, declined with a coded reason)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.text import NOTE_MAX

MONEY = {"max_digits": 16, "decimal_places": 2}
TITLE_MAX = 100


class Outcome(models.TextChoices):
    CONTACTED = "contacted", _("已联系")
    GRANTED = "granted", _("已授信")
    DECLINED = "declined", _("不予支持")


class DeclineReason(models.TextChoices):
    """The coded reasons a bank gives for declining a recommended firm."""

    NOT_ELIGIBLE = "not_eligible", _("不符合准入")
    INCOMPLETE = "incomplete", _("资料不全")
    NO_INTEREST = "no_interest", _("企业无意向")
    QUOTA_FULL = "quota_full", _("额度已满")
    OTHER = "other", _("其他")


class RecommendationList(models.Model):
    """One list: the filters it was built with, the firms it holds (entries) and, once sent, the
    institutions it went to (recipients) and their feedback deadline."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SENT = "sent", _("已发送")

    title = models.CharField(_("清单名称"), max_length=TITLE_MAX)
    filters = models.JSONField(_("筛选条件"), default=dict)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    due_working_days = models.PositiveSmallIntegerField(_("反馈期限（工作日）"), null=True, blank=True)
    feedback_due = models.DateField(_("反馈截止日"), null=True, blank=True)

    class Meta:
        verbose_name = _("推荐清单")
        verbose_name_plural = _("推荐清单")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_sent(self) -> bool:
        return self.status == self.Status.SENT


class RecommendationRecipient(models.Model):
    """A list sent to one institution, with the day its answers are due. ``manager_alerted_at`` and
    ``staff_alerted_at`` record the two escalation steps (each happens once)."""

    list = models.ForeignKey(
        RecommendationList, verbose_name=_("清单"), on_delete=models.CASCADE, related_name="recipients"
    )
    institution = models.ForeignKey(
        "lenders.Institution",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        related_name="recommendation_recipients",
    )
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    due_on = models.DateField(_("反馈截止日"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    manager_alerted_at = models.DateTimeField(_("提醒机构管理者时间"), null=True, blank=True)
    staff_alerted_at = models.DateTimeField(_("上报省级专班时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("清单接收机构")
        verbose_name_plural = _("清单接收机构")
        ordering = ["list", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["list", "institution"], name="recommendation_recipient_once"),
        ]
        indexes = [models.Index(fields=["due_on"], name="rec_recipient_due_idx")]

    def __str__(self) -> str:
        return f"{self.list} → {self.institution}"


class RecommendationEntry(models.Model):
    """One firm of a list, with its score and first-loan status when the list was built."""

    list = models.ForeignKey(
        RecommendationList, verbose_name=_("清单"), on_delete=models.CASCADE, related_name="entries"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        related_name="recommendation_entries",
    )
    score = models.DecimalField(_("入选时科创积分"), max_digits=5, decimal_places=2, null=True, blank=True)
    first_loan = models.BooleanField(_("入选时为首贷户"), default=False)

    class Meta:
        verbose_name = _("清单企业")
        verbose_name_plural = _("清单企业")
        ordering = ["list", "-score", "enterprise__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["list", "enterprise"], name="recommendation_entry_once"),
        ]

    def __str__(self) -> str:
        return f"{self.list}: {self.enterprise}"


class RecommendationFeedback(models.Model):
    """An institution's current answer about one firm of a list; a later answer updates this row
    and the change is kept in the audit trail (``portal.services.transition_record``)."""

    entry = models.ForeignKey(
        RecommendationEntry, verbose_name=_("清单企业"), on_delete=models.CASCADE, related_name="feedback"
    )
    institution = models.ForeignKey(
        "lenders.Institution", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("反馈结果"), max_length=16, choices=Outcome.choices)
    amount = models.DecimalField(_("授信金额（元）"), **MONEY, null=True, blank=True)
    reason_code = models.CharField(
        _("不予支持原因"), max_length=16, choices=DeclineReason.choices, blank=True, default=""
    )
    note = models.TextField(_("说明"), blank=True, max_length=NOTE_MAX)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反馈人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("反馈时间"), default=timezone.now)

    class Meta:
        verbose_name = _("清单反馈")
        verbose_name_plural = _("清单反馈")
        ordering = ["entry", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "institution"], name="recommendation_feedback_once"),
            models.CheckConstraint(
                condition=~Q(outcome="granted") | Q(amount__gt=0), name="recommendation_granted_has_amount"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="declined") | ~Q(reason_code=""),
                name="recommendation_declined_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} · {self.institution}: {self.get_outcome_display()}"
