"""Matching runs, matches (leads), applications, loans and repayments, with their lifecycles."""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import kpi
from portal.money import format_wan
from portal.text import NOTE_MAX

MONEY = {"max_digits": 16, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 3}


class MatchRun(models.Model):
    """One run of the matching service, with its progress counters and per-chunk timings."""

    class Trigger(models.TextChoices):
        NEED = "need", _("需求发布或变更")
        PRODUCT = "product", _("产品上架或变更")
        NIGHTLY = "nightly", _("夜间全量")
        MANUAL = "manual", _("人工全量")
        SEED = "seed", _("演示数据")

    class Status(models.TextChoices):
        PENDING_DISPATCH = "pending_dispatch", _("待派发")  # the broker was down: the sweep sends it
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    trigger = models.CharField(_("触发方式"), max_length=16, choices=Trigger.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    need = models.ForeignKey(
        "enterprises.FinancingNeed", verbose_name=_("需求"), on_delete=models.SET_NULL, null=True, blank=True
    )
    product = models.ForeignKey(
        "products.Product", verbose_name=_("产品"), on_delete=models.SET_NULL, null=True, blank=True
    )
    total_chunks = models.PositiveIntegerField(_("分片总数"), default=0)
    chunks_done = models.PositiveIntegerField(_("已完成分片"), default=0)
    pairs_total = models.PositiveBigIntegerField(_("待评估组合"), default=0)
    pairs_evaluated = models.PositiveBigIntegerField(_("已评估组合"), default=0)
    matches_count = models.PositiveIntegerField(_("匹配数"), default=0)
    near_misses_count = models.PositiveIntegerField(_("差一点匹配数"), default=0)
    leads_count = models.PositiveIntegerField(_("线索数"), default=0)
    chunk_timings = models.JSONField(_("分片耗时"), default=list, blank=True)
    error = models.TextField(_("错误信息"), blank=True, max_length=NOTE_MAX)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    stall_alerted_at = models.DateTimeField(_("停滞告警时间"), null=True, blank=True)
    resumed_at = models.DateTimeField(_("补发分片时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("匹配任务")
        verbose_name_plural = _("匹配任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_trigger_display()} {self.get_status_display()}"

    @property
    def progress_percent(self) -> int:
        if not self.total_chunks:
            return 100 if self.status == self.Status.SUCCEEDED else 0
        return min(100, int(self.chunks_done * 100 / self.total_chunks))


class MatchRunChunk(models.Model):
    """One chunk of a run: the needs it covers and, once done, its figures and timing.

    ``done`` flips False → True exactly once (a conditional UPDATE), which is what lets a chunk run
    twice (a redelivered message after a worker was killed) without counting its progress twice."""

    run = models.ForeignKey(
        MatchRun, verbose_name=_("匹配任务"), on_delete=models.CASCADE, related_name="chunks"
    )
    index = models.PositiveIntegerField(_("序号"))
    need_ids = models.JSONField(_("需求编号"), default=list)
    done = models.BooleanField(_("已完成"), default=False)
    pairs_evaluated = models.PositiveBigIntegerField(_("已评估组合"), default=0)
    matches_count = models.PositiveIntegerField(_("匹配数"), default=0)
    near_misses_count = models.PositiveIntegerField(_("差一点匹配数"), default=0)
    leads_count = models.PositiveIntegerField(_("新线索数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("匹配分片")
        verbose_name_plural = _("匹配分片")
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="matchrunchunk_unique_index")]

    def __str__(self) -> str:
        return f"#{self.run_id}/{self.index}"


class MatchQuerySet(models.QuerySet):
    def overdue(self, now=None) -> "MatchQuerySet":
        """Leads past their first-response deadline still waiting for a first response at ``now``
        (default: now) — ``portal.kpi.lead_overdue``, the one definition (as ``Match.is_overdue``)."""
        return self.filter(kpi.lead_overdue(now or timezone.now()))


class Match(models.Model):
    """A (need, product) pairing: a suggestion to the firm, a near miss, or — above the threshold
    for a verified firm — a lead routed to a branch of the product's institution.

    ``reasons`` is the engine's verdict per criterion (``{"code", "label", "met", "reason"}``):
    every criterion for an eligible pair, only the failed ones for a near miss (whose ``missing``
    holds the advice); ``score_parts`` explains the score of an eligible pair."""

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("待认领")
        CLAIMED = "claimed", _("已认领")
        CONTACTED = "contacted", _("已联系")
        INVITED = "invited", _("已邀请申请")
        DECLINED = "declined", _("已婉拒")
        EXPIRED = "expired", _("已超时")
        WITHDRAWN = "withdrawn", _("已撤回")

    need = models.ForeignKey(
        "enterprises.FinancingNeed", verbose_name=_("需求"), on_delete=models.CASCADE, related_name="matches"
    )
    product = models.ForeignKey(
        "products.Product", verbose_name=_("产品"), on_delete=models.CASCADE, related_name="matches"
    )
    # enterprise and institution are copies of need.enterprise and product.institution, kept on the
    # row so that each role's scope is one indexed column. The database enforces need and product;
    # these copies are written only by the matching service from those rows, so they carry no
    # constraint of their own (a full run writes millions of rows: each constraint is a lookup per
    # row at commit). Deleting through the ORM still cascades.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        related_name="matches",
        db_constraint=False,
    )
    institution = models.ForeignKey(
        "lenders.Institution",
        verbose_name=_("机构"),
        on_delete=models.CASCADE,
        related_name="matches",
        db_constraint=False,
    )
    score = models.PositiveSmallIntegerField(_("匹配度"), default=0)
    reasons = models.JSONField(_("匹配理由"), default=list, blank=True)
    score_parts = models.JSONField(_("评分构成"), default=list, blank=True)
    missing = models.JSONField(_("尚缺条件"), default=list, blank=True)
    is_near_miss = models.BooleanField(_("差一点匹配"), default=False)
    is_lead = models.BooleanField(_("推送为线索"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUGGESTED)
    branch = models.ForeignKey(
        "lenders.Branch",
        verbose_name=_("承接网点"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    routed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)
    response_deadline = models.DateTimeField(_("首次响应期限"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("超时转派时间"), null=True, blank=True)
    decline_reason = models.CharField(_("婉拒原因"), max_length=32, blank=True)
    decline_note = models.TextField(_("婉拒说明"), blank=True, max_length=NOTE_MAX)
    run = models.ForeignKey(  # the run that last wrote the verdict: history, not an integrity rule
        MatchRun,
        verbose_name=_("匹配任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("匹配")
        verbose_name_plural = _("匹配")
        ordering = ["-score", "id"]
        constraints = [models.UniqueConstraint(fields=["need", "product"], name="match_unique_need_product")]
        indexes = [
            models.Index(fields=["branch", "status", "response_deadline"], name="match_inbox_idx"),
            models.Index(fields=["institution", "is_lead", "status"], name="match_institution_idx"),
            models.Index(fields=["enterprise", "is_lead"], name="match_enterprise_idx"),
            # The dashboard's period aggregates (bench/dashboard.py): index-only scans by created_at.
            models.Index(
                fields=["created_at"],
                include=[
                    "is_lead",
                    "is_near_miss",
                    "institution",
                    "product",
                    "enterprise",
                    "need",
                    "status",
                    "routed_at",
                    "response_deadline",
                    "first_response_at",
                ],
                name="match_created_cover_idx",
            ),
            models.Index(
                fields=["created_at"],
                include=[
                    "institution",
                    "need",
                    "status",
                    "routed_at",
                    "response_deadline",
                    "first_response_at",
                ],
                condition=Q(is_lead=True),
                name="match_lead_created_idx",
            ),
            models.Index(
                fields=["response_deadline"],
                condition=Q(
                    is_lead=True, first_response_at__isnull=True, status__in=["suggested", "claimed"]
                ),
                name="match_overdue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need_id}×{self.product_id} ({self.score})"

    @property
    def is_overdue(self) -> bool:
        """This lead meets ``portal.kpi.lead_overdue`` now (as ``Match.objects.overdue()``)."""
        return kpi.row_meets(kpi.lead_overdue(timezone.now()), self)


class Application(models.Model):
    """A firm's application for a product; the bank works it through the lifecycle in DESIGN.md."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        ACCEPTED = "accepted", _("已受理")
        APPROVED = "approved", _("已授信")  # an offer, open until the firm signs or ``valid_until``
        SIGNED = "signed", _("已签约")  # the firm accepted the offer (签约确认): the bank may disburse
        EXPIRED = "expired", _("授信已过期")  # the offer passed ``valid_until`` unsigned
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")
        DISBURSED = "disbursed", _("已放款")
        REPAID = "repaid", _("已结清")
        DEFAULTED = "defaulted", _("已违约")

    class WithdrawReason(models.TextChoices):
        FIRM = "firm", _("企业撤回")
        CHOSE_OTHER = "chose_other", _("企业已选择其他机构的方案")

    OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.APPROVED, Status.SIGNED)

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        related_name="applications",
    )
    product = models.ForeignKey(
        "products.Product", verbose_name=_("产品"), on_delete=models.PROTECT, related_name="applications"
    )
    match = models.ForeignKey(
        Match, verbose_name=_("来源匹配"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    need = models.ForeignKey(
        "enterprises.FinancingNeed",
        verbose_name=_("对应需求"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
    )
    amount = models.DecimalField(_("申请金额（元）"), **MONEY)
    term_months = models.PositiveSmallIntegerField(_("申请期限（月）"))
    purpose = models.CharField(_("用途"), max_length=24, blank=True)
    note = models.TextField(_("申请说明"), blank=True, max_length=NOTE_MAX)
    documents = models.ManyToManyField(
        "enterprises.Document", verbose_name=_("附件"), blank=True, related_name="applications"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    credit_line = models.DecimalField(_("授信额度（元）"), **MONEY, null=True, blank=True)
    approved_rate = models.DecimalField(_("授信年利率（%）"), **RATE, null=True, blank=True)
    approved_term_months = models.PositiveSmallIntegerField(_("授信期限（月）"), null=True, blank=True)
    approved_at = models.DateTimeField(_("授信时间"), null=True, blank=True)
    valid_until = models.DateField(_("授信有效期至"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签约确认时间"), null=True, blank=True)
    withdraw_reason = models.CharField(
        _("撤回原因"), max_length=32, choices=WithdrawReason.choices, blank=True
    )
    reject_reason = models.CharField(_("未通过原因"), max_length=32, blank=True)
    reject_note = models.TextField(_("未通过说明"), blank=True, max_length=NOTE_MAX)
    submitted_by = models.ForeignKey(
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
        verbose_name = _("融资申请")
        verbose_name_plural = _("融资申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "product"],
                condition=Q(status__in=["submitted", "accepted", "approved", "signed"]),
                name="application_one_open_per_product",
            ),
            models.CheckConstraint(name="application_amount_positive", condition=Q(amount__gt=0)),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="application_status_idx"),
            models.Index(fields=["created_at"], name="application_created_idx"),
            models.Index(fields=["approved_at"], name="application_approved_idx"),
            models.Index(
                fields=["status_changed_at"],
                condition=Q(status__in=["submitted", "accepted", "approved", "signed"]),
                name="application_stalled_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} → {self.product.name}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def offer_expired_on(self, day: date) -> bool:
        """An approved offer not signed by the end of ``valid_until`` (Beijing date) has expired,
        whether or not the periodic sweep has marked it yet."""
        return self.status in (self.Status.APPROVED, self.Status.EXPIRED) and (
            self.status == self.Status.EXPIRED or (self.valid_until is not None and self.valid_until < day)
        )


class LoanQuerySet(models.QuerySet):
    def in_phase(self, phase: str, today: date | None = None) -> "LoanQuerySet":
        """Loans in ``phase`` on ``today`` (Beijing date) — the rule of :meth:`Loan.phase_on`, in SQL."""
        today = today or timezone.localdate()
        S, P = Loan.Status, Loan.Phase
        if phase == P.OVERDUE:
            return self.filter(status=S.ACTIVE, maturity_date__lt=today)
        if phase == P.NORMAL:
            return self.filter(status=S.ACTIVE, maturity_date__gte=today)
        if phase in (P.REPAID, P.DEFAULTED):
            return self.filter(status=phase)
        return self.none()

    def maturing_within(self, days: int, today: date | None = None) -> "LoanQuerySet":
        """Active loans maturing between ``today`` and ``today`` + ``days`` (both inclusive)."""
        today = today or timezone.localdate()
        return self.filter(
            status=Loan.Status.ACTIVE,
            maturity_date__gte=today,
            maturity_date__lte=today + timedelta(days=days),
        )


class Loan(models.Model):
    """A disbursed loan (放款). One per application, enforced by the database.

    ``status`` is what the bank recorded (active until the last repayment closes it, or a default);
    ``phase`` adds the clock: an active loan past its maturity date still has principal outstanding
    (the repayment that clears it closes it), so it is overdue (逾期) until repaid or defaulted.
    Overdue is computed on read, never stored."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        REPAID = "repaid", _("已结清")
        DEFAULTED = "defaulted", _("已违约")

    class Phase(models.TextChoices):
        NORMAL = "normal", _("正常")
        OVERDUE = "overdue", _("逾期")
        REPAID = "repaid", _("已结清")
        DEFAULTED = "defaulted", _("已违约")

    application = models.OneToOneField(
        Application, verbose_name=_("申请"), on_delete=models.PROTECT, related_name="loan"
    )
    principal = models.DecimalField(_("本金（元）"), **MONEY)
    annual_rate = models.DecimalField(_("年利率（%）"), **RATE)
    start_date = models.DateField(_("起息日"))
    maturity_date = models.DateField(_("到期日"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    repaid_on = models.DateField(_("结清日期"), null=True, blank=True)
    defaulted_on = models.DateField(_("违约日期"), null=True, blank=True)
    outstanding_at_default = models.DecimalField(_("违约时未偿本金（元）"), **MONEY, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("贷款")
        verbose_name_plural = _("贷款")
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["start_date"], name="loan_start_idx")]
        constraints = [
            models.CheckConstraint(name="loan_principal_positive", condition=Q(principal__gt=0)),
            models.CheckConstraint(
                name="loan_maturity_after_start", condition=Q(maturity_date__gt=models.F("start_date"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.enterprise} {format_wan(self.principal)}"

    @property
    def repaid_principal(self) -> Decimal:
        return sum((r.principal for r in self.repayments.all()), Decimal("0"))

    @property
    def outstanding_principal(self) -> Decimal:
        return self.principal - self.repaid_principal

    @property
    def interest_paid(self) -> Decimal:
        return sum((r.interest for r in self.repayments.all()), Decimal("0"))

    def phase_on(self, day: date) -> str:
        """normal | overdue | repaid | defaulted on ``day`` (as :meth:`LoanQuerySet.in_phase`)."""
        if self.status in (self.Status.REPAID, self.Status.DEFAULTED):
            return self.status
        return self.Phase.OVERDUE if self.maturity_date < day else self.Phase.NORMAL

    @property
    def phase(self) -> str:
        return self.phase_on(timezone.localdate())

    @property
    def phase_label(self) -> str:
        return self.Phase(self.phase).label

    @property
    def is_overdue(self) -> bool:
        return self.phase == self.Phase.OVERDUE

    @property
    def next_due(self) -> date | None:
        """When principal is next due: the maturity date while the loan is not closed (loans here
        repay their principal at maturity; interest-only payments are recorded as they come)."""
        return self.maturity_date if self.status == self.Status.ACTIVE else None

    def days_to_maturity(self, day: date | None = None) -> int:
        return (self.maturity_date - (day or timezone.localdate())).days


class Repayment(models.Model):
    """A repayment the bank records: principal and interest actually paid on a date."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="repayments"
    )
    paid_on = models.DateField(_("还款日期"))
    principal = models.DecimalField(_("归还本金（元）"), **MONEY, default=Decimal("0"))
    interest = models.DecimalField(_("支付利息（元）"), **MONEY, default=Decimal("0"))
    on_time = models.BooleanField(_("按期还款"), default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("还款记录")
        verbose_name_plural = _("还款记录")
        ordering = ["loan", "paid_on", "id"]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.paid_on:%Y-%m-%d}"


class LoanNotice(models.Model):
    """A notice about a loan that is sent once: the repayment reminder 7 days before maturity and
    the renewal radar's 60- and 30-day notices. The unique (loan, kind) row is what makes the
    periodic task send each notice once however often it runs."""

    class Kind(models.TextChoices):
        REPAYMENT_7 = "repayment_7", _("到期还款提醒（7天）")
        RENEWAL_60 = "renewal_60", _("续贷提醒（60天）")
        RENEWAL_30 = "renewal_30", _("续贷提醒（30天）")

    loan = models.ForeignKey(Loan, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("提醒类型"), max_length=16, choices=Kind.choices)
    sent_on = models.DateField(_("发送日期"))
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("贷款提醒")
        verbose_name_plural = _("贷款提醒")
        ordering = ["loan", "sent_on", "id"]
        constraints = [models.UniqueConstraint(fields=["loan", "kind"], name="loannotice_unique_kind")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind}"


class LoanRenewal(models.Model):
    """A renewal (续贷) the firm requested for a loan: the new financing need it created, offered
    first to the loan's institution. One per loan, enforced by the database."""

    loan = models.OneToOneField(
        Loan, verbose_name=_("原贷款"), on_delete=models.CASCADE, related_name="renewal"
    )
    need = models.OneToOneField(
        "enterprises.FinancingNeed",
        verbose_name=_("续贷需求"),
        on_delete=models.CASCADE,
        related_name="renewal_of",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)

    class Meta:
        verbose_name = _("续贷申请")
        verbose_name_plural = _("续贷申请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.loan_id} → {self.need_id}"


class TaskAttempt(models.Model):
    """How many times a Celery message has started on a worker without finishing (its task killed
    the worker process: ``acks_late`` redelivers such a message). Counted at task start, deleted
    when the task returns or raises; past ``settings.TASK_MAX_ATTEMPTS`` the message is given up
    (see ``matching.tasks.BoundedTask``) instead of crashing workers forever."""

    task_id = models.CharField(_("任务编号"), max_length=64, unique=True)
    task_name = models.CharField(_("任务"), max_length=200)
    arguments = models.JSONField(_("参数"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("已尝试次数"), default=0)
    gave_up = models.BooleanField(_("已放弃"), default=False)
    first_started_at = models.DateTimeField(_("首次开始"), default=timezone.now)
    last_started_at = models.DateTimeField(_("最近开始"), default=timezone.now)

    class Meta:
        verbose_name = _("任务尝试记录")
        verbose_name_plural = _("任务尝试记录")
        ordering = ["-last_started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} ×{self.attempts}"
