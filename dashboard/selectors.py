"""Reads of the 信息直通车 dashboard: headline figures, the funnel, chart series, the banks' league
table, overdue leads and stalled applications — and the list of records behind every figure.

Every figure is an aggregate query. The summary is one query per model (conditional aggregation
with ``filter=``), so the number of SQL queries does not depend on the number of rows.

Scope: provincial staff see everything; a region desk sees only its region's firms (the ``city``
filter is forced to its region); a bank manager sees only his institution (the ``institution``
filter is forced to it); anyone else is refused (``NotAllowedError``).

Periods are Beijing-time dates ``[start, end]`` (both inclusive). Which date of a record counts:
firms by registration, needs / matches / leads by creation, applications by submission, credit
lines by approval, loans by their start date, subsidies by payment.
"""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from enterprises.models import FIRST_LOAN_FIRMS, Enterprise, FinancingNeed, ServiceVisit, first_loan_firm
from enterprises.visits import follow_up_due_q
from feedback.selectors import complaints_overdue_by_institution, institution_ratings
from lenders.models import Institution
from matching.models import Application, Loan, Match
from matching.selectors import application_for_user, loan_for_user, match_for_user
from portal import kpi
from portal.access import restrict
from portal.models import Region, Role
from portal.services import NotAllowedError
from portal.vocabulary import INDUSTRIES, PRODUCT_TYPES
from subsidies.models import LedgerEntry
from subsidies.selectors import leverage as subsidy_leverage

STALLED_AFTER_DAYS = 14
PERIODS = ("month", "quarter", "year", "custom")
GROUP_BYS = ("city", "industry", "institution", "product_type", "month")
ZERO = Decimal("0")

# ------------------------------------------------------------------------------------------------
# SQL helpers: hours between two timestamps, and a median aggregate on PostgreSQL and SQLite
# ------------------------------------------------------------------------------------------------


class HoursBetween(Func):
    """(end − start) in hours, as a double."""

    arity = 2
    output_field = FloatField()
    arg_joiner = " - "
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)::double precision"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            arg_joiner=") - julianday(",
            template="((julianday(%(expressions)s)) * 24.0)",
            **extra,
        )


class _SqliteMedian:
    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


class Median(Aggregate):
    """The median: ``percentile_cont(0.5)`` on PostgreSQL; a registered aggregate on SQLite."""

    name = "Median"
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra):
        connection.ensure_connection()
        raw = connection.connection
        if isinstance(raw, sqlite3.Connection):
            raw.create_aggregate("kejin_median", 1, _SqliteMedian)
        clone = self.copy()
        clone.function, clone.template = "kejin_median", "%(function)s(%(expressions)s)"
        return super(Median, clone).as_sql(compiler, connection, **extra)


# ------------------------------------------------------------------------------------------------
# Filters and scope
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the dashboard is looking at: a Beijing-time date range and optional dimensions."""

    start: date
    end: date
    period: str = "custom"
    city: str | None = None
    industry: str | None = None
    institution: int | None = None
    product_type: str | None = None
    product: int | None = None
    metric: str = "loans_disbursed_amount"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def start_dt(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_dt(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def reaches_lenders(self) -> bool:
        """True when a lender-side dimension is set (firm figures then count firms it reached)."""
        return bool(self.institution or self.product_type or self.product)

    def as_query(self) -> dict:
        """The filters as GET parameters (for links to lists and exports)."""
        params = {"period": self.period, "from": self.start.isoformat(), "to": self.end.isoformat()}
        for key in ("city", "industry", "institution", "product_type", "product"):
            value = getattr(self, key)
            if value:
                params[key] = value
        return params


def period_bounds(period: str, today: date | None = None) -> tuple[date, date]:
    """The Beijing-time dates of this month / quarter / year (inclusive)."""
    today = today or timezone.localdate()
    if period == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif period == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = today.replace(month=first_month, day=1)
        end = (start + timedelta(days=93)).replace(day=1) - timedelta(days=1)
    else:
        start = today.replace(month=1, day=1)
        end = today.replace(month=12, day=31)
    return start, end


def dashboard_scope(user) -> int | None:
    """The institution a user is confined to (None: everything). Refuses everyone but staff, a
    region desk (confined to its region by :func:`region_scope`) and bank managers."""
    if not getattr(user, "is_authenticated", False):
        raise NotAllowedError(_("请先登录。"), status=403)
    if user.role == Role.STAFF or (user.role == Role.REGION and user.region_id):
        return None
    if user.role == Role.MANAGER and user.institution_id:
        return user.institution_id
    raise NotAllowedError(_("只有省级专班、区域专班和银行管理者可以查看信息直通车。"))


def region_scope(user) -> str | None:
    """The region (city or 综改区) a region desk is confined to; None for everyone else."""
    return user.region_id if getattr(user, "role", None) == Role.REGION else None


def asks_for_another_region(user, city: str | None) -> bool:
    """Whether a region desk's request names another region (its page, list or export answers
    404, as for another tenant's object; its own region or none is fine)."""
    region = region_scope(user)
    return region is not None and bool(city) and city != region


def scoped_filters(user, filters: Filters) -> Filters:
    """The filters a user may apply: a manager's institution is always his own, a region desk's
    city always its region (as the manager's institution, the filter is locked)."""
    institution = dashboard_scope(user)
    if institution is not None:
        filters = replace(filters, institution=institution)
    region = region_scope(user)
    if region is not None:
        filters = replace(filters, city=region)
    return filters


# ------------------------------------------------------------------------------------------------
# Per-model base querysets: scope ∩ dimensions (period applied by each figure)
# ------------------------------------------------------------------------------------------------


def _firm_dims(f: Filters, prefix: str) -> Q:
    q = Q()
    if f.city:
        q &= Q(**{f"{prefix}city_id": f.city})
    if f.industry:
        q &= Q(**{f"{prefix}industry": f.industry})
    return q


def _lender_dims(f: Filters, product_path: str, institution_path: str) -> Q:
    q = Q()
    if f.institution:
        q &= Q(**{institution_path: f.institution})
    if f.product_type:
        q &= Q(**{f"{product_path}__product_type": f.product_type})
    if f.product:
        q &= Q(**{f"{product_path}_id": f.product})
    return q


def _reached(f: Filters, ref: str) -> Exists:
    """A firm (or need) that received a lead from the lender side in the filters."""
    return Exists(
        Match.objects.filter(
            Q(is_lead=True), _lender_dims(f, "product", "institution_id"), **{ref: OuterRef("pk")}
        )
    )


def enterprises(user, f: Filters) -> QuerySet[Enterprise]:
    qs = Enterprise.objects.filter(_firm_dims(f, ""))
    if f.reaches_lenders:
        qs = qs.filter(_reached(f, "enterprise_id"))
    return qs


def needs(user, f: Filters) -> QuerySet[FinancingNeed]:
    qs = FinancingNeed.objects.filter(_firm_dims(f, "enterprise__"))
    if f.reaches_lenders:
        qs = qs.filter(_reached(f, "need_id"))
    return qs


def matches(user, f: Filters) -> QuerySet[Match]:
    return (
        match_for_user(user)
        .select_related(None)
        .filter(_firm_dims(f, "enterprise__"), _lender_dims(f, "product", "institution_id"))
    )


def applications(user, f: Filters) -> QuerySet[Application]:
    return (
        application_for_user(user)
        .select_related(None)
        .filter(_firm_dims(f, "enterprise__"), _lender_dims(f, "product", "product__institution_id"))
    )


def loans(user, f: Filters) -> QuerySet[Loan]:
    return (
        loan_for_user(user)
        .select_related(None)
        .filter(
            _firm_dims(f, "application__enterprise__"),
            _lender_dims(f, "application__product", "application__product__institution_id"),
        )
    )


def payments(user, f: Filters) -> QuerySet[LedgerEntry]:
    """Subsidy payments (ledger 'pay' entries)."""
    return ledger_entries(user, f).filter(kind=LedgerEntry.Kind.PAY)


def ledger_entries(user, f: Filters) -> QuerySet[LedgerEntry]:
    """Fiscal ledger entries in the filters' dimensions. A claim names its firm directly or through
    its loan, and its institution directly (rewards) or through the loan's product."""
    qs = LedgerEntry.objects.all()
    loan_firm = "claim__loan__application__enterprise__"
    if f.city:
        qs = qs.filter(Q(claim__enterprise__city_id=f.city) | Q(**{f"{loan_firm}city_id": f.city}))
    if f.industry:
        qs = qs.filter(Q(claim__enterprise__industry=f.industry) | Q(**{f"{loan_firm}industry": f.industry}))
    if f.institution:
        qs = qs.filter(
            Q(claim__institution_id=f.institution)
            | Q(claim__loan__application__product__institution_id=f.institution)
        )
    if f.product_type:
        qs = qs.filter(claim__loan__application__product__product_type=f.product_type)
    if f.product:
        qs = qs.filter(claim__loan__application__product_id=f.product)
    return qs


# ------------------------------------------------------------------------------------------------
# Period predicates (each figure's own date)
# ------------------------------------------------------------------------------------------------


def _in(f: Filters, field_name: str) -> Q:
    return Q(**{f"{field_name}__gte": f.start_dt, f"{field_name}__lt": f.end_dt})


def _on(f: Filters, field_name: str) -> Q:
    return Q(**{f"{field_name}__gte": f.start, f"{field_name}__lte": f.end})


LEAD_ANSWERED_IN_TIME = kpi.LEAD_ANSWERED_IN_TIME
CONTACTED_STATUSES = kpi.LEAD_CONTACTED_STATUSES
APPROVED = kpi.APPLICATION_APPROVED


def _lead_decided(now) -> Q:
    return kpi.lead_decided(now)


def _response_hours():
    return HoursBetween(F("first_response_at"), Coalesce(F("routed_at"), F("created_at")))


def leads(user, f: Filters) -> QuerySet[Match]:
    """The leads of the period: by the moment they reached the bank (:data:`kpi.LEAD_RECEIVED_AT`)."""
    return (
        matches(user, f)
        .annotate(received_at=kpi.LEAD_RECEIVED_AT)
        .filter(_in(f, "received_at"), is_lead=True)
    )


# ------------------------------------------------------------------------------------------------
# Formatting of figures: counts are ints, money yuan strings, shares 4-place strings
# ------------------------------------------------------------------------------------------------


def _money(value) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _str(value) -> str | None:
    return None if value is None else str(value)


def _share(numerator, denominator) -> str | None:
    return _str(kpi.share(numerator, denominator))


def _hours(value) -> str | None:
    return _str(kpi.hours(value))


def _ratio(numerator, denominator) -> str | None:
    return _str(kpi.ratio(numerator, denominator))


# ------------------------------------------------------------------------------------------------
# Headline figures and the funnel
# ------------------------------------------------------------------------------------------------

SUMMARY_KEYS = (
    "firms_registered",
    "firms_verified",
    "needs_open",
    "needs_open_amount",
    "matches",
    "near_misses",
    "leads",
    "leads_answered_in_time_share",
    "median_response_hours",
    "applications",
    "approval_rate",
    "credit_granted",
    "loans_disbursed_count",
    "loans_disbursed_amount",
    "first_loans",
    "first_loan_amount",
    "first_loan_share",
    "subsidy_paid",
    "leverage",
    "needs",
    "leverage_finance",
    "leverage_fiscal",
    "renewals_due",
    "renewals_requested",
    "renewals_granted",
)

FUNNEL_STAGES = tuple((stage, kpi.KPIS[f"funnel_{stage}"].label) for stage in kpi.FUNNEL_STAGES)


def _need_of_application(prefix: str = ""):
    """The need an application answers (``application_submit`` fills it from the match)."""
    return F(f"{prefix}need_id")


def _funnel_flags(user, f: Filters) -> dict[str, Exists]:
    """For a need: has it a lead, a contacted lead, an application, an approved one, a loan (in
    the filters' lender scope, at any time since it was posted)."""
    lead = matches(user, f).filter(is_lead=True, need_id=OuterRef("pk")).order_by()
    app = applications(user, f).filter(need_id=OuterRef("pk")).order_by()
    return {
        "lead": Exists(lead),
        "contacted": Exists(lead.filter(status__in=CONTACTED_STATUSES)),
        "applied": Exists(app),
        "approved": Exists(app.filter(APPROVED)),
        "disbursed": Exists(loans(user, f).filter(application__need_id=OuterRef("pk")).order_by()),
    }


def _funnel_stages(user, f: Filters) -> dict[str, Q]:
    """The funnel's cohort rule: a need counts at a stage when it got that far or further, so the
    counts never grow along the funnel (needs posted in the period, see :data:`kpi.KPIS`)."""
    flags = _funnel_flags(user, f)
    stages = [s for s in kpi.FUNNEL_STAGES if s != "need"]
    out = {}
    for i, stage in enumerate(stages):
        q = Q()
        for later in stages[i:]:
            q |= Q(flags[later])
        out[stage] = q
    return out


def _funnel_counts(user, f: Filters) -> dict[str, int]:
    stages = _funnel_stages(user, f)
    counts = (
        needs(user, f)
        .filter(_in(f, "created_at"))
        .aggregate(need=Count("pk"), **{k: Count("pk", filter=q) for k, q in stages.items()})
    )
    return counts


# ------------------------------------------------------------------------------------------------
# One scan, many groupings: ROLLUP / GROUPING SETS on PostgreSQL, one statement per grouping elsewhere
# ------------------------------------------------------------------------------------------------


def _register_sqlite_functions() -> None:
    connection.ensure_connection()
    if connection.vendor == "sqlite" and isinstance(connection.connection, sqlite3.Connection):
        connection.connection.create_aggregate("kejin_median", 1, _SqliteMedian)


def _median_sql(column: str, where: str) -> str:
    if connection.vendor == "postgresql":
        return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) FILTER (WHERE {where})"
    return f"kejin_median({column}) FILTER (WHERE {where})"


def _rollup(qs, *, key: str, aggregates: dict[str, str]) -> tuple[dict, dict]:
    """Aggregate the rows of ``qs`` (a ``.values()`` queryset; ``aggregates`` are SQL over its
    columns) per ``key`` and in total, in one scan: ``(total, {key: figures})``."""
    inner, params = qs.order_by().query.sql_with_params()
    columns = ", ".join(f"{sql} AS {name}" for name, sql in aggregates.items())
    _register_sqlite_functions()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {key}, GROUPING({key}), {columns} FROM ({inner}) s GROUP BY ROLLUP({key})",  # noqa: S608
                params,
            )
            rows = cursor.fetchall()
        else:
            cursor.execute(f"SELECT {key}, 0, {columns} FROM ({inner}) s GROUP BY {key}", params)  # noqa: S608
            rows = cursor.fetchall()
            cursor.execute(f"SELECT NULL, 1, {columns} FROM ({inner}) s", params)  # noqa: S608
            rows += cursor.fetchall()
    names = list(aggregates)
    total, by_key = dict.fromkeys(names), {}
    for row in rows:
        figures = dict(zip(names, row[2:], strict=True))
        if row[1]:
            total = figures
        else:
            by_key[row[0]] = figures
    return total, by_key


def _flag(q: Q) -> ExpressionWrapper:
    return ExpressionWrapper(q, output_field=BooleanField())


def _lead_rollup(user, f: Filters, now) -> tuple[dict, dict]:
    """Leads of the period per institution and in total (league table, response figures, funnel)."""
    rows = (
        leads(user, f)
        .annotate(
            hours=_response_hours(),
            in_time=_flag(LEAD_ANSWERED_IN_TIME),
            decided=_flag(_lead_decided(now)),
        )
        .values("institution_id", "hours", "in_time", "decided")
    )
    return _rollup(
        rows,
        key="institution_id",
        aggregates={
            "leads": "COUNT(*)",
            "in_time": "COUNT(*) FILTER (WHERE in_time)",
            "decided": "COUNT(*) FILTER (WHERE decided)",
            "median_hours": _median_sql("hours", "hours IS NOT NULL"),
        },
    )


def _application_rollup(user, f: Filters) -> tuple[dict, dict]:
    submitted, approved_in_period = _in(f, "created_at"), _in(f, "approved_at")
    rows = (
        applications(user, f)
        .filter(submitted | approved_in_period)
        .annotate(
            inst=F("product__institution_id"),
            submitted=_flag(submitted),
            approved=_flag(submitted & APPROVED),
            rejected=_flag(submitted & kpi.APPLICATION_REJECTED),
            approved_in_period=_flag(approved_in_period),
        )
        .values("inst", "credit_line", "submitted", "approved", "rejected", "approved_in_period")
    )
    return _rollup(
        rows,
        key="inst",
        aggregates={
            "submitted": "COUNT(*) FILTER (WHERE submitted)",
            "approved": "COUNT(*) FILTER (WHERE approved)",
            "rejected": "COUNT(*) FILTER (WHERE rejected)",
            "approvals": "COUNT(*) FILTER (WHERE approved_in_period)",
            "credit": "SUM(credit_line) FILTER (WHERE approved_in_period)",
        },
    )


def _first_loan() -> Q:
    """:func:`kpi.first_loan` over all the portal's loans (a firm's first is its first anywhere)."""
    return kpi.first_loan(Loan.objects.all())


def _loan_rollup(user, f: Filters, key: str) -> tuple[dict, dict]:
    """Loans started in the period per institution (``key="inst"``) or per firm's city
    (``key="city"``), and in total: count and principal, of all and of the first loans."""
    path = _GROUP_PATHS["loan"]["institution" if key == "inst" else "city"]
    rows = (
        loans(user, f)
        .filter(_on(f, "start_date"))
        .annotate(**{key: F(path)}, is_first=_flag(_first_loan()))
        .values(key, "principal", "is_first")
    )
    return _rollup(
        rows,
        key=key,
        aggregates={
            "n": "COUNT(*)",
            "amount": "SUM(principal)",
            "first_n": "COUNT(*) FILTER (WHERE is_first)",
            "first_amount": "SUM(principal) FILTER (WHERE is_first)",
        },
    )


def _first_loan_figures(figures: dict) -> dict:
    """A rollup row → the first-loan KPIs (with the disbursements they are a share of)."""
    amount, first_amount = figures.get("amount") or ZERO, figures.get("first_amount") or ZERO
    return {
        "loans_disbursed_count": figures.get("n") or 0,
        "loans_disbursed_amount": _money(amount),
        "first_loans": figures.get("first_n") or 0,
        "first_loan_amount": _money(first_amount),
        "first_loan_share": _share(first_amount, amount),
    }


def first_loans_by_institution(*, user, filters: Filters) -> list[dict]:
    """Per lending institution with loans started in the period (the league table's columns):
    ``{"institution_id", "institution", "loans_disbursed_count", …, "first_loan_share"}``, most
    first-loan amount first; one query (and one for the names)."""
    f = scoped_filters(user, filters)
    _total, by_inst = _loan_rollup(user, f, "inst")
    names = dict(Institution.objects.filter(pk__in=set(by_inst)).values_list("pk", "short_name"))
    rows = [
        {"institution_id": pk, "institution": names.get(pk, ""), **_first_loan_figures(figures)}
        for pk, figures in by_inst.items()
    ]
    rows.sort(key=lambda r: (-Decimal(r["first_loan_amount"]), -r["first_loans"], r["institution"]))
    return rows


def first_loans_by_city(*, user, filters: Filters) -> list[dict]:
    """Per city (every region of the chart by city; only the filtered one when a city is set — a
    region desk's own): ``{"city", "city_name", "loans_disbursed_count", "loans_disbursed_amount",
    "first_loans", "first_loan_amount", "first_loan_share"}`` (kpi ``first_loans`` …), one query
    (and one for the regions' names)."""
    f = scoped_filters(user, filters)
    _total, by_city = _loan_rollup(user, f, "city")
    regions = _labels(f, "city")
    if f.city:
        regions = [(code, name) for code, name in regions if code == f.city]
    return [
        {"city": code, "city_name": name, **_first_loan_figures(by_city.get(code) or {})}
        for code, name in regions
    ]


def summary(*, user, filters: Filters) -> dict:
    """The headline figures (keys of :data:`SUMMARY_KEYS`) and ``funnel``: seven queries."""
    return overview(user=user, filters=filters, league=False)["summary"]


def overview(*, user, filters: Filters, league: bool = True) -> dict:
    """``{"summary": …, "league": […]}`` — the headline figures, the funnel and the banks' league
    table from one query per model (the league adds one for the institutions' names).

    The funnel is a cohort: the needs posted in the period, then how many of them got a lead, were
    contacted, applied for, approved, disbursed (each stage: that far or further). Leverage is
    :func:`subsidies.selectors.leverage` over the same filters."""
    f = scoped_filters(user, filters)
    now = timezone.now()
    verified = Q(verification_status=Enterprise.Verification.VERIFIED)
    firms = (
        enterprises(user, f)
        .filter(_in(f, "created_at") | _in(f, "verified_at"))
        .aggregate(
            registered=Count("created_at", filter=_in(f, "created_at")),
            verified=Count(
                "created_at",
                filter=verified & _in(f, "verified_at")
                | verified & Q(verified_at__isnull=True) & _in(f, "created_at"),
            ),
        )
    )
    open_need = Q(status=FinancingNeed.Status.OPEN)
    need_figures = (
        needs(user, f)
        .filter(_in(f, "created_at"))
        .aggregate(
            total=Count("*"),
            open=Count("created_at", filter=open_need),
            open_amount=Sum("amount", filter=open_need),
        )
    )
    match_figures = (
        matches(user, f)
        .filter(_in(f, "created_at"))
        .aggregate(
            matches=Count("created_at", filter=Q(is_near_miss=False)),
            near_misses=Count("created_at", filter=Q(is_near_miss=True)),
        )
    )
    match_total, match_by = _lead_rollup(user, f, now)
    app_total, app_by = _application_rollup(user, f)
    # One query for the loans' figures: those disbursed in the period, and the renewal radar's
    # (portal.kpi: due as of the period's end or today, requested and granted in the period).
    started = _on(f, "start_date")
    due = kpi.renewal_due(min(f.end, timezone.localdate()))
    requested = Q(renewal__created_at__gte=f.start_dt, renewal__created_at__lt=f.end_dt)
    granted = requested & Q(
        Exists(
            Application.objects.filter(
                need_id=OuterRef("renewal__need_id"), status__in=kpi.APPLICATION_DISBURSED_STATUSES
            )
        )
    )
    first = started & _first_loan()
    loan_figures = (
        loans(user, f)
        .filter(started | due | requested)
        .aggregate(
            n=Count("pk", filter=started),
            amount=Sum("principal", filter=started),
            first_n=Count("pk", filter=first),
            first_amount=Sum("principal", filter=first),
            renewals_due=Count("pk", filter=due),
            renewals_requested=Count("pk", filter=requested),
            renewals_granted=Count("pk", filter=granted),
        )
    )
    paid = payments(user, f).filter(_in(f, "at")).aggregate(s=Sum("amount"))["s"] or ZERO
    disbursed = loan_figures["amount"] or ZERO
    lev = subsidy_leverage(
        start=f.start, end=f.end, loans=loans(user, f), ledger=ledger_entries(user, f), per_policy=False
    )

    def n(figures, key):
        return figures.get(key) or 0

    figures = {
        "firms_registered": firms["registered"],
        "firms_verified": firms["verified"],
        "needs_open": need_figures["open"],
        "needs_open_amount": _money(need_figures["open_amount"]),
        "matches": match_figures["matches"],
        "near_misses": match_figures["near_misses"],
        "leads": n(match_total, "leads"),
        "leads_answered_in_time_share": _share(n(match_total, "in_time"), n(match_total, "decided")),
        "median_response_hours": _hours(match_total.get("median_hours")),
        "applications": n(app_total, "submitted"),
        "approval_rate": _share(
            n(app_total, "approved"), n(app_total, "approved") + n(app_total, "rejected")
        ),
        "credit_granted": _money(app_total.get("credit")),
        "loans_disbursed_count": loan_figures["n"],
        "loans_disbursed_amount": _money(disbursed),
        "first_loans": loan_figures["first_n"],
        "first_loan_amount": _money(loan_figures["first_amount"]),
        "first_loan_share": _share(loan_figures["first_amount"] or ZERO, disbursed),
        "subsidy_paid": _money(paid),
        "leverage": _str(lev["ratio"]),
        "needs": need_figures["total"],
        "leverage_finance": _money(lev["finance"]),
        "leverage_fiscal": _money(lev["fiscal"]),
        "renewals_due": loan_figures["renewals_due"],
        "renewals_requested": loan_figures["renewals_requested"],
        "renewals_granted": loan_figures["renewals_granted"],
    }
    figures["funnel"] = funnel_steps(_funnel_counts(user, f))
    result = {"summary": figures}
    if league:
        _loan_total, loan_by = _loan_rollup(user, f, "inst")
        result["league"] = _league(match_by, app_by, loan_by, user=user)
    return result


def funnel_steps(counts: dict[str, int]) -> list[dict]:
    """``[{"stage", "label", "definition", "count", "conversion"}]``: conversion is the share of
    the step before (a 4-place string), never above 1 (the stages count one cohort)."""
    return [{**step, "conversion": _str(step["conversion"])} for step in kpi.funnel(counts)]


# ------------------------------------------------------------------------------------------------
# Chart series
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    model: str  # 'firm', 'need', 'match', 'application', 'loan', 'payment'
    money: bool = False


METRICS = {
    m.key: m
    for m in (
        Metric("firms_registered", kpi.KPIS["firms_registered"].label, "firm"),
        Metric("needs_open", kpi.KPIS["needs_open"].label, "need"),
        Metric("needs_open_amount", kpi.KPIS["needs_open_amount"].label, "need", money=True),
        Metric("leads", kpi.KPIS["leads"].label, "match"),
        Metric("applications", kpi.KPIS["applications"].label, "application"),
        Metric("credit_granted", kpi.KPIS["credit_granted"].label, "application", money=True),
        Metric("loans_disbursed_count", kpi.KPIS["loans_disbursed_count"].label, "loan"),
        Metric("loans_disbursed_amount", kpi.KPIS["loans_disbursed_amount"].label, "loan", money=True),
        Metric("first_loans", kpi.KPIS["first_loans"].label, "loan"),
        Metric("first_loan_amount", kpi.KPIS["first_loan_amount"].label, "loan", money=True),
        Metric("subsidy_paid", kpi.KPIS["subsidy_paid"].label, "payment", money=True),
    )
}
CHART_METRICS = (
    "loans_disbursed_amount",
    "loans_disbursed_count",
    "first_loan_amount",
    "first_loans",
    "credit_granted",
    "applications",
    "leads",
)

# Paths from each model to the grouping dimensions; None: that grouping does not apply.
_GROUP_PATHS = {
    "firm": {"city": "city_id", "industry": "industry", "month": "created_at"},
    "need": {"city": "enterprise__city_id", "industry": "enterprise__industry", "month": "created_at"},
    "match": {
        "city": "enterprise__city_id",
        "industry": "enterprise__industry",
        "institution": "institution_id",
        "product_type": "product__product_type",
        "month": "received_at",
    },
    "application": {
        "city": "enterprise__city_id",
        "industry": "enterprise__industry",
        "institution": "product__institution_id",
        "product_type": "product__product_type",
        "month": "created_at",
    },
    "loan": {
        "city": "application__enterprise__city_id",
        "industry": "application__enterprise__industry",
        "institution": "application__product__institution_id",
        "product_type": "application__product__product_type",
        "month": "start_date",
    },
    "payment": {
        "city": "claim__loan__application__enterprise__city_id",
        "industry": "claim__loan__application__enterprise__industry",
        "institution": "claim__loan__application__product__institution_id",
        "product_type": "claim__loan__application__product__product_type",
        "month": "at",
    },
}


def metric_supports(metric: str, group_by: str) -> bool:
    return metric in METRICS and group_by in _GROUP_PATHS[METRICS[metric].model]


def _metric_queryset(user, f: Filters, metric: Metric):
    """(queryset restricted to the metric's period, aggregate expression)."""
    if metric.model == "firm":
        return enterprises(user, f).filter(_in(f, "created_at")), Count("*")
    if metric.model == "need":
        qs = needs(user, f).filter(_in(f, "created_at"), status=FinancingNeed.Status.OPEN)
        return qs, (Sum("amount") if metric.money else Count("*"))
    if metric.model == "match":
        return leads(user, f), Count("*")
    if metric.model == "application":
        if metric.key == "credit_granted":
            return applications(user, f).filter(_in(f, "approved_at")), Sum("credit_line")
        return applications(user, f).filter(_in(f, "created_at")), Count("*")
    if metric.model == "loan":
        qs = loans(user, f).filter(_on(f, "start_date"))
        if metric.key in ("first_loans", "first_loan_amount"):
            qs = qs.filter(_first_loan())
        return qs, (Sum("principal") if metric.money else Count("*"))
    return payments(user, f).filter(_in(f, "at")), Sum("amount")


def _months(f: Filters) -> list[date]:
    months, cursor = [], f.start.replace(day=1)
    while cursor <= f.end:
        months.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def _month_key(value) -> date:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _group_key(m: Metric, group_by: str):
    path = _GROUP_PATHS[m.model][group_by]
    if group_by != "month":
        return F(path)
    if m.model == "loan":
        return TruncMonth(path)
    return TruncMonth(path, tzinfo=timezone.get_current_timezone())


def _labels(f: Filters, group_by: str) -> list[tuple]:
    if group_by == "month":
        return [(d, d.strftime("%Y-%m")) for d in _months(f)]
    if group_by == "city":
        return list(Region.objects.order_by("sort", "code").values_list("code", "short_name"))
    if group_by == "industry":
        return list(INDUSTRIES.items())
    if group_by == "product_type":
        return list(PRODUCT_TYPES.items())
    institutions = Institution.objects.filter(is_lender=True)
    if f.institution:
        institutions = institutions.filter(pk=f.institution)
    return list(institutions.order_by("name").values_list("pk", "short_name"))


def _series(f: Filters, m: Metric, group_by: str, found: dict) -> dict:
    if group_by == "month":
        found = {_month_key(k): v for k, v in found.items() if k is not None}
    points = []
    for key, label in _labels(f, group_by):
        value = found.get(key) or 0
        points.append(
            {
                "key": label if group_by == "month" else key,
                "label": label,
                "value": _money(value) if m.money else value,
            }
        )
    return {
        "metric": m.key,
        "label": str(m.label),
        "definition": kpi.definition(m.key),
        "group_by": group_by,
        "money": m.money,
        "points": points,
    }


def series(*, user, filters: Filters, metric: str, group_by: str) -> dict:
    """One chart: ``{"metric", "label", "group_by", "money", "points": [{"key", "label", "value"}]}``.
    Every city / industry / product type / month of the period appears, with 0 where nothing
    happened. One query (two for cities and institutions, whose names are read alongside)."""
    f = scoped_filters(user, filters)
    if not metric_supports(metric, group_by):
        raise NotAllowedError(_("该指标不支持按此维度分组。"), status=400)
    m = METRICS[metric]
    qs, agg = _metric_queryset(user, f, m)
    rows = qs.annotate(k=_group_key(m, group_by)).values("k").annotate(v=agg).order_by()
    return _series(f, m, group_by, {row["k"]: row["v"] for row in rows})


def charts(*, user, filters: Filters, metric: str) -> list[dict]:
    """The five charts of one metric (by city, industry, institution, product type, month) from
    one scan: GROUP BY GROUPING SETS on PostgreSQL, one grouped query per chart elsewhere."""
    f = scoped_filters(user, filters)
    m = METRICS[metric]
    if not all(metric_supports(metric, g) for g in GROUP_BYS):
        raise NotAllowedError(_("该指标不支持全部图表维度。"), status=400)
    if connection.vendor != "postgresql":
        return [series(user=user, filters=f, metric=metric, group_by=g) for g in GROUP_BYS]
    qs, agg = _metric_queryset(user, f, m)
    value = F(agg.source_expressions[0].name) if isinstance(agg, Sum) else Value(1)
    keys = [f"g_{g}" for g in GROUP_BYS]
    rows = qs.order_by().annotate(
        **{k: _group_key(m, g) for k, g in zip(keys, GROUP_BYS, strict=True)}, v=value
    )
    inner, params = rows.values(*keys, "v").query.sql_with_params()
    cols = ", ".join(keys)
    sets = ", ".join(f"({k})" for k in keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {cols}, GROUPING({cols}), SUM(v) FROM ({inner}) s GROUP BY GROUPING SETS ({sets})",  # noqa: S608
            params,
        )
        found = {g: {} for g in GROUP_BYS}
        width = len(keys)
        for row in cursor.fetchall():
            grouping = row[width]
            for i, g in enumerate(GROUP_BYS):
                if not grouping & (1 << (width - 1 - i)):
                    found[g][row[i]] = row[width + 1]
    return [_series(f, m, g, found[g]) for g in GROUP_BYS]


# ------------------------------------------------------------------------------------------------
# The banks' league table, overdue leads, stalled applications
# ------------------------------------------------------------------------------------------------


def league_table(*, user, filters: Filters) -> list[dict]:
    """Per institution: leads received, answered within deadline, median response hours,
    approvals and credit granted in the period."""
    return overview(user=user, filters=filters)["league"]


def _league(match_by: dict, app_by: dict, loan_by: dict | None = None, *, user=None) -> list[dict]:
    """…the loans started in the period and the first loans among them (kpi ``first_loans``,
    ``first_loan_amount``, ``first_loan_share``), and per institution, the firms' ratings (kpi
    ``rating_average``, ``rating_count``) and the complaints past their reply deadline (kpi
    ``complaints_overdue``) — both over all time."""
    overdue = complaints_overdue_by_institution(user) if user is not None else {}
    loan_by = loan_by or {}
    names = dict(
        Institution.objects.filter(
            pk__in={k for k, v in match_by.items() if v["leads"]} | set(app_by) | set(loan_by) | set(overdue)
        ).values_list("pk", "short_name")
    )
    ratings = institution_ratings(names)
    table = []
    for pk, name in names.items():
        lr, ar = match_by.get(pk, {}), app_by.get(pk, {})
        rating = ratings.get(pk) or {}
        table.append(
            {
                "institution_id": pk,
                "institution": name,
                "leads": lr.get("leads") or 0,
                "answered_in_time": lr.get("in_time") or 0,
                "answered_decided": lr.get("decided") or 0,
                "answered_in_time_share": _share(lr.get("in_time") or 0, lr.get("decided") or 0),
                "median_response_hours": _hours(lr.get("median_hours")),
                "approvals": ar.get("approvals") or 0,
                "credit_granted": _money(ar.get("credit")),
                "rating_average": _str(rating.get("average")),
                "rating_count": rating.get("count") or 0,
                "complaints_overdue": overdue.get(pk) or 0,
                **_first_loan_figures(loan_by.get(pk) or {}),
            }
        )
    table.sort(key=lambda r: (-Decimal(r["answered_in_time_share"] or -1), -r["leads"], r["institution"]))
    return table


def overdue_leads(*, user, filters: Filters) -> QuerySet[Match]:
    """Leads not answered by their deadline (still waiting for a first response), oldest first."""
    f = scoped_filters(user, filters)
    return (
        matches(user, f)
        .overdue()
        .select_related("enterprise", "product", "institution", "branch")
        .order_by("response_deadline", "pk")
    )


def stalled_applications(*, user, filters: Filters) -> QuerySet[Application]:
    """Open applications whose status has not changed for 14 days, oldest first."""
    f = scoped_filters(user, filters)
    return (
        applications(user, f)
        .filter(
            status__in=Application.OPEN_STATUSES,
            status_changed_at__lt=timezone.now() - timedelta(days=STALLED_AFTER_DAYS),
        )
        .select_related("enterprise", "product", "product__institution")
        .order_by("status_changed_at", "pk")
    )


def desk_figures(*, user, province: bool = False) -> dict[str, int]:
    """The desk's work in hand today (:data:`kpi.DESK_FIGURES`): firms waiting for verification,
    visit follow-ups due, overdue leads — of the user's region for a region desk (through the
    access model), or of the whole province with ``province=True`` (for comparison)."""
    if not getattr(user, "is_government", False):
        raise NotAllowedError(_("只有省级专班和区域专班有专班工作台。"))
    firms = Enterprise.objects.filter(verification_status=Enterprise.Verification.PENDING)
    visits = ServiceVisit.objects.filter(follow_up_due_q())
    leads = Match.objects.overdue()
    if not province:
        firms, visits, leads = (restrict(qs, user) for qs in (firms, visits, leads))
    return {
        "firms_pending_verification": firms.count(),
        "follow_ups_due": visits.count(),
        "leads_overdue": leads.count(),
    }


# ------------------------------------------------------------------------------------------------
# The list behind each figure
# ------------------------------------------------------------------------------------------------

FIGURE_LISTS = {
    "firms_registered": ("firm", _l("本期注册企业")),
    "firms_verified": ("firm", _l("本期认证企业")),
    "needs_open": ("need", _l("对接中的融资需求")),
    "matches": ("match", _l("匹配结果")),
    "near_misses": ("match", _l("差一点匹配")),
    "leads": ("match", _l("推送线索")),
    "applications": ("application", _l("融资申请")),
    "approvals": ("application", _l("已授信申请")),
    "loans": ("loan", _l("放款记录")),
    "first_loans": ("loan", _l("首贷记录")),
    "renewals_due": ("loan", _l("60 天内到期待续贷的贷款")),
    "renewals": ("loan", _l("本期申请续贷的贷款")),
    "subsidy_paid": ("payment", _l("补贴拨付")),
    "overdue_leads": ("match", _l("超时未响应线索")),
    "stalled_applications": ("application", _l("停滞申请")),
    **{f"funnel_{stage}": ("need", label) for stage, label in FUNNEL_STAGES},
}


def figure_list(*, user, filters: Filters, kind: str, first_loan: bool = False) -> QuerySet:
    """The rows behind one figure, with what the list page and the export show already joined.
    A firm list carries ``first_loan_firm_flag`` (首贷户) and with ``first_loan`` keeps only
    首贷户 (``enterprises.models.FIRST_LOAN_FIRMS``); a lead or application list carries its firm's
    ``is_first_loan_firm``; a loan list carries ``is_first_loan`` (首贷)."""
    qs = _figure_list(user=user, filters=filters, kind=kind)
    model = FIGURE_LISTS[kind][0]
    if model == "firm":
        qs = qs.annotate(first_loan_firm_flag=first_loan_firm())
        if first_loan:
            qs = qs.filter(FIRST_LOAN_FIRMS)
    elif model == "loan":
        qs = qs.annotate(is_first_loan=_flag(_first_loan()))
    elif model in ("match", "application"):
        qs = qs.annotate(is_first_loan_firm=first_loan_firm("enterprise_id"))
    return qs


def _figure_list(*, user, filters: Filters, kind: str) -> QuerySet:
    f = scoped_filters(user, filters)
    if kind == "firms_registered":
        return (
            enterprises(user, f)
            .filter(_in(f, "created_at"))
            .select_related("city")
            .order_by("-created_at", "pk")
        )
    if kind == "firms_verified":
        return (
            enterprises(user, f)
            .filter(verification_status=Enterprise.Verification.VERIFIED)
            .filter(
                Q(verified_at__gte=f.start_dt, verified_at__lt=f.end_dt)
                | Q(verified_at__isnull=True) & _in(f, "created_at")
            )
            .select_related("city")
            .order_by("-created_at", "pk")
        )
    if kind == "needs_open":
        return (
            needs(user, f)
            .filter(_in(f, "created_at"), status=FinancingNeed.Status.OPEN)
            .select_related("enterprise", "enterprise__city")
            .order_by("-created_at", "pk")
        )
    if kind in ("matches", "near_misses", "leads"):
        q = {"matches": Q(is_near_miss=False), "near_misses": Q(is_near_miss=True), "leads": Q(is_lead=True)}[
            kind
        ]
        qs = leads(user, f) if kind == "leads" else matches(user, f).filter(q, _in(f, "created_at"))
        return qs.select_related("enterprise", "product", "institution").order_by("-created_at", "pk")
    if kind == "applications":
        return (
            applications(user, f)
            .filter(_in(f, "created_at"))
            .select_related("enterprise", "product", "product__institution")
            .order_by("-created_at", "pk")
        )
    if kind == "approvals":
        return (
            applications(user, f)
            .filter(_in(f, "approved_at"))
            .select_related("enterprise", "product", "product__institution")
            .order_by("-approved_at", "pk")
        )
    if kind in ("loans", "first_loans"):
        qs = loans(user, f).filter(_on(f, "start_date"))
        if kind == "first_loans":
            qs = qs.filter(_first_loan())
        return qs.select_related("application__enterprise", "application__product__institution").order_by(
            "-start_date", "pk"
        )
    if kind in ("renewals_due", "renewals"):
        qs = loans(user, f)
        if kind == "renewals_due":
            qs = qs.filter(kpi.renewal_due(min(f.end, timezone.localdate())))
        else:
            qs = qs.filter(renewal__created_at__gte=f.start_dt, renewal__created_at__lt=f.end_dt)
        return qs.select_related("application__enterprise", "application__product__institution").order_by(
            "maturity_date", "pk"
        )
    if kind == "subsidy_paid":
        return (
            payments(user, f)
            .filter(_in(f, "at"))
            .select_related("policy", "claim", "claim__enterprise", "claim__institution")
            .order_by("-at", "pk")
        )
    if kind.startswith("funnel_") and kind in FIGURE_LISTS:
        qs = needs(user, f).filter(_in(f, "created_at"))
        stage = kind.removeprefix("funnel_")
        if stage != "need":
            qs = qs.filter(_funnel_stages(user, f)[stage])
        return qs.select_related("enterprise", "enterprise__city").order_by("-created_at", "pk")
    if kind == "overdue_leads":
        return overdue_leads(user=user, filters=f)
    if kind == "stalled_applications":
        return stalled_applications(user=user, filters=f)
    raise NotAllowedError(_("没有这个清单。"), status=404)
