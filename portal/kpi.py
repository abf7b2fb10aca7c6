"""The portal's headline figures (KPI), each defined once: its code, its Chinese label, a
one-sentence definition, its unit — and the rules that compute it, as query predicates over field
names and small arithmetic helpers. Every page and API that shows one of these figures (the
信息直通车 dashboard's tiles, funnel, league table and charts, the bank team page, the home page,
the leverage page and API) computes it through what is written here, so the same period and scope
give the same number everywhere.

Ground floor: this module imports no app; the querysets live with the apps, the rules live here.

Which date of a record puts it in a period (Beijing-time dates, both ends inclusive): a lead by
the moment it reached the bank (``routed_at``, else its creation), a need by its creation, an
application by its submission, a credit line by its approval, a loan by its start date, fiscal
money by the moment of payment or recovery. No figure here counts working days: a lead's
deadline is stored on it when it is routed (that is where ``portal.workdays`` is used).
"""

from __future__ import annotations

import operator
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    definition: str
    unit: str  # count | wan | yi | share | hours | times | stars


KPIS: dict[str, Kpi] = {
    k.code: k
    for k in (
        Kpi("firms_registered", _("注册企业"), _("统计期内在平台注册的企业户数。"), "count"),
        Kpi("firms_verified", _("认证企业"), _("统计期内通过省级专班认证的企业户数。"), "count"),
        Kpi(
            "needs",
            _("融资需求"),
            _("统计期内企业发布的融资需求条数（不论其后状态）。"),
            "count",
        ),
        Kpi(
            "needs_open",
            _("对接中需求"),
            _("统计期内发布、目前仍在对接中的融资需求条数。"),
            "count",
        ),
        Kpi(
            "needs_open_amount",
            _("对接中需求金额"),
            _("统计期内发布、目前仍在对接中的融资需求的金额合计。"),
            "wan",
        ),
        Kpi("matches", _("匹配"), _("统计期内匹配服务产生的符合全部硬性条件的需求—产品组合数。"), "count"),
        Kpi(
            "near_misses",
            _("差一点匹配"),
            _("统计期内只差一两项条件的需求—产品组合数（告知企业所缺条件，不推送给银行）。"),
            "count",
        ),
        Kpi(
            "leads",
            _("推送线索"),
            _("统计期内推送到金融机构（按推送时间）的线索条数。"),
            "count",
        ),
        Kpi(
            "leads_answered_in_time_share",
            _("按时响应率"),
            _(
                "统计期内收到的线索中，在首次响应期限内作出首次响应的条数 ÷ 已有结果的线索条数"
                "（已响应，或已过期限仍未响应；未到期限且未响应的不计入分母）。"
            ),
            "share",
        ),
        Kpi(
            "median_response_hours",
            _("响应时长中位数"),
            _("统计期内收到并已响应的线索，从推送到首次响应所用小时数的中位数（按自然时间计）。"),
            "hours",
        ),
        Kpi("applications", _("融资申请"), _("统计期内企业提交的融资申请笔数。"), "count"),
        Kpi(
            "approval_rate",
            _("授信通过率"),
            _("统计期内提交的申请中，获得授信的笔数 ÷（获得授信的笔数 + 未通过的笔数）；审批中的不计入。"),
            "share",
        ),
        Kpi("credit_granted", _("授信金额"), _("统计期内批准（按批准时间）的授信额度合计。"), "wan"),
        Kpi("loans_disbursed_count", _("放款笔数"), _("起息日在统计期内的贷款笔数。"), "count"),
        Kpi("loans_disbursed_amount", _("放款金额"), _("起息日在统计期内的贷款本金合计。"), "wan"),
        Kpi(
            "first_loans",
            _("首贷笔数"),
            _(
                "起息日在统计期内的首贷笔数。首贷：企业声明从未获得过银行贷款，且这笔贷款是它在平台上的"
                "第一笔贷款（起息日最早，同一天按登记先后）；放款后企业不再是首贷户，这笔贷款仍是首贷。"
            ),
            "count",
        ),
        Kpi("first_loan_amount", _("首贷金额"), _("起息日在统计期内的首贷本金合计。"), "wan"),
        Kpi(
            "first_loan_share",
            _("首贷占比"),
            _("统计期内首贷本金 ÷ 同期放款本金（均按起息日计入统计期）。"),
            "share",
        ),
        Kpi(
            "subsidy_paid",
            _("拨付补贴"),
            _("统计期内财政资金台账中贴息、风险补偿和专属产品奖励的拨付合计（未扣除追回）。"),
            "wan",
        ),
        Kpi(
            "leverage_finance",
            _("撬动融资"),
            _(
                "统计期内在科技金融专项政策支持的产品（可享贴息的产品类型、纳入风险补偿池或计入"
                "专属产品奖励的科技信贷专属产品）下发放的贷款本金合计。"
            ),
            "yi",
        ),
        Kpi(
            "leverage_fiscal",
            _("财政资金净拨付"),
            _("统计期内三项政策（贴息、风险补偿、专属产品奖励）的财政资金拨付合计减去追回入池合计。"),
            "wan",
        ),
        Kpi(
            "leverage",
            _("财政资金撬动倍数"),
            _("撬动倍数 = 统计期内政策支持产品下的放款本金 ÷ 同期三项政策财政资金净拨付（拨付 − 追回）。"),
            "times",
        ),
        Kpi(
            "funnel_need",
            _("漏斗·融资需求"),
            _("对接漏斗的同一批需求：统计期内发布的融资需求条数；以下各步都只数这批需求走到了哪一步。"),
            "count",
        ),
        Kpi(
            "funnel_lead",
            _("漏斗·获得线索"),
            _("这批需求中已被推送给至少一家金融机构（或已走到其后某一步）的条数。"),
            "count",
        ),
        Kpi(
            "funnel_contacted",
            _("漏斗·已联系"),
            _("这批需求中已有金融机构联系企业（或已走到其后某一步）的条数。"),
            "count",
        ),
        Kpi(
            "funnel_applied",
            _("漏斗·已申请"),
            _("这批需求中企业已提交融资申请（或已走到其后某一步）的条数。"),
            "count",
        ),
        Kpi(
            "funnel_approved", _("漏斗·已授信"), _("这批需求中已有申请获得授信（或已放款）的条数。"), "count"
        ),
        Kpi("funnel_disbursed", _("漏斗·已放款"), _("这批需求中已有贷款发放的条数。"), "count"),
        Kpi(
            "rating_average",
            _("企业评价"),
            _(
                "企业对该机构办结案件（已结清、未通过、已撤回的申请和已婉拒的线索）所打星级（1–5 星）的平均值，保留一位小数；不分统计期。"
            ),
            "stars",
        ),
        Kpi("rating_count", _("评价数"), _("企业对该机构办结案件所作评价的条数；不分统计期。"), "count"),
        Kpi(
            "complaints_overdue",
            _("超期未答复投诉"),
            _(
                "涉及该机构、目前已提交或办理中、已过 5 个工作日答复期限仍未答复的投诉与建议条数；不分统计期。"
            ),
            "count",
        ),
        # The desks' work in hand (staff workspace): counted today, not over a period.
        Kpi(
            "firms_pending_verification",
            _("待审核企业"),
            _("目前已注册、等待专班认证的企业户数（不限统计期）。"),
            "count",
        ),
        Kpi(
            "follow_ups_due",
            _("到期走访跟进"),
            _("上门服务登记的跟进事项中，尚未完成且已过截止日期或 7 个工作日内到期的条数。"),
            "count",
        ),
        Kpi(
            "leads_overdue",
            _("超时未响应线索"),
            _("已过首次响应期限、金融机构仍未作出首次响应的线索条数（不限统计期）。"),
            "count",
        ),
        Kpi(
            "renewals_due",
            _("待续贷贷款"),
            _(
                "截至统计期末（不晚于今天），未结清、将在其后 60 天内（含当天）到期且企业尚未申请续贷的贷款笔数。"
            ),
            "count",
        ),
        Kpi(
            "renewals_requested",
            _("续贷申请"),
            _("统计期内企业就到期贷款提交的续贷申请笔数（每笔贷款至多一次）。"),
            "count",
        ),
        Kpi(
            "renewals_granted",
            _("续贷放款"),
            _("统计期内提交的续贷申请中，其续贷需求已有贷款发放（任一金融机构）的笔数。"),
            "count",
        ),
        # 推荐清单转化: one row per list × receiving institution (recommendations.selectors.list_funnels).
        Kpi(
            "recommendation_sent",
            _("推荐企业"),
            _("清单发送给该机构的企业户数（清单发送后不再变化）。"),
            "count",
        ),
        Kpi(
            "recommendation_contacted",
            _("已联系"),
            _("该机构反馈为“已联系”或“已授信”的清单企业户数（以当前反馈为准）。"),
            "count",
        ),
        Kpi(
            "recommendation_granted",
            _("已授信"),
            _("该机构反馈为“已授信”的清单企业户数（以当前反馈为准）。"),
            "count",
        ),
        Kpi(
            "recommendation_granted_amount",
            _("授信金额"),
            _("该机构反馈“已授信”时填写的授信金额合计。"),
            "wan",
        ),
        Kpi(
            "recommendation_loans",
            _("放款笔数"),
            _("该机构向清单企业发放、起息日不早于清单发送日（北京时间）的贷款笔数。"),
            "count",
        ),
        Kpi(
            "recommendation_loan_amount",
            _("放款金额"),
            _("上述贷款的本金合计。"),
            "wan",
        ),
    )
}

#: The desks' work in hand, in the order the staff workspace shows it.
DESK_FIGURES = ("firms_pending_verification", "follow_ups_due", "leads_overdue")

FUNNEL_STAGES = ("need", "lead", "contacted", "applied", "approved", "disbursed")


def kpi(code: str) -> Kpi:
    return KPIS[code]


def label(code: str) -> str:
    return str(KPIS[code].label)


def definition(code: str) -> str:
    return str(KPIS[code].definition)


def definitions() -> list[dict]:
    """``[{"code", "label", "definition"}]`` in the order above (the definitions API)."""
    return [{"code": k.code, "label": str(k.label), "definition": str(k.definition)} for k in KPIS.values()]


# ------------------------------------------------------------------------------------------------
# The rules, as predicates over field names (a Match for leads, an Application for applications)
# ------------------------------------------------------------------------------------------------

#: When a lead reached the bank: the routing moment, else its creation.
LEAD_RECEIVED_AT = Coalesce(F("routed_at"), F("created_at"))

#: A lead answered within its deadline (a lead without a deadline counts as in time once answered).
LEAD_ANSWERED_IN_TIME = Q(first_response_at__isnull=False) & (
    Q(response_deadline__isnull=True) | Q(first_response_at__lte=F("response_deadline"))
)

#: Statuses of a lead whose bank has contacted the firm.
LEAD_CONTACTED_STATUSES = ("contacted", "invited")


#: Statuses of a lead still waiting for its first response (a claim is not a response).
LEAD_AWAITING_RESPONSE = ("suggested", "claimed")


def lead_overdue(now) -> Q:
    """A lead past its first-response deadline that is still waiting for a first response.

    The one definition of an overdue lead: the queryset (``Match.objects.overdue``), the row's
    ``Match.is_overdue`` (through :func:`row_meets`), the inbox and API filter, the dashboard and
    the escalation all read it."""
    return Q(
        is_lead=True,
        first_response_at__isnull=True,
        response_deadline__lt=now,
        status__in=LEAD_AWAITING_RESPONSE,
    )


def lead_decided(now) -> Q:
    """A lead whose in-time answer is known at ``now``: answered, or its deadline has passed."""
    return Q(first_response_at__isnull=False) | Q(response_deadline__lt=now)


#: Complaint statuses in which provincial staff still owe the firm a reply.
COMPLAINT_AWAITING_REPLY = ("intake", "handling")


def complaint_overdue(now) -> Q:
    """A complaint past its reply deadline (5 working days, stored on it) still without a reply."""
    return Q(status__in=COMPLAINT_AWAITING_REPLY, response_due_at__lt=now)


#: An application that was granted credit (whatever happened to it afterwards).
APPLICATION_APPROVED = Q(approved_at__isnull=False)
#: An application refused without a credit line.
APPLICATION_REJECTED = Q(status="rejected", approved_at__isnull=True)


#: The renewal radar's window: a loan maturing within this many days is a renewal due.
RENEWAL_WINDOW_DAYS = 60
#: Statuses of an application that became a loan.
APPLICATION_DISBURSED_STATUSES = ("disbursed", "repaid", "defaulted")


def first_loan(loans) -> Q:
    """A 首贷 (over Loan fields): its firm declared it never had a bank loan, and no loan of that
    firm on the portal comes before it — none with an earlier start date, nor on the same day with
    a smaller id. ``loans`` is every loan on the portal (``Loan.objects``, unscoped: which loan is
    the firm's first is a fact about the firm, not about who reads it; this module imports no app).

    The firm is a 首贷户 (``enterprises.models.FIRST_LOAN_FIRMS``) until this loan; the loan stays
    a 首贷 afterwards. Like every loan figure, a period counts it by its start date."""
    earlier = loans.filter(application__enterprise_id=OuterRef("application__enterprise_id")).filter(
        Q(start_date__lt=OuterRef("start_date")) | Q(start_date=OuterRef("start_date"), pk__lt=OuterRef("pk"))
    )
    return Q(application__enterprise__had_bank_loan=False) & ~Q(Exists(earlier.order_by()))


def renewal_due(today) -> Q:
    """A loan (Loan fields) that is a renewal due on ``today``: active, maturing between today and
    today + :data:`RENEWAL_WINDOW_DAYS`, with no renewal requested."""
    from datetime import timedelta

    return Q(
        status="active",
        maturity_date__gte=today,
        maturity_date__lte=today + timedelta(days=RENEWAL_WINDOW_DAYS),
        renewal__isnull=True,
    )


_COMPARISONS = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda value, options: value in options,
}


def row_meets(predicate: Q, row) -> bool:
    """Whether one row in memory (a model instance) meets ``predicate`` as the database filters
    it, so that a property reads the same definition as the queryset. Only what the predicates
    here need: an AND of lookups on the row's own fields (``exact``, ``in``, ``lt``, ``lte``,
    ``gt``, ``gte``, ``isnull``); a comparison with a missing value is false, as in SQL. Anything
    else is a ``ValueError`` (write it as a queryset)."""
    if predicate.negated or predicate.connector != Q.AND:
        raise ValueError(f"row_meets: only an AND of lookups, not {predicate!r}")
    for child in predicate.children:
        if isinstance(child, Q):
            if not row_meets(child, row):
                return False
            continue
        lookup, expected = child
        name, _sep, op = lookup.partition("__")
        op = op or "exact"
        if (
            "__" in op
            or (op != "isnull" and op not in _COMPARISONS)
            or hasattr(expected, "resolve_expression")
        ):
            raise ValueError(f"row_meets: unsupported lookup {lookup!r}")
        value = getattr(row, name)
        if op == "isnull":
            met = (value is None) == bool(expected)
        elif op == "exact" and expected is None:
            met = value is None
        else:
            met = value is not None and _COMPARISONS[op](value, expected)
        if not met:
            return False
    return True


# ------------------------------------------------------------------------------------------------
# Arithmetic: shares, ratios and hours as Decimals, half up
# ------------------------------------------------------------------------------------------------


def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def share(numerator, denominator) -> Decimal | None:
    """numerator ÷ denominator as a 0–1 fraction to 4 places (None without a denominator)."""
    if not denominator:
        return None
    return _q(Decimal(numerator) / Decimal(denominator), "0.0001")


def ratio(numerator, denominator) -> Decimal | None:
    """numerator ÷ denominator to 2 places (None when the denominator is not positive)."""
    if denominator is None or Decimal(denominator) <= 0:
        return None
    return _q(Decimal(numerator or 0) / Decimal(denominator), "0.01")


def hours(value) -> Decimal | None:
    """Hours to one decimal place."""
    if value is None:
        return None
    return _q(Decimal(str(value)), "0.1")


def median_hours(values) -> Decimal | None:
    values = [v for v in values if v is not None]
    return hours(statistics.median(values)) if values else None


def funnel(reached: dict[str, int]) -> list[dict]:
    """``reached``: per stage, how many needs of the cohort got at least that far (so the counts
    never grow along the funnel). → ``[{"stage", "label", "definition", "count", "conversion"}]``,
    conversion the share of the step before."""
    steps, previous = [], None
    for stage in FUNNEL_STAGES:
        count = reached.get(stage) or 0
        k = KPIS[f"funnel_{stage}"]
        steps.append(
            {
                "stage": stage,
                "label": str(k.label).removeprefix("漏斗·"),
                "definition": str(k.definition),
                "count": count,
                "conversion": None if previous is None else share(count, previous),
            }
        )
        previous = count
    return steps


# ------------------------------------------------------------------------------------------------
# 推荐清单转化 (the recommendation_* figures above): predicates over field names
# ------------------------------------------------------------------------------------------------

#: The answers that count a recommended firm as contacted (a grant implies a contact).
RECOMMENDATION_CONTACTED_OUTCOMES = ("contacted", "granted")
RECOMMENDATION_GRANTED_OUTCOME = "granted"


def recommendation_loan_q(*, institution, list_id, sent_on) -> Q:
    """A Loan that counts for a list sent to ``institution`` on day ``sent_on``: lent by that
    institution (its application's product's) to a firm of the list, starting on or after that day."""
    return Q(
        application__product__institution_id=institution,
        application__enterprise__recommendation_entries__list_id=list_id,
        start_date__gte=sent_on,
    )
